//! `cargo assetota build` on host and bare-metal projects.

use std::process::Command;

use crate::support::*;

#[test]
fn host_build_writes_a_bundle_that_verifies() {
    let p = Project::host("cli_build_host", META_P2).with_assets();
    let run = p.cli(&["build"]).success();
    assert!(
        run.stderr.contains("Checked 3 assets of `cli_build_host`"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("Bundled"), "{}", run.stderr);
    assert!(
        run.stderr
            .contains("3 assets take 12,288 B of 1,138,688 B on `p2` (1%)"),
        "{}",
        run.stderr
    );

    let bundle = p.bundle(None, "debug");
    let entries = zip_entries(&bundle);
    let names: Vec<&str> = entries.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(
        names,
        [
            "manifest.json",
            "assets/config.json",
            "assets/logo.bin",
            "assets/text.txt",
            "cli_build_host.elf"
        ]
    );
    let manifest: serde_json::Value = serde_json::from_slice(&entries[0].1).unwrap();
    let keys: Vec<&str> = manifest
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    for key in [
        "format", "package", "target", "platform", "codec", "firmware", "assets",
    ] {
        assert!(keys.contains(&key), "manifest.json lacks {key}: {keys:?}");
    }
    assert_eq!(manifest["format"], 1);
    assert_eq!(manifest["package"]["name"], "cli_build_host");
    assert_eq!(manifest["package"]["version"], "0.1.0");
    assert_eq!(manifest["platform"], "p2");
    assert_eq!(manifest["codec"]["kind"], "deflate");
    assert_eq!(manifest["codec"]["window_bits"], 15);
    let fw = &manifest["firmware"];
    assert_eq!(fw["file"], "cli_build_host.elf");
    assert_eq!(fw["format"], "elf");
    let elf = std::fs::read(p.exe(None, "debug")).unwrap();
    assert_eq!(entries[4].1, elf, "the hosted firmware is the ELF itself");
    assert_eq!(fw["size"], elf.len());
    let off = fw["manifest_offset"].as_u64().unwrap() as usize;
    assert_eq!(&elf[off..off + 4], b"AOTA");
    for (asset, name) in
        manifest["assets"]
            .as_array()
            .unwrap()
            .iter()
            .zip(["config.json", "logo.bin", "text.txt"])
    {
        assert_eq!(asset["name"], name);
        for key in ["size", "sha256", "compressed_size", "storage_size"] {
            assert!(asset.get(key).is_some(), "asset lacks {key}");
        }
        let on_disk = std::fs::read(p.path().join("assets").join(name)).unwrap();
        assert_eq!(asset["size"], on_disk.len());
        assert_eq!(asset["storage_size"], 4096);
    }

    p.cli(&["verify", bundle.to_str().unwrap()])
        .success()
        .stderr_has("Verified");
}

#[test]
fn bare_metal_build_writes_the_flat_image_objcopy_writes() {
    let p = Project::thumb("cli_build_thumb", META_P2).with_assets();
    let run = p.cli(&["build"]).success();
    assert!(
        run.stderr.contains("thumbv7m-none-eabi bin firmware"),
        "{}",
        run.stderr
    );

    let elf = p.exe(Some(THUMB), "debug");
    let objcopy = p.path().join("objcopy.bin");
    let status = Command::new("llvm-objcopy")
        .args(["-O", "binary"])
        .arg(&elf)
        .arg(&objcopy)
        .status()
        .expect("llvm-objcopy runs");
    assert!(status.success());
    let expected = std::fs::read(&objcopy).unwrap();
    let beside = std::fs::read(elf.with_file_name("cli_build_thumb.bin")).unwrap();
    assert_eq!(
        beside, expected,
        "flat image differs from llvm-objcopy -O binary"
    );

    let bundle = p.bundle(Some(THUMB), "debug");
    let entries = zip_entries(&bundle);
    let (name, image) = entries
        .iter()
        .find(|(n, _)| !n.contains('/') && n.ends_with(".bin"))
        .unwrap();
    assert_eq!(name, "cli_build_thumb.bin");
    assert_eq!(image, &expected);
    let manifest: serde_json::Value = serde_json::from_slice(&entries[0].1).unwrap();
    assert_eq!(manifest["target"], THUMB);
    assert_eq!(manifest["firmware"]["format"], "bin");
    assert_eq!(manifest["firmware"]["load_address"], 0x0800_0000u64);
    let off = manifest["firmware"]["manifest_offset"].as_u64().unwrap() as usize;
    assert_eq!(
        &image[off..off + 4],
        b"AOTA",
        "manifest_offset points at the manifest in the image"
    );
    // .data is loaded from flash: its initial value is in the image, after the manifest.
    let data = 0x1234_5678u32.to_le_bytes();
    let data_at = image
        .windows(4)
        .rposition(|w| w == data)
        .expect(".data image in the flat binary");
    assert!(data_at > off, ".data (LMA in flash) follows .assetota");

    p.cli(&["verify", bundle.to_str().unwrap()]).success();
    // The flat image alone: the manifest is found by magic and CRC.
    let inspect = p
        .cli(&["inspect", "--json", objcopy.to_str().unwrap()])
        .success()
        .json();
    assert_eq!(inspect["kind"], "flat");
    assert_eq!(inspect["manifest"]["offset"], off);
    assert_eq!(inspect["manifest"]["assets"].as_array().unwrap().len(), 3);
}

#[test]
fn bundles_are_byte_identical_from_two_checkouts() {
    let build = |sub: &str| {
        let p = Project::thumb("cli_determinism", META_P2).with_assets();
        // Different paths, same contents; file times differ too.
        assert!(!p.path().ends_with(sub));
        p.cli_env(
            &["build", "--release"],
            &[("SOURCE_DATE_EPOCH", "1700000000")],
        )
        .success();
        let bytes = std::fs::read(p.bundle(Some(THUMB), "release")).unwrap();
        (p, bytes)
    };
    let (a, first) = build("a");
    let (b, second) = build("b");
    assert_ne!(a.path(), b.path());
    assert!(first == second, "bundles differ between checkouts");
    let mut zip = zip::ZipArchive::new(std::io::Cursor::new(&first)).unwrap();
    let entry = zip.by_index(0).unwrap();
    let time = entry.last_modified().unwrap();
    assert_eq!(
        (time.year(), time.month(), time.day()),
        (2023, 11, 14),
        "SOURCE_DATE_EPOCH sets the time"
    );
    assert_eq!(entry.unix_mode().map(|m| m & 0o777), Some(0o644));
}

#[test]
fn release_target_dir_and_json_messages() {
    let p = Project::host("cli_build_json", META).with_assets();
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_cargo-assetota"));
    let target = target_dir();
    let out = cmd
        .args([
            "build",
            "--release",
            "--message-format",
            "json",
            "--target-dir",
        ])
        .arg(&target)
        .current_dir(p.path())
        .env_remove("CARGO_TARGET_DIR")
        .env("CARGO_TERM_COLOR", "never")
        .env_remove("ASSETOTA_PLATFORM")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    let stdout = String::from_utf8(out.stdout).unwrap();
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), 1, "one JSON object per bundle:\n{stdout}");
    let msg: serde_json::Value = serde_json::from_str(lines[0]).unwrap();
    assert_eq!(msg["reason"], "assetota-bundle");
    assert_eq!(msg["profile"], "release");
    assert_eq!(msg["platform"], serde_json::Value::Null);
    assert_eq!(msg["assets"], 3);
    assert_eq!(msg["fits"], true);
    let bundle = std::path::PathBuf::from(msg["bundle"].as_str().unwrap());
    assert_eq!(bundle, p.bundle(None, "release"));
    assert!(bundle.exists());
}

