//! W800: `bundle APP.bin --platform P` writes the SDK packer's two images,
//! `inspect` reads them back, `size --firmware` reports the same numbers.

use crate::support::*;

/// The SDK's with_ota table, plus an assets partition for the platform's budget.
const WITH_OTA: &str = "# name,          offset,    size,      flag\r\n\
    ft,              0x0,       0x2000,    0x0\r\n\
    bootloader,      0x2000,    0xC000,    0x0\r\n\
    partition_table, 0xE000,    0x1000,    0x0\r\n\
    app,             0xF000,    0x122000,  0x0\r\n\
    app_ota,         0x131000,  0xAF000,   0x0\r\n\
    assets,          0x1E0000,  0x10000,   0x0";

const META: &str = "[package.metadata.assetota]\ndir = \"assets\"\nplatform = \"w800\"\n\n\
    [package.metadata.assetota.platforms.w800]\npartition-table = \"partitions.csv\"\npartition = \"assets\"\ncodec = \"xz\"\n";

fn golden(name: &str) -> Vec<u8> {
    std::fs::read(
        repo_root()
            .join("host/assetota-firmware/tests/data/w800")
            .join(name),
    )
    .unwrap()
}

fn noise(len: usize, mut x: u32) -> Vec<u8> {
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            x as u8
        })
        .collect()
}

fn project(name: &str, table: &str) -> Project {
    let p = Project::host(name, META).with_assets();
    p.write("partitions.csv", table);
    p
}

#[test]
fn bundle_writes_the_sdk_packers_images() {
    let p = project("cli_w800_bundle", WITH_OTA);
    p.write("app-small.bin", golden("app-small.bin"));
    let run = p
        .cli(&[
            "bundle",
            "app-small.bin",
            "--platform",
            "w800",
            "--package-version",
            "1.2.3",
            "--bootloader-flags",
            "3",
            "--json",
        ])
        .success();
    // Byte-identical to bin2img.py's output; the 5,001-byte app is padded to 4.
    let img = std::fs::read(p.path().join("app-small.img")).unwrap();
    let ota = std::fs::read(p.path().join("app-small_ota.img")).unwrap();
    assert!(img == golden("app-small.img"), "app-small.img differs");
    assert!(
        ota == golden("app-small_ota.img"),
        "app-small_ota.img differs"
    );
    assert!(run.stderr.contains("not a multiple of 4"), "{}", run.stderr);
    let json = run.json();
    assert_eq!(json["image"]["file"], "app-small.img");
    assert_eq!(json["image"]["size"], 5068);
    assert_eq!(json["ota_image"]["file"], "app-small_ota.img");
    assert_eq!(json["ota_image"]["size"], 2092);
    assert_eq!(json["app_limit"], 0x122000 - 0x400);
    assert_eq!(json["ota_limit"], 0xAF000);
    assert_eq!(json["fits"], true);
    assert_eq!(json["version"], "1.2.3");

    // inspect reads both: headers, CRCs, version, compression, the app inside.
    let inspected = p
        .cli(&["inspect", "app-small_ota.img", "--json"])
        .success()
        .json();
    assert_eq!(inspected["kind"], "w800-ota-image");
    assert_eq!(inspected["header"]["compression"], "xz");
    assert_eq!(inspected["header"]["header_address"], 0x800F000);
    assert_eq!(inspected["header"]["upgrade_address"], 0x8131000);
    assert_eq!(inspected["inner"]["compression"], "none");
    assert_eq!(inspected["inner"]["version"], "1.2.3");
    assert_eq!(inspected["inner"]["bootloader_flags"], 3);
    assert_eq!(inspected["app_size"], 5004);
    let human = p.cli(&["inspect", "app-small.img"]).success();
    assert!(
        human.stdout.contains("W800 firmware image"),
        "{}",
        human.stdout
    );
    assert!(human.stdout.contains("version `1.2.3`"), "{}", human.stdout);
    // A flipped byte fails its CRC: verification failed, exit 4.
    let mut bad = ota.clone();
    bad[100] ^= 1;
    p.write("bad_ota.img", bad);
    p.cli(&["inspect", "bad_ota.img"])
        .failure(4)
        .stderr_has("body CRC");
}

