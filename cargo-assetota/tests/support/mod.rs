//! The one harness of the `cargo-assetota` integration tests (the `cli`,
//! `adversarial`, `image` and `export_serve` binaries): the binary under test
//! and its clean environment, runs with a deadline, real projects in temporary
//! directories built by the real cargo, and, from the test-support crates,
//! the hostile-zip writer (`assetota-raw-zip`, which
//! `fuzz/fuzz_targets/bundle_read.rs` links too) and the skip rule and
//! stale-output cleanup (`assetota-test-oracles`, shared with `tests/`).
//!
//! Not every binary uses every helper: each includes this module with
//! `#[allow(dead_code)]`.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

#[allow(unused_imports)] // not every binary writes hostile zips
pub use assetota_raw_zip::{RawEntry, RawZip, ZipEntry, crc32};
#[allow(unused_imports)] // not every binary skips or cleans the target dir
pub use assetota_test_oracles::{cannot_run, remove_stale};

/// The repository root.
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_owned()
}

/// One target directory for every fixture build (shared with the e2e tests),
/// so the build-support crates and their dependencies compile once.
pub fn target_dir() -> PathBuf {
    repo_root().join("target").join("e2e")
}

pub const THUMB: &str = "thumbv7m-none-eabi";

/// What `cargo assetota build` writes for the binary `bin` in every profile
/// directory of the shared target dir (host and [`THUMB`], debug and
/// release): its bundle and flat image. See [`remove_stale`].
pub fn remove_stale_outputs(bin: &str) {
    let target = target_dir();
    for dir in [target.clone(), target.join(THUMB)] {
        for profile in ["debug", "release"] {
            let d = dir.join(profile);
            remove_stale(&[
                &d.join(format!("{bin}.assetota.zip")),
                &d.join(format!("{bin}.bin")),
            ]);
        }
    }
}

/// What a run of the binary did.
#[derive(Debug)]
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    #[track_caller]
    pub fn success(self) -> Run {
        assert_eq!(
            self.code, 0,
            "expected success\n--- stdout\n{}\n--- stderr\n{}",
            self.stdout, self.stderr
        );
        self
    }

    #[track_caller]
    pub fn failure(self, code: i32) -> Run {
        assert_eq!(
            self.code, code,
            "expected exit {code}\n--- stdout\n{}\n--- stderr\n{}",
            self.stdout, self.stderr
        );
        self
    }

    #[track_caller]
    pub fn stderr_has(self, needle: &str) -> Run {
        assert!(
            self.stderr.contains(needle),
            "stderr lacks {needle:?}:\n{}",
            self.stderr
        );
        self
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("stdout is not JSON ({e}):\n{}", self.stdout))
    }
}

/// The binary under test: this package's, or `ASSETOTA_ADVERSARIAL_BIN` (to
/// show that a case fails against a build without the fix it covers).
pub fn bin() -> PathBuf {
    std::env::var_os("ASSETOTA_ADVERSARIAL_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_BIN_EXE_cargo-assetota")))
}

/// `cargo-assetota ARGS` in `dir`, with a clean, colorless environment (the
/// shared target directory; no platform override, `SOURCE_DATE_EPOCH`,
/// `RUSTFLAGS`, build target or backtrace from the caller), stdin closed and
/// both outputs piped.
pub fn command(dir: &Path, args: &[&str]) -> Command {
    let mut cmd = Command::new(bin());
    cmd.args(args)
        .current_dir(dir)
        .env("CARGO_TARGET_DIR", target_dir())
        .env("CARGO_TERM_COLOR", "never")
        .env_remove("ASSETOTA_PLATFORM")
        .env_remove("SOURCE_DATE_EPOCH")
        .env_remove("RUSTFLAGS")
        .env_remove("CARGO_BUILD_TARGET")
        .env_remove("RUST_BACKTRACE")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    cmd
}

/// Reads a child's stdout and stderr on threads, so a chatty child never
/// blocks on a full pipe.
pub struct Output {
    out: std::thread::JoinHandle<String>,
    err: std::thread::JoinHandle<String>,
}

impl Output {
    pub fn capture(child: &mut Child) -> Output {
        let mut so = child.stdout.take().expect("stdout piped");
        let mut se = child.stderr.take().expect("stderr piped");
        Output {
            out: std::thread::spawn(move || {
                let mut s = Vec::new();
                let _ = so.read_to_end(&mut s);
                String::from_utf8_lossy(&s).into_owned()
            }),
            err: std::thread::spawn(move || {
                let mut s = Vec::new();
                let _ = se.read_to_end(&mut s);
                String::from_utf8_lossy(&s).into_owned()
            }),
        }
    }

    pub fn finish(self, code: i32) -> Run {
        Run {
            code,
            stdout: self.out.join().unwrap(),
            stderr: self.err.join().unwrap(),
        }
    }
}

/// How long one run of the binary may take before it counts as a hang: a
/// bound for a loaded machine (a cold cargo build of a fixture included),
/// not a speed claim.
pub const RUN_LIMIT: Duration = Duration::from_secs(600);

