//! `cargo assetota watch`, driven for real: a `cargo-assetota watch` process
//! on a temporary project, files changed under it, its output read line by
//! line with timeouts, and the reports asserted. Unix only: the tests stop
//! it with signals.
#![cfg(unix)]

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc::{Receiver, RecvTimeoutError, channel};
use std::time::{Duration, Instant};

/// How long to wait for something that must happen (a report, an exit): a
/// bound for a loaded two-core machine, not a speed claim (speed is measured
/// in `benches/watch.rs`, docs/benchmarks.md). A wait ends as soon as its
/// condition holds, so a generous bound costs nothing when all is well.
const LONG: Duration = Duration::from_secs(120);
/// The debounce the tests run with: the quiet time that closes a burst of
/// events into one report. Several writes of one test step (an editor's save,
/// two files added) must land within it even when the test thread is starved
/// on a busy machine, hence far longer than the default.
const DEBOUNCE_MS: &str = "2000";
/// How long "nothing happens" is watched: longer than the debounce plus a
/// rescan, so a report that was going to come would.
const QUIET: Duration = Duration::from_millis(5000);

fn bin() -> &'static str {
    env!("CARGO_BIN_EXE_cargo-assetota")
}

/// A package without dependencies; `metadata` goes under
/// `[package.metadata.assetota]` after `dir = "assets"`.
struct Project {
    dir: tempfile::TempDir,
}

impl Project {
    fn new(name: &str, metadata: &str) -> Project {
        let dir = tempfile::Builder::new()
            .prefix("assetota-watch")
            .tempdir()
            .unwrap();
        let p = Project { dir };
        p.write(
            "Cargo.toml",
            format!(
                "[package]\nname = \"{name}\"\nversion = \"0.1.0\"\nedition = \"2024\"\n\n\
                 [package.metadata.assetota]\ndir = \"assets\"\n{metadata}\n[workspace]\n"
            ),
        );
        p.write("src/main.rs", "fn main() {}\n");
        p
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    fn join(&self, rel: &str) -> PathBuf {
        self.path().join(rel)
    }

    fn write(&self, rel: &str, data: impl AsRef<[u8]>) {
        let path = self.join(rel);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, data).unwrap();
    }

    fn remove(&self, rel: &str) {
        let path = self.join(rel);
        if path.is_dir() {
            std::fs::remove_dir_all(path).unwrap();
        } else {
            std::fs::remove_file(path).unwrap();
        }
    }

    fn rename(&self, from: &str, to: &str) {
        std::fs::rename(self.join(from), self.join(to)).unwrap();
    }

    fn watch(&self, args: &[&str]) -> Watch {
        Watch::start(self.path(), args, &[])
    }

    /// `cargo-assetota size --json` now, for the sizes `watch` must agree with.
    fn size_json(&self) -> serde_json::Value {
        let out = Command::new(bin())
            .args(["size", "--json"])
            .current_dir(self.path())
            .env_remove("ASSETOTA_PLATFORM")
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "size failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice(&out.stdout).unwrap()
    }
}

