//! The Particle bundle (`cargo assetota bundle APP.bin --assets DIR -o
//! OUT.zip`, and `--modules DIR`, which writes each asset module) through the
//! one atomic writer, `assetota_core::atomic`, under the failures the
//! adversarial suite provokes for the cargo-assetota bundle
//! (`tests/adversarial/atomic.rs`, `failures.rs`): SIGKILL at random moments,
//! a full disk, and `ulimit -f`.
//!
//! Every case checks that an output is absent, the previous one byte for
//! byte, or the complete new one (byte-identical to a clean run, and accepted
//! by `cargo assetota verify`), that a refusal names the file and the cause,
//! and that no temporary file (`.<name>.tmp-…`) outlives the next successful
//! write. The apps are synthetic Tracker (platform 26) application modules
//! made by binary-version-reader's `createFirmwareBinary` (the npm oracle in
//! `tests/oracle`, as in `particle_cli.rs`). The tmpfs cases need root: where
//! they cannot run they fail with the reason (`support::cannot_run`).

mod particle_support;
#[allow(dead_code)]
mod support;
// The adversarial suite's machinery: the seeded PRNG, directory snapshots,
// tmpfs mounts, the refusal checks.
#[allow(dead_code, unused_imports)]
#[path = "adversarial/harness.rs"]
mod harness;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use harness::{Rng, Tmpfs, Tree, no_panic, ok, refused, tree, unchanged};
use particle_support::{noise, oracle1, path_str, text};
use serde_json::json;
use support::{Output, RUN_LIMIT, bin, command, exit_code, listing, run};

/// Tracker: 2,056,192 B of asset storage (docs/particle-platforms.md), room
/// for assets of a few MiB that take a while to deflate and write.
const TRACKER: (u16, u32) = (26, 0xb4000);

const EPOCHS: [&str; 2] = ["1700000000", "1800000000"];

/// A Tracker application module made by BVR, at `dir/tracker.bin`.
fn mkapp(dir: &Path) -> PathBuf {
    let app = dir.join("tracker.bin");
    oracle1(json!({
        "op": "mkapp",
        "platformId": TRACKER.0,
        "moduleStartAddress": TRACKER.1,
        "out": path_str(&app),
    }));
    app
}

fn write_assets(dir: &Path, files: &[(&str, Vec<u8>)]) {
    std::fs::create_dir_all(dir).unwrap();
    for (name, bytes) in files {
        std::fs::write(dir.join(name), bytes).unwrap();
    }
}

/// A project directory with the app and its assets.
struct Particle {
    dir: tempfile::TempDir,
    app: PathBuf,
}

impl Particle {
    fn new(assets: &[(&str, Vec<u8>)]) -> Particle {
        let dir = tempfile::Builder::new()
            .prefix("assetota-particle-atomic")
            .tempdir()
            .unwrap();
        write_assets(&dir.path().join("assets"), assets);
        let app = mkapp(dir.path());
        Particle { dir, app }
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    /// `cargo assetota bundle tracker.bin --assets assets -o OUT
    /// [--modules DIR]` with `SOURCE_DATE_EPOCH=epoch`, in the clean
    /// environment of `support::command`.
    fn bundle(&self, out: &Path, modules: Option<&Path>, epoch: &str) -> Command {
        let args = self.bundle_args(out, modules);
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let mut cmd = command(self.path(), &args);
        cmd.env("SOURCE_DATE_EPOCH", epoch);
        cmd
    }

    /// `bundle tracker.bin --assets assets -o OUT [--modules DIR]`.
    fn bundle_args(&self, out: &Path, modules: Option<&Path>) -> Vec<String> {
        let mut args = ["bundle", &path_str(&self.app), "--assets", "assets", "-o"]
            .map(str::to_owned)
            .to_vec();
        args.push(path_str(out));
        if let Some(m) = modules {
            args.extend(["--modules".to_owned(), path_str(m)]);
        }
        args
    }

    /// The lengths of what a clean run (`EPOCHS[0]`) writes: the bundle and,
    /// with `modules`, each module; measured in a scratch directory of the
    /// project, removed again.
    fn clean_run_sizes(&self, modules: bool) -> Sizes {
        let probe = self.path().join("probe");
        std::fs::create_dir_all(&probe).unwrap();
        let (out, dir) = (probe.join("out.zip"), probe.join("modules"));
        let modules = modules.then_some(dir.as_path());
        ok(run(self.bundle(&out, modules, EPOCHS[0]), RUN_LIMIT));
        let sizes = Sizes {
            bundle: std::fs::metadata(&out).unwrap().len(),
            modules: finished_files(&dir)
                .iter()
                .map(|(_, b)| b.len() as u64)
                .collect(),
        };
        std::fs::remove_dir_all(&probe).unwrap();
        sizes
    }

    fn verify(&self, file: &Path) {
        ok(run(
            command(self.path(), &["verify", &path_str(file)]),
            RUN_LIMIT,
        ));
    }
}

/// What [`Particle::clean_run_sizes`] measured, in bytes.
struct Sizes {
    bundle: u64,
    modules: Vec<u64>,
}

/// The temporary files of the atomic writer in `dir` (`.<name>.tmp-…`).
fn temps(dir: &Path) -> Vec<String> {
    let mut out: Vec<String> = std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .flatten()
                .filter_map(|e| e.file_name().to_str().map(str::to_owned))
                .filter(|n| n.starts_with('.') && n.contains(".tmp-"))
                .collect()
        })
        .unwrap_or_default();
    out.sort();
    out
}