/// Runs `cmd` to completion; a run that outlives `limit` (a hang) is killed
/// and fails the test.
pub fn run(mut cmd: Command, limit: Duration) -> Run {
    let mut child = cmd.spawn().expect("cargo-assetota starts");
    let output = Output::capture(&mut child);
    let deadline = Instant::now() + limit;
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            let run = output.finish(-1);
            panic!(
                "cargo-assetota {:?} hung for {limit:?}\n--- stderr\n{}",
                cmd.get_args().collect::<Vec<_>>(),
                run.stderr
            );
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    output.finish(exit_code(status))
}

/// The exit code, or 128 + the signal for a process killed by one.
pub fn exit_code(status: std::process::ExitStatus) -> i32 {
    use std::os::unix::process::ExitStatusExt;
    status
        .code()
        .unwrap_or_else(|| 128 + status.signal().unwrap_or(0))
}

/// `cargo-assetota ARGS` in `dir`, in the clean environment of [`command`].
pub fn cli_in(dir: &Path, args: &[&str]) -> Run {
    cli_cmd(dir, args, &[])
}

/// [`cli_in`] with `envs` added to the environment.
pub fn cli_cmd(dir: &Path, args: &[&str], envs: &[(&str, &str)]) -> Run {
    let mut cmd = command(dir, args);
    for (k, v) in envs {
        cmd.env(k, v);
    }
    run(cmd, RUN_LIMIT)
}

pub struct Project {
    pub dir: tempfile::TempDir,
    pub name: String,
}

const HOST_MAIN: &str = r#"assetota::manifest!();

fn main() {
    let manifest = ASSETOTA.manifest().expect("valid manifest");
    for asset in manifest.iter() {
        println!("{}  {}  {}", asset.sha256_hex(), asset.size(), asset.name());
    }
}
"#;

/// Bare-metal firmware without any dependency but the runtime: a vector
/// table, a reset handler that reads the manifest, and `.data` whose load
/// address (in flash) differs from its run address (in RAM).
const THUMB_MAIN: &str = r#"#![no_std]
#![no_main]

assetota::manifest!();

static mut COUNTER: u32 = 0x1234_5678;

#[unsafe(no_mangle)]
pub extern "C" fn reset() -> ! {
    let n = match ASSETOTA.manifest() {
        Ok(m) => m.len() as u32,
        Err(_) => 0,
    };
    unsafe { core::ptr::write_volatile(&raw mut COUNTER, n) };
    loop {
        core::hint::spin_loop();
    }
}

#[used]
#[unsafe(link_section = ".vector_table.reset")]
static RESET: extern "C" fn() -> ! = reset;

#[panic_handler]
fn panic(_: &core::panic::PanicInfo) -> ! {
    loop {}
}
"#;

const THUMB_LINK: &str = r#"MEMORY
{
  FLASH : ORIGIN = 0x08000000, LENGTH = 256K
  RAM : ORIGIN = 0x20000000, LENGTH = 64K
}
ENTRY(reset)
SECTIONS
{
  .vector_table ORIGIN(FLASH) : { LONG(ORIGIN(RAM) + LENGTH(RAM)); KEEP(*(.vector_table.reset)); } > FLASH
  .text : { *(.text .text.*); } > FLASH
  .rodata : ALIGN(4) { *(.rodata .rodata.*); } > FLASH
  .assetota : ALIGN(4) { KEEP(*(.assetota)); } > FLASH
  .data : ALIGN(4) { *(.data .data.*); . = ALIGN(4); } > RAM AT > FLASH
  .bss (NOLOAD) : ALIGN(4) { *(.bss .bss.*); } > RAM
  /DISCARD/ : { *(.ARM.exidx .ARM.exidx.*); }
}
"#;

impl Project {
    fn base(name: &str, metadata: &str, main_rs: &str, build_rs: &str) -> Project {
        let dir = tempfile::Builder::new()
            .prefix("assetota-cli")
            .tempdir()
            .unwrap();
        let root = repo_root();
        let manifest = format!(
            "[package]\nname = \"{name}\"\nversion = \"0.1.0\"\nedition = \"2024\"\n\n\
             [dependencies]\nassetota = {{ path = \"{runtime}\" }}\n\n\
             [build-dependencies]\nassetota-build = {{ path = \"{build}\" }}\n\n{metadata}\n\
             [workspace]\n",
            runtime = root.join("build-support/assetota").display(),
            build = root.join("build-support/assetota-build").display(),
        );
        // Names are unique per test, but the target dir outlives the run:
        // nothing an earlier run built for this name may be read back.
        remove_stale_outputs(name);
        let p = Project {
            dir,
            name: name.to_owned(),
        };
        p.write("Cargo.toml", manifest);
        p.write("src/main.rs", main_rs);
        p.write("build.rs", build_rs);
        // The workspace's lock file pins the same versions, so the shared
        // target directory is reused and no registry lookup is needed.
        std::fs::copy(root.join("Cargo.lock"), p.path().join("Cargo.lock")).unwrap();
        p
    }

