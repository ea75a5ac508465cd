//! Shared harness for the end-to-end tests: real projects in temporary
//! directories, built by the real cargo against this checkout's crates.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The repository root.
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_owned()
}

/// One target directory for all e2e builds, so dependencies compile once.
pub fn shared_target_dir() -> PathBuf {
    repo_root().join("target").join("e2e")
}

pub use assetota_test_oracles::remove_stale;

/// The cargo that runs these tests (`$CARGO`), falling back to `cargo`.
pub fn cargo() -> Command {
    let mut cmd = Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()));
    cmd.env("CARGO_TARGET_DIR", shared_target_dir());
    cmd.env_remove("ASSETOTA_PLATFORM");
    cmd.env("CARGO_TERM_COLOR", "never");
    cmd
}

/// The `cargo-assetota` binary of this checkout, built once per test run.
pub fn cli() -> PathBuf {
    static BUILT: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    BUILT
        .get_or_init(|| {
            let out = Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()))
                .current_dir(repo_root())
                .args(["build", "--quiet", "-p", "cargo-assetota"])
                .output()
                .unwrap();
            assert!(
                out.status.success(),
                "{}",
                String::from_utf8_lossy(&out.stderr)
            );
            repo_root().join("target/debug/cargo-assetota")
        })
        .clone()
}

/// Reads one entry of a zip with Python's zipfile, an independent reader.
pub fn zip_entry(zip: &Path, name: &str) -> Vec<u8> {
    let out = Command::new("python3")
        .args(["-c", "import sys, zipfile; sys.stdout.buffer.write(zipfile.ZipFile(sys.argv[1]).read(sys.argv[2]))"])
        .arg(zip)
        .arg(name)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

/// A firmware-like host package in a temporary directory, using the
/// build.rs helper and the runtime from this checkout.
pub struct Project {
    pub dir: tempfile::TempDir,
    pub name: String,
}

const MAIN_RS: &str = r#"assetota::manifest!();

fn main() {
    let manifest = ASSETOTA.manifest().expect("valid manifest");
    for asset in manifest.iter() {
        println!("{}  {}  {}", asset.sha256_hex(), asset.size(), asset.name());
    }
}
"#;

impl Project {
    /// A package named `name` (unique per test: the target dir is shared)
    /// with `metadata` appended to its Cargo.toml.
    pub fn new(name: &str, metadata: &str) -> Project {
        let dir = tempfile::tempdir().unwrap();
        let root = repo_root();
        let manifest = format!(
            "[package]\nname = \"{name}\"\nversion = \"0.1.0\"\nedition = \"2024\"\n\n\
             [dependencies]\nassetota = {{ path = \"{runtime}\" }}\n\n\
             [build-dependencies]\nassetota-build = {{ path = \"{build}\" }}\n\n{metadata}",
            runtime = root.join("build-support/assetota").display(),
            build = root.join("build-support/assetota-build").display(),
        );
        std::fs::write(dir.path().join("Cargo.toml"), manifest).unwrap();
        std::fs::create_dir_all(dir.path().join("src")).unwrap();
        std::fs::write(dir.path().join("src/main.rs"), MAIN_RS).unwrap();
        std::fs::write(
            dir.path().join("build.rs"),
            "fn main() {\n    assetota_build::embed();\n}\n",
        )
        .unwrap();
        Project {
            dir,
            name: name.to_owned(),
        }
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Writes a file relative to the project, creating directories.
    pub fn write(&self, rel: &str, data: impl AsRef<[u8]>) {
        let path = self.path().join(rel);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, data).unwrap();
    }

    pub fn cargo(&self, args: &[&str]) -> Output {
        cargo()
            .args(args)
            .arg("--manifest-path")
            .arg(self.path().join("Cargo.toml"))
            .output()
            .unwrap()
    }

    /// `cargo ARGS` with `ASSETOTA_PLATFORM=platform`.
    pub fn cargo_env(&self, args: &[&str], platform: &str) -> Output {
        cargo()
            .args(args)
            .arg("--manifest-path")
            .arg(self.path().join("Cargo.toml"))
            .env("ASSETOTA_PLATFORM", platform)
            .output()
            .unwrap()
    }

    /// `cargo build`, asserting success; returns stderr.
    pub fn build(&self) -> String {
        let out = self.cargo(&["build"]);
        let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
        assert!(out.status.success(), "cargo build failed:\n{stderr}");
        stderr
    }

    /// Runs the built binary; returns stdout.
    pub fn run(&self) -> String {
        let exe = shared_target_dir().join("debug").join(&self.name);
        let out = Command::new(&exe)
            .output()
            .unwrap_or_else(|e| panic!("cannot run {}: {e}", exe.display()));
        assert!(
            out.status.success(),
            "{} failed: {}",
            exe.display(),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    }
}

/// What the binaries should print for `dir`, computed with `sha256sum` and
/// `stat` over the regular files below it, sorted by name.
pub fn expected_listing(dir: &Path) -> String {
    let out = Command::new("sh")
        .current_dir(dir)
        .arg("-c")
        .arg("find . -type f ! -name '.*' -printf '%P\\n' | LC_ALL=C sort | while IFS= read -r f; do printf '%s  %s  %s\\n' \"$(sha256sum \"$f\" | cut -d' ' -f1)\" \"$(stat -c %s \"$f\")\" \"$f\"; done")
        .output()
        .unwrap();
    assert!(out.status.success());
    String::from_utf8(out.stdout).unwrap()
}