#[test]
fn out_writes_the_bundle_elsewhere_and_format_overrides() {
    let p = Project::thumb("cli_build_out", META).with_assets();
    p.cli(&["build", "--format", "elf", "--out", "dist/fw.zip"])
        .success();
    let entries = zip_entries(&p.path().join("dist/fw.zip"));
    assert!(
        entries.iter().any(|(n, _)| n == "cli_build_out.elf"),
        "{:?}",
        entries.iter().map(|e| &e.0).collect::<Vec<_>>()
    );
}

#[test]
fn a_stale_manifest_is_exit_4_naming_what_differs() {
    // build.rs embeds for `argon` while the package says `p2`: the firmware
    // does not describe what the assets cost on the configured platform.
    let p = Project::host("cli_build_stale", META_P2).with_assets();
    p.write(
        "build.rs",
        "fn main() {\n    assetota_build::Builder::from_env().platform(\"argon\").emit();\n}\n",
    );
    p.cli(&["build"])
        .failure(4)
        .stderr_has("stale")
        .stderr_has("platform: built for `argon`, now `p2`")
        .stderr_has("help");
}

#[test]
fn a_binary_without_the_macro_says_what_is_missing() {
    let p = Project::host("cli_build_nomacro", META).with_assets();
    p.write("src/main.rs", "fn main() {}\n");
    p.cli(&["build"])
        .failure(1)
        .stderr_has("no `.assetota` section and no `__ASSETOTA_MANIFEST` symbol")
        .stderr_has("assetota::manifest!();")
        .stderr_has("assetota_build::embed();");
}