    /// A host program. `name` must be unique across tests (shared target dir).
    pub fn host(name: &str, metadata: &str) -> Project {
        Project::base(
            name,
            metadata,
            HOST_MAIN,
            "fn main() {\n    assetota_build::embed();\n}\n",
        )
    }

    /// Firmware for thumbv7m-none-eabi; the target comes from .cargo/config.toml.
    pub fn thumb(name: &str, metadata: &str) -> Project {
        let build_rs = "fn main() {\n    println!(\"cargo::rustc-link-search={}\", std::env::var(\"CARGO_MANIFEST_DIR\").unwrap());\n    println!(\"cargo::rerun-if-changed=link.x\");\n    assetota_build::embed();\n}\n";
        let p = Project::base(name, metadata, THUMB_MAIN, build_rs);
        p.write("link.x", THUMB_LINK);
        p.write(
            ".cargo/config.toml",
            format!("[build]\ntarget = \"{THUMB}\"\n\n[target.{THUMB}]\nrustflags = [\"-C\", \"link-arg=-Tlink.x\"]\n"),
        );
        p
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    pub fn write(&self, rel: &str, data: impl AsRef<[u8]>) {
        let path = self.path().join(rel);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, data).unwrap();
    }

    /// A few assets of different kinds.
    pub fn with_assets(self) -> Project {
        self.write(
            "assets/config.json",
            "{\"brightness\": 80, \"volume\": 3}\n",
        );
        self.write(
            "assets/logo.bin",
            (0..2048u32)
                .map(|i| (i * 7 % 251) as u8)
                .collect::<Vec<_>>(),
        );
        self.write("assets/text.txt", "hello assets\n".repeat(40));
        self
    }

    pub fn cli(&self, args: &[&str]) -> Run {
        cli_in(self.path(), args)
    }

    pub fn cli_env(&self, args: &[&str], envs: &[(&str, &str)]) -> Run {
        cli_cmd(self.path(), args, envs)
    }

    /// Where cargo puts the binary.
    pub fn exe(&self, triple: Option<&str>, profile: &str) -> PathBuf {
        let mut p = target_dir();
        if let Some(t) = triple {
            p.push(t);
        }
        p.join(profile).join(&self.name)
    }

    /// The bundle `build` writes beside the binary.
    pub fn bundle(&self, triple: Option<&str>, profile: &str) -> PathBuf {
        self.exe(triple, profile)
            .with_file_name(format!("{}.assetota.zip", self.name))
    }

    /// Replaces the temp dir and target dir in `text`, for snapshots.
    pub fn redact(&self, text: &str) -> String {
        let mut out = text.replace(&target_dir().display().to_string(), "[TARGET]");
        out = out.replace(&self.path().display().to_string(), "[PROJECT]");
        if let Ok(canon) = self.path().canonicalize() {
            out = out.replace(&canon.display().to_string(), "[PROJECT]");
        }
        out
    }
}

pub const META: &str = "[package.metadata.assetota]\ndir = \"assets\"\n";
pub const META_P2: &str = "[package.metadata.assetota]\ndir = \"assets\"\nplatform = \"p2\"\n";

/// Deterministic incompressible bytes: the shared xorshift64 noise of a
/// spread `seed` (so that seeds 1, 2, … start far apart).
pub fn noise(len: usize, seed: u64) -> Vec<u8> {
    assetota_test_oracles::inputs::noise(len, seed.wrapping_mul(0x9E37_79B9_7F4A_7C15))
}

/// Entries of a zip: (name, bytes), in archive order.
pub fn zip_entries(path: &Path) -> Vec<(String, Vec<u8>)> {
    use std::io::Read;
    let mut zip = zip::ZipArchive::new(std::fs::File::open(path).unwrap()).unwrap();
    (0..zip.len())
        .map(|i| {
            let mut f = zip.by_index(i).unwrap();
            let mut data = Vec::new();
            f.read_to_end(&mut data).unwrap();
            (f.name().unwrap().into_owned(), data)
        })
        .collect()
}

/// Every file under `dir`, relative, sorted: to check that nothing was written.
pub fn listing(dir: &Path) -> Vec<PathBuf> {
    fn walk(root: &Path, dir: &Path, out: &mut Vec<PathBuf>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                walk(root, &path, out);
            } else {
                out.push(path.strip_prefix(root).unwrap().to_owned());
            }
        }
    }
    let mut out = Vec::new();
    walk(dir, dir, &mut out);
    out.sort();
    out
}

/// Runs a Python script (an independent oracle) with arguments; its stdout.
pub fn python(script: &str, args: &[&str]) -> String {
    let out = Command::new("python3")
        .arg("-c")
        .arg(script)
        .args(args)
        .output()
        .expect("python3 runs");
    assert!(
        out.status.success(),
        "python failed\n--- stdout\n{}\n--- stderr\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}