/// The files of `dir` that are not temporaries, name → bytes.
fn finished_files(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut out: Vec<(String, Vec<u8>)> = std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .flatten()
                .filter_map(|e| e.file_name().to_str().map(str::to_owned))
                .filter(|n| !n.contains(".tmp-"))
                .map(|n| {
                    let bytes = std::fs::read(dir.join(&n)).unwrap();
                    (n, bytes)
                })
                .collect()
        })
        .unwrap_or_default();
    out.sort();
    out
}

/// Large assets, so a bundle takes a while to deflate and write: about
/// 1.7 MB of modules, within the Tracker's 2,056,192 B.
fn big_assets(rng: &mut Rng) -> Vec<(&'static str, Vec<u8>)> {
    let names = ["a.bin", "b.bin", "c.bin", "d.bin", "e.bin"];
    let mut files: Vec<(&str, Vec<u8>)> = names
        .iter()
        .map(|n| (*n, noise(330_000, rng.next())))
        .collect();
    files.push(("log.txt", text(400_000, rng.next())));
    files
}

/// SIGKILL at random moments of `cargo assetota bundle -o OUT.zip --modules
/// DIR` (seeded: `ASSETOTA_ADVERSARIAL_SEED` replays a run), 12 kills: a
/// third at a random delay within (or just past) a typical run, a third as
/// soon as (plus up to 2 ms after) this run's first module temporary appears,
/// a third likewise for the bundle's, so that kills land while the outputs
/// are written. After each kill, OUT.zip is
/// absent (before the first complete run), the previous bundle or the new
/// one, byte for byte as a clean run writes them; each module is absent or
/// complete; and the next successful run leaves no temporary file.
#[test]
fn sigkill_at_random_moments_leaves_the_previous_or_the_new_particle_bundle() {
    let mut rng = Rng::seeded(0x9A27_1C1E);
    let p = Particle::new(&big_assets(&mut rng));

    // The two bundles (two timestamps), from clean runs into fresh
    // directories, and how long a run takes.
    let mut refs: Vec<Vec<u8>> = Vec::new();
    let mut ref_modules: Vec<Vec<(String, Vec<u8>)>> = Vec::new();
    let mut times = Vec::new();
    for (i, epoch) in EPOCHS.iter().cycle().take(6).enumerate() {
        let clean = p.path().join(format!("clean{i}"));
        let (out, modules) = (clean.join("out.zip"), clean.join("modules"));
        let start = Instant::now();
        ok(run(p.bundle(&out, Some(&modules), epoch), RUN_LIMIT));
        times.push(start.elapsed());
        let bytes = std::fs::read(&out).unwrap();
        if refs.len() < 2 {
            p.verify(&out);
            refs.push(bytes);
            let written = finished_files(&modules);
            for (name, _) in &written {
                p.verify(&modules.join(name));
            }
            ref_modules.push(written);
        } else {
            assert!(bytes == refs[i % 2], "a clean run is reproducible");
        }
        assert_eq!(temps(&clean), Vec::<String>::new());
        assert_eq!(temps(&modules), Vec::<String>::new());
        std::fs::remove_dir_all(&clean).unwrap();
    }
    assert_ne!(refs[0], refs[1], "the timestamp is in the bundle");
    // The modules hold no timestamp: both runs write the same ones.
    assert!(ref_modules[0] == ref_modules[1], "the modules differ");
    let modules_ref = ref_modules.remove(0);
    assert_eq!(modules_ref.len(), 6);
    times.sort();
    let full = times[times.len() / 2];
    eprintln!(
        "runs take {:?} to {:?}; bundle {} bytes, modules {} bytes",
        times[0],
        times[times.len() - 1],
        refs[0].len(),
        modules_ref.iter().map(|(_, b)| b.len()).sum::<usize>()
    );

    let dist = p.path().join("dist");
    let out = dist.join("out.zip");
    let modules = dist.join("modules");
    let mut current: Option<usize> = None;
    let (mut kills, mut finished, mut iterations) = (0, 0, 0);
    // Where the kills landed: before this run wrote anything, while it wrote
    // the modules or the bundle (a temporary file of it appeared there), after
    // the bundle was renamed into place.
    let (mut before, mut in_modules, mut in_bundle, mut after) = (0, 0, 0, 0);
    while kills < 12 {
        iterations += 1;
        assert!(iterations < 60, "too few runs were still going when killed");
        let next = current.map_or(0, |c| 1 - c);
        let (dist_before, modules_before) = (temps(&dist), temps(&modules));
        let new_temp =
            |dir: &Path, before: &[String]| temps(dir).iter().any(|t| !before.contains(t));

        // A third of the kills at a random moment of a run (or a little
        // after, when it may have finished), a third as soon as it writes a
        // module, a third as soon as it writes the bundle.
        let mode = iterations % 3;
        let mut child = p
            .bundle(&out, Some(&modules), EPOCHS[next])
            .spawn()
            .unwrap();
        let output = Output::capture(&mut child);
        let started = Instant::now();
        let (mut saw_module, mut saw_bundle) = (false, false);
        let delay = if mode == 0 {
            full.mul_f64(1.2 * rng.unit())
        } else {
            // Wait for a temporary file of this run there (or its end).
            let limit = Instant::now() + RUN_LIMIT;
            while child.try_wait().unwrap().is_none() {
                saw_module |= new_temp(&modules, &modules_before);
                saw_bundle |= new_temp(&dist, &dist_before);
                if (mode == 1 && saw_module) || (mode == 2 && saw_bundle) {
                    break;
                }
                assert!(Instant::now() < limit, "the run hung");
                std::hint::spin_loop();
            }
            Duration::from_micros(rng.next() % 2000)
        };
        std::thread::sleep(delay);
        let killed = child.try_wait().unwrap().is_none();
        if killed {
            child.kill().unwrap();
        }
        let status = child.wait().unwrap();
        let at = started.elapsed();
        let r = output.finish(exit_code(status));
        if killed {
            kills += 1;
            assert_eq!(r.code, 128 + 9, "killed: {}", r.stderr);
        } else {
            finished += 1;
            no_panic(&r);
            assert_eq!(r.code, 0, "an unkilled run failed:\n{}", r.stderr);
        }

        // The bundle: absent or the previous one, or the new one.
        let now = std::fs::read(&out).ok();
        let is = now
            .as_ref()
            .map(|b| refs.iter().position(|r| r == b).unwrap_or(usize::MAX));
        assert!(
            is == current || is == Some(next),
            "after a kill {at:?} into a run, {} is neither the previous bundle ({current:?}) \
             nor the new one ({next}): {:?}",
            out.display(),
            now.map(|b| b.len())
        );
        if is.is_some() && (is != current || iterations % 5 == 0) {
            p.verify(&out);
        }
        if !killed {
            assert_eq!(is, Some(next), "a finished run wrote the new bundle");
        }
        // The modules: each absent or complete.
        for (name, bytes) in finished_files(&modules) {
            let expected = modules_ref.iter().find(|(n, _)| *n == name);
            assert!(
                expected.is_some_and(|(_, b)| *b == bytes),
                "after a kill {at:?} into a run, module {name} is not the complete module \
                 ({} bytes)",
                bytes.len()
            );
        }
        // Nothing else beside them, and temporaries do not accumulate: a
        // writer removes those of the file it writes.
        let mut names: Vec<String> = std::fs::read_dir(&dist)
            .map(|d| {
                d.flatten()
                    .map(|e| e.file_name().to_string_lossy().into_owned())
                    .collect()
            })
            .unwrap_or_default();
        names.retain(|n| n != "out.zip" && n != "modules" && !n.contains(".tmp-"));
        assert!(names.is_empty(), "unexpected files: {names:?}");
        let (dist_after, modules_after) = (temps(&dist), temps(&modules));
        assert!(
            dist_after.len() <= 1 && modules_after.len() <= modules_ref.len(),
            "temporary files accumulate: {dist_after:?} {modules_after:?}"
        );
        if killed {
            if is != current {
                after += 1;
            } else if saw_bundle || new_temp(&dist, &dist_before) {
                in_bundle += 1;
            } else if saw_module || new_temp(&modules, &modules_before) {
                in_modules += 1;
            } else {
                before += 1;
            }
        }
        current = is;
    }
    eprintln!(
        "{kills} kills ({before} before writing, {in_modules} while writing the modules, \
         {in_bundle} while writing the bundle, {after} after its rename), {finished} runs \
         finished first, {iterations} runs"
    );
    assert!(
        in_modules > 0,
        "no kill landed while the modules were written"
    );
    assert!(in_bundle > 0, "no kill landed while the bundle was written");

    // One more successful run removes what the killed ones left.
    let next = current.map_or(0, |c| 1 - c);
    ok(run(p.bundle(&out, Some(&modules), EPOCHS[next]), RUN_LIMIT));
    assert!(std::fs::read(&out).unwrap() == refs[next], "the new bundle");
    p.verify(&out);
    assert!(finished_files(&modules) == modules_ref, "the modules");
    assert_eq!(temps(&dist), Vec::<String>::new());
    assert_eq!(temps(&modules), Vec::<String>::new());
}

