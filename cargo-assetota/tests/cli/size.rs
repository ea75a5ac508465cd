//! `cargo assetota size` and the errors of projects that cannot be sized.

use crate::support::*;
use assetota_test_oracles::python;

#[test]
fn size_table_and_json_follow_the_design() {
    let p = Project::host("cli_size", META_P2).with_assets();
    let human = p.cli(&["size"]).success();
    insta::assert_snapshot!("size_p2", p.redact(&human.stdout));

    let json = p.cli(&["size", "--json"]).success().json();
    let keys: Vec<&str> = json
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    for key in [
        "package",
        "platform",
        "codec",
        "assets",
        "total_size",
        "total_storage_size",
        "limit_total",
        "limit_single",
        "fits",
    ] {
        assert!(keys.contains(&key), "size --json lacks {key}: {keys:?}");
    }
    assert_eq!(json["package"], "cli_size");
    assert_eq!(json["platform"], "p2");
    assert_eq!(json["limit_total"], 1_138_688);
    assert_eq!(json["limit_single"], 1_114_112);
    assert_eq!(json["fits"], true);
    assert_eq!(json["total_size"], 32 + 2048 + 520);
    assert_eq!(json["total_storage_size"], 3 * 4096);
    let assets = json["assets"].as_array().unwrap();
    assert_eq!(assets.len(), 3);
    for a in assets {
        for key in ["name", "size", "sha256", "compressed_size", "storage_size"] {
            assert!(a.get(key).is_some(), "asset lacks {key}");
        }
    }
    // The stored size is the exact deflate output plus Particle's container.
    let text = assets.iter().find(|a| a["name"] == "text.txt").unwrap();
    assert_eq!(
        text["stored_size"].as_u64().unwrap(),
        text["compressed_size"].as_u64().unwrap() + 124 + 8
    );
    assert_eq!(text["sha256"].as_str().unwrap().len(), 64);

    // --platform and ASSETOTA_PLATFORM override the config.
    let argon = p
        .cli(&["size", "--json", "--platform", "argon"])
        .success()
        .json();
    assert_eq!(argon["platform"], "argon");
    assert_eq!(argon["limit_single"], 606_208);
    let env = p
        .cli_env(&["size", "--json"], &[("ASSETOTA_PLATFORM", "esomx")])
        .success()
        .json();
    assert_eq!(env["limit_total"], 2_056_192);
    p.cli(&["size", "--platform", "photon"])
        .failure(1)
        .stderr_has("unknown platform `photon`");
}

#[test]
fn all_platforms_is_a_fit_matrix() {
    let p = Project::host("cli_size_all", META).with_assets();
    // 700 KiB of noise: over the argon/boron/bsom single limit, fits the others.
    let mut x: u32 = 1;
    let noise: Vec<u8> = (0..700 * 1024)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            x as u8
        })
        .collect();
    p.write("assets/noise.bin", noise);
    let human = p.cli(&["size", "--all-platforms"]).success();
    insta::assert_snapshot!("size_all_platforms", p.redact(&human.stdout));
    let json = p
        .cli(&["size", "--all-platforms", "--json"])
        .success()
        .json();
    let list = json.as_array().unwrap();
    assert_eq!(list.len(), 11);
    let fits = |name: &str| {
        list.iter().find(|b| b["platform"] == name).unwrap()["fits"]
            .as_bool()
            .unwrap()
    };
    assert!(!fits("argon") && !fits("boron") && !fits("bsom"));
    assert!(fits("p2") && fits("esomx") && fits("tracker"));
}

#[test]
fn not_a_cargo_project() {
    let tmp = tempfile::tempdir().unwrap();
    cli_in(tmp.path(), &["size"])
        .failure(1)
        .stderr_has("is not inside a cargo project")
        .stderr_has("--manifest-path");
    cli_in(tmp.path(), &["build"])
        .failure(1)
        .stderr_has("is not inside a cargo project");
    cli_in(
        tmp.path(),
        &["size", "--manifest-path", "nowhere/Cargo.toml"],
    )
    .failure(1)
    .stderr_has("nowhere/Cargo.toml");
}

