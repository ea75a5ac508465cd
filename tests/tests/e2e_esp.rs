//! The ESP path on `examples/esp32c3` (esp-hal, riscv32imc): `cargo assetota
//! build` puts in the bundle the app image `espflash save-image --chip
//! esp32c3` writes (byte-identical; the oracle is espflash from crates.io,
//! `$ESPFLASH` or on `PATH`), `manifest_offset` leads to the `.assetota`
//! section's bytes in it, `inspect` reads the image, `verify` accepts the
//! bundle, the store platform is the `assets` row of the example's
//! partitions.csv, and `image` writes that partition and prints the
//! `espflash write-bin` command that programs it. Then the bad inputs: an app
//! image over its OTA slot (exit 3) and an ELF for another chip.
//!
//! Without espflash the test fails, saying so, unless
//! `ASSETOTA_SKIP_ESPFLASH=1` asks to skip the byte comparison.

use assetota_test_oracles::espflash::{espflash, save_image};
use assetota_tests::{cli, repo_root, shared_target_dir, zip_entry};
use std::path::Path;
use std::process::{Command, Output};

const TARGET: &str = "riscv32imc-unknown-none-elf";
const BIN: &str = "esp32c3-assets";

fn assetota(dir: &Path, args: &[&str]) -> Output {
    Command::new(cli())
        .current_dir(dir)
        .arg("assetota")
        .args(args)
        .env("CARGO_TARGET_DIR", shared_target_dir())
        .env("CARGO_TERM_COLOR", "never")
        .env_remove("ASSETOTA_PLATFORM")
        .output()
        .unwrap()
}

fn ok(out: &Output, what: &str) -> String {
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(out.status.success(), "{what} failed:\n{stderr}");
    stderr
}

/// The example copied to a temporary directory with another partition table
/// and platform lines, its path dependencies made absolute, renamed so its
/// binary in the shared target directory does not replace the example's
/// (the tests run in parallel).
fn example_copy(table: &str, platform_edit: (&str, &str)) -> tempfile::TempDir {
    let src = repo_root().join("examples/esp32c3");
    let dir = tempfile::tempdir().unwrap();
    let status = Command::new("cp")
        .args(["-r", "src", "assets", ".cargo", "build.rs", "Cargo.lock"])
        .arg(dir.path())
        .current_dir(&src)
        .status()
        .unwrap();
    assert!(status.success());
    let manifest = std::fs::read_to_string(src.join("Cargo.toml"))
        .unwrap()
        .replace(
            "../../build-support",
            &repo_root().join("build-support").display().to_string(),
        )
        .replace("name = \"esp32c3-assets\"", "name = \"esp32c3-bad-input\"")
        .replace(platform_edit.0, platform_edit.1);
    std::fs::write(dir.path().join("Cargo.toml"), manifest).unwrap();
    std::fs::write(dir.path().join("partitions.csv"), table).unwrap();
    dir
}

