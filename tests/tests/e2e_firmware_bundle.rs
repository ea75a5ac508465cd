//! `cargo assetota build` on real bare-metal firmware: the bundle holds a
//! flat image byte-identical to `llvm-objcopy -O binary`, its
//! `manifest_offset` points at the manifest inside it (checked against the
//! section that `llvm-objcopy --dump-section` extracts), and `verify` accepts it.

use assetota_tests::{cli, remove_stale, repo_root, shared_target_dir, zip_entry};
use std::process::Command;

fn llvm_objcopy(args: &[&str], elf: &std::path::Path, out: &std::path::Path) {
    let status = Command::new("llvm-objcopy")
        .args(args)
        .arg(elf)
        .arg(out)
        .status()
        .unwrap();
    assert!(status.success());
}

fn check_firmware(example: &str, target: &str, bin: &str) {
    let dir = repo_root().join("examples").join(example);
    let release = shared_target_dir().join(target).join("release");
    let bundle = release.join(format!("{bin}.assetota.zip"));
    remove_stale(&[&bundle, &release.join(format!("{bin}.bin"))]);
    let out = Command::new(cli())
        .current_dir(&dir)
        .args(["assetota", "build", "--release", "--target", target])
        .env("CARGO_TARGET_DIR", shared_target_dir())
        .env("CARGO_TERM_COLOR", "never")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "cargo assetota build failed:\n{stderr}"
    );
    assert!(
        stderr.contains(&format!("{bin}.assetota.zip")),
        "summary names the bundle:\n{stderr}"
    );

    let json: serde_json::Value =
        serde_json::from_slice(&zip_entry(&bundle, "manifest.json")).unwrap();
    let firmware_file = json["firmware"]["file"].as_str().unwrap().to_owned();
    assert!(
        firmware_file.ends_with(".bin"),
        "bare metal gets a flat image: {firmware_file}"
    );
    let image = zip_entry(&bundle, &firmware_file);

    let scratch = tempfile::tempdir().unwrap();
    let elf = release.join(bin);
    let objcopy_bin = scratch.path().join("objcopy.bin");
    llvm_objcopy(&["-O", "binary"], &elf, &objcopy_bin);
    assert!(
        image == std::fs::read(&objcopy_bin).unwrap(),
        "flat image differs from llvm-objcopy -O binary"
    );
    assert_eq!(
        json["firmware"]["size"].as_u64().unwrap(),
        image.len() as u64
    );

    let section = scratch.path().join("section.bin");
    llvm_objcopy(
        &[
            "--dump-section",
            &format!(".assetota={}", section.display()),
        ],
        &elf,
        &scratch.path().join("unused.elf"),
    );
    let section = std::fs::read(&section).unwrap();
    let offset = json["firmware"]["manifest_offset"].as_u64().unwrap() as usize;
    assert_eq!(
        &image[offset..offset + section.len()],
        &section[..],
        "manifest_offset does not point at the section bytes"
    );
    assert_eq!(&section[..4], b"AOTA");

    let verify = Command::new(cli())
        .args(["assetota", "verify"])
        .arg(&bundle)
        .output()
        .unwrap();
    assert!(
        verify.status.success(),
        "verify rejected the bundle:\n{}",
        String::from_utf8_lossy(&verify.stderr)
    );
}

#[test]
fn cortex_m_release_bundle_has_the_objcopy_image_and_verifies() {
    check_firmware("cortex-m", "thumbv7m-none-eabi", "cortex-m-assets");
}

#[test]
fn riscv_release_bundle_has_the_objcopy_image_and_verifies() {
    check_firmware("riscv", "riscv32imac-unknown-none-elf", "riscv-assets");
}