/// Smaller assets for the tmpfs and `ulimit -f` cases: about 300 KB of
/// modules.
fn small_assets() -> Vec<(&'static str, Vec<u8>)> {
    vec![
        ("a.bin", noise(100_000, 11)),
        ("b.bin", noise(100_000, 12)),
        ("c.txt", text(60_000, 13)),
    ]
}

/// Fills the file system of `dir` with `dir/filler` until a write fails.
fn fill(dir: &Path) {
    use std::io::Write;
    let mut f = std::fs::File::create(dir.join("filler")).unwrap();
    let chunk = vec![0u8; 64 << 10];
    while f.write_all(&chunk).is_ok() {}
    let small = [0u8; 512];
    while f.write_all(&small).is_ok() {}
    while f.write_all(&small[..1]).is_ok() {}
}

/// A full disk: on a tmpfs with room for one bundle but not for a second one
/// beside it, a second bundle (another `SOURCE_DATE_EPOCH`, so other bytes)
/// fails with an error naming the file and "No space left on device", keeps
/// the previous bundle byte for byte and leaves nothing else; with the disk
/// already full, nothing changes.
#[test]
fn a_full_disk_keeps_the_previous_particle_bundle_and_leaves_nothing() {
    let p = Particle::new(&small_assets());
    let bundle_len = p.clean_run_sizes(false).bundle;
    let Some(disk) = Tmpfs::mount(&(bundle_len + bundle_len / 2).to_string()) else {
        return;
    };
    let out = disk.path().join("out.zip");
    let out_s = path_str(&out);
    ok(run(p.bundle(&out, None, EPOCHS[0]), RUN_LIMIT));
    let previous = std::fs::read(&out).unwrap();
    assert_eq!(previous.len() as u64, bundle_len);
    let project = tree(p.path());

    let r = run(p.bundle(&out, None, EPOCHS[1]), RUN_LIMIT);
    refused(
        &r,
        1,
        &[
            &format!("cannot write `{out_s}`"),
            "No space left on device",
        ],
    );
    assert!(
        std::fs::read(&out).unwrap() == previous,
        "previous bundle kept"
    );
    assert_eq!(
        listing(disk.path()),
        [PathBuf::from("out.zip")],
        "only the bundle is left"
    );
    p.verify(&out);

    // A disk already full: even the temporary file cannot be written.
    fill(disk.path());
    let before = tree(disk.path());
    let r = run(p.bundle(&out, None, EPOCHS[1]), RUN_LIMIT);
    refused(
        &r,
        1,
        &[
            &format!("cannot write `{out_s}`"),
            "No space left on device",
        ],
    );
    unchanged("full disk", &before, &tree(disk.path()));
    unchanged("project", &project, &tree(p.path()));
}

