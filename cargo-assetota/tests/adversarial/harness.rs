//! What every adversarial case checks, and the machinery to provoke the
//! failures: runs with a deadline, directory snapshots, a seeded PRNG, tmpfs
//! mounts, and a fanotify gate that pauses the CLI on an open.

use std::collections::BTreeMap;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Child, Command};
use std::time::{Duration, Instant};

pub use crate::support::cannot_run;
use crate::support::{Output, Project, Run, exit_code};

/// `cargo-assetota ARGS` in `dir`: the shared harness's runs, with its
/// deadline (a run that outlives it is a hang and fails the case).
pub use crate::support::{cli_cmd as cli_env, cli_in as cli};

/// The refusal every case must end in: exit `code` (cargo-assetota/README.md,
/// "Exit codes"), every one of
/// `needles` in stderr (the error names the file or entry), and no panic.
#[track_caller]
pub fn refused(run: &Run, code: i32, needles: &[&str]) {
    assert_eq!(
        run.code, code,
        "expected exit {code}\n--- stdout\n{}\n--- stderr\n{}",
        run.stdout, run.stderr
    );
    no_panic(run);
    for needle in needles {
        assert!(
            run.stderr.contains(needle),
            "stderr lacks {needle:?}:\n{}",
            run.stderr
        );
    }
}

#[track_caller]
pub fn no_panic(run: &Run) {
    assert!(
        !run.stderr.contains("panicked") && !run.stderr.contains("RUST_BACKTRACE"),
        "cargo-assetota panicked:\n{}",
        run.stderr
    );
    assert!(
        run.code != 101 && run.code < 128,
        "cargo-assetota crashed (exit {}):\n{}",
        run.code,
        run.stderr
    );
}

#[track_caller]
pub fn ok(run: Run) -> Run {
    no_panic(&run);
    run.success()
}

/// One node of a directory snapshot.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Node {
    Dir,
    /// Length and SHA-256 (the first 16 MiB of longer files).
    File(u64, [u8; 32]),
    Link(PathBuf),
    Other(u32),
}

/// Everything below a directory, links not followed: to show that a run
/// wrote, changed and removed nothing there.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tree(pub BTreeMap<PathBuf, Node>);

pub fn tree(root: &Path) -> Tree {
    fn walk(root: &Path, dir: &Path, out: &mut BTreeMap<PathBuf, Node>) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            let rel = path.strip_prefix(root).unwrap().to_owned();
            let meta = std::fs::symlink_metadata(&path).unwrap();
            let t = meta.file_type();
            let node = if t.is_symlink() {
                Node::Link(std::fs::read_link(&path).unwrap())
            } else if t.is_dir() {
                walk(root, &path, out);
                Node::Dir
            } else if t.is_file() {
                Node::File(meta.len(), digest_head(&path))
            } else {
                use std::os::unix::fs::MetadataExt;
                Node::Other(meta.mode())
            };
            out.insert(rel, node);
        }
    }
    let mut out = BTreeMap::new();
    walk(root, root, &mut out);
    Tree(out)
}

fn digest_head(path: &Path) -> [u8; 32] {
    use sha2::Digest;
    let mut hasher = sha2::Sha256::new();
    if let Ok(f) = std::fs::File::open(path) {
        let mut buf = Vec::new();
        let _ = f.take(16 << 20).read_to_end(&mut buf);
        hasher.update(&buf);
    }
    hasher.finalize().into()
}

#[track_caller]
pub fn unchanged(label: &str, before: &Tree, after: &Tree) {
    if before == after {
        return;
    }
    let mut diff = Vec::new();
    for (path, node) in &after.0 {
        match before.0.get(path) {
            None => diff.push(format!("  + {}", path.display())),
            Some(old) if old != node => diff.push(format!("  ~ {}", path.display())),
            Some(_) => {}
        }
    }
    for path in before.0.keys() {
        if !after.0.contains_key(path) {
            diff.push(format!("  - {}", path.display()));
        }
    }
    panic!("{label}: the run changed files:\n{}", diff.join("\n"));
}

/// The files a build writes for `p` in its profile directory: the bundle, the
/// flat image, and any temporary file of either (`.<name>.tmp-XXXXXX`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outputs {
    pub bundle: Option<Vec<u8>>,
    pub image: Option<Vec<u8>>,
    pub temps: Vec<String>,
}

