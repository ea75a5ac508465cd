//! `[package.metadata.assetota]` from real Cargo.toml files, including every
//! way it can be wrong.

use assetota_core::codec::Codec;
use assetota_core::config::{Config, ConfigError};
use std::fs;
use std::path::{Path, PathBuf};

fn package(dir: &Path, metadata: &str) -> PathBuf {
    let manifest = dir.join("Cargo.toml");
    fs::write(
        &manifest,
        format!("[package]\nname = \"fw\"\nversion = \"0.1.0\"\nedition = \"2024\"\n\n{metadata}"),
    )
    .unwrap();
    manifest
}

fn load_err(metadata: &str) -> String {
    let t = tempfile::tempdir().unwrap();
    let m = package(t.path(), metadata);
    let e = Config::load(&m).unwrap_err().to_string();
    assert!(
        e.contains(&m.display().to_string()),
        "error does not name the file: {e}"
    );
    e
}

#[test]
fn no_table_means_not_opted_in() {
    let t = tempfile::tempdir().unwrap();
    let m = package(t.path(), "");
    assert!(Config::load(&m).unwrap().is_none());
}

#[test]
fn reads_dir_platform_codec_and_exclude() {
    let t = tempfile::tempdir().unwrap();
    let m = package(
        t.path(),
        "[package.metadata.assetota]\ndir = \"assets\"\nplatform = \"p2\"\ncodec = { kind = \"xz\", dict-size = \"64 KiB\" }\nexclude = [\"*.psd\"]\n",
    );
    let c = Config::load(&m).unwrap().unwrap();
    assert_eq!(c.dir, t.path().join("assets"));
    assert_eq!(c.platform.as_deref(), Some("p2"));
    assert_eq!(
        c.codec,
        Some(Codec::Xz {
            preset: 6,
            dict_size: 65536
        })
    );
    assert_eq!(c.exclude, ["*.psd"]);
    let p = c.resolve_platform(None).unwrap();
    assert_eq!(p.name, "p2");
    assert_eq!(
        p.codec,
        Codec::Xz {
            preset: 6,
            dict_size: 65536
        },
        "codec override applies"
    );
}

#[test]
fn bad_keys_and_values_name_key_file_and_line() {
    let e = load_err("[package.metadata.assetota]\ndir = \"assets\"\nplatfrom = \"p2\"\n");
    assert!(
        e.contains(":8:") && e.contains("`package.metadata.assetota.platfrom` is not a known key"),
        "{e}"
    );
    let e = load_err("[package.metadata.assetota]\ndir = 3\n");
    assert!(
        e.contains(":7:") && e.contains("`package.metadata.assetota.dir` must be a string"),
        "{e}"
    );
    let e = load_err("[package.metadata.assetota]\nplatform = \"p2\"\n");
    assert!(
        e.contains("`package.metadata.assetota.dir` is missing"),
        "{e}"
    );
    let e = load_err("[package.metadata.assetota]\ndir = \"a\"\ncodec = \"lz4\"\n");
    assert!(
        e.contains("`package.metadata.assetota.codec` unknown codec `lz4`"),
        "{e}"
    );
    let e = load_err(
        "[package.metadata.assetota]\ndir = \"a\"\ncodec = { kind = \"deflate\", window-bits = 20 }\n",
    );
    assert!(e.contains("window-bits 20 is out of range"), "{e}");
    let e = load_err("[package.metadata.assetota]\ndir = \"a\"\nexclude = \"*.psd\"\n");
    assert!(
        e.contains("`package.metadata.assetota.exclude` must be an array"),
        "{e}"
    );
    let e = load_err(
        "[package.metadata.assetota]\ndir = \"a\"\n[package.metadata.assetota.platforms.b]\ntotal = \"12 parsecs\"\n",
    );
    assert!(
        e.contains("`package.metadata.assetota.platforms.b.total`")
            && e.contains("not a byte size"),
        "{e}"
    );
    let e = load_err(
        "[package.metadata.assetota]\ndir = \"a\"\n[package.metadata.assetota.platforms.b]\nmax-asset = 5\n",
    );
    assert!(e.contains("platforms.b.total` is missing"), "{e}");
    let e = load_err(
        "[package.metadata.assetota]\ndir = \"a\"\n[package.metadata.assetota.platforms.argon]\ntotal = 5\n",
    );
    assert!(e.contains("name of a built-in platform"), "{e}");
    let e = load_err(
        "[package.metadata.assetota]\ndir = \"a\"\n[package.metadata.assetota.platforms.b]\ntotal = 8192\nblock-size = 4096\nreserved-blocks = 3\n",
    );
    assert!(
        e.contains("reserved-blocks") && e.contains("more than the total"),
        "{e}"
    );
    let e = load_err("[package.metadata.assetota\n");
    assert!(e.contains("not valid TOML"), "{e}");
}

