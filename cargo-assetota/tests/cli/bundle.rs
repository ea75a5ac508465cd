//! `bundle FIRMWARE --assets DIR` for prebuilt firmware.

use crate::support::*;

#[test]
fn bundle_of_a_prebuilt_elf_verifies_and_a_changed_asset_is_exit_4() {
    let p = Project::thumb("cli_bundle_prebuilt", META_P2).with_assets();
    p.cli(&["build", "--release"]).success();
    let elf = p.path().join("firmware.elf");
    std::fs::copy(p.exe(Some(THUMB), "release"), &elf).unwrap();

    let run = p
        .cli(&[
            "bundle",
            "firmware.elf",
            "--assets",
            "assets",
            "--package-version",
            "1.0.0",
            "--target",
            THUMB,
        ])
        .success();
    assert!(
        run.stderr
            .contains("Bundled firmware.assetota.zip (bin firmware image"),
        "{}",
        run.stderr
    );
    let bundle = p.path().join("firmware.assetota.zip");
    p.cli(&["verify", "firmware.assetota.zip"]).success();
    let entries = zip_entries(&bundle);
    let manifest: serde_json::Value = serde_json::from_slice(&entries[0].1).unwrap();
    assert_eq!(manifest["package"]["name"], "firmware");
    assert_eq!(manifest["package"]["version"], "1.0.0");
    assert_eq!(manifest["firmware"]["file"], "firmware.bin");
    // The same flat image `build` wrote.
    let built = std::fs::read(
        p.exe(Some(THUMB), "release")
            .with_file_name("cli_bundle_prebuilt.bin"),
    )
    .unwrap();
    assert_eq!(
        entries.iter().find(|(n, _)| n == "firmware.bin").unwrap().1,
        built
    );

    p.cli(&[
        "bundle",
        "firmware.elf",
        "--assets",
        "assets",
        "--format",
        "elf",
        "-o",
        "dist/x.zip",
    ])
    .success();
    assert!(
        zip_entries(&p.path().join("dist/x.zip"))
            .iter()
            .any(|(n, _)| n == "firmware.elf")
    );

    // An asset edited after the build.
    p.write("assets/text.txt", "edited after the build\n");
    p.cli(&["bundle", "firmware.elf", "--assets", "assets"])
        .failure(4)
        .stderr_has("stale")
        .stderr_has("`text.txt` changed: size 520 B -> 23 B, sha256");
    // Added and removed assets are named too.
    p.write("assets/text.txt", "hello assets\n".repeat(40));
    p.write("assets/late.txt", "late\n");
    std::fs::remove_file(p.path().join("assets/config.json")).unwrap();
    p.cli(&["bundle", "firmware.elf", "--assets", "assets"])
        .failure(4)
        .stderr_has("`late.txt` was added to the assets directory")
        .stderr_has("`config.json` was removed from the assets directory");
}

#[test]
fn flat_image_of_a_hosted_elf_matches_llvm_objcopy_too() {
    // A PIE with TLS, NOBITS sections and many segments exercises the layout rules.
    let p = Project::host("cli_bundle_hosted_bin", META).with_assets();
    p.cli(&["build"]).success();
    let elf = p.path().join("hosted.elf");
    std::fs::copy(p.exe(None, "debug"), &elf).unwrap();
    p.cli(&[
        "bundle",
        "hosted.elf",
        "--assets",
        "assets",
        "--format",
        "bin",
    ])
    .success();
    let status = std::process::Command::new("llvm-objcopy")
        .args(["-O", "binary", "hosted.elf", "objcopy.bin"])
        .current_dir(p.path())
        .status()
        .unwrap();
    assert!(status.success());
    let expected = std::fs::read(p.path().join("objcopy.bin")).unwrap();
    let entries = zip_entries(&p.path().join("hosted.assetota.zip"));
    let image = &entries.iter().find(|(n, _)| n == "hosted.bin").unwrap().1;
    assert!(
        image == &expected,
        "flat image ({} B) differs from llvm-objcopy's ({} B)",
        image.len(),
        expected.len()
    );
    p.cli(&["verify", "hosted.assetota.zip"]).success();
}