pub fn outputs(p: &Project, triple: Option<&str>, profile: &str) -> Outputs {
    let bundle = p.bundle(triple, profile);
    let image = p
        .exe(triple, profile)
        .with_file_name(format!("{}.bin", p.name));
    Outputs {
        temps: temps(bundle.parent().unwrap(), &p.name),
        bundle: std::fs::read(&bundle).ok(),
        image: std::fs::read(&image).ok(),
    }
}

/// Temporary files of the outputs named `<stem>…` in `dir`.
pub fn temps(dir: &Path, stem: &str) -> Vec<String> {
    let prefix = format!(".{stem}");
    let mut out: Vec<String> = std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .flatten()
                .filter_map(|e| e.file_name().to_str().map(str::to_owned))
                .filter(|n| n.starts_with(&prefix) && n.contains(".tmp-"))
                .collect()
        })
        .unwrap_or_default();
    out.sort();
    out
}

/// SplitMix64: a small seeded PRNG, so a failing run can be replayed
/// (`ASSETOTA_ADVERSARIAL_SEED`).
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    pub fn seeded(default: u64) -> Rng {
        let seed = std::env::var("ASSETOTA_ADVERSARIAL_SEED")
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or(default);
        eprintln!("PRNG seed {seed} (set ASSETOTA_ADVERSARIAL_SEED to replay)");
        Rng(seed)
    }

    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `[0, 1)`.
    pub fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// `len` bytes that deflate about 2:1 and quickly: 2 KiB blocks, each
    /// random or zero.
    pub fn bytes(&mut self, len: usize) -> Vec<u8> {
        let mut out = Vec::with_capacity(len + 2048);
        while out.len() < len {
            if self.next() & 1 == 0 {
                out.resize(out.len() + 2048, 0);
            } else {
                for _ in 0..256 {
                    out.extend_from_slice(&self.next().to_le_bytes());
                }
            }
        }
        out.truncate(len);
        out
    }
}

pub fn is_root() -> bool {
    // SAFETY: geteuid has no preconditions.
    unsafe { libc::geteuid() == 0 }
}

/// A tmpfs mounted for the length of a test. Where mounting is not allowed
/// the test fails ([`cannot_run`]), or gets `None` if skipping was asked for.
pub struct Tmpfs {
    pub dir: tempfile::TempDir,
}

impl Tmpfs {
    pub fn mount(size: &str) -> Option<Tmpfs> {
        let dir = tempfile::Builder::new()
            .prefix("assetota-tmpfs")
            .tempdir()
            .unwrap();
        let out = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size},mode=0755")])
            .arg("tmpfs")
            .arg(dir.path())
            .output();
        match out {
            Ok(out) if out.status.success() => {}
            Ok(out) => {
                cannot_run(&format!(
                    "cannot mount a tmpfs (needs root or CAP_SYS_ADMIN): mount: {}",
                    String::from_utf8_lossy(&out.stderr).trim()
                ));
                return None;
            }
            Err(e) => {
                cannot_run(&format!("cannot run mount: {e}"));
                return None;
            }
        }
        Some(Tmpfs { dir })
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    pub fn remount_read_only(&self) {
        let status = Command::new("mount")
            .args(["-o", "remount,ro"])
            .arg(self.path())
            .status()
            .unwrap();
        assert!(status.success(), "remount read-only");
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = Command::new("umount")
            .arg("-l")
            .arg(self.dir.path())
            .status();
    }
}

/// A fanotify permission gate on some files: every `open` of them by the
/// watched process waits until `on_open` has run. Lets a test change a file at
/// an exact point of a run (after the scan, before the bundle) instead of
/// racing it. Linux, root (CAP_SYS_ADMIN) only.
pub struct Gate {
    fd: libc::c_int,
}

