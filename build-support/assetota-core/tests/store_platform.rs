//! Platforms of kind `assetota-store`: their config (and every way it can be
//! wrong), the exact budget against the store's formula worked out by hand,
//! and the raw fallback (an asset the codec does not shrink is stored with
//! codec `none`), down to the binary manifest.

use assetota_core::codec::Codec;
use assetota_core::config::Config;
use assetota_core::measure::Measured;
use assetota_core::platform::{Platform, StoreGeometry};
use assetota_core::{Budget, NoProgress, Verdict};
use assetota_test_oracles::python;
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

/// Lines 6 to 10 of the manifest; the platform's own keys start at line 11.
const HEAD: &str = "[package.metadata.assetota]\ndir = \"assets\"\nplatform = \"virt-store\"\n\
                    [package.metadata.assetota.platforms.virt-store]\nkind = \"assetota-store\"\n";
const KEY: &str = "package.metadata.assetota.platforms.virt-store";

fn store_config(keys: &str) -> String {
    format!("{HEAD}{keys}")
}

fn load(dir: &Path, metadata: &str) -> (Config, Platform) {
    let m = package(dir, metadata);
    let config = Config::load(&m).unwrap().unwrap();
    let platform = config.resolve_platform(None).unwrap();
    (config, platform)
}

/// The error for `metadata`, checked to name the file.
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

fn noise(len: usize, mut seed: u64) -> Vec<u8> {
    (0..len)
        .map(|_| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed as u8
        })
        .collect()
}

fn measured(name: &str, size: u64, compressed_size: u64) -> Measured {
    Measured {
        name: name.into(),
        path: format!("/assets/{name}").into(),
        size,
        sha256: [0; 32],
        compressed_size,
    }
}

#[test]
fn reads_the_store_kind_with_its_geometry() {
    let t = tempfile::tempdir().unwrap();
    let (_, p) = load(
        t.path(),
        &store_config(
            "partition-size = \"32 MiB\"\nerase-size = \"256 KiB\"\nwrite-size = 4\n\
             partition-offset = 0x22000000\nmax-asset = \"1 MiB\"\n\
             codec = { kind = \"deflate\", level = 6, window-bits = 12 }\n",
        ),
    );
    assert_eq!(p.name, "virt-store");
    assert_eq!(p.kind(), "assetota-store");
    assert!(p.stores_raw_when_not_smaller());
    assert_eq!(
        p.store,
        Some(StoreGeometry {
            write_size: 4,
            erase_size: 256 * 1024,
            partition_size: 32 << 20,
            partition_offset: Some(0x2200_0000),
        })
    );
    assert_eq!(
        p.codec,
        Codec::Deflate {
            level: 6,
            window_bits: 12
        }
    );
    let l = p.limits.clone().unwrap();
    // 32 MiB is 128 whole 256 KiB blocks. A 4-byte write size gives the
    // store's minimum 8-byte word: 8 B of every block hold its DONE word, and
    // each asset's head block holds the 76-byte head record padded to 80 B
    // plus three 8-byte state words, 104 B.
    assert_eq!(l.total, 32 << 20);
    assert_eq!(l.block_size, 256 * 1024);
    assert_eq!(l.per_block_overhead, 8);
    assert_eq!(l.max_asset, Some(1 << 20));
    assert_eq!((p.container.fixed, p.container.includes_name), (104, false));

    // `total` is the same as `partition-size`; a 16-byte write size makes
    // 16-byte words: head 80 B (a multiple of 16) + 3 × 16 = 128 B. A
    // partition that is not whole blocks is rounded down: 1,000,000 B holds
    // 244 blocks of 4 KiB.
    let (_, p) = load(
        t.path(),
        &store_config("total = 1000000\nerase-size = 4096\nwrite-size = 16\n"),
    );
    let l = p.limits.clone().unwrap();
    assert_eq!(l.total, 244 * 4096);
    assert_eq!((l.block_size, l.per_block_overhead), (4096, 16));
    assert_eq!(p.container.fixed, 128);
    assert_eq!(l.max_asset, None);
    assert_eq!(p.store.unwrap().partition_offset, None);
    assert_eq!(p.store.unwrap().partition_size, 1_000_000);

    // Other platforms have no store geometry and keep their codec.
    let (_, argon) = load(
        t.path(),
        "[package.metadata.assetota]\ndir = \"assets\"\nplatform = \"argon\"\n",
    );
    assert_eq!((argon.store, argon.kind()), (None, "particle"));
    assert!(!argon.stores_raw_when_not_smaller());
    let (_, generic) = load(
        t.path(),
        "[package.metadata.assetota]\ndir = \"assets\"\nplatform = \"b\"\n\
         [package.metadata.assetota.platforms.b]\nkind = \"generic\"\ntotal = 4096\n",
    );
    assert_eq!((generic.store, generic.kind()), (None, "generic"));
    assert!(!generic.stores_raw_when_not_smaller());
}