#[test]
fn over_budget_is_exit_3_for_build_and_size() {
    let meta = "[package.metadata.assetota]\ndir = \"assets\"\nplatform = \"tiny\"\n\n\
                [package.metadata.assetota.platforms.tiny]\ntotal = 4096\nblock-size = 4096\n";
    let p = Project::host("cli_build_over", meta).with_assets();
    p.cli(&["build"])
        .failure(3)
        .stderr_has("over the total limit");
    p.cli(&["size"])
        .failure(3)
        .stderr_has("over budget on platform `tiny`");
}

#[test]
fn workspace_bundles_only_packages_that_opted_in() {
    let root = tempfile::Builder::new()
        .prefix("assetota-ws")
        .tempdir()
        .unwrap();
    let rt = repo_root();
    let write = |rel: &str, text: &str| {
        let path = root.path().join(rel);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    };
    write(
        "Cargo.toml",
        "[workspace]\nmembers = [\"fw\", \"tool\"]\nresolver = \"3\"\n",
    );
    std::fs::copy(rt.join("Cargo.lock"), root.path().join("Cargo.lock")).unwrap();
    write(
        "fw/Cargo.toml",
        &format!(
            "[package]\nname = \"cli_ws_fw\"\nversion = \"1.2.3\"\nedition = \"2024\"\n\n[dependencies]\nassetota = {{ path = \"{}\" }}\n\n[build-dependencies]\nassetota-build = {{ path = \"{}\" }}\n\n{META}",
            rt.join("build-support/assetota").display(),
            rt.join("build-support/assetota-build").display()
        ),
    );
    write("fw/build.rs", "fn main() { assetota_build::embed(); }\n");
    write(
        "fw/src/main.rs",
        "assetota::manifest!();\nfn main() { println!(\"{}\", ASSETOTA.manifest().unwrap().len()); }\n",
    );
    write("fw/assets/a.txt", "a\n");
    write(
        "tool/Cargo.toml",
        "[package]\nname = \"cli_ws_tool\"\nversion = \"0.1.0\"\nedition = \"2024\"\n",
    );
    write("tool/src/main.rs", "fn main() {}\n");

    let _ = std::fs::remove_file(target_dir().join("debug/cli_ws_fw.assetota.zip"));
    let run = cli_in(root.path(), &["build"]).success();
    assert!(
        run.stderr.contains("skipping binary `cli_ws_tool`"),
        "{}",
        run.stderr
    );
    assert!(target_dir().join("debug/cli_ws_fw.assetota.zip").exists());
    assert!(!target_dir().join("debug/cli_ws_tool.assetota.zip").exists());

    cli_in(root.path(), &["build", "-p", "cli_ws_tool"])
        .failure(1)
        .stderr_has("has no [package.metadata.assetota] table");
    let size = cli_in(&root.path().join("fw"), &["size", "--json"])
        .success()
        .json();
    assert_eq!(size["package"], "cli_ws_fw");
    cli_in(root.path(), &["size", "-p", "cli_ws_fw"]).success();
}