/// `--modules DIR` on a full disk: on a tmpfs with room for the modules
/// twice, a run whose `b.bin` grew beyond the free space fails
/// naming `DIR/b.bin` and "No space left on device"; every module is kept
/// byte for byte (`a.bin` is rewritten with the same bytes), the bundle
/// (written after the modules) is not replaced, and no temporary is left.
/// With the disk already full, nothing changes.
#[test]
fn a_full_disk_keeps_the_previous_particle_modules_and_leaves_nothing() {
    let p = Particle::new(&small_assets());
    let modules_len: u64 = p.clean_run_sizes(true).modules.iter().sum();
    let size = 2 * modules_len;
    let Some(disk) = Tmpfs::mount(&size.to_string()) else {
        return;
    };
    let modules = disk.path().join("modules");
    let modules_s = path_str(&modules);
    let work = tempfile::tempdir().unwrap();
    let out = work.path().join("out.zip");
    ok(run(p.bundle(&out, Some(&modules), EPOCHS[0]), RUN_LIMIT));
    let previous = tree(disk.path());
    let previous_modules = finished_files(&modules);
    assert_eq!(previous_modules.len(), 3);
    let previous_bundle = tree(work.path());
    for (name, _) in &previous_modules {
        p.verify(&modules.join(name));
    }

    // b.bin grows beyond the free space (about the modules' length).
    let grown = noise(3 * modules_len as usize, 14);
    std::fs::write(p.path().join("assets/b.bin"), &grown).unwrap();
    let project = tree(p.path());
    let r = run(p.bundle(&out, Some(&modules), EPOCHS[1]), RUN_LIMIT);
    refused(
        &r,
        1,
        &[
            &format!("cannot write `{modules_s}/b.bin`"),
            "No space left on device",
        ],
    );
    unchanged("modules on a full disk", &previous, &tree(disk.path()));
    assert!(finished_files(&modules) == previous_modules, "modules kept");
    assert_eq!(temps(&modules), Vec::<String>::new());
    unchanged("the bundle beside", &previous_bundle, &tree(work.path()));

    // A disk already full: the first module's temporary cannot be written.
    fill(disk.path());
    let before = tree(disk.path());
    let r = run(p.bundle(&out, Some(&modules), EPOCHS[1]), RUN_LIMIT);
    refused(
        &r,
        1,
        &[
            &format!("cannot write `{modules_s}/"),
            "No space left on device",
        ],
    );
    unchanged("full disk", &before, &tree(disk.path()));
    unchanged("the bundle beside", &previous_bundle, &tree(work.path()));
    unchanged("project", &project, &tree(p.path()));
}