#[test]
fn esp32c3_example_end_to_end() {
    let dir = repo_root().join("examples/esp32c3");
    let stderr = ok(&assetota(&dir, &["build"]), "cargo assetota build");
    assert!(
        stderr.contains("esp32c3 app image") && stderr.contains("`ota_0`"),
        "the app image is checked against the OTA slots:\n{stderr}"
    );
    let debug = shared_target_dir().join(TARGET).join("debug");
    let elf = debug.join(BIN);
    let bundle = debug.join(format!("{BIN}.assetota.zip"));

    let json: serde_json::Value =
        serde_json::from_slice(&zip_entry(&bundle, "manifest.json")).unwrap();
    assert_eq!(json["firmware"]["format"], "esp");
    assert_eq!(json["firmware"]["file"], format!("{BIN}.bin"));
    let image = zip_entry(&bundle, &format!("{BIN}.bin"));
    assert_eq!(image[0], 0xE9, "an ESP app image starts with its magic");
    assert_eq!(
        json["firmware"]["size"].as_u64().unwrap(),
        image.len() as u64
    );
    // esp-hal names the chip in `.espressif.metadata`; our reader of it (which
    // a build without the `esp` feature relies on) agrees with espflash's.
    let elf_bytes = std::fs::read(&elf).unwrap();
    let parsed = assetota_firmware::ElfFile::parse(&elf, &elf_bytes).unwrap();
    assert_eq!(
        assetota_firmware::esp::elf_chip(&parsed).as_deref(),
        Some("esp32c3")
    );
    assert_eq!(
        espflash::image_format::Metadata::from_bytes(Some(&elf_bytes)).chip_name(),
        Some("esp32c3")
    );
    // The image written beside the ELF is the same one.
    assert!(std::fs::read(debug.join(format!("{BIN}.bin"))).unwrap() == image);

    if let Some(espflash) = espflash() {
        assert!(
            save_image(&espflash, "esp32c3", &elf) == image,
            "the bundle's app image differs from espflash save-image's"
        );
    }

    // manifest_offset leads to the section's bytes.
    let scratch = tempfile::tempdir().unwrap();
    let section = scratch.path().join("section.bin");
    let status = Command::new("llvm-objcopy")
        .arg("--dump-section")
        .arg(format!(".assetota={}", section.display()))
        .arg(&elf)
        .arg(scratch.path().join("unused.elf"))
        .status()
        .unwrap();
    assert!(status.success());
    let section = std::fs::read(&section).unwrap();
    let offset = json["firmware"]["manifest_offset"].as_u64().unwrap() as usize;
    assert_eq!(&image[offset..offset + section.len()], &section[..]);

    // inspect reads the app image; verify accepts the bundle.
    let bin = debug.join(format!("{BIN}.bin"));
    let out = assetota(&dir, &["inspect", "--json", bin.to_str().unwrap()]);
    ok(&out, "inspect");
    let inspected: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(inspected["kind"], "esp");
    assert_eq!(
        inspected["manifest"]["offset"].as_u64().unwrap() as usize,
        offset
    );
    assert_eq!(inspected["manifest"]["assets"].as_array().unwrap().len(), 3);
    ok(
        &assetota(&dir, &["verify", bundle.to_str().unwrap()]),
        "verify",
    );

    // The store platform is the `assets` row of partitions.csv.
    let out = assetota(&dir, &["size", "--json"]);
    ok(&out, "size");
    let size: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(size["platform"], "esp32c3-store");
    assert_eq!(size["limit_total"].as_u64(), Some(0xF0000));

    // image writes the partition and says how espflash programs it.
    let assets_bin = scratch.path().join("assets.bin");
    let out = assetota(
        &dir,
        &[
            "image",
            bundle.to_str().unwrap(),
            "-o",
            assets_bin.to_str().unwrap(),
        ],
    );
    let stderr = ok(&out, "image");
    assert!(
        stderr.contains(&format!(
            "espflash write-bin 0x310000 {}",
            assets_bin.display()
        )),
        "{stderr}"
    );
    assert_eq!(std::fs::metadata(&assets_bin).unwrap().len(), 0xF0000);
}

#[test]
fn esp32c3_bad_inputs() {
    // OTA slots of 64 KiB: the app image is larger, exit 3.
    let small = example_copy(
        "nvs, data, nvs, 0x9000, 0x4000,\n\
         otadata, data, ota, 0xd000, 0x2000,\n\
         ota_0, app, ota_0, 0x10000, 64K,\n\
         ota_1, app, ota_1, 0x20000, 64K,\n\
         assets, data, 0x99, 0x30000, 0xF0000,\n",
        ("", ""),
    );
    let out = assetota(small.path(), &["build"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{stderr}");
    assert!(
        stderr.contains("over the app partition `ota_0`") && stderr.contains("`ota_1`"),
        "{stderr}"
    );

    // The platform says esp32c6, the ELF is an esp32c3's.
    let table =
        std::fs::read_to_string(repo_root().join("examples/esp32c3/partitions.csv")).unwrap();
    let other = example_copy(&table, ("chip = \"esp32c3\"", "chip = \"esp32c6\""));
    let out = assetota(other.path(), &["build"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("not firmware for the esp32c6") && stderr.contains("built for esp32c3"),
        "{stderr}"
    );
}
