//! The ESP app image against `espflash save-image`, the oracle: espflash's own
//! test ELFs (tests/data/espflash, see its README) with a golden manifest
//! added as an `.assetota` section in the chip's flash-mapped data (DROM),
//! made into an app image by `assetota_firmware::esp::app_image` and by the
//! `espflash` command installed from crates.io, must be byte-identical, and
//! `manifest_offset` must lead to the manifest's bytes in that image.
//!
//! The oracle is `$ESPFLASH`, else `espflash` on `PATH` (scripts/test.sh
//! installs espflash 4.5.0, the version this crate links, under
//! target/tools and sets `ESPFLASH`). Without it the tests fail, saying so,
//! unless `ASSETOTA_SKIP_ESPFLASH=1` asks to skip them.

use std::path::{Path, PathBuf};
use std::process::Command;

use assetota_firmware::ElfFile;
use assetota_firmware::esp::{self, AppImage};
use assetota_test_oracles::espflash::{espflash, save_image};

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .ancestors()
        .nth(2)
        .unwrap()
        .to_owned()
}

/// `elf` with `manifest` added as an `.assetota` section at a free address
/// after the chip's `.rodata` (flash-mapped data), as the linker would put
/// it: `llvm-objcopy --add-section` (allocated, read-only data), then the
/// section header's address set (llvm-objcopy before 20 cannot).
fn with_manifest(elf: &Path, manifest: &Path, out: &Path) {
    let address = {
        let bytes = std::fs::read(elf).unwrap();
        let parsed = goblin::elf::Elf::parse(&bytes).unwrap();
        let rodata = parsed
            .section_headers
            .iter()
            .find(|sh| parsed.shdr_strtab.get_at(sh.sh_name) == Some(".rodata"))
            .expect(".rodata");
        (rodata.sh_addr + rodata.sh_size).next_multiple_of(16)
    };
    let status = Command::new("llvm-objcopy")
        .arg("--add-section")
        .arg(format!(".assetota={}", manifest.display()))
        .args([
            "--set-section-flags",
            ".assetota=alloc,readonly,data,contents",
        ])
        .arg(elf)
        .arg(out)
        .status()
        .unwrap();
    assert!(status.success(), "llvm-objcopy --add-section failed");
    let mut bytes = std::fs::read(out).unwrap();
    let parsed = goblin::elf::Elf::parse(&bytes).unwrap();
    assert!(!parsed.is_64 && parsed.little_endian);
    let index = parsed
        .section_headers
        .iter()
        .position(|sh| parsed.shdr_strtab.get_at(sh.sh_name) == Some(".assetota"))
        .unwrap();
    let entry = parsed.header.e_shoff as usize + index * parsed.header.e_shentsize as usize;
    drop(parsed);
    // Elf32_Shdr: sh_name, sh_type, sh_flags, then sh_addr at byte 12.
    bytes[entry + 12..entry + 16].copy_from_slice(&(address as u32).to_le_bytes());
    std::fs::write(out, bytes).unwrap();
}

fn check_chip(chip: &str) {
    let espflash = espflash();
    let root = repo_root();
    let dir = tempfile::tempdir().unwrap();
    let elf_path = dir.path().join(format!("{chip}.elf"));
    let manifest_path = root.join("build-support/assetota/tests/golden/three-assets.bin");
    with_manifest(
        &root.join("tests/data/espflash").join(chip),
        &manifest_path,
        &elf_path,
    );
    let manifest = std::fs::read(&manifest_path).unwrap();

    let bytes = std::fs::read(&elf_path).unwrap();
    let elf = ElfFile::parse(&elf_path, &bytes).unwrap();
    let located = elf.locate_manifest(&elf_path).unwrap();
    let image = esp::app_image(&elf_path, &elf, &located, chip).unwrap();
    // Our reader of `.espressif.metadata` (used without the esp-image feature)
    // agrees with espflash's.
    assert_eq!(
        esp::elf_chip(&elf).as_deref(),
        espflash::image_format::Metadata::from_bytes(Some(&bytes)).chip_name()
    );

    if let Some(espflash) = &espflash {
        let oracle = save_image(espflash, chip, &elf_path);
        assert!(
            image.bytes == oracle,
            "{chip}: the app image ({} B) differs from espflash save-image's ({} B)",
            image.bytes.len(),
            oracle.len()
        );
    }
    let at = image.manifest_offset as usize;
    assert_eq!(&image.bytes[at..at + manifest.len()], &manifest[..]);

    // The reader agrees: checksum and hash, the chip, the manifest's address.
    let parsed = AppImage::parse(Path::new("app.bin"), &image.bytes).unwrap();
    assert_eq!(parsed.chip, Some(chip));
    assert!(parsed.hash_appended);
    assert_eq!(
        parsed.address_of_offset(image.manifest_offset),
        Some(image.manifest_address)
    );
    let (_, found) = esp::locate_app_image(Path::new("app.bin"), &image.bytes).unwrap();
    assert_eq!(found.offset, at);

    // One flipped byte anywhere fails the checksum or the hash.
    let mut broken = image.bytes.clone();
    broken[at + 20] ^= 0x40;
    assert!(AppImage::parse(Path::new("app.bin"), &broken).is_err());
}

#[test]
fn esp32c3_app_image_is_espflash_s() {
    check_chip("esp32c3");
}

#[test]
fn esp32s3_app_image_is_espflash_s() {
    check_chip("esp32s3");
}

#[test]
fn an_elf_for_another_chip_is_refused() {
    let root = repo_root();
    let dir = tempfile::tempdir().unwrap();
    let elf_path = dir.path().join("c3.elf");
    with_manifest(
        &root.join("tests/data/espflash/esp32c3"),
        &root.join("build-support/assetota/tests/golden/three-assets.bin"),
        &elf_path,
    );
    let bytes = std::fs::read(&elf_path).unwrap();
    let elf = ElfFile::parse(&elf_path, &bytes).unwrap();
    let located = elf.locate_manifest(&elf_path).unwrap();
    // Another architecture.
    let e = esp::app_image(&elf_path, &elf, &located, "esp32s3")
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("not firmware for the esp32s3") && e.contains("RISC-V"),
        "{e}"
    );
    // The same architecture, another chip: the ELF's metadata says which.
    let e = esp::app_image(&elf_path, &elf, &located, "esp32c6")
        .unwrap_err()
        .to_string();
    assert!(e.contains("built for esp32c3"), "{e}");
    // The flat image of an ESP ELF spans DROM, IRAM and IROM: refused.
    let e = elf.flat_image(&elf_path).err().unwrap().to_string();
    assert!(e.contains("--format elf") && e.contains("chip"), "{e}");
}
