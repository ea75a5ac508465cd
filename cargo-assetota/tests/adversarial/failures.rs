//! Failures while running: assets that change or vanish between the scan and
//! the bundle, a read-only target, a full disk, a file-size limit.

use std::io::Write;
use std::os::unix::fs::FileExt;
use std::path::Path;
use std::time::Duration;

use crate::harness::*;
use crate::support::*;

/// A built host project with one more asset, `zz.bin`, which sorts last.
fn built(name: &str) -> Project {
    let p = Project::host(name, META).with_assets();
    p.write("assets/zz.bin", vec![0x5a; 3000]);
    ok(cli(p.path(), &["build"]));
    p
}

/// Runs `build` behind a fanotify gate on `gated`, calling `on_open` with
/// the number of each open of a gated file by the CLI. Fails where fanotify
/// is not available (`None` only if `ASSETOTA_ALLOW_SKIP=1`).
fn gated_build(
    p: &Project,
    gated: &[&Path],
    single_worker: bool,
    on_open: impl FnMut(usize, &Path),
) -> Option<(usize, Run)> {
    let gate = Gate::new(gated)?;
    let mut cmd = command(p.path(), &["build"]);
    if single_worker {
        one_cpu(&mut cmd);
    }
    let child = cmd.spawn().unwrap();
    Some(gate.serve(child, on_open, Duration::from_secs(300)))
}

#[test]
fn an_asset_modified_between_scan_and_bundle_is_never_bundled() {
    let p = built("adv_fail_modified");
    let path = p.path().join("assets/text.txt");
    let original = std::fs::read(&path).unwrap();
    let mut changed = original.clone();
    changed[0] ^= 0x20; // same size: only the hash can tell
    // Opened for writing before the gate exists: writing through it is no
    // new open, so the gate does not stop the test itself.
    let writer = std::fs::OpenOptions::new().write(true).open(&path).unwrap();
    let outs = outputs(&p, None, "debug");
    assert!(outs.bundle.is_some());

    // Open 1 of text.txt is the CLI measuring it (after the scan listed it);
    // open 2 is the CLI reading it into the bundle.
    for (at, needles) in [
        (1, &["is stale", "`text.txt` changed: sha256"][..]),
        (
            2,
            &[
                "is stale",
                "`text.txt` changed while the bundle was being written",
            ][..],
        ),
    ] {
        writer.write_all_at(&original, 0).unwrap();
        let project = tree(p.path());
        let Some((opens, run)) = gated_build(&p, &[&path], false, |n, _| {
            if n == at {
                writer.write_all_at(&changed, 0).unwrap();
            }
        }) else {
            return;
        };
        eprintln!("modified at open {at}: exit {}, {opens} opens", run.code);
        refused(&run, 4, needles);
        assert_eq!(opens, at, "the run stops at the change");
        writer.write_all_at(&original, 0).unwrap();
        unchanged(&format!("modified at open {at}"), &project, &tree(p.path()));
        assert_eq!(
            outputs(&p, None, "debug"),
            outs,
            "the previous bundle is kept, no temporary file is left"
        );
    }
}

/// Without fanotify: an asset rewritten continuously while builds run. Each
/// build either writes a bundle that verifies or refuses with exit 4.
#[test]
fn an_asset_rewritten_during_builds_never_yields_a_wrong_bundle() {
    let p = built("adv_fail_racing");
    let path = p.path().join("assets/text.txt");
    let a = std::fs::read(&path).unwrap();
    let mut b = a.clone();
    b[1] ^= 0x20;
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let writer = {
        let stop = stop.clone();
        let path = path.clone();
        std::thread::spawn(move || {
            let file = std::fs::OpenOptions::new().write(true).open(&path).unwrap();
            let mut flip = false;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                file.write_all_at(if flip { &b } else { &a }, 0).unwrap();
                flip = !flip;
                std::thread::sleep(Duration::from_millis(3));
            }
        })
    };
    let mut outcomes = [0; 2];
    for _ in 0..6 {
        let run = cli(p.path(), &["build"]);
        no_panic(&run);
        match run.code {
            0 => {
                outcomes[0] += 1;
                let bundle = p.bundle(None, "debug");
                ok(cli(p.path(), &["verify", bundle.to_str().unwrap()]));
            }
            4 => {
                outcomes[1] += 1;
                assert!(run.stderr.contains("text.txt"), "{}", run.stderr);
            }
            code => panic!("exit {code}:\n{}", run.stderr),
        }
        assert!(outputs(&p, None, "debug").temps.is_empty());
    }
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    writer.join().unwrap();
    eprintln!(
        "racing writer: {} bundles, {} stale",
        outcomes[0], outcomes[1]
    );
}