/// Deterministic, moderately compressible bytes.
fn data(seed: u32, len: usize) -> Vec<u8> {
    let mut x = seed.wrapping_mul(2_654_435_761).wrapping_add(1);
    (0..len)
        .map(|i| {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            if i.is_multiple_of(3) {
                (x % 7) as u8 + b'a'
            } else {
                (x >> 8) as u8
            }
        })
        .collect()
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stream {
    Out,
    Err,
}

/// A running `cargo-assetota watch`.
struct Watch {
    child: Child,
    lines: Receiver<(Stream, String)>,
    /// Every line read so far, per stream, and how far each has been consumed.
    out: Vec<String>,
    err: Vec<String>,
    out_pos: usize,
    err_pos: usize,
    /// Both streams in arrival order, for failure messages.
    log: Vec<String>,
}

/// `line` without colour escapes.
fn plain(line: &str) -> String {
    let mut out = String::new();
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            for c in chars.by_ref() {
                if c.is_ascii_alphabetic() {
                    break;
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}

impl Watch {
    fn start(dir: &Path, args: &[&str], envs: &[(&str, &str)]) -> Watch {
        let mut watch = Watch::spawn(dir, args, envs);
        // Ready once it says so (after the first scan and the watches).
        watch.expect_err("Watching", LONG);
        watch
    }

    fn spawn(dir: &Path, args: &[&str], envs: &[(&str, &str)]) -> Watch {
        let mut command = Command::new(bin());
        command.arg("watch");
        if !args.contains(&"--debounce") {
            command.args(["--debounce", DEBOUNCE_MS]);
        }
        let mut child = command
            .args(args)
            .current_dir(dir)
            .env("CARGO_TERM_COLOR", "never")
            .env_remove("ASSETOTA_PLATFORM")
            .env_remove("CARGO_TARGET_DIR")
            .env_remove("CARGO_BUILD_TARGET")
            .env_remove("RUSTFLAGS")
            .envs(envs.iter().copied())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("cargo-assetota runs");
        let (tx, rx) = channel();
        let out = child.stdout.take().unwrap();
        let err = child.stderr.take().unwrap();
        for (stream, pipe) in [
            (Stream::Out, Box::new(out) as Box<dyn std::io::Read + Send>),
            (Stream::Err, Box::new(err)),
        ] {
            let tx = tx.clone();
            std::thread::spawn(move || {
                for line in BufReader::new(pipe).lines() {
                    let Ok(line) = line else { break };
                    if tx.send((stream, line)).is_err() {
                        break;
                    }
                }
            });
        }
        Watch {
            child,
            lines: rx,
            out: Vec::new(),
            err: Vec::new(),
            out_pos: 0,
            err_pos: 0,
            log: Vec::new(),
        }
    }

    /// Reads one more line from either stream, until `deadline`.
    fn pump(&mut self, deadline: Instant) -> bool {
        match self
            .lines
            .recv_timeout(deadline.saturating_duration_since(Instant::now()))
        {
            Ok((stream, line)) => {
                self.log.push(format!(
                    "{}{line}",
                    if stream == Stream::Out {
                        "out| "
                    } else {
                        "err| "
                    }
                ));
                match stream {
                    Stream::Out => self.out.push(line),
                    Stream::Err => self.err.push(line),
                }
                true
            }
            Err(RecvTimeoutError::Timeout | RecvTimeoutError::Disconnected) => false,
        }
    }

    /// The next unread line of `stream`, waiting until `deadline`.
    fn next_of(&mut self, stream: Stream, deadline: Instant) -> Option<String> {
        loop {
            let (lines, pos) = match stream {
                Stream::Out => (&self.out, &mut self.out_pos),
                Stream::Err => (&self.err, &mut self.err_pos),
            };
            if let Some(line) = lines.get(*pos) {
                *pos += 1;
                return Some(line.clone());
            }
            if !self.pump(deadline) {
                return None;
            }
        }
    }

    #[track_caller]
    fn fail(&self, what: &str) -> ! {
        panic!("{what}\n--- watch output so far:\n{}", self.log.join("\n"))
    }

    /// Reads stderr until a line contains `needle`.
    #[track_caller]
    fn expect_err(&mut self, needle: &str, timeout: Duration) -> String {
        let deadline = Instant::now() + timeout;
        loop {
            match self.next_of(Stream::Err, deadline) {
                Some(line) if line.contains(needle) => return line,
                Some(_) => {}
                None => self.fail(&format!(
                    "no stderr line with {needle:?} within {timeout:?}"
                )),
            }
        }
    }

    /// Reads stdout until a line contains `needle`.
    #[track_caller]
    fn expect_out(&mut self, needle: &str, timeout: Duration) -> String {
        let deadline = Instant::now() + timeout;
        loop {
            match self.next_of(Stream::Out, deadline) {
                Some(line) if line.contains(needle) => return line,
                Some(_) => {}
                None => self.fail(&format!(
                    "no stdout line with {needle:?} within {timeout:?}"
                )),
            }
        }
    }

    /// The next report on stdout: its lines up to and including `budget:`.
    #[track_caller]
    fn report(&mut self) -> Vec<String> {
        let deadline = Instant::now() + LONG;
        let mut lines = Vec::new();
        loop {
            match self.next_of(Stream::Out, deadline) {
                Some(line) => {
                    let text = plain(&line);
                    let text = match text.strip_prefix('[') {
                        Some(rest) => rest
                            .split_once("] ")
                            .map_or(text.clone(), |(_, r)| r.to_owned()),
                        None => text,
                    };
                    let done = text.starts_with("budget:");
                    lines.push(line);
                    if done {
                        return lines;
                    }
                }
                None => self.fail(&format!(
                    "no complete report within {LONG:?} (got {lines:?})"
                )),
            }
        }
    }

    /// Nothing new on stdout for `time`.
    #[track_caller]
    fn quiet(&mut self, time: Duration) {
        let deadline = Instant::now() + time;
        if let Some(line) = self.next_of(Stream::Out, deadline) {
            self.fail(&format!("expected no report, got {line:?}"));
        }
    }

    fn signal(&self, name: &str) {
        let signal = match name {
            "INT" => libc::SIGINT,
            "TERM" => libc::SIGTERM,
            "HUP" => libc::SIGHUP,
            other => panic!("no SIG{other} here"),
        };
        // SAFETY: kill(2) on our own child's pid.
        let rc = unsafe { libc::kill(self.child.id() as libc::pid_t, signal) };
        assert_eq!(rc, 0, "kill -{name}");
    }

    /// Sends `signal` and waits for the process to exit.
    #[track_caller]
    fn stop(mut self, signal: &str) -> ExitStatus {
        self.stop_now(signal)
    }

    #[track_caller]
    fn stop_now(&mut self, signal: &str) -> ExitStatus {
        self.signal(signal);
        let deadline = Instant::now() + LONG;
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                while self.pump(Instant::now() + Duration::from_millis(200)) {}
                return status;
            }
            if Instant::now() > deadline {
                self.fail(&format!("still running {LONG:?} after SIG{signal}"));
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Watch {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn stored_of(size: &serde_json::Value, name: &str) -> u64 {
    size["assets"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["name"] == name)
        .unwrap_or_else(|| panic!("{name} not in {size}"))["stored_size"]
        .as_u64()
        .unwrap()
}

fn bytes(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    format!("{out} B")
}

#[test]
fn reports_added_changed_and_removed_assets_with_the_stored_sizes_of_size() {
    let p = Project::new("watch_basic", "platform = \"p2\"\n");
    p.write("assets/logo.bin", data(1, 3000));
    p.write("assets/notes.txt", "hello\n".repeat(50));
    let mut w = p.watch(&[]);
    let first = w.report();
    assert!(
        first[0].starts_with("watching `watch_basic`: 2 assets in "),
        "{first:?}"
    );
    assert!(first[0].contains("platform `p2`"), "{first:?}");
    assert_eq!(
        first.last().unwrap(),
        "budget: 2 assets take 8,192 B of 1,138,688 B on `p2` (0%)"
    );

    p.write("assets/new.bin", data(2, 5000));
    let added = w.report();
    let size = p.size_json();
    assert_eq!(added[0], "change: 1 added", "{added:?}");
    assert_eq!(
        added[1],
        format!(
            "  added    new.bin  {} stored (5,000 B raw)",
            bytes(stored_of(&size, "new.bin"))
        )
    );
    assert!(added[2].starts_with("budget: 3 assets take "), "{added:?}");

    let old = stored_of(&size, "logo.bin");
    p.write("assets/logo.bin", data(3, 9000));
    let changed = w.report();
    let now = stored_of(&p.size_json(), "logo.bin");
    assert_eq!(changed[0], "change: 1 changed", "{changed:?}");
    assert!(
        changed[1].starts_with(&format!(
            "  changed  logo.bin  {} stored (was {}, +",
            bytes(now),
            bytes(old)
        )),
        "{changed:?}"
    );

    p.remove("assets/notes.txt");
    let removed = w.report();
    assert_eq!(removed[0], "change: 1 removed", "{removed:?}");
    assert!(
        removed[1].starts_with("  removed  notes.txt  (was "),
        "{removed:?}"
    );
    assert_eq!(removed.len(), 3, "{removed:?}");

    // The same content again: an event, a rescan, and nothing to report.
    p.write("assets/new.bin", data(2, 5000));
    w.quiet(QUIET);
    assert!(w.stop("INT").success());
}

#[test]
fn editor_temp_swap_and_lock_files_print_nothing() {
    let p = Project::new("watch_editor_junk", "");
    p.write("assets/notes.txt", "notes\n");
    let mut w = p.watch(&[]);
    w.report();
    // vim's swap file and write test, emacs's lock and autosave, a backup.
    p.write("assets/.notes.txt.swp", data(4, 4096));
    p.write("assets/.notes.txt.swp", data(5, 4096));
    p.write("assets/4913", "");
    p.remove("assets/4913");
    #[cfg(unix)]
    std::os::unix::fs::symlink("user@host.1234:1", p.join("assets/.#notes.txt")).unwrap();
    p.write("assets/#notes.txt#", "autosave");
    p.remove("assets/#notes.txt#");
    p.write("assets/notes.txt~", "backup");
    p.remove("assets/notes.txt~");
    p.write("assets/.DS_Store", "finder");
    p.write("assets/sub/.hidden/file.bin", "x");
    w.quiet(QUIET);
    assert!(w.stop("INT").success());
}

#[test]
fn an_editor_save_via_rename_is_one_change() {
    let p = Project::new("watch_save_rename", "");
    p.write("assets/logo.bin", data(6, 2000));
    p.write("assets/other.bin", data(7, 2000));
    let mut w = p.watch(&[]);
    w.report();

    // vim with `backup` and `writebackup`: test file, backup by rename, new file, backup gone.
    p.write("assets/4913", "");
    p.remove("assets/4913");
    p.rename("assets/logo.bin", "assets/logo.bin~");
    p.write("assets/logo.bin", data(8, 2100));
    p.remove("assets/logo.bin~");
    let report = w.report();
    assert_eq!(report[0], "change: 1 changed", "{report:?}");
    assert!(report[1].starts_with("  changed  logo.bin  "), "{report:?}");
    assert_eq!(report.len(), 3, "{report:?}");
    w.quiet(QUIET);

    // Write to a temporary file, then rename it over the asset (most IDEs).
    p.write("assets/.other.bin.tmp-4242", data(9, 1900));
    p.rename("assets/.other.bin.tmp-4242", "assets/other.bin");
    let report = w.report();
    assert_eq!(report[0], "change: 1 changed", "{report:?}");
    assert!(
        report[1].starts_with("  changed  other.bin  "),
        "{report:?}"
    );
    w.quiet(QUIET);
    assert!(w.stop("INT").success());
}

fn git(dir: &Path, args: &[&str]) {
    let out = Command::new("git")
        .args([
            "-c",
            "user.name=t",
            "-c",
            "user.email=t@example.com",
            "-c",
            "commit.gpgsign=false",
            "-c",
            "core.autocrlf=false",
        ])
        .args(args)
        .current_dir(dir)
        .env_remove("GIT_DIR")
        .env_remove("GIT_WORK_TREE")
        .output()
        .unwrap_or_else(|e| panic!("this test needs git, which did not run: {e}"));
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn a_git_checkout_of_500_files_is_one_report() {
    let p = Project::new("watch_burst", "");
    for i in 0..500 {
        p.write(
            &format!("assets/d{}/f{i:03}.txt", i % 10),
            format!("version one of file {i}\n"),
        );
    }
    // A real `git checkout` between two commits (git is required: without
    // it the test fails rather than checking something else).
    git(p.path(), &["init", "-q", "-b", "one"]);
    git(p.path(), &["add", "-A"]);
    git(p.path(), &["commit", "-q", "-m", "one"]);
    git(p.path(), &["checkout", "-q", "-b", "two"]);
    let second = |i: usize| format!("the second version of file {i}, longer\n");
    for i in 0..500 {
        p.write(&format!("assets/d{}/f{i:03}.txt", i % 10), second(i));
    }
    git(p.path(), &["commit", "-q", "-a", "-m", "two"]);
    git(p.path(), &["checkout", "-q", "one"]);
    let sample = p.join("assets/d7/f127.txt");
    assert_eq!(
        std::fs::read_to_string(&sample).unwrap(),
        "version one of file 127\n"
    );
    // A debounce far longer than a checkout takes even on a loaded machine,
    // so that the whole checkout is one burst.
    let mut w = p.watch(&["--debounce", "5000"]);
    let first = w.report();
    assert!(first[0].contains(": 500 assets in "), "{first:?}");

    let burst = |p: &Project, to: &str| git(p.path(), &["checkout", "-q", to]);
    burst(&p, "two");
    assert_eq!(std::fs::read_to_string(&sample).unwrap(), second(127));
    let report = w.report();
    assert_eq!(report[0], "change: 500 changed", "{report:?}");
    assert_eq!(
        report.len(),
        1 + 20 + 1 + 1,
        "20 asset lines, `… and 480 more`, the budget: {report:?}"
    );
    assert_eq!(report[21], "  … and 480 more");
    w.quiet(QUIET);

    burst(&p, "one");
    assert_eq!(
        std::fs::read_to_string(&sample).unwrap(),
        "version one of file 127\n"
    );
    let report = w.report();
    assert_eq!(report[0], "change: 500 changed", "{report:?}");
    w.quiet(QUIET);
    assert!(w.stop("INT").success());
}

#[test]
fn a_directory_deleted_and_created_again_is_still_watched() {
    let p = Project::new("watch_subdir", "");
    p.write("assets/img/a.bin", data(10, 1000));
    p.write("assets/img/b.bin", data(11, 1000));
    p.write("assets/top.txt", "top\n");
    let mut w = p.watch(&[]);
    w.report();

    p.remove("assets/img");
    let report = w.report();
    assert_eq!(report[0], "change: 2 removed", "{report:?}");

    p.write("assets/img/a.bin", data(10, 1000));
    p.write("assets/img/c.bin", data(12, 1000));
    let report = w.report();
    assert_eq!(report[0], "change: 2 added", "{report:?}");
    assert!(
        report[1].starts_with("  added    img/a.bin  "),
        "{report:?}"
    );
    assert!(
        report[2].starts_with("  added    img/c.bin  "),
        "{report:?}"
    );

    // The new directory is watched: a change inside it is seen.
    std::thread::sleep(Duration::from_millis(100));
    p.write("assets/img/c.bin", data(13, 1500));
    let report = w.report();
    assert_eq!(report[0], "change: 1 changed", "{report:?}");
    assert!(
        report[1].starts_with("  changed  img/c.bin  "),
        "{report:?}"
    );

    // Deeper: a new directory tree made at once.
    p.write("assets/x/y/z.bin", data(14, 100));
    let report = w.report();
    assert_eq!(report[0], "change: 1 added", "{report:?}");
    p.write("assets/x/y/z.bin", data(15, 200));
    let report = w.report();
    assert_eq!(report[0], "change: 1 changed", "{report:?}");
    assert!(w.stop("INT").success());
}

#[test]
fn the_assets_dir_removed_is_reported_and_watching_resumes_when_it_is_back() {
    let p = Project::new("watch_dir_gone", "");
    p.write("assets/a.bin", data(20, 1000));
    p.write("assets/b.bin", data(21, 1000));
    let mut w = p.watch(&[]);
    w.report();

    p.remove("assets");
    let line = w.expect_err("does not exist", LONG);
    assert!(line.contains("assets directory `assets` does not exist any more (2 assets gone); watching for it to appear"), "{line}");
    w.quiet(QUIET);

    p.write("assets/a.bin", data(20, 1000));
    let report = w.report();
    assert_eq!(
        report[0], "back: assets directory `assets` is here again; 1 removed",
        "{report:?}"
    );
    p.write("assets/b.bin", data(22, 1000));
    let report = w.report();
    assert_eq!(report[0], "change: 1 added", "{report:?}");

    // Renamed away and back: the same directory, watched again.
    p.rename("assets", "assets.old");
    w.expect_err("does not exist any more", LONG);
    p.rename("assets.old", "assets");
    let report = w.report();
    assert_eq!(
        report[0], "back: assets directory `assets` is here again; no asset changed",
        "{report:?}"
    );
    p.write("assets/a.bin", data(23, 1200));
    let report = w.report();
    assert_eq!(report[0], "change: 1 changed", "{report:?}");
    assert!(w.stop("INT").success());
}

#[test]
fn a_missing_assets_dir_at_start_is_waited_for() {
    let p = Project::new("watch_dir_later", "");
    let mut w = p.watch(&[]);
    assert!(
        w.err
            .iter()
            .any(|l| l
                .contains("assets directory `assets` does not exist; watching for it to appear")),
        "{:?}",
        w.log
    );
    p.write("assets/a.bin", data(30, 100));
    let report = w.report();
    assert_eq!(
        report[0], "back: assets directory `assets` is here again; 1 added",
        "{report:?}"
    );
    assert!(w.stop("INT").success());
}

const TINY: &str = "platform = \"tiny\"\n\n\
    [package.metadata.assetota.platforms.tiny]\ntotal = \"12 KiB\"\nblock-size = 4096\nper-block-overhead = 0\ncodec = \"none\"\n";

#[test]
fn cargo_toml_changes_reload_the_config_and_bad_ones_are_survived() {
    let p = Project::new("watch_config", "platform = \"p2\"\n");
    p.write("assets/a.bin", data(40, 1000));
    let mut w = p.watch(&[]);
    w.report();

    // Another platform: the same assets, another budget.
    let manifest = std::fs::read_to_string(p.join("Cargo.toml")).unwrap();
    p.write("Cargo.toml", manifest.replace("platform = \"p2\"\n", TINY));
    let report = w.report();
    assert_eq!(
        report[0], "config: platform `tiny`, none; 1 changed",
        "{report:?}"
    );
    assert_eq!(
        report.last().unwrap(),
        "budget: 1 asset takes 4,096 B of 12,288 B on `tiny` (33%)"
    );

    // A broken manifest is reported; the watch goes on with the old config.
    let good = std::fs::read_to_string(p.join("Cargo.toml")).unwrap();
    p.write("Cargo.toml", format!("{good}\nthis is not toml\n"));
    w.expect_err("is not valid TOML", LONG);
    p.write("assets/b.bin", data(41, 1000));
    w.quiet(QUIET); // the broken config holds the report back
    p.write("Cargo.toml", &good);
    let report = w.report();
    assert_eq!(report[0], "config: fixed; 1 added", "{report:?}");

    // An exclude rule that hides an asset.
    p.write(
        "Cargo.toml",
        good.replace(
            "dir = \"assets\"\n",
            "dir = \"assets\"\nexclude = [\"b.*\"]\n",
        ),
    );
    let report = w.report();
    assert_eq!(report[0], "config: exclude rules; 1 removed", "{report:?}");

    // Saved via rename, as editors do, to a manifest with no change that matters.
    let current = std::fs::read_to_string(p.join("Cargo.toml")).unwrap();
    p.write(
        ".Cargo.toml.tmp",
        current.replace("version = \"0.1.0\"", "version = \"0.1.1\""),
    );
    p.rename(".Cargo.toml.tmp", "Cargo.toml");
    w.quiet(QUIET);
    assert!(w.stop("INT").success());
}

#[test]
fn near_is_yellow_and_over_is_red() {
    let p = Project::new("watch_colour", TINY);
    p.write("assets/a.bin", data(50, 100));
    p.write("assets/b.bin", data(51, 100));
    let mut w = p.watch(&["--color", "always"]);
    let first = w.report();
    assert_eq!(
        first.last().unwrap(),
        "budget: 2 assets take 8,192 B of 12,288 B on `tiny` (66%)",
        "no colour when it fits"
    );

    p.write("assets/c.bin", data(52, 100));
    let near = w.report();
    let budget = near.last().unwrap();
    assert!(
        budget.contains("\u{1b}[33m") && budget.contains("near the limit"),
        "{near:?}"
    );
    assert!(
        near.iter()
            .any(|l| l.contains("\u{1b}[33m") && l.contains("100% of the total limit")),
        "{near:?}"
    );

    p.write("assets/d.bin", data(53, 100));
    let over = w.report();
    let budget = over.last().unwrap();
    assert!(
        budget.contains("\u{1b}[31m") && budget.contains("OVER the limit"),
        "{over:?}"
    );
    assert!(
        over.iter()
            .any(|l| l.contains("\u{1b}[31m") && l.contains("over the total limit")),
        "{over:?}"
    );
    assert!(w.stop("INT").success());
}

#[test]
fn sigint_and_sigterm_exit_cleanly() {
    let p = Project::new("watch_signals", "");
    p.write("assets/a.bin", "a");
    for signal in ["INT", "TERM", "HUP"] {
        let mut w = p.watch(&[]);
        w.report();
        let status = w.stop(signal);
        assert!(status.success(), "SIG{signal}: {status:?}");
    }
}

#[test]
fn ctrl_c_during_a_long_first_scan_exits_promptly() {
    // xz at level 9 on 24 MiB of noise takes many seconds.
    let p = Project::new("watch_slow_scan", "codec = { kind = \"xz\", level = 9 }\n");
    let noise: Vec<u8> = (0..24u32 << 20)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8 ^ (i >> 7) as u8)
        .collect();
    p.write("assets/noise.bin", &noise);
    let mut w = Watch::spawn(p.path(), &[], &[]);
    std::thread::sleep(Duration::from_millis(1500));
    let started = Instant::now();
    let status = w.stop_now("INT");
    let stopped_in = started.elapsed();
    assert!(status.success(), "{status:?}");
    assert!(w.err.iter().any(|l| l.contains("Stopped")), "{:?}", w.log);
    assert!(
        w.out.is_empty(),
        "no report from an interrupted scan: {:?}",
        w.log
    );
    // "Promptly" against the same machine under the same load, not a fixed
    // number of seconds: the whole scan (`size` measures the same asset with
    // the same codec, without a cache) takes far longer than the stop. A
    // stop that waited for the scan to end would take about as long.
    let target = tempfile::tempdir().unwrap();
    let started = Instant::now();
    let size = Command::new(bin())
        .args(["size", "--json"])
        .current_dir(p.path())
        .env("CARGO_TARGET_DIR", target.path())
        .env_remove("ASSETOTA_PLATFORM")
        .output()
        .unwrap();
    let scan = started.elapsed();
    assert!(
        size.status.success(),
        "{}",
        String::from_utf8_lossy(&size.stderr)
    );
    eprintln!("stopped in {stopped_in:?}; a whole scan takes {scan:?}");
    assert!(
        stopped_in * 2 < scan.saturating_sub(Duration::from_millis(1500)),
        "the stop took {stopped_in:?}, about as long as the rest of the scan \
         (the whole scan: {scan:?}): the scan was not interrupted"
    );
}

#[test]
fn a_workspace_is_watched_package_by_package_with_its_shared_platforms() {
    let t = tempfile::Builder::new()
        .prefix("assetota-watch-ws")
        .tempdir()
        .unwrap();
    let write = |rel: &str, data: &str| {
        let path = t.path().join(rel);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, data).unwrap();
    };
    let shared = "[workspace]\nmembers = [\"fw-a\", \"fw-b\"]\nresolver = \"3\"\n\n\
        [workspace.metadata.assetota.platforms.shared]\ntotal = \"64 KiB\"\nblock-size = 4096\nper-block-overhead = 0\ncodec = \"none\"\n";
    write("Cargo.toml", shared);
    for (name, platform) in [("fw-a", "platform = \"shared\"\n"), ("fw-b", "")] {
        write(
            &format!("{name}/Cargo.toml"),
            &format!(
                "[package]\nname = \"{name}\"\nversion = \"0.1.0\"\nedition = \"2024\"\n\n[package.metadata.assetota]\ndir = \"assets\"\n{platform}"
            ),
        );
        write(&format!("{name}/src/main.rs"), "fn main() {}\n");
        write(&format!("{name}/assets/one.bin"), "1");
    }
    let mut w = Watch::start(t.path(), &[], &[]);
    let mut firsts = [w.report(), w.report()];
    firsts.sort();
    assert!(
        firsts[0][0].starts_with("[fw-a] watching `fw-a`: 1 asset in "),
        "{firsts:?}"
    );
    assert!(
        firsts[1][0].starts_with("[fw-b] watching `fw-b`: 1 asset in "),
        "{firsts:?}"
    );

    write("fw-b/assets/two.bin", "2");
    let report = w.report();
    assert_eq!(report[0], "[fw-b] change: 1 added", "{report:?}");
    assert!(
        report[1].starts_with("[fw-b]   added    two.bin  "),
        "{report:?}"
    );

    // The workspace's platform definition is an input of fw-a's config.
    write("Cargo.toml", &shared.replace("64 KiB", "8 KiB"));
    let report = w.report();
    assert_eq!(
        report[0], "[fw-a] config: platform `shared`, none; no asset changed",
        "{report:?}"
    );
    assert_eq!(
        report.last().unwrap(),
        "[fw-a] budget: 1 asset takes 4,096 B of 8,192 B on `shared` (50%)"
    );
    w.quiet(QUIET);
    assert!(w.stop("INT").success());
}

#[test]
fn a_bad_config_at_start_is_an_error() {
    let p = Project::new("watch_bad_start", "platform = \"no-such-board\"\n");
    let out = Command::new(bin())
        .args(["watch"])
        .current_dir(p.path())
        .env("CARGO_TERM_COLOR", "never")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("unknown platform `no-such-board`"),
        "{stderr}"
    );
}

// ---------------------------------------------------------------- --build

/// A build script that records its pid and, with `SLOW` set, takes minutes.
const SLOW_BUILD_RS: &str = r#"fn main() {
    println!("cargo::rerun-if-env-changed=SLOW");
    let dir = std::env::var("CARGO_MANIFEST_DIR").unwrap();
    std::fs::write(format!("{dir}/build-script.pid"), std::process::id().to_string()).unwrap();
    if std::env::var_os("SLOW").is_some() {
        std::thread::sleep(std::time::Duration::from_secs(300));
    }
}
"#;

#[test]
fn a_failing_build_is_reported_and_watching_goes_on() {
    // A package that builds but embeds no manifest: `cargo assetota build` fails.
    let p = Project::new("watch_build_fails", "");
    p.write("assets/a.bin", "a");
    let mut w = p.watch(&["--build"]);
    w.report();
    let line = w.expect_out("build: FAILED", Duration::from_secs(300));
    assert!(
        line.contains("(exit code 1)") && line.ends_with("still watching"),
        "{line}"
    );
    w.expect_err("has no `.assetota` section", LONG); // the build's own error, as it printed it

    p.write("assets/b.bin", "b");
    let report = w.report();
    assert_eq!(report[0], "change: 1 added", "{report:?}");
    w.expect_out("build: FAILED", Duration::from_secs(300));
    assert!(w.stop("INT").success());
}

/// The process group of `pid`, from /proc.
#[cfg(target_os = "linux")]
fn pgid_of(pid: &str) -> Option<String> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // pid (comm) state ppid pgrp …; comm may contain spaces.
    let rest = &stat[stat.rfind(')')? + 2..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    Some(fields.get(2)?.to_string())
}

/// Live (not zombie) processes in process group `pgid`.
#[cfg(target_os = "linux")]
fn live_in_group(pgid: &str) -> Vec<String> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let pid = entry.file_name().to_string_lossy().into_owned();
        if !pid.chars().all(|c| c.is_ascii_digit()) {
            continue;
        }
        let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
            continue;
        };
        let Some(close) = stat.rfind(')') else {
            continue;
        };
        let fields: Vec<&str> = stat[close + 2..].split_whitespace().collect();
        if fields.get(2) == Some(&pgid) && fields.first() != Some(&"Z") {
            out.push(format!("{pid} {}", &stat[..close + 1]));
        }
    }
    out
}

