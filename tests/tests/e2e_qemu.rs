//! Real firmware: examples/cortex-m built for thumbv7m-none-eabi and run in
//! QEMU (lm3s6965evb). It prints its embedded manifest over semihosting;
//! that must equal what sha256sum and stat say about its assets, in a debug
//! build and in a release build with fat LTO and opt-level "z".

use assetota_tests::{expected_listing, repo_root, shared_target_dir};
use std::path::PathBuf;
use std::process::Command;

const TARGET: &str = "thumbv7m-none-eabi";

fn example_dir() -> PathBuf {
    repo_root().join("examples/cortex-m")
}

/// Builds the firmware (the example's .cargo/config.toml sets the target and
/// linker script) and returns the ELF.
fn build(release: bool) -> PathBuf {
    let mut cmd = assetota_tests::cargo();
    cmd.current_dir(example_dir()).arg("build");
    if release {
        cmd.arg("--release");
    }
    let out = cmd.output().unwrap();
    assert!(
        out.status.success(),
        "firmware build failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let profile = if release { "release" } else { "debug" };
    shared_target_dir()
        .join(TARGET)
        .join(profile)
        .join("cortex-m-assets")
}

fn run_in_qemu(elf: &PathBuf) -> (String, String) {
    let out = Command::new("timeout")
        .args([
            "60",
            "qemu-system-arm",
            "-cpu",
            "cortex-m3",
            "-machine",
            "lm3s6965evb",
            "-nographic",
        ])
        .args(["-semihosting-config", "enable=on,target=native", "-kernel"])
        .arg(elf)
        .output()
        .expect("qemu-system-arm is installed by scripts/test.sh");
    let stdout = String::from_utf8(out.stdout).unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(
        out.status.success(),
        "firmware exited with {:?}\nstdout:\n{stdout}\nstderr:\n{stderr}",
        out.status
    );
    (stdout, stderr)
}

fn section_flags(elf: &PathBuf) -> String {
    let out = Command::new("llvm-readelf")
        .arg("-S")
        .arg(elf)
        .output()
        .unwrap();
    let table = String::from_utf8(out.stdout).unwrap();
    let line = table
        .lines()
        .find(|l| l.contains(" .assetota "))
        .unwrap_or_else(|| panic!("no .assetota section:\n{table}"));
    line.split_whitespace().rev().nth(3).unwrap().to_owned()
}

fn check(release: bool) {
    let elf = build(release);
    assert_eq!(
        section_flags(&elf),
        "AR",
        "allocated and retained (SHF_GNU_RETAIN)"
    );
    let (stdout, stderr) = run_in_qemu(&elf);
    let expected = expected_listing(&example_dir().join("assets"));
    assert_eq!(stdout, expected);
    assert_eq!(stdout.lines().count(), 3);
    assert!(
        stderr
            .contains("self-check: verify accepts true, rejects corrupt copy true, missing() true"),
        "{stderr}"
    );
}

#[test]
fn debug_firmware_prints_its_manifest_in_qemu() {
    check(false);
}

#[test]
fn release_firmware_with_fat_lto_and_opt_z_keeps_the_section() {
    let manifest = std::fs::read_to_string(example_dir().join("Cargo.toml")).unwrap();
    assert!(manifest.contains("opt-level = \"z\"") && manifest.contains("lto = \"fat\""));
    check(true);
}