#[test]
fn a_file_removed_during_the_scan_is_named() {
    let p = built("adv_fail_removed");
    let config = p.path().join("assets/config.json");
    let text = p.path().join("assets/text.txt");
    let zz = p.path().join("assets/zz.bin");
    let zz_bytes = std::fs::read(&zz).unwrap();
    let outs = outputs(&p, None, "debug");

    // One measuring worker opens the assets in name order: when it opens
    // config.json, the scan has listed zz.bin; remove it then.
    let Some((_, run)) = gated_build(&p, &[&config], true, |n, _| {
        if n == 1 {
            std::fs::remove_file(&zz).unwrap();
        }
    }) else {
        return;
    };
    refused(
        &run,
        1,
        &["asset `zz.bin` vanished during the scan", "zz.bin`"],
    );
    assert_eq!(outputs(&p, None, "debug"), outs);
    std::fs::write(&zz, &zz_bytes).unwrap();

    // Removed after it was measured, before it is read into the bundle:
    // text.txt's second open is the bundle reading it, zz.bin comes next.
    let project = tree(p.path());
    let Some((_, run)) = gated_build(&p, &[&text], true, |n, _| {
        if n == 2 {
            std::fs::remove_file(&zz).unwrap();
        }
    }) else {
        return;
    };
    refused(
        &run,
        4,
        &[
            "is stale",
            "`zz.bin` was removed while the bundle was being written",
        ],
    );
    std::fs::write(&zz, &zz_bytes).unwrap();
    let after = tree(p.path());
    unchanged("removed before the bundle", &project, &after);
    assert_eq!(outputs(&p, None, "debug"), outs);
}

#[test]
fn a_read_only_target_is_an_error_naming_it() {
    let p = built("adv_fail_readonly");
    let Some(ro) = Tmpfs::mount("4m") else {
        return;
    };
    std::fs::create_dir(ro.path().join("dist")).unwrap();
    ro.remount_read_only();
    let before = tree(ro.path());
    let project = tree(p.path());
    let outs = outputs(&p, None, "debug");
    let out = ro.path().join("dist/fw.assetota.zip");
    let out_s = out.to_str().unwrap();

    let run = cli(p.path(), &["build", "--out", out_s]);
    refused(
        &run,
        1,
        &[&format!("cannot write `{out_s}`"), "Read-only file system"],
    );
    let exe = p.exe(None, "debug");
    let run = cli(
        p.path(),
        &[
            "bundle",
            exe.to_str().unwrap(),
            "--assets",
            "assets",
            "-o",
            out_s,
        ],
    );
    refused(
        &run,
        1,
        &[&format!("cannot write `{out_s}`"), "Read-only file system"],
    );
    unchanged("read-only dir", &before, &tree(ro.path()));
    unchanged("project", &project, &tree(p.path()));
    assert_eq!(outputs(&p, None, "debug"), outs);

    // The whole target directory read-only (a read-only view of the shared
    // one): cargo refuses first, and the error says where.
    let view = tempfile::tempdir().unwrap();
    let bind = |args: &[&str]| {
        std::process::Command::new("mount")
            .args(args)
            .status()
            .is_ok_and(|s| s.success())
    };
    let target = target_dir();
    let view_s = view.path().to_str().unwrap();
    if !bind(&["--bind", target.to_str().unwrap(), view_s])
        || !bind(&["-o", "remount,bind,ro", view_s])
    {
        cannot_run("cannot make a read-only bind mount of the target dir (needs root)");
        let _ = std::process::Command::new("umount")
            .arg(view.path())
            .status();
        return;
    }
    let mut cmd = command(p.path(), &["build"]);
    cmd.env("CARGO_TARGET_DIR", view.path());
    let run = crate::support::run(cmd, crate::support::RUN_LIMIT);
    let _ = std::process::Command::new("umount")
        .arg(view.path())
        .status();
    refused(
        &run,
        1,
        &["Read-only file system", view_s, "`cargo build` failed"],
    );
    assert_eq!(outputs(&p, None, "debug"), outs);
}