#[test]
fn keys_of_the_block_model_are_refused_on_the_store_kind() {
    let base = "partition-size = \"1 MiB\"\nerase-size = 4096\nwrite-size = 4\n";
    for key in [
        "block-size",
        "per-block-overhead",
        "per-asset-overhead",
        "reserved-blocks",
    ] {
        let e = load_err(&store_config(&format!("{base}{key} = 8\n")));
        assert!(
            e.contains(":14:")
                && e.contains(&format!(
                    "`{KEY}.{key}` does not apply to kind \"assetota-store\""
                )),
            "{e}"
        );
    }
    // An unknown key lists the kind's keys.
    let e = load_err(&store_config(&format!("{base}sector-size = 8\n")));
    assert!(
        e.contains(&format!("`{KEY}.sector-size` is not a known key"))
            && e.contains("erase-size, write-size"),
        "{e}"
    );
    // The store's keys on a platform of the generic kind.
    let e = load_err(
        "[package.metadata.assetota]\ndir = \"assets\"\n\
         [package.metadata.assetota.platforms.b]\ntotal = 4096\nerase-size = 4096\n",
    );
    assert!(
        e.contains(":10:")
            && e.contains("`package.metadata.assetota.platforms.b.erase-size` applies to platforms of kind \"assetota-store\" only"),
        "{e}"
    );
    // Unknown kinds list the kinds.
    let e = load_err(
        "[package.metadata.assetota]\ndir = \"assets\"\n\
         [package.metadata.assetota.platforms.b]\nkind = \"littlefs\"\ntotal = 4096\n",
    );
    assert!(
        e.contains(":9:")
            && e.contains("`package.metadata.assetota.platforms.b.kind` is `littlefs`, not a known platform kind; known kinds: generic, assetota-store"),
        "{e}"
    );
    // Missing and doubled sizes.
    let e = load_err(&store_config("partition-size = 4096\nwrite-size = 4\n"));
    assert!(e.contains(&format!("`{KEY}.erase-size` is missing")), "{e}");
    let e = load_err(&store_config("partition-size = 4096\nerase-size = 4096\n"));
    assert!(e.contains(&format!("`{KEY}.write-size` is missing")), "{e}");
    let e = load_err(&store_config("erase-size = 4096\nwrite-size = 4\n"));
    assert!(
        e.contains(&format!("`{KEY}.partition-size` is missing")),
        "{e}"
    );
    let e = load_err(&store_config(&format!("{base}total = 4096\n")));
    assert!(
        e.contains(&format!(
            "`{KEY}.total` and `partition-size` are both set; keep one"
        )),
        "{e}"
    );
    let e = load_err(&store_config(&format!("{base}partition = \"assets\"\n")));
    assert!(
        e.contains(&format!("`{KEY}.partition` needs `partition-table`")),
        "{e}"
    );
}