#[test]
fn defaults_prefix_and_version_and_refuses_bad_input() {
    let p = project("cli_w800_defaults", WITH_OTA);
    p.write("fw/app.bin", noise(4096, 3));
    p.cli(&["bundle", "fw/app.bin", "--platform", "w800"])
        .success();
    // PREFIX: the app beside itself minus its extension; version: the package's.
    let inspected = p.cli(&["inspect", "fw/app.img", "--json"]).success().json();
    assert_eq!(inspected["header"]["version"], "0.1.0");
    assert!(p.path().join("fw/app_ota.img").exists());
    p.cli(&["bundle", "fw/app.bin", "--platform", "w800", "-o", "out/v1"])
        .success();
    assert!(p.path().join("out/v1.img").exists() && p.path().join("out/v1_ota.img").exists());
    // Version strings over 15 bytes are refused, naming the limit.
    p.cli(&[
        "bundle",
        "fw/app.bin",
        "--platform",
        "w800",
        "--package-version",
        "1.2.3-rc.1+build",
    ])
    .failure(1)
    .stderr_has("at most 15");
    // An empty app: named, with the fix.
    p.write("empty.bin", b"");
    p.cli(&["bundle", "empty.bin", "--platform", "w800"])
        .failure(1)
        .stderr_has("`empty.bin` is empty");
    // A platform without app/app_ota.
    let p2 = project(
        "cli_w800_noota",
        "app, 0xF000, 0x100000, 0x0\nassets, 0x1E0000, 0x10000, 0x0\n",
    );
    p2.write("app.bin", [0u8; 64]);
    p2.cli(&["bundle", "app.bin", "--platform", "w800"])
        .failure(1)
        .stderr_has("no `app` and `app_ota` partitions");
    // Without a W800 platform, `--assets` is still required.
    p2.cli(&["bundle", "app.bin"])
        .failure(2)
        .stderr_has("--assets");
}

/// app 0x3000 (the app may take 0x2C00 = 11,264 B), app_ota 0x2000.
const SMALL: &str =
    "app, 0x10000, 0x3000, 0\napp_ota, 0x13000, 0x2000, 0\nassets, 0x20000, 0x10000, 0\n";

#[test]
fn limits_exit_3_and_warn_near_them() {
    let p = project("cli_w800_limits", SMALL);
    // One byte over app − 0x400: exit 3, nothing written.
    p.write("big.bin", vec![0u8; 11268]);
    let run = p
        .cli(&["bundle", "big.bin", "--platform", "w800", "--json"])
        .failure(3);
    assert!(
        run.stderr
            .contains("over the 11,264 B it may take of the 12,288 B app partition"),
        "{}",
        run.stderr
    );
    assert_eq!(run.json()["fits"], false);
    assert!(!p.path().join("big.img").exists());
    // Exactly app − 0x400 fits, with a warning (100 % of the app limit).
    p.write("full.bin", vec![0u8; 11264]);
    p.cli(&["bundle", "full.bin", "--platform", "w800"])
        .success()
        .stderr_has("warning: platform `w800`: the app is 11,264 B of the 11,264 B");
    // Noise does not compress: the OTA image is over app_ota.
    p.write("noise.bin", noise(8100, 9));
    p.cli(&["bundle", "noise.bin", "--platform", "w800"])
        .failure(3)
        .stderr_has("the OTA image (_ota.img) is");
    // At 90 % of the OTA partition: a warning, exit 0.
    // 7,300 B of noise: a 7,484-byte OTA image, 91 % of app_ota.
    p.write("near.bin", noise(7300, 11));
    let run = p
        .cli(&["bundle", "near.bin", "--platform", "w800", "--json"])
        .success();
    let ota = run.json()["ota_image"]["size"].as_u64().unwrap();
    assert_eq!(ota, 7484, "the Python packer's size");
    assert!(
        run.stderr
            .contains("warning: platform `w800`: the OTA image"),
        "{}",
        run.stderr
    );

    // size --firmware: the same exact numbers, the same warnings.
    let json = p
        .cli(&["size", "--json", "--firmware", "near.bin"])
        .success()
        .json();
    assert_eq!(json["firmware"]["ota_image_size"], ota);
    assert_eq!(json["firmware"]["xz_size"], ota - 64);
    assert_eq!(json["firmware"]["app_limit"], 11264);
    assert_eq!(json["firmware"]["app_partition"], 12288);
    assert_eq!(json["firmware"]["ota_partition"], 8192);
    let run = p.cli(&["size", "--firmware", "near.bin"]).success();
    assert!(
        run.stderr
            .contains("warning: platform `w800`: the OTA image (_ota.img) is"),
        "{}",
        run.stderr
    );
    p.cli(&["size", "--firmware", "big.bin"])
        .failure(3)
        .stderr_has("over the 11,264 B it may take");
}
