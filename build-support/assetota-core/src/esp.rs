//! ESP chips and the app slots of an ESP-IDF partition table.
//!
//! A platform with `chip = "esp32c3"` (or any chip of [`CHIPS`]) is an ESP
//! platform: its flash geometry defaults to the chip's (4 KiB erase sectors,
//! 4-byte writes: esp-storage's `FlashStorage`), the store's partition must be
//! a `data` row of its ESP-IDF table, and the table's `factory` and `ota_N`
//! app partitions are the slots the firmware image must fit
//! ([`EspPlatform::app_slots`]).
//!
//! The partition parser ([`crate::partition`]) gives names, offsets and sizes;
//! the type and subtype of a row are read here from the row's own line of the
//! table (its first three fields), so the parser stays the one place that
//! places and sizes partitions.

use crate::partition::{Partition, PartitionTable};

/// The chips an ESP platform may name (espflash's `Chip` names).
pub const CHIPS: &[&str] = &[
    "esp32", "esp32c2", "esp32c3", "esp32c5", "esp32c6", "esp32c61", "esp32h2", "esp32p4",
    "esp32s2", "esp32s3",
];

/// The erase (sector) size of every ESP chip's SPI flash, as esp-storage's
/// `FlashStorage::ERASE_SIZE`.
pub const ERASE_SIZE: u32 = 4096;

/// The write size of esp-storage's `FlashStorage` (`WRITE_SIZE`, one 32-bit
/// word) on every chip.
pub fn write_size(chip: &str) -> u32 {
    // esp-storage 0.10 writes whole words on every chip it supports.
    let _ = chip;
    4
}

/// The chip a Rust target triple builds for, when the triple names one
/// (the Xtensa targets); the RISC-V triples are shared by several chips
/// (riscv32imc: esp32c2 and esp32c3; riscv32imac: esp32c6, esp32h2, …) and
/// by non-ESP firmware, so they name none.
pub fn chip_of_target(target: &str) -> Option<&'static str> {
    // `xtensa-esp32-none-elf`, `xtensa-esp32s3-none-elf`, …
    let chip = target.strip_prefix("xtensa-")?.split('-').next()?;
    CHIPS.iter().copied().find(|c| *c == chip)
}

/// Whether `chip` is a RISC-V chip (else Xtensa).
pub fn is_riscv(chip: &str) -> bool {
    !matches!(chip, "esp32" | "esp32s2" | "esp32s3")
}

/// An app partition of an ESP-IDF table: where a firmware image is written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppSlot {
    /// The partition's name (`factory`, `ota_0`, …).
    pub name: String,
    /// Its subtype as written in the table (`factory`, `ota_0`, `0x10`, …).
    pub subtype: String,
    /// Where it starts on the flash.
    pub offset: u64,
    /// Its size in bytes.
    pub size: u64,
}

/// What an ESP platform knows beyond the store's geometry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EspPlatform {
    /// The chip (one of [`CHIPS`]).
    pub chip: String,
    /// The table's `factory` and `ota_N` app partitions, in table order;
    /// empty without a partition table.
    pub app_slots: Vec<AppSlot>,
}

/// The `type` and `subtype` fields of an ESP-IDF row, as written (trimmed);
/// `None` for a row that is not an ESP-IDF one (a W800 table's).
pub fn type_and_subtype(table: &PartitionTable, partition: &Partition) -> Option<(String, String)> {
    let text = std::fs::read_to_string(&table.path).ok()?;
    let text = text.strip_prefix('\u{feff}').unwrap_or(&text);
    let line = text.lines().nth(partition.line.checked_sub(1)?)?;
    let fields: Vec<&str> = line.split(',').map(str::trim).collect();
    if fields.len() < 5 || fields.first() != Some(&partition.name.as_str()) {
        return None;
    }
    Some((fields[1].to_owned(), fields[2].to_owned()))
}

/// Whether an ESP-IDF type field means `app` (by name or number 0x00).
pub fn is_app_type(kind: &str) -> bool {
    kind == "app" || parse_int(kind) == Some(0)
}

/// Whether an ESP-IDF type field means `data` (by name or number 0x01).
pub fn is_data_type(kind: &str) -> bool {
    kind == "data" || parse_int(kind) == Some(1)
}

/// Whether an app subtype is `factory` (0x00) or `ota_0`..`ota_15`
/// (0x10..0x1f): a slot the bootloader can boot (`test` is left out).
fn is_boot_slot(subtype: &str) -> bool {
    if subtype == "factory" {
        return true;
    }
    if let Some(n) = subtype.strip_prefix("ota_") {
        return n.parse::<u8>().is_ok_and(|n| n < 16);
    }
    matches!(parse_int(subtype), Some(0) | Some(0x10..=0x1f))
}

fn parse_int(s: &str) -> Option<u64> {
    let s = s.trim();
    if let Some(hex) = s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")) {
        u64::from_str_radix(hex, 16).ok()
    } else {
        s.parse().ok()
    }
}

/// The `factory` and `ota_N` app partitions of an ESP-IDF table, in table
/// order.
pub fn app_slots(table: &PartitionTable) -> Vec<AppSlot> {
    table
        .partitions
        .iter()
        .filter_map(|p| {
            let (kind, subtype) = type_and_subtype(table, p)?;
            (is_app_type(&kind) && is_boot_slot(&subtype)).then(|| AppSlot {
                name: p.name.clone(),
                subtype,
                offset: p.offset.unwrap_or(0),
                size: p.size,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn app_slots_of_an_ota_table() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("partitions.csv");
        std::fs::write(
            &path,
            "# Name, Type, SubType, Offset, Size, Flags\n\
             nvs,      data, nvs,     0x9000,  0x4000,\n\
             otadata,  data, ota,     0xd000,  0x2000,\n\
             factory,  0,    0,       0x10000, 1M,\n\
             ota_0,    app,  ota_0,   ,        1M,\n\
             ota_1,    app,  0x11,    ,        1M,\n\
             test,     app,  test,    ,        64K,\n\
             assets,   data, 0x99,    ,        256K,\n",
        )
        .unwrap();
        let table = PartitionTable::read(&path).unwrap();
        let slots = app_slots(&table);
        let names: Vec<(&str, u64, u64)> = slots
            .iter()
            .map(|s| (s.name.as_str(), s.offset, s.size))
            .collect();
        assert_eq!(
            names,
            [
                ("factory", 0x10000, 1 << 20),
                ("ota_0", 0x110000, 1 << 20),
                ("ota_1", 0x210000, 1 << 20)
            ]
        );
        let assets = table.get("assets").unwrap();
        let (kind, subtype) = type_and_subtype(&table, assets).unwrap();
        assert!(is_data_type(&kind) && !is_app_type(&kind));
        assert_eq!(subtype, "0x99");
    }

    #[test]
    fn chips_of_targets() {
        assert_eq!(chip_of_target("xtensa-esp32-none-elf"), Some("esp32"));
        assert_eq!(chip_of_target("xtensa-esp32s3-none-elf"), Some("esp32s3"));
        assert_eq!(chip_of_target("riscv32imc-unknown-none-elf"), None);
        assert_eq!(chip_of_target("thumbv7m-none-eabi"), None);
        assert!(is_riscv("esp32c3") && !is_riscv("esp32s3"));
        assert_eq!(write_size("esp32c3"), 4);
    }
}