impl Gate {
    /// Where fanotify permission events are not available the test fails
    /// ([`cannot_run`]), or gets `None` if skipping was asked for.
    pub fn new(files: &[&Path]) -> Option<Gate> {
        // SAFETY: plain syscalls; the fd is owned by the Gate.
        let fd = unsafe {
            libc::fanotify_init(
                libc::FAN_CLASS_CONTENT | libc::FAN_CLOEXEC,
                (libc::O_RDONLY | libc::O_LARGEFILE | libc::O_CLOEXEC) as libc::c_uint,
            )
        };
        if fd < 0 {
            cannot_run(&format!(
                "fanotify_init: {} (needs root)",
                std::io::Error::last_os_error()
            ));
            return None;
        }
        let gate = Gate { fd };
        for file in files {
            use std::os::unix::ffi::OsStrExt;
            let c = std::ffi::CString::new(file.as_os_str().as_bytes()).unwrap();
            // SAFETY: c is a valid C string for the duration of the call.
            let r = unsafe {
                libc::fanotify_mark(
                    fd,
                    libc::FAN_MARK_ADD,
                    libc::FAN_OPEN_PERM,
                    libc::AT_FDCWD,
                    c.as_ptr(),
                )
            };
            if r < 0 {
                cannot_run(&format!(
                    "fanotify_mark FAN_OPEN_PERM: {} (kernel without CONFIG_FANOTIFY_ACCESS_PERMISSIONS?)",
                    std::io::Error::last_os_error()
                ));
                return None;
            }
        }
        Some(gate)
    }

    /// Serves permission requests until `child` exits. Each open of a gated
    /// file by `child` (any thread) is numbered from 1 and passed to `on_open`
    /// with the path before it is allowed; opens by other processes are
    /// allowed at once. Returns how many opens `child` made, and its run.
    pub fn serve(
        self,
        mut child: Child,
        mut on_open: impl FnMut(usize, &Path),
        limit: Duration,
    ) -> (usize, Run) {
        let pid = child.id() as i32;
        let output = Output::capture(&mut child);
        let deadline = Instant::now() + limit;
        let mut count = 0;
        let mut buf = vec![0u8; 64 * 1024];
        let status = loop {
            let mut pfd = libc::pollfd {
                fd: self.fd,
                events: libc::POLLIN,
                revents: 0,
            };
            // SAFETY: one valid pollfd.
            let n = unsafe { libc::poll(&mut pfd, 1, 20) };
            if n > 0 {
                // SAFETY: reads into a buffer of its length.
                let len = unsafe { libc::read(self.fd, buf.as_mut_ptr().cast(), buf.len()) };
                let mut at = 0usize;
                while len > 0
                    && at + std::mem::size_of::<libc::fanotify_event_metadata>() <= len as usize
                {
                    // SAFETY: the kernel wrote whole events; read unaligned.
                    let meta: libc::fanotify_event_metadata =
                        unsafe { std::ptr::read_unaligned(buf.as_ptr().add(at).cast()) };
                    if meta.fd >= 0 {
                        if meta.pid == pid && meta.mask & libc::FAN_OPEN_PERM != 0 {
                            count += 1;
                            let path = std::fs::read_link(format!("/proc/self/fd/{}", meta.fd))
                                .unwrap_or_default();
                            on_open(count, &path);
                        }
                        let response = libc::fanotify_response {
                            fd: meta.fd,
                            response: libc::FAN_ALLOW,
                        };
                        // SAFETY: writes one response struct; closes the event's fd.
                        unsafe {
                            libc::write(
                                self.fd,
                                (&response as *const libc::fanotify_response).cast(),
                                std::mem::size_of::<libc::fanotify_response>(),
                            );
                            libc::close(meta.fd);
                        }
                    }
                    at += meta.event_len as usize;
                }
            }
            if let Some(status) = child.try_wait().unwrap() {
                break status;
            }
            if Instant::now() > deadline {
                let _ = child.kill();
                let _ = child.wait();
                panic!("cargo-assetota hung behind the fanotify gate");
            }
        };
        (count, output.finish(exit_code(status)))
    }
}

impl Drop for Gate {
    fn drop(&mut self) {
        // SAFETY: closes the fd this Gate owns (pending requests are allowed).
        unsafe { libc::close(self.fd) };
    }
}

/// Restricts a command to one CPU, so the measuring pool has one worker and
/// opens the assets in name order.
pub fn one_cpu(cmd: &mut Command) {
    use std::os::unix::process::CommandExt;
    // SAFETY: sched_setaffinity is async-signal-safe; the set is built on the stack.
    unsafe {
        cmd.pre_exec(|| {
            let mut set: libc::cpu_set_t = std::mem::zeroed();
            libc::CPU_ZERO(&mut set);
            libc::CPU_SET(libc::sched_getcpu().max(0) as usize, &mut set);
            if libc::sched_setaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &set) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
}