#[test]
fn a_full_disk_keeps_the_previous_bundle_and_leaves_nothing() {
    let p = built("adv_fail_full");
    // Room for one bundle, not for a second one beside it.
    let bundle_len = std::fs::metadata(p.bundle(None, "debug")).unwrap().len();
    let size = bundle_len + bundle_len / 2;
    let Some(disk) = Tmpfs::mount(&size.to_string()) else {
        return;
    };
    let out = disk.path().join("fw.assetota.zip");
    let out_s = out.to_str().unwrap();
    fn epoch(e: &str) -> [(&str, &str); 1] {
        [("SOURCE_DATE_EPOCH", e)]
    }
    ok(cli_env(
        p.path(),
        &["build", "--out", out_s],
        &epoch("1700000000"),
    ));
    let previous = std::fs::read(&out).unwrap();
    let project = tree(p.path());

    // Another timestamp, so the new bundle differs: it does not fit beside
    // the previous one.
    let run = cli_env(p.path(), &["build", "--out", out_s], &epoch("1800000000"));
    refused(
        &run,
        1,
        &[
            &format!("cannot write `{out_s}`"),
            "No space left on device",
        ],
    );
    assert_eq!(
        std::fs::read(&out).unwrap(),
        previous,
        "previous bundle kept"
    );
    assert_eq!(
        tree(disk.path()).0.len(),
        1,
        "only the bundle: {:?}",
        tree(disk.path())
    );
    ok(cli(p.path(), &["verify", out_s]));

    // A disk already full: even the temporary file cannot be created.
    let filler = disk.path().join("filler");
    let mut f = std::fs::File::create(&filler).unwrap();
    let chunk = vec![0u8; 64 << 10];
    while f.write_all(&chunk).is_ok() {}
    drop(f);
    let before = tree(disk.path());
    let run = cli_env(p.path(), &["build", "--out", out_s], &epoch("1800000000"));
    refused(&run, 1, &["No space left on device"]);
    unchanged("full disk", &before, &tree(disk.path()));
    unchanged("project", &project, &tree(p.path()));
}

#[test]
fn a_file_size_limit_is_an_error_not_a_silent_kill() {
    let p = built("adv_fail_ulimit");
    let work = tempfile::tempdir().unwrap();
    let out = work.path().join("fw.assetota.zip");
    let bundle_len = std::fs::metadata(p.bundle(None, "debug")).unwrap().len();
    // In blocks of 512 B (dash) or 1 KiB (bash): under half the bundle, far
    // above anything cargo writes for a fresh build.
    let limit = bundle_len / 2 / 1024;
    let mut cmd = std::process::Command::new("sh");
    cmd.arg("-c")
        .arg(format!("ulimit -f {limit} && exec \"$0\" \"$@\""))
        .arg(bin())
        .args(["build", "--out", out.to_str().unwrap()])
        .current_dir(p.path())
        .env("CARGO_TARGET_DIR", target_dir())
        .env("CARGO_TERM_COLOR", "never")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    let run = crate::support::run(cmd, crate::support::RUN_LIMIT);
    // Used to die of SIGXFSZ (exit 153) mid-write, silently, leaving the
    // partial temporary file.
    refused(
        &run,
        1,
        &[
            &format!("cannot write `{}`", out.display()),
            "File too large",
        ],
    );
    assert!(tree(work.path()).0.is_empty(), "{:?}", tree(work.path()));
}