#[test]
fn host_release_bundles_are_byte_identical_from_two_checkouts() {
    let build = || {
        let p = Project::host("cli_determinism_host", META).with_assets();
        p.cli_env(
            &["build", "--release"],
            &[("SOURCE_DATE_EPOCH", "1700000000")],
        )
        .success();
        let bytes = std::fs::read(p.bundle(None, "release")).unwrap();
        (p, bytes)
    };
    let (a, first) = build();
    let (b, second) = build();
    assert_ne!(a.path(), b.path());
    assert!(
        first == second,
        "host release bundles differ between checkouts"
    );
}

#[test]
fn the_hello_example_builds_and_its_bundle_verifies() {
    let hello = repo_root().join("examples/hello");
    remove_stale_outputs("hello");
    let run = cli_in(&hello, &["build"]).success();
    assert!(
        run.stderr.contains("of `hello` match the manifest"),
        "{}",
        run.stderr
    );
    let bundle = target_dir().join("debug/hello.assetota.zip");
    cli_in(&hello, &["verify", bundle.to_str().unwrap()]).success();
}

#[test]
fn partition_table_platforms_check_the_built_image() {
    let meta = "[package.metadata.assetota]\ndir = \"assets\"\nplatform = \"w800\"\n\n\
                [package.metadata.assetota.platforms.w800]\npartition-table = \"partitions.csv\"\npartition = \"assets\"\nblock-size = 4096\n";
    let p = Project::thumb("cli_build_w800", meta).with_assets();
    p.write(
        "partitions.csv",
        "app, 0x10000, 0x40000, 0\napp_ota, 0x50000, 0x20000, 0\nassets, 0x70000, 0x20000, 0\n",
    );
    let run = p.cli(&["build"]).success();
    assert!(
        run.stderr.contains("of 261,120 B (app partition − 0x400"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("of 131,072 B OTA partition"),
        "{}",
        run.stderr
    );
    // An app partition smaller than the image.
    p.write(
        "partitions.csv",
        "app, 0x10000, 0x1000, 0\napp_ota, 0x50000, 0x20000, 0\nassets, 0x70000, 0x20000, 0\n",
    );
    p.cli(&["build"])
        .failure(3)
        .stderr_has("it may take of the 4,096 B app partition");
}

#[test]
fn bin_profile_and_target_flags_pass_through() {
    let p = Project::thumb("cli_build_flags", META).with_assets();
    // No target in .cargo/config.toml this time: it comes from --target.
    p.write(
        ".cargo/config.toml",
        format!("[target.{THUMB}]\nrustflags = [\"-C\", \"link-arg=-Tlink.x\"]\n"),
    );
    let manifest = std::fs::read_to_string(p.path().join("Cargo.toml")).unwrap();
    p.write(
        "Cargo.toml",
        format!("{manifest}\n[profile.fw]\ninherits = \"release\"\nopt-level = \"s\"\n"),
    );
    // A second firmware binary in the same package.
    let main = std::fs::read_to_string(p.path().join("src/main.rs")).unwrap();
    p.write("src/bin/recovery.rs", main);

    // The target dir is shared and kept between runs: start without bundles.
    let dir = target_dir().join(THUMB).join("fw");
    let _ = std::fs::remove_file(dir.join("cli_build_flags.assetota.zip"));
    let _ = std::fs::remove_file(dir.join("recovery.assetota.zip"));
    let run = p
        .cli(&[
            "build",
            "--target",
            THUMB,
            "--profile",
            "fw",
            "--bin",
            "recovery",
        ])
        .success();
    let bundle = dir.join("recovery.assetota.zip");
    assert_eq!(run.stderr.matches("Bundled").count(), 1, "{}", run.stderr);
    assert!(
        !dir.join("cli_build_flags.assetota.zip").exists(),
        "--bin selects one binary"
    );
    let entries = zip_entries(&bundle);
    let m: serde_json::Value = serde_json::from_slice(&entries[0].1).unwrap();
    assert_eq!(m["bin"], "recovery");
    assert_eq!(m["profile"], "fw");
    assert_eq!(m["target"], THUMB);
    assert_eq!(m["firmware"]["file"], "recovery.bin");

    // Both binaries: two bundles, and --out cannot name one file for both.
    p.cli(&[
        "build",
        "--target",
        THUMB,
        "--profile",
        "fw",
        "--out",
        "one.zip",
    ])
    .failure(1)
    .stderr_has("2 bundles would be written");
    p.cli(&["build", "--target", THUMB, "--profile", "fw"])
        .success();
    assert!(dir.join("cli_build_flags.assetota.zip").exists());
}

#[test]
fn a_flat_image_spanning_flash_and_ram_is_refused_with_the_fix() {
    let p = Project::thumb("cli_build_span", META).with_assets();
    // .data loaded at its RAM address: 384 MiB above flash.
    let link = std::fs::read_to_string(p.path().join("link.x"))
        .unwrap()
        .replace("} > RAM AT > FLASH", "} > RAM");
    p.write("link.x", link);
    p.cli(&["build"])
        .failure(1)
        .stderr_has("too much for a flat image")
        .stderr_has("AT>");
    p.cli(&["build", "--format", "elf"]).success();
}

#[test]
fn a_helper_binary_without_the_macro_is_skipped_with_a_warning() {
    let p = Project::host("cli_build_helper", META).with_assets();
    p.write("src/bin/helper.rs", "fn main() {}\n");
    let run = p.cli(&["build"]).success();
    assert!(
        run.stderr
            .contains("warning: binary `helper` has no embedded manifest"),
        "{}",
        run.stderr
    );
    assert_eq!(run.stderr.matches("Bundled").count(), 1, "{}", run.stderr);
    // Named explicitly, it is an error.
    p.cli(&["build", "--bin", "helper"])
        .failure(1)
        .stderr_has("assetota::manifest!();");
}

#[test]
fn quiet_hides_status_and_verbose_reaches_cargo() {
    let p = Project::host("cli_build_verbosity", META).with_assets();
    let quiet = p.cli(&["-q", "build"]).success();
    assert!(
        !quiet.stderr.contains("Bundled") && !quiet.stderr.contains("Finished"),
        "{}",
        quiet.stderr
    );
    let verbose = p.cli(&["build", "-v"]).success();
    assert!(
        verbose.stderr.contains("Fresh") || verbose.stderr.contains("Running"),
        "cargo got --verbose:\n{}",
        verbose.stderr
    );
    assert!(verbose.stderr.contains("Bundled"));
}

#[test]
fn cargo_finds_the_subcommand_on_path() {
    let p = Project::host("cli_build_via_cargo", META).with_assets();
    let bin_dir = std::path::Path::new(env!("CARGO_BIN_EXE_cargo-assetota"))
        .parent()
        .unwrap()
        .to_owned();
    let path = std::env::join_paths(
        std::iter::once(bin_dir).chain(std::env::split_paths(&std::env::var_os("PATH").unwrap())),
    )
    .unwrap();
    let out = Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()))
        .args(["assetota", "size", "--json"])
        .current_dir(p.path())
        .env("PATH", path)
        .env("CARGO_TARGET_DIR", target_dir())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["package"], "cli_build_via_cargo");
}