#[test]
fn geometries_the_store_refuses_name_the_key_and_say_why() {
    let cases = [
        (
            "partition-size = 65536\nerase-size = 4096\nwrite-size = 0\n",
            ":13:",
            "write-size",
            "flash write size 0 B is not supported; the store supports 1 to 32 B",
        ),
        (
            "partition-size = 65536\nerase-size = 4096\nwrite-size = 33\n",
            ":13:",
            "write-size",
            "flash write size 33 B is not supported; the store supports 1 to 32 B",
        ),
        (
            "partition-size = 65536\nerase-size = 128\nwrite-size = 4\n",
            ":12:",
            "erase-size",
            "flash erase size 128 B is not supported",
        ),
        // 4100 is not a multiple of the 8-byte word.
        (
            "partition-size = 65536\nerase-size = 4100\nwrite-size = 4\n",
            ":12:",
            "erase-size",
            "a multiple of its 8-byte word",
        ),
        (
            "partition-size = 65536\nerase-size = \"512 KiB\"\nwrite-size = 4\n",
            ":12:",
            "erase-size",
            "flash erase size 524288 B is not supported",
        ),
        (
            "partition-size = 1000\nerase-size = 4096\nwrite-size = 4\n",
            ":11:",
            "partition-size",
            "store partition holds no whole erase block",
        ),
        (
            "partition-size = 65536\nerase-size = 4096\nwrite-size = 4\npartition-offset = 0x1800\n",
            ":14:",
            "partition-offset",
            "puts the store at 0x1800, not on a 4096-byte erase block boundary",
        ),
    ];
    for (keys, line, key, message) in cases {
        let e = load_err(&store_config(keys));
        assert!(
            e.contains(line) && e.contains(&format!("`{KEY}.{key}` ")) && e.contains(message),
            "{keys}: {e}"
        );
    }
}

#[test]
fn size_and_offset_from_a_partition_table() {
    let t = tempfile::tempdir().unwrap();
    fs::write(
        t.path().join("parts.csv"),
        "# name, offset, size, flag\napp, 0x10000, 0x100000, 0\nassets, 0x110000, 0x20000, 0\nodd, 0x131000, 0x10000, 0\n",
    )
    .unwrap();
    fs::write(
        t.path().join("esp.csv"),
        "nvs, data, nvs, , 0x6000,\nphy_init, data, phy, , 0x1000,\nfactory, app, factory, , 1M,\nstore, data, spiffs, , 256K,\n",
    )
    .unwrap();
    let tables = "erase-size = 4096\nwrite-size = 1\n";
    let (config, p) = load(
        t.path(),
        &store_config(&format!(
            "{tables}partition-table = \"parts.csv\"\npartition = \"assets\"\n"
        )),
    );
    let g = p.store.unwrap();
    assert_eq!(
        (g.partition_size, g.partition_offset),
        (0x20000, Some(0x110000))
    );
    assert_eq!(p.limits.unwrap().total, 0x20000);
    assert!(config.inputs.contains(&t.path().join("parts.csv")));
    // An ESP-IDF table with blank offsets: `store` follows the 1 MiB factory
    // app at 0x10000, so it starts at 0x110000.
    let (_, p) = load(
        t.path(),
        &store_config(&format!(
            "{tables}partition-table = \"esp.csv\"\npartition = \"store\"\n"
        )),
    );
    let g = p.store.unwrap();
    assert_eq!(
        (g.partition_size, g.partition_offset),
        (256 << 10, Some(0x110000))
    );

    let err = |keys: &str| {
        let m = package(t.path(), &store_config(keys));
        Config::load(&m).unwrap_err().to_string()
    };
    // The table is 4 KiB aligned (the W800 SDK refuses anything else); a
    // flash with 64 KiB erase blocks still needs the store on one.
    let e = err(
        "erase-size = 65536\nwrite-size = 1\npartition-table = \"parts.csv\"\npartition = \"odd\"\n",
    );
    assert!(
        e.contains(&format!(
            "`{KEY}.partition` puts the store at 0x131000, not on a 65536-byte erase block boundary"
        )),
        "{e}"
    );
    let e = err(&format!(
        "{tables}partition-table = \"parts.csv\"\npartition = \"assets\"\npartition-offset = 0x110000\n"
    ));
    assert!(
        e.contains(&format!(
            "`{KEY}.partition-offset` and `partition-table` are both set"
        )),
        "{e}"
    );
    let e = err(&format!(
        "{tables}partition-table = \"parts.csv\"\npartition = \"assets\"\npartition-size = 4096\n"
    ));
    assert!(
        e.contains(&format!(
            "`{KEY}.partition-size` and `partition-table` are both set"
        )),
        "{e}"
    );
    let e = err(&format!(
        "{tables}partition-table = \"parts.csv\"\npartition = \"asets\"\n"
    ));
    assert!(
        e.contains("has no partition named `asets`") && e.contains("app, assets, odd"),
        "{e}"
    );
}