#[cfg(target_os = "linux")]
fn stop_during_a_build_leaves_no_process(signal: &str) {
    let p = Project::new(&format!("watch_build_stop_{}", signal.to_lowercase()), "");
    p.write("build.rs", SLOW_BUILD_RS);
    p.write("assets/a.bin", "a");
    let mut cmd_env = Watch::start(p.path(), &["--build"], &[("SLOW", "1")]);
    cmd_env.report();
    cmd_env.expect_err("Building", LONG);
    cmd_env.expect_err("Compiling", LONG);
    let pid_file = p.join("build-script.pid");
    let deadline = Instant::now() + Duration::from_secs(300);
    while !pid_file.exists() {
        assert!(
            Instant::now() < deadline,
            "the build script never ran: {:?}",
            cmd_env.log
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    std::thread::sleep(Duration::from_millis(200));
    let script = std::fs::read_to_string(&pid_file).unwrap();
    let group = pgid_of(&script).expect("the build script runs");
    let watch_pid = cmd_env.child.id().to_string();
    assert_ne!(
        pgid_of(&watch_pid).unwrap(),
        group,
        "the build runs in its own process group"
    );
    assert!(
        live_in_group(&group).len() >= 3,
        "cargo-assetota build, cargo, the build script: {:?}",
        live_in_group(&group)
    );

    // The build script sleeps for 300 s: an exit (waited for up to LONG)
    // with nothing of its group left shows the build was killed, not waited
    // for; no threshold on how fast.
    let status = cmd_env.stop(signal);
    assert!(status.success(), "SIG{signal}: {status:?}");
    let left = live_in_group(&group);
    assert!(left.is_empty(), "processes left behind: {left:?}");
}

#[cfg(target_os = "linux")]
#[test]
fn ctrl_c_during_a_build_kills_its_whole_process_group() {
    stop_during_a_build_leaves_no_process("INT");
}

#[cfg(target_os = "linux")]
#[test]
fn sigterm_during_a_build_kills_its_whole_process_group() {
    stop_during_a_build_leaves_no_process("TERM");
}

/// The repository root.
fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_owned()
}

#[test]
fn with_build_each_change_rebuilds_and_writes_a_bundle_that_verifies() {
    // A real firmware (host program) using this checkout's build.rs helper
    // and runtime, built in the target directory the CLI tests share.
    let p = Project::new("watch_build_ok", "platform = \"p2\"\n");
    let root = repo_root();
    let manifest = std::fs::read_to_string(p.join("Cargo.toml")).unwrap().replace(
        "[package.metadata.assetota]",
        &format!(
            "[dependencies]\nassetota = {{ path = \"{}\" }}\n\n[build-dependencies]\nassetota-build = {{ path = \"{}\" }}\n\n[package.metadata.assetota]",
            root.join("build-support/assetota").display(),
            root.join("build-support/assetota-build").display()
        ),
    );
    p.write("Cargo.toml", manifest);
    std::fs::copy(root.join("Cargo.lock"), p.join("Cargo.lock")).unwrap();
    p.write("build.rs", "fn main() {\n    assetota_build::embed();\n}\n");
    p.write("src/main.rs", "assetota::manifest!();\n\nfn main() {\n    println!(\"{}\", ASSETOTA.manifest().unwrap().len());\n}\n");
    p.write("assets/a.bin", data(60, 3000));
    let target = root.join("target").join("e2e");
    // The target dir is shared and kept: the bundle read below must be the
    // one this watch builds, not one an earlier run left.
    let stale = target.join("debug").join("watch_build_ok.assetota.zip");
    let _ = std::fs::remove_file(&stale);
    let target = target.to_str().unwrap();
    let mut w = Watch::start(
        p.path(),
        &["--build", "--offline"],
        &[("CARGO_TARGET_DIR", target)],
    );
    w.report();
    let line = w.expect_out("build: ", Duration::from_secs(900));
    assert!(line.starts_with("build: ok in "), "{line}");
    let bundle = line
        .split("bundle ")
        .nth(1)
        .expect("the bundle path")
        .to_owned();
    assert!(bundle.ends_with("watch_build_ok.assetota.zip"), "{line}");

    p.write("assets/b.bin", data(61, 2000));
    let report = w.report();
    assert_eq!(report[0], "change: 1 added", "{report:?}");
    let line = w.expect_out("build: ", Duration::from_secs(300));
    assert!(line.starts_with("build: ok in "), "{line}");

    let verify = Command::new(bin())
        .arg("verify")
        .arg(&bundle)
        .output()
        .unwrap();
    assert!(
        verify.status.success(),
        "verify: {}",
        String::from_utf8_lossy(&verify.stderr)
    );
    let zip = zip::ZipArchive::new(std::fs::File::open(&bundle).unwrap()).unwrap();
    let names: Vec<String> = zip.file_names().map(|n| n.unwrap().into_owned()).collect();
    assert!(
        names.iter().any(|n| n == "assets/b.bin"),
        "the rebuilt bundle has the new asset: {names:?}"
    );
    assert!(w.stop("INT").success());
}
