//! Harness: real projects in temporary directories, built by the real cargo
//! through the real `cargo-assetota` binary.

use std::path::{Path, PathBuf};
use std::process::Command;

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

/// `cargo-assetota ARGS` in `dir`, with a clean, colorless environment.
pub fn cli_in(dir: &Path, args: &[&str]) -> Run {
    cli_cmd(dir, args, &[])
}

pub fn cli_cmd(dir: &Path, args: &[&str], envs: &[(&str, &str)]) -> Run {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_cargo-assetota"));
    cmd.args(args)
        .current_dir(dir)
        .env("CARGO_TARGET_DIR", target_dir())
        .env("CARGO_TERM_COLOR", "never")
        .env_remove("ASSETOTA_PLATFORM")
        .env_remove("SOURCE_DATE_EPOCH")
        .env_remove("RUSTFLAGS")
        .env_remove("CARGO_BUILD_TARGET");
    for (k, v) in envs {
        cmd.env(k, v);
    }
    let out = cmd.output().expect("cargo-assetota runs");
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
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

/// A raw zip writer for hostile archives the zip crate refuses to write:
/// any name, method, flags, declared size and unix mode, duplicates and
/// overlapping entries too.
#[derive(Default)]
pub struct RawZip {
    local: Vec<u8>,
    central: Vec<u8>,
    count: u16,
}

/// A stored entry, the common case of [`ZipEntry`].
pub struct RawEntry<'a> {
    pub name: &'a [u8],
    pub data: &'a [u8],
    /// Uncompressed size to declare (defaults to the real one).
    pub declared: Option<u32>,
    pub unix_mode: u32,
}

/// An entry exactly as it is to be written.
#[derive(Clone)]
pub struct ZipEntry<'a> {
    pub name: &'a [u8],
    /// The bytes stored in the archive (already deflated for method 8).
    pub stored: &'a [u8],
    pub method: u16,
    pub crc: u32,
    /// Uncompressed size to declare.
    pub size: u32,
    pub mode: u32,
    pub flags: u16,
    /// Point the central record at an earlier local header instead of adding one.
    pub reuse: Option<u32>,
}

impl<'a> ZipEntry<'a> {
    /// `data` stored as it is, mode 0644, with its true CRC and size.
    pub fn stored(name: &'a [u8], data: &'a [u8]) -> ZipEntry<'a> {
        ZipEntry {
            name,
            stored: data,
            method: 0,
            crc: crc32(data),
            size: data.len() as u32,
            mode: 0o100644,
            flags: 0,
            reuse: None,
        }
    }
}

impl RawZip {
    pub fn new() -> RawZip {
        RawZip::default()
    }

    pub fn add(&mut self, e: RawEntry<'_>) -> &mut Self {
        self.add_entry(&ZipEntry {
            size: e.declared.unwrap_or(e.data.len() as u32),
            mode: e.unix_mode,
            ..ZipEntry::stored(e.name, e.data)
        });
        self
    }

    /// Adds an entry; returns its local header offset.
    pub fn add_entry(&mut self, e: &ZipEntry<'_>) -> u32 {
        let offset = match e.reuse {
            Some(offset) => offset,
            None => {
                let offset = self.local.len() as u32;
                let l = &mut self.local;
                l.extend_from_slice(&0x0403_4b50u32.to_le_bytes());
                l.extend_from_slice(&20u16.to_le_bytes()); // version needed
                l.extend_from_slice(&e.flags.to_le_bytes());
                l.extend_from_slice(&e.method.to_le_bytes());
                l.extend_from_slice(&0u16.to_le_bytes()); // time
                l.extend_from_slice(&0x21u16.to_le_bytes()); // date 1980-01-01
                l.extend_from_slice(&e.crc.to_le_bytes());
                l.extend_from_slice(&(e.stored.len() as u32).to_le_bytes());
                l.extend_from_slice(&e.size.to_le_bytes());
                l.extend_from_slice(&(e.name.len() as u16).to_le_bytes());
                l.extend_from_slice(&0u16.to_le_bytes()); // extra
                l.extend_from_slice(e.name);
                l.extend_from_slice(e.stored);
                offset
            }
        };
        let c = &mut self.central;
        c.extend_from_slice(&0x0201_4b50u32.to_le_bytes());
        c.extend_from_slice(&((3u16 << 8) | 20).to_le_bytes()); // made by unix
        c.extend_from_slice(&20u16.to_le_bytes());
        c.extend_from_slice(&e.flags.to_le_bytes());
        c.extend_from_slice(&e.method.to_le_bytes());
        c.extend_from_slice(&0u16.to_le_bytes());
        c.extend_from_slice(&0x21u16.to_le_bytes());
        c.extend_from_slice(&e.crc.to_le_bytes());
        c.extend_from_slice(&(e.stored.len() as u32).to_le_bytes());
        c.extend_from_slice(&e.size.to_le_bytes());
        c.extend_from_slice(&(e.name.len() as u16).to_le_bytes());
        c.extend_from_slice(&[0; 8]); // extra, comment, disk, internal attributes
        c.extend_from_slice(&(e.mode << 16).to_le_bytes());
        c.extend_from_slice(&offset.to_le_bytes());
        c.extend_from_slice(e.name);
        self.count += 1;
        offset
    }

    pub fn finish(&self) -> Vec<u8> {
        let mut out = self.local.clone();
        let cd_offset = out.len() as u32;
        out.extend_from_slice(&self.central);
        out.extend_from_slice(&0x0605_4b50u32.to_le_bytes());
        out.extend_from_slice(&0u16.to_le_bytes());
        out.extend_from_slice(&0u16.to_le_bytes());
        out.extend_from_slice(&self.count.to_le_bytes());
        out.extend_from_slice(&self.count.to_le_bytes());
        out.extend_from_slice(&(self.central.len() as u32).to_le_bytes());
        out.extend_from_slice(&cd_offset.to_le_bytes());
        out.extend_from_slice(&0u16.to_le_bytes());
        out
    }
}

pub fn crc32(data: &[u8]) -> u32 {
    let mut crc = 0xFFFF_FFFFu32;
    for &b in data {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 != 0 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
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
#[allow(dead_code)] // not every test binary that includes this module uses it
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