/// `cargo assetota bundle` under `ulimit -f LIMIT` (in blocks of 512 B for
/// dash, 1 KiB for bash).
fn bundle_under_ulimit(
    p: &Particle,
    limit: u64,
    out: &Path,
    modules: Option<&Path>,
) -> support::Run {
    let mut cmd = Command::new("sh");
    cmd.arg("-c")
        .arg(format!("ulimit -f {limit} && exec \"$0\" \"$@\""))
        .arg(bin())
        .args(p.bundle_args(out, modules));
    cmd.current_dir(p.path())
        .env("CARGO_TERM_COLOR", "never")
        .env("SOURCE_DATE_EPOCH", EPOCHS[0])
        .env_remove("ASSETOTA_PLATFORM")
        .env_remove("RUST_BACKTRACE")
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    run(cmd, RUN_LIMIT)
}

/// `ulimit -f` under half the bundle (or half the smallest module): an error
/// "cannot write `…`" with "File too large" (exit 1), not a silent death by
/// SIGXFSZ (exit 153) with a partial temporary file, and nothing left in the
/// output directory.
#[test]
fn a_file_size_limit_is_an_error_not_a_silent_kill_for_the_particle_bundle() {
    let p = Particle::new(&small_assets());
    let sizes = p.clean_run_sizes(true);
    let bundle_len = sizes.bundle;
    let smallest_module = *sizes.modules.iter().min().unwrap();
    let project = tree(p.path());

    // The bundle.
    let work = tempfile::tempdir().unwrap();
    let out = work.path().join("out.zip");
    let r = bundle_under_ulimit(&p, bundle_len / 2 / 1024, &out, None);
    refused(
        &r,
        1,
        &[
            &format!("cannot write `{}`", out.display()),
            "File too large",
        ],
    );
    assert_eq!(tree(work.path()), Tree(Default::default()));

    // The modules, written first.
    let modules = work.path().join("modules");
    let r = bundle_under_ulimit(&p, smallest_module / 2 / 1024, &out, Some(&modules));
    refused(
        &r,
        1,
        &[
            &format!("cannot write `{}/", modules.display()),
            "File too large",
        ],
    );
    assert_eq!(
        listing(work.path()),
        Vec::<PathBuf>::new(),
        "no file is left"
    );
    unchanged("project", &project, &tree(p.path()));
}