#[test]
fn a_package_without_the_table_is_told_how_to_opt_in() {
    let p = Project::host("cli_size_optout", "").with_assets();
    for cmd in [&["size"][..], &["build"][..]] {
        p.cli(cmd)
            .failure(1)
            .stderr_has("package `cli_size_optout` has no [package.metadata.assetota] table")
            .stderr_has("[package.metadata.assetota]\n")
            .stderr_has("dir = \"assets\"")
            .stderr_has("cargo assetota init");
    }
}

#[test]
fn a_bad_config_names_the_key_and_file() {
    let p = Project::host(
        "cli_size_badcfg",
        "[package.metadata.assetota]\ndir = \"assets\"\nplatfrom = \"p2\"\n",
    )
    .with_assets();
    p.cli(&["size"])
        .failure(1)
        .stderr_has("package.metadata.assetota.platfrom")
        .stderr_has("Cargo.toml");
    let p = Project::host("cli_size_nodir", META);
    p.cli(&["size"])
        .failure(1)
        .stderr_has("does not exist")
        .stderr_has("cargo assetota init");
}

#[test]
fn partition_table_platforms_check_the_firmware() {
    let meta = "[package.metadata.assetota]\ndir = \"assets\"\nplatform = \"w800\"\n\n\
                [package.metadata.assetota.platforms.w800]\npartition-table = \"partitions.csv\"\npartition = \"assets\"\nblock-size = 4096\n";
    let p = Project::host("cli_size_w800", meta).with_assets();
    p.write("partitions.csv", "# name, offset, size, flag\napp, 0x10000, 0x1000, 0\napp_ota, 0x11000, 0x1000, 0\nassets, 0x20000, 0x20000, 0\n");
    // A 6 KiB image of noise: over both the 3 KiB the app may take of its
    // 4 KiB partition and the 4 KiB OTA partition.
    let mut x: u32 = 7;
    let image: Vec<u8> = (0..6144)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            x as u8
        })
        .collect();
    p.write("fw.bin", &image);
    let run = p.cli(&["size", "--firmware", "fw.bin"]).failure(3);
    assert!(
        run.stderr
            .contains("over the 3,072 B it may take of the 4,096 B app partition"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("the OTA image (_ota.img) is"),
        "{}",
        run.stderr
    );
    // A small image fits both.
    p.write("fw.bin", vec![0u8; 2048]);
    let json = p
        .cli(&["size", "--json", "--firmware", "fw.bin"])
        .success()
        .json();
    assert_eq!(json["firmware"]["app_partition"], 4096);
    assert_eq!(json["firmware"]["ota_partition"], 4096);
    assert_eq!(json["firmware"]["app_limit"], 3072);
    assert_eq!(json["firmware"]["fits"], true);
}

#[test]
fn all_platforms_shows_which_platforms_refuse_nested_names() {
    let meta = "[package.metadata.assetota]\ndir = \"assets\"\n\n\
                [package.metadata.assetota.platforms.spiflash]\ntotal = \"1 MiB\"\nblock-size = 4096\n";
    let p = Project::host("cli_size_nested", meta).with_assets();
    p.write("assets/fonts/big.bin", [7u8; 100]);
    let human = p.cli(&["size", "--all-platforms"]).success();
    assert!(
        human.stdout.contains("refused by argon, boron, esomx"),
        "{}",
        human.stdout
    );
    assert!(
        human.stdout.contains("asset `fonts/big.bin`"),
        "{}",
        human.stdout
    );
    let json = p
        .cli(&["size", "--all-platforms", "--json"])
        .success()
        .json();
    let rows = json.as_array().unwrap();
    let argon = rows.iter().find(|r| r["platform"] == "argon").unwrap();
    assert_eq!(argon["fits"], false);
    assert!(argon["error"].as_str().unwrap().contains("sub-directory"));
    let custom = rows.iter().find(|r| r["platform"] == "spiflash").unwrap();
    assert_eq!(custom["fits"], true);
    assert_eq!(custom["assets"].as_array().unwrap().len(), 4);
    // On one Particle platform it is an error, as in build.rs.
    p.cli(&["size", "--platform", "p2"])
        .failure(1)
        .stderr_has("is in a sub-directory");
}

