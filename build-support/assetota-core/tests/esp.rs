//! ESP platforms: a store on a row of an ESP-IDF partition table, the chip's
//! flash geometry, the table's app slots, and every way the config is wrong.

use assetota_core::config::Config;
use std::fs;
use std::path::Path;

/// The table of examples/esp32c3: two OTA slots and a 960 KiB `assets` row.
const TABLE: &str = "# Name,   Type, SubType,  Offset,   Size,     Flags\n\
    nvs,      data, nvs,      0x9000,   0x4000,\n\
    otadata,  data, ota,      0xd000,   0x2000,\n\
    phy_init, data, phy,      0xf000,   0x1000,\n\
    ota_0,    app,  ota_0,    0x10000,  0x180000,\n\
    ota_1,    app,  ota_1,    0x190000, 0x180000,\n\
    assets,   data, 0x99,     0x310000, 0xF0000,\n\
    tiny,     data, 0x99,     0x400000, 0x800,\n";

fn load(dir: &Path, platform: &str) -> Result<assetota_core::Platform, String> {
    fs::write(dir.join("partitions.csv"), TABLE).unwrap();
    let manifest = dir.join("Cargo.toml");
    fs::write(
        &manifest,
        format!(
            "[package]\nname = \"fw\"\nversion = \"0.1.0\"\nedition = \"2024\"\n\n\
             [package.metadata.assetota]\ndir = \"assets\"\nplatform = \"esp\"\n\n\
             [package.metadata.assetota.platforms.esp]\n{platform}"
        ),
    )
    .unwrap();
    let config = Config::load(&manifest).map_err(|e| e.to_string())?.unwrap();
    config.resolve_platform(None).map_err(|e| e.to_string())
}

const STORE: &str =
    "kind = \"assetota-store\"\nchip = \"esp32c3\"\npartition-table = \"partitions.csv\"\n";

#[test]
fn the_store_on_a_row_of_the_table_with_the_chip_s_geometry() {
    let t = tempfile::tempdir().unwrap();
    let p = load(t.path(), &format!("{STORE}partition = \"assets\"\n")).unwrap();
    let store = p.store.unwrap();
    // The row's offset and size, gen_esp32part's; 4 KiB sectors, 4-byte words.
    assert_eq!(store.partition_offset, Some(0x310000));
    assert_eq!(store.partition_size, 0xF0000);
    assert_eq!((store.erase_size, store.write_size), (4096, 4));
    assert_eq!(p.limits.unwrap().total, 0xF0000);
    let esp = p.esp.unwrap();
    assert_eq!(esp.chip, "esp32c3");
    let slots: Vec<(&str, u64, u64)> = esp
        .app_slots
        .iter()
        .map(|s| (s.name.as_str(), s.offset, s.size))
        .collect();
    assert_eq!(
        slots,
        [("ota_0", 0x10000, 0x180000), ("ota_1", 0x190000, 0x180000)]
    );
}

#[test]
fn explicit_geometry_overrides_the_chip_s() {
    let t = tempfile::tempdir().unwrap();
    let p = load(
        t.path(),
        &format!("{STORE}partition = \"assets\"\nwrite-size = 16\n"),
    )
    .unwrap();
    assert_eq!(p.store.unwrap().write_size, 16);
}

#[test]
fn a_partition_the_table_lacks_lists_the_table_s() {
    let t = tempfile::tempdir().unwrap();
    let e = load(t.path(), &format!("{STORE}partition = \"storage\"\n")).unwrap_err();
    assert!(
        e.contains("no partition named `storage`")
            && e.contains("nvs, otadata, phy_init, ota_0, ota_1, assets, tiny"),
        "{e}"
    );
}

#[test]
fn a_partition_too_small_for_the_store() {
    let t = tempfile::tempdir().unwrap();
    let e = load(t.path(), &format!("{STORE}partition = \"tiny\"\n")).unwrap_err();
    assert!(
        e.contains("partition") && e.contains("2048 B") && e.contains("no whole erase block"),
        "{e}"
    );
}

#[test]
fn an_app_partition_is_not_a_store() {
    let t = tempfile::tempdir().unwrap();
    let e = load(t.path(), &format!("{STORE}partition = \"ota_1\"\n")).unwrap_err();
    assert!(
        e.contains("`ota_1`") && e.contains("type `app`") && e.contains("`data` partition"),
        "{e}"
    );
}

#[test]
fn an_unknown_chip() {
    let t = tempfile::tempdir().unwrap();
    let e = load(
        t.path(),
        "kind = \"assetota-store\"\nchip = \"esp8266\"\npartition-size = \"64 KiB\"\n",
    )
    .unwrap_err();
    assert!(
        e.contains("`esp8266`, not an ESP chip") && e.contains("esp32c3"),
        "{e}"
    );
}