#[test]
fn unknown_platform_lists_known_ones() {
    let t = tempfile::tempdir().unwrap();
    let m = package(
        t.path(),
        "[package.metadata.assetota]\ndir = \"assets\"\nplatform = \"photon\"\n[package.metadata.assetota.platforms.w800]\ntotal = \"256K\"\n",
    );
    let c = Config::load(&m).unwrap().unwrap();
    let e = c.resolve_platform(None).unwrap_err();
    assert!(matches!(e, ConfigError::UnknownPlatform { .. }));
    let msg = e.to_string();
    assert!(
        msg.contains("unknown platform `photon`")
            && msg.contains("argon")
            && msg.contains("photon2")
            && msg.contains("w800"),
        "{msg}"
    );
    assert!(
        msg.contains(&m.display().to_string()),
        "says where the name came from: {msg}"
    );
    let e = c
        .resolve_platform(Some(("nope", "ASSETOTA_PLATFORM")))
        .unwrap_err()
        .to_string();
    assert!(e.contains("`nope` (from ASSETOTA_PLATFORM)"), "{e}");
}

#[test]
fn custom_platform_with_block_model() {
    let t = tempfile::tempdir().unwrap();
    let m = package(
        t.path(),
        "[package.metadata.assetota]\ndir = \"assets\"\nplatform = \"board\"\n\
        [package.metadata.assetota.platforms.board]\ntotal = \"1 MiB\"\nmax-asset = \"512 KiB\"\nblock-size = 4096\n\
        per-block-overhead = 8\nper-asset-overhead = 16\nreserved-blocks = 2\ncodec = \"none\"\n",
    );
    let p = Config::load(&m)
        .unwrap()
        .unwrap()
        .resolve_platform(None)
        .unwrap();
    let l = p.limits.clone().unwrap();
    assert_eq!(l.total, (1 << 20) - 2 * 4096);
    assert_eq!(l.max_asset, Some(512 << 10));
    assert_eq!(p.codec, Codec::None);
    assert_eq!(p.stored_size("x", 4072), 4088);
    assert_eq!(p.storage_size(4088), 4096);
    assert_eq!(p.storage_size(4089), 8192);
}

#[test]
fn total_from_partition_table_and_firmware_partitions() {
    let t = tempfile::tempdir().unwrap();
    fs::write(t.path().join("partitions.csv"), "# name, offset, size, flag\napp, 0xE000, 0x122000, 0\napp_ota, 0x130000, 0xAF000, 0\nassets, 0x1DF000, 0x40000, 0\n").unwrap();
    let m = package(
        t.path(),
        "[package.metadata.assetota]\ndir = \"assets\"\n\
        [package.metadata.assetota.platforms.w800]\npartition-table = \"partitions.csv\"\npartition = \"assets\"\ncodec = \"xz\"\n",
    );
    let c = Config::load(&m).unwrap().unwrap();
    assert!(c.inputs.contains(&t.path().join("partitions.csv")));
    let p = c.resolve_platform(Some(("w800", "test"))).unwrap();
    assert_eq!(p.limits.unwrap().total, 0x40000);
    assert_eq!(p.firmware_partitions, Some((0x122000, 0xAF000)));

    let m = package(
        t.path(),
        "[package.metadata.assetota]\ndir = \"assets\"\n\
        [package.metadata.assetota.platforms.w800]\npartition-table = \"partitions.csv\"\npartition = \"data\"\n",
    );
    let e = Config::load(&m).unwrap_err().to_string();
    assert!(
        e.contains("no partition named `data`")
            && e.contains("partitions.csv")
            && e.contains("app, app_ota, assets"),
        "{e}"
    );
}

#[test]
fn workspace_platforms_are_found_from_a_member() {
    let t = tempfile::tempdir().unwrap();
    fs::write(t.path().join("Cargo.toml"), "[workspace]\nmembers = [\"fw\"]\n\n[workspace.metadata.assetota.platforms.shared-board]\ntotal = 65536\n").unwrap();
    fs::create_dir(t.path().join("fw")).unwrap();
    let m = package(
        &t.path().join("fw"),
        "[package.metadata.assetota]\ndir = \"assets\"\nplatform = \"shared-board\"\n",
    );
    let c = Config::load(&m).unwrap().unwrap();
    assert_eq!(
        c.resolve_platform(None).unwrap().limits.unwrap().total,
        65536
    );
    assert!(c.inputs.contains(&t.path().join("Cargo.toml")));
}