#[test]
fn storage_is_the_stores_block_formula() {
    let t = tempfile::tempdir().unwrap();
    // 4 KiB blocks, 8-byte words: 4096 − 8 = 4088 payload bytes per block,
    // and the 104-byte container in the first. 1,000,000 B of partition is
    // 244 whole blocks.
    let (_, p) = load(
        t.path(),
        &store_config("partition-size = 1000000\nerase-size = 4096\nwrite-size = 4\n"),
    );
    let by_hand = |compressed: u64| (compressed + 104).div_ceil(4088).max(1) * 4096;
    let cases: [(u64, u64); 6] = [
        (0, 4096),
        (1, 4096),
        (3984, 4096), // 3984 + 104 = 4088: exactly one block
        (3985, 8192),
        (3984 + 4088, 8192),
        (3985 + 4088, 12288),
    ];
    for (compressed, storage) in cases {
        assert_eq!(by_hand(compressed), storage, "{compressed}");
        // Sizes above the compressed ones, so deflate is kept.
        let b = Budget::new(&p, vec![measured("a", 2 * compressed + 10, compressed)]);
        let a = &b.assets[0];
        assert_eq!(a.codec, p.codec);
        assert_eq!(a.stored_size, compressed + 104, "{compressed}");
        assert_eq!(a.storage_size, storage, "{compressed}");
    }
    // Totals: 1,000,000 compressed bytes need ceil(1,000,104 / 4088) = 245
    // blocks, one more than the partition has.
    let b = Budget::new(
        &p,
        vec![
            measured("big", 3_000_000, 1_000_000),
            measured("small", 100, 50),
        ],
    );
    assert_eq!(b.assets[0].storage_size, 245 * 4096);
    assert_eq!(b.total_storage_size, 246 * 4096);
    assert_eq!(b.limit_total, Some(244 * 4096));
    assert_eq!(b.total_verdict, Verdict::Over);

    // 32-byte writes on 256-byte blocks: word 32, head 96, container
    // 96 + 3 × 32 = 192, 224 payload bytes per block.
    let (_, p) = load(
        t.path(),
        &store_config("partition-size = 65536\nerase-size = 256\nwrite-size = 32\n"),
    );
    for (compressed, blocks) in [(0u64, 1u64), (32, 1), (33, 2), (32 + 224, 2), (33 + 224, 3)] {
        let b = Budget::new(&p, vec![measured("a", 1000, compressed)]);
        assert_eq!(b.assets[0].stored_size, compressed + 192);
        assert_eq!(b.assets[0].storage_size, blocks * 256, "{compressed}");
    }
}

