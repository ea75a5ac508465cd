//! Atomic outputs under SIGKILL, two builds at once, and reproducibility
//! beyond the checkout path.

use std::os::unix::process::CommandExt;
use std::time::{Duration, Instant};

use crate::harness::*;
use crate::support::*;

/// Assets big enough that measuring and bundling take a good part of a run.
fn big_assets(p: &Project, rng: &mut Rng, files: usize) {
    for i in 0..files {
        p.write(&format!("assets/blob{i:02}.bin"), rng.bytes(1 << 20));
    }
    p.write("assets/readme.txt", "assets for the adversarial suite\n");
}

/// `cargo build` of `p`, as `cargo assetota build` runs it.
fn fresh(p: &Project) {
    let status = std::process::Command::new(std::env::var_os("CARGO").unwrap_or("cargo".into()))
        .args(["build", "--quiet"])
        .current_dir(p.path())
        .env("CARGO_TARGET_DIR", target_dir())
        .env_remove("RUSTFLAGS")
        .env_remove("CARGO_BUILD_TARGET")
        .status()
        .unwrap();
    assert!(status.success());
}

fn kill_group(pid: u32) {
    // SAFETY: signals the process group this test created for the child.
    unsafe { libc::kill(-(pid as libc::pid_t), libc::SIGKILL) };
}

#[test]
fn sigkill_at_random_points_leaves_the_previous_or_the_new_bundle() {
    let p = Project::host("adv_atomic_kill", META);
    let mut rng = Rng::seeded(0xA55E_7042);
    big_assets(&p, &mut rng, 12);
    ok(cli(p.path(), &["build"]));
    let dist = p.path().join("dist");
    let out = dist.join("fw.assetota.zip");
    let out_s = out.to_str().unwrap().to_owned();
    // Two complete bundles of the same build: the firmware as an ELF or as a
    // flat image. (Alternating SOURCE_DATE_EPOCH would do too, but cargo
    // rebuilds the C dependencies when it changes.)
    let formats = ["elf", "bin"];
    let build = |format: &str| command(p.path(), &["build", "--format", format, "--out", &out_s]);
    let verify = || ok(cli(p.path(), &["verify", &out_s]));

    // The two bundles, and how long a run takes.
    let mut refs = Vec::new();
    let mut times = Vec::new();
    for format in formats.iter().cycle().take(6) {
        let start = Instant::now();
        ok(run(build(format), Duration::from_secs(300)));
        times.push(start.elapsed());
        if refs.len() < 2 {
            refs.push(std::fs::read(&out).unwrap());
            verify();
        }
    }
    assert_ne!(refs[0], refs[1]);
    // Delays spread over a typical run (runs that end first just go again).
    times.sort();
    let full = times[times.len() / 2];
    eprintln!(
        "runs take {:?} to {:?}; bundle {} bytes",
        times[0],
        times[times.len() - 1],
        refs[0].len()
    );

    let mut kills = 0;
    let mut finished = 0;
    // Where the kills landed: before the bundle was written, while it was
    // (a temporary file appeared), after it was renamed into place.
    let (mut before, mut during, mut after) = (0, 0, 0);
    let mut iterations = 0;
    while kills < 50 {
        iterations += 1;
        assert!(
            iterations < 200,
            "too few runs were still going when killed"
        );
        let current = std::fs::read(&out).unwrap();
        let was = refs
            .iter()
            .position(|r| *r == current)
            .expect("a complete bundle");
        let next = 1 - was;
        let temps_before = temps(&dist, "fw");
        // A run killed while cargo compiles leaves cargo to compile again next
        // time (the shared target dir changes under concurrent tests): bring
        // it up to date first, so every killed run has the same timeline.
        fresh(&p);

        let mut cmd = build(formats[next]);
        cmd.process_group(0);
        let delay = full.mul_f64(rng.unit());
        let mut child = cmd.spawn().unwrap();
        let output = Output::capture(&mut child);
        std::thread::sleep(delay);
        let killed = child.try_wait().unwrap().is_none();
        if killed {
            kill_group(child.id());
        }
        let status = child.wait().unwrap();
        let run = output.finish(exit_code(status));
        if killed {
            kills += 1;
        } else {
            finished += 1;
            assert_eq!(run.code, 0, "an unkilled run failed:\n{}", run.stderr);
        }

        let now = std::fs::read(&out).unwrap();
        let is = refs.iter().position(|r| *r == now);
        assert!(
            is == Some(was) || is == Some(next),
            "after a kill {delay:?} into a run, the bundle is neither the previous nor the new one"
        );
        // Byte-identical to a bundle the CLI verified; the CLI checks it again
        // whenever it changed, and every tenth time.
        if is != Some(was) || iterations % 10 == 0 {
            verify();
        }
        let temps_after = temps(&dist, "fw");
        assert!(
            temps_after.len() <= 1,
            "temporary files accumulate: {temps_after:?}"
        );
        let entries: Vec<_> = std::fs::read_dir(&dist)
            .unwrap()
            .flatten()
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .filter(|n| n != "fw.assetota.zip" && !temps_after.contains(n))
            .collect();
        assert!(entries.is_empty(), "unexpected files: {entries:?}");
        if killed {
            if is == Some(next) {
                after += 1;
            } else if temps_after.iter().any(|t| !temps_before.contains(t)) {
                during += 1;
            } else {
                before += 1;
            }
        }
    }
    eprintln!(
        "{kills} kills ({before} before writing, {during} while writing, {after} after the rename), {finished} runs finished first"
    );
    assert!(during > 0, "no kill landed while the bundle was written");

    // The next successful runs remove what the killed ones left, beside the
    // bundle and beside the flat image.
    for (i, format) in formats.iter().enumerate() {
        ok(run(build(format), Duration::from_secs(300)));
        assert_eq!(std::fs::read(&out).unwrap(), refs[i]);
        verify();
    }
    assert_eq!(temps(&dist, "fw"), Vec::<String>::new());
    assert_eq!(outputs(&p, None, "debug").temps, Vec::<String>::new());
}