#[test]
fn size_keeps_the_measure_cache_in_the_target_dir() {
    let p = Project::host("cli_size_cache", META_P2).with_assets();
    // Files modified within the cache's racy window are never cached.
    let hour_ago = std::time::SystemTime::now() - std::time::Duration::from_secs(3600);
    for name in ["config.json", "logo.bin", "text.txt"] {
        std::fs::File::options()
            .write(true)
            .open(p.path().join("assets").join(name))
            .unwrap()
            .set_modified(hour_ago)
            .unwrap();
    }
    let target = tempfile::tempdir().unwrap();
    let env = [("CARGO_TARGET_DIR", target.path().to_str().unwrap())];
    let cold = p.cli_env(&["size", "--json"], &env).success().json();
    let cache =
        std::fs::read_to_string(target.path().join(assetota_core::cache::CACHE_FILE)).unwrap();
    for name in ["config.json", "logo.bin", "text.txt"] {
        assert!(cache.contains(name), "{name} is not cached:\n{cache}");
    }
    let cache_path = target.path().join(assetota_core::cache::CACHE_FILE);
    let warm = p.cli_env(&["size", "--json"], &env).success().json();
    assert_eq!(cold, warm);
    assert_eq!(
        std::fs::read_to_string(&cache_path).unwrap(),
        cache,
        "a run that measured nothing new leaves the cache file as it was"
    );
    // The warm run really takes its numbers from the cache: with text.txt's
    // cached compressed size changed by hand (and the file's checksum, the
    // SHA-256 of its body, recomputed), that is what it reports, and the
    // other assets are unchanged.
    let poisoned_size = 777_777u64;
    std::fs::write(&cache_path, poison_cache(&cache, "text.txt", poisoned_size)).unwrap();
    let poisoned = p.cli_env(&["size", "--json"], &env).success().json();
    for (a, c) in poisoned["assets"]
        .as_array()
        .unwrap()
        .iter()
        .zip(cold["assets"].as_array().unwrap())
    {
        if a["name"] == "text.txt" {
            assert_eq!(a["compressed_size"], poisoned_size, "cache not used: {a}");
        } else {
            assert_eq!(a, c);
        }
    }
    std::fs::write(&cache_path, &cache).unwrap();
    // A changed asset is measured again, not taken from the cache.
    p.write("assets/text.txt", "changed\n".repeat(100));
    let changed = p.cli_env(&["size", "--json"], &env).success().json();
    let text = changed["assets"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["name"] == "text.txt")
        .unwrap();
    assert_eq!(text["size"], 800);
    assert_ne!(changed["total_size"], cold["total_size"]);
}

/// The measure cache's text (`assetota_core::cache`: a header line, one line
/// per file, `codec\tinode\tsize\tmtime_ns\tsha256\tcompressed_size\tpath`,
/// then the SHA-256 of those lines) with the compressed size of the file
/// ending in `/name` replaced by `size`, and the checksum recomputed.
fn poison_cache(text: &str, name: &str, size: u64) -> String {
    use sha2::Digest;
    let mut lines: Vec<&str> = text.lines().collect();
    let _checksum = lines.pop().expect("a checksum line");
    let header = lines.remove(0);
    let mut found = 0;
    let body: String = lines
        .iter()
        .map(|line| {
            let mut f: Vec<String> = line.split('\t').map(str::to_owned).collect();
            assert_eq!(f.len(), 7, "a cache line of 7 fields: {line:?}");
            if f[6].ends_with(&format!("/{name}")) {
                f[5] = size.to_string();
                found += 1;
            }
            format!("{}\n", f.join("\t"))
        })
        .collect();
    assert_eq!(found, 1, "{name} once in the cache:\n{text}");
    let sum: String = sha2::Sha256::digest(body.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    format!("{header}\n{body}{sum}\n")
}

/// A platform for the device store on QEMU `virt`'s second flash
/// (examples/ota-riscv/README.md):
/// 32 MiB of 256 KiB sectors, 4-byte writes, deflate with a 4 KiB window.
pub const META_STORE: &str = "[package.metadata.assetota]\ndir = \"assets\"\nplatform = \"virt-store\"\n\n\
    [package.metadata.assetota.platforms.virt-store]\nkind = \"assetota-store\"\npartition-size = \"32 MiB\"\n\
    erase-size = \"256 KiB\"\nwrite-size = 4\npartition-offset = 0x22000000\n\
    codec = { kind = \"deflate\", level = 6, window-bits = 12 }\n";

/// 300 KiB that deflate cannot shrink: two of the store's 256 KiB blocks.
pub fn store_noise() -> Vec<u8> {
    let mut x: u32 = 0x9e37_79b9;
    (0..300 * 1024)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            x as u8
        })
        .collect()
}

