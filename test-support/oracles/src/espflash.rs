//! `espflash save-image` as the oracle of the ESP app image: `$ESPFLASH`,
//! else `espflash` on `PATH` (scripts/test.sh installs espflash 4.5.0, the
//! version assetota-firmware links, and sets `ESPFLASH`).

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::skip::skipping;

/// The espflash command, or `None` when `ASSETOTA_SKIP_ESPFLASH=1` asks to
/// skip it; fails the test with how to install it when it is missing.
pub fn espflash() -> Option<PathBuf> {
    if skipping(
        "ASSETOTA_SKIP_ESPFLASH",
        "not checking against espflash save-image",
    ) {
        return None;
    }
    let cmd = std::env::var_os("ESPFLASH")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("espflash"));
    match Command::new(&cmd).arg("--version").output() {
        Ok(out) if out.status.success() => Some(cmd),
        _ => panic!(
            "the oracle `{}` is missing: install it with `cargo install espflash --locked --version 4.5.0` (scripts/test.sh does, under target/tools) and set ESPFLASH, or set ASSETOTA_SKIP_ESPFLASH=1 to skip this check",
            cmd.display()
        ),
    }
}

/// `espflash save-image --chip CHIP ELF OUT`, run in an empty directory (so
/// no espflash.toml changes its defaults): the app image's bytes.
pub fn save_image(espflash: &Path, chip: &str, elf: &Path) -> Vec<u8> {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("app.bin");
    let run = Command::new(espflash)
        .current_dir(dir.path())
        .args(["save-image", "--chip", chip])
        .arg(elf)
        .arg(&out)
        .env("ESPFLASH_SKIP_UPDATE_CHECK", "true")
        .output()
        .unwrap();
    assert!(
        run.status.success(),
        "espflash save-image failed:\n{}{}",
        String::from_utf8_lossy(&run.stdout),
        String::from_utf8_lossy(&run.stderr)
    );
    std::fs::read(&out).unwrap()
}