#[test]
fn an_asset_compression_does_not_shrink_is_stored_raw() {
    let t = tempfile::tempdir().unwrap();
    let (_, p) = load(
        t.path(),
        &store_config(
            "partition-size = \"1 MiB\"\nerase-size = 4096\nwrite-size = 4\n\
             codec = { kind = \"deflate\", level = 6, window-bits = 12 }\n",
        ),
    );
    // A tie counts as not shrinking.
    let b = Budget::new(
        &p,
        vec![
            measured("grows", 100, 105),
            measured("same", 100, 100),
            measured("shrinks", 100, 99),
        ],
    );
    let codecs: Vec<Codec> = b.assets.iter().map(|a| a.codec).collect();
    assert_eq!(codecs, [Codec::None, Codec::None, p.codec]);
    let compressed: Vec<u64> = b
        .assets
        .iter()
        .map(|a| a.measured.compressed_size)
        .collect();
    assert_eq!(compressed, [100, 100, 99]);
    assert_eq!(b.total_compressed_size, 299);
    assert_eq!(b.assets[0].stored_size, 100 + 104);

    // Real files, through the same path build.rs takes.
    let random = noise(5000, 0x2545_f491_4f6c_dd1d);
    let text = "hello assets\n".repeat(40).into_bytes();
    fs::create_dir_all(t.path().join("assets")).unwrap();
    fs::write(t.path().join("assets/noise.bin"), &random).unwrap();
    fs::write(t.path().join("assets/text.txt"), &text).unwrap();
    let noise_deflated = python::raw_deflate_len(&random, 6, 12);
    let text_deflated = python::raw_deflate_len(&text, 6, 12);
    assert!(noise_deflated > 5000 && text_deflated < 520);

    let (config, p) = load(
        t.path(),
        &store_config(
            "partition-size = \"1 MiB\"\nerase-size = 4096\nwrite-size = 4\n\
             codec = { kind = \"deflate\", level = 6, window-bits = 12 }\n\
             [package.metadata.assetota.platforms.plain]\ntotal = \"1 MiB\"\nblock-size = 4096\n\
             codec = { kind = \"deflate\", level = 6, window-bits = 12 }\n",
        ),
    );
    let b = assetota_core::analyze(&config, &p, &NoProgress).unwrap();
    let noise = &b.assets[0];
    assert_eq!(noise.name(), "noise.bin");
    assert_eq!(noise.codec, Codec::None);
    assert_eq!(noise.measured.compressed_size, 5000);
    assert_eq!(noise.stored_size, 5000 + 104);
    assert_eq!(noise.storage_size, (5000u64 + 104).div_ceil(4088) * 4096);
    let txt = &b.assets[1];
    assert_eq!(txt.codec, p.codec);
    assert_eq!(txt.measured.compressed_size, text_deflated);
    assert_eq!(txt.storage_size, 4096);

    // The manifest says which, entry by entry.
    let bytes = assetota_core::manifest_bytes(&b).unwrap();
    let manifest = assetota::Manifest::parse(&bytes).unwrap();
    assert_eq!(manifest.platform(), Some("virt-store"));
    let n = manifest.get("noise.bin").unwrap();
    assert_eq!(n.codec(), assetota::Codec::None);
    assert_eq!(
        (n.size(), n.compressed_size(), n.stored_size()),
        (5000, 5000, 5104)
    );
    let x = manifest.get("text.txt").unwrap();
    assert_eq!(x.codec(), assetota::Codec::Deflate { window_bits: 12 });
    assert_eq!(
        (x.size(), x.compressed_size(), x.stored_size()),
        (520, text_deflated, text_deflated + 104)
    );

    // The same assets elsewhere keep the platform's codec, as before: a
    // generic platform, Particle's, and no platform at all.
    for name in [Some("plain"), Some("argon"), None] {
        let p = match name {
            Some(n) => config.resolve_platform(Some((n, "the test"))).unwrap(),
            None => {
                let (c, _) = load(t.path(), "[package.metadata.assetota]\ndir = \"assets\"\n");
                c.resolve_platform(None).unwrap()
            }
        };
        let b = assetota_core::analyze(&config, &p, &NoProgress).unwrap();
        let expect =
            python::raw_deflate_len(&random, 6, if name == Some("plain") { 12 } else { 15 });
        assert_eq!(b.assets[0].codec, p.codec, "{name:?}");
        assert_eq!(b.assets[0].measured.compressed_size, expect, "{name:?}");
        let bytes = assetota_core::manifest_bytes(&b).unwrap();
        let manifest = assetota::Manifest::parse(&bytes).unwrap();
        assert_eq!(
            manifest.get("noise.bin").unwrap().codec(),
            p.codec.device_codec()
        );
    }
}