#[test]
fn a_store_platform_budgets_whole_erase_blocks_and_stores_raw_what_deflate_grows() {
    let p = Project::host("cli_size_store", META_STORE).with_assets();
    p.write("assets/noise.bin", store_noise());
    let json = p.cli(&["size", "--json"]).success().json();
    assert_eq!(json["platform"], "virt-store");
    assert_eq!(json["codec"]["kind"], "deflate");
    assert_eq!(json["codec"]["window_bits"], 12);
    assert_eq!(json["limit_total"], 32u64 << 20);
    assert_eq!(json["limit_single"], serde_json::Value::Null);
    assert_eq!(json["fits"], true);
    // By hand: each asset is its payload (raw when deflate does not shrink
    // it) plus the store's 104-byte container (a 76-byte head padded to the
    // 8-byte word, three state words), in 256 KiB blocks of which the last
    // 8 bytes are the block's DONE word.
    let block = 256u64 * 1024;
    let mut total_storage = 0;
    let mut raw_names = Vec::new();
    for a in json["assets"].as_array().unwrap() {
        let name = a["name"].as_str().unwrap();
        let bytes = std::fs::read(p.path().join("assets").join(name)).unwrap();
        let size = bytes.len() as u64;
        let deflated = python::raw_deflate_len(&bytes, 6, 12);
        let (codec, compressed) = if deflated >= size {
            raw_names.push(name.to_owned());
            ("none", size)
        } else {
            ("deflate", deflated)
        };
        assert_eq!(a["size"], size, "{name}");
        assert_eq!(a["codec"], codec, "{name}");
        assert_eq!(a["compressed_size"], compressed, "{name}");
        assert_eq!(a["stored_size"], compressed + 104, "{name}");
        let storage = (compressed + 104).div_ceil(block - 8) * block;
        assert_eq!(a["storage_size"], storage, "{name}");
        total_storage += storage;
        for key in ["sha256", "verdict"] {
            assert!(a.get(key).is_some(), "asset lacks {key}");
        }
    }
    // config.json (32 B of JSON) and the noise do not shrink.
    assert_eq!(raw_names, ["config.json", "noise.bin"]);
    let noise = &json["assets"][2];
    assert_eq!(noise["storage_size"], 2 * block);
    assert_eq!(json["total_storage_size"], total_storage);
    assert_eq!(json["total_storage_size"], 5 * block);

    // The table shows the codec where raw was chosen.
    let human = p.cli(&["size"]).success();
    let line = |name: &str| {
        human
            .stdout
            .lines()
            .find(|l| l.trim_start().starts_with(name))
            .unwrap_or_else(|| panic!("no line for {name}:\n{}", human.stdout))
            .to_owned()
    };
    assert!(human.stdout.contains("CODEC"), "{}", human.stdout);
    assert!(line("noise.bin").contains(" none "), "{}", human.stdout);
    assert!(line("text.txt").contains(" deflate "), "{}", human.stdout);
    assert!(
        human
            .stdout
            .contains("2 assets stored raw: deflate does not make them smaller"),
        "{}",
        human.stdout
    );
    assert!(
        human
            .stdout
            .contains("store: 128 erase blocks of 262,144 B at 0x22000000, 4 B writes"),
        "{}",
        human.stdout
    );

    // Particle platforms keep deflate for every asset, as before.
    let p2 = p
        .cli(&["size", "--json", "--platform", "p2"])
        .success()
        .json();
    for a in p2["assets"].as_array().unwrap() {
        assert_eq!(a["codec"], "deflate");
    }
    let noise = p2["assets"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["name"] == "noise.bin")
        .unwrap();
    assert_eq!(
        noise["compressed_size"],
        python::raw_deflate_len(&store_noise(), 6, 15)
    );

    // A bad geometry fails with the key and the store's reason.
    let bad = META_STORE.replace("write-size = 4", "write-size = 64");
    p.write(
        "Cargo.toml",
        std::fs::read_to_string(p.path().join("Cargo.toml"))
            .unwrap()
            .replace(META_STORE, &bad),
    );
    p.cli(&["size"])
        .failure(1)
        .stderr_has("platforms.virt-store.write-size")
        .stderr_has("flash write size 64 B is not supported");
}