#[test]
fn two_builds_at_once_both_succeed_and_readers_never_see_a_partial_bundle() {
    let p = Project::host("adv_atomic_concurrent", META);
    let mut rng = Rng::new(7);
    big_assets(&p, &mut rng, 6);
    ok(cli(p.path(), &["build"]));
    let bundle = p.bundle(None, "debug");
    let bundle_s = bundle.to_str().unwrap().to_owned();
    for round in 0..3 {
        // Something to rebuild, so both runs start with cargo's work.
        p.write("assets/round.txt", format!("round {round}\n"));
        let mut a = command(p.path(), &["build"]).spawn().unwrap();
        let mut b = command(p.path(), &["build"]).spawn().unwrap();
        let (oa, ob) = (Output::capture(&mut a), Output::capture(&mut b));
        let mut reads = 0;
        let (sa, sb) = loop {
            // A reader meanwhile always finds a complete bundle.
            let run = cli(p.path(), &["verify", &bundle_s]);
            no_panic(&run);
            assert_eq!(
                run.code, 0,
                "round {round}: read a partial bundle:\n{}",
                run.stderr
            );
            reads += 1;
            if let (Some(sa), Some(sb)) = (a.try_wait().unwrap(), b.try_wait().unwrap()) {
                break (sa, sb);
            }
        };
        let (ra, rb) = (oa.finish(exit_code(sa)), ob.finish(exit_code(sb)));
        ok(ra);
        ok(rb);
        ok(cli(p.path(), &["verify", &bundle_s]));
        let names: Vec<String> = zip_entries(&bundle).into_iter().map(|(n, _)| n).collect();
        assert!(names.contains(&"assets/round.txt".to_owned()));
        assert_eq!(
            zip_entries(&bundle)
                .into_iter()
                .find(|(n, _)| n == "assets/round.txt")
                .unwrap()
                .1,
            format!("round {round}\n").into_bytes()
        );
        assert!(outputs(&p, None, "debug").temps.is_empty());
        eprintln!("round {round}: both builds succeeded; {reads} verifications meanwhile");
    }
}

/// `tests/cli/build.rs` shows that two checkouts at different paths give the
/// same bundle; here the checkouts also differ in the order the assets were
/// created, their permissions and times, and the umask.
#[test]
fn bundles_do_not_depend_on_creation_order_permissions_times_or_umask() {
    use std::os::unix::fs::PermissionsExt;
    let names = ["b.bin", "a/z.txt", "a/b/c.json", "m.dat", "0.bin"];
    let build = |reverse: bool| {
        let p = Project::host("adv_repro", META);
        let mut rng = Rng::new(42);
        let contents: Vec<Vec<u8>> = names.iter().map(|_| rng.bytes(20_000)).collect();
        let mut order: Vec<usize> = (0..names.len()).collect();
        if reverse {
            order.reverse();
        }
        for &i in &order {
            p.write(&format!("assets/{}", names[i]), &contents[i]);
            let path = p.path().join("assets").join(names[i]);
            let mode = if reverse { 0o600 } else { 0o644 };
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode)).unwrap();
            if reverse {
                let old = std::time::SystemTime::UNIX_EPOCH + Duration::from_secs(1_000_000_000);
                std::fs::File::options()
                    .write(true)
                    .open(&path)
                    .unwrap()
                    .set_modified(old)
                    .unwrap();
            }
        }
        let out = p.path().join("dist/fw.assetota.zip");
        let mut cmd = command(
            p.path(),
            &["build", "--release", "--out", out.to_str().unwrap()],
        );
        cmd.env("SOURCE_DATE_EPOCH", "1700000000");
        if reverse {
            // SAFETY: umask is async-signal-safe.
            unsafe {
                cmd.pre_exec(|| {
                    libc::umask(0o077);
                    Ok(())
                });
            }
        }
        ok(run(cmd, Duration::from_secs(600)));
        let bytes = std::fs::read(&out).unwrap();
        (p, bytes)
    };
    let (a, first) = build(false);
    let (b, second) = build(true);
    assert_ne!(a.path(), b.path());
    assert!(first == second, "bundles differ");
}
