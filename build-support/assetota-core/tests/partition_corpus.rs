//! The partition tables ESP-IDF and arduino-esp32 ship (tests/data/partitions,
//! README.md there says where each came from), read by our parser and
//! compared with what ESP-IDF's own `gen_esp32part.py` made of them
//! (`expected.json`, written by `expected.py` from the binary tables it
//! wrote): every offset, size, type, subtype and flag of the tables it
//! accepts, and a refusal for every table it refuses.

use std::path::{Path, PathBuf};

use assetota_core::partition::{EspOptions, PartitionTable};
use serde_json::Value;

fn data() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/partitions")
}

/// The options `expected.py` ran gen_esp32part with.
const OPTIONS: EspOptions = EspOptions {
    table_offset: 0x8000,
    primary_bootloader_offset: Some(0x1000),
    recovery_bootloader_offset: None,
};

#[test]
fn every_shipped_table_reads_as_gen_esp32part_reads_it() {
    let expected: Value =
        serde_json::from_str(&std::fs::read_to_string(data().join("expected.json")).unwrap())
            .unwrap();
    let expected = expected.as_object().unwrap();
    assert!(expected.len() >= 170, "{} tables", expected.len());
    let mut failures = Vec::new();
    let (mut accepted, mut refused) = (0, 0);
    for (file, want) in expected {
        let path = data().join(file);
        let bytes = std::fs::read(&path).unwrap();
        let got = PartitionTable::parse_bytes(&path, &bytes, &OPTIONS, &|_| None);
        match (want.get("partitions"), got) {
            (Some(rows), Ok(table)) => {
                accepted += 1;
                let rows = rows.as_array().unwrap();
                if rows.len() != table.partitions.len() {
                    failures.push(format!(
                        "{file}: {} rows, gen_esp32part {}",
                        table.partitions.len(),
                        rows.len()
                    ));
                    continue;
                }
                for (row, p) in rows.iter().zip(&table.partitions) {
                    let esp = p.esp.expect("an ESP-IDF row");
                    let flags = u64::from(esp.encrypted) | (u64::from(esp.readonly) << 1);
                    let ours = (
                        p.name.as_str(),
                        u64::from(esp.ptype),
                        u64::from(esp.subtype),
                        p.offset,
                        p.size,
                        flags,
                    );
                    let theirs = (
                        row["name"].as_str().unwrap(),
                        row["type"].as_u64().unwrap(),
                        row["subtype"].as_u64().unwrap(),
                        row["offset"].as_u64(),
                        row["size"].as_u64().unwrap(),
                        row["flags"].as_u64().unwrap(),
                    );
                    if ours != theirs {
                        failures.push(format!("{file}: ours {ours:?}, gen_esp32part {theirs:?}"));
                    }
                }
            }
            (Some(_), Err(e)) => {
                failures.push(format!("{file}: refused ({e}), gen_esp32part accepts it"))
            }
            (None, Ok(_)) => failures.push(format!(
                "{file}: accepted, gen_esp32part refuses it: {}",
                want["error"]
            )),
            (None, Err(e)) => {
                refused += 1;
                // Every refusal names the file and a line.
                let e = e.to_string();
                assert!(e.starts_with(&format!("{}:", path.display())), "{e}");
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert!(
        accepted >= 150 && refused >= 15,
        "{accepted} accepted, {refused} refused"
    );
}

/// Without the chip's bootloader offset, the same tables read the same, the
/// bootloader rows aside (unknown offset, size 0).
#[test]
fn without_the_bootloader_offset_only_bootloader_rows_differ() {
    for dir in ["esp-idf", "arduino-esp32", "gen-esp32part-host"] {
        for entry in std::fs::read_dir(data().join(dir)).unwrap() {
            let path = entry.unwrap().path();
            let bytes = std::fs::read(&path).unwrap();
            let with = PartitionTable::parse_bytes(&path, &bytes, &OPTIONS, &|_| None);
            let without =
                PartitionTable::parse_bytes(&path, &bytes, &EspOptions::default(), &|_| None);
            let (Ok(with), Ok(without)) = (with, without) else {
                continue;
            };
            for (a, b) in with.partitions.iter().zip(&without.partitions) {
                if a.esp.unwrap().ptype == 2 {
                    assert_eq!((b.offset, b.size), (None, 0), "{}", path.display());
                } else {
                    assert_eq!(a, b, "{}", path.display());
                }
            }
        }
    }
}

/// The W800 tables WinnerMicro's SDK ships: every row as its
/// `tools/wm/partition.py` reads it (`int(field, 16)`), and the with_ota
/// numbers of the W800 SDK (host/assetota-firmware/tests/data/w800/README.md).
#[test]
fn w800_sdk_tables() {
    for entry in std::fs::read_dir(data().join("w800")).unwrap() {
        let path = entry.unwrap().path();
        let text = std::fs::read_to_string(&path).unwrap();
        let table = PartitionTable::read(&path).unwrap();
        let rows: Vec<(String, u64, u64)> = text
            .lines()
            .filter(|l| !l.trim().starts_with('#') && !l.trim().is_empty())
            .map(|l| {
                let f: Vec<&str> = l.split(',').map(str::trim).collect();
                let hex = |s: &str| u64::from_str_radix(s.trim_start_matches("0x"), 16).unwrap();
                (f[0].to_owned(), hex(f[1]), hex(f[2]))
            })
            .collect();
        let ours: Vec<(String, u64, u64)> = table
            .partitions
            .iter()
            .map(|p| {
                assert!(p.esp.is_none(), "{} read as ESP-IDF", path.display());
                (p.name.clone(), p.offset.unwrap(), p.size)
            })
            .collect();
        assert_eq!(ours, rows, "{}", path.display());
    }
    let t = PartitionTable::read(&data().join("w800/partition_table_with_ota.csv")).unwrap();
    let got: Vec<(&str, u64, u64)> = t
        .partitions
        .iter()
        .map(|p| (p.name.as_str(), p.offset.unwrap(), p.size))
        .collect();
    assert_eq!(
        got,
        [
            ("ft", 0x0, 0x2000),
            ("bootloader", 0x2000, 0xC000),
            ("partition_table", 0xE000, 0x1000),
            ("app", 0xF000, 0x122000),
            ("app_ota", 0x131000, 0xAF000),
            ("user", 0x1E0000, 0x2000),
            ("nvs", 0x1F0000, 0x8000),
        ]
    );
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(2000))]
    /// Any text, in either layout, is parsed or refused with a line; never a panic.
    #[test]
    fn never_panics(text in "([a-z_$#{}KkMm\u{212a}\u{feff}0-9xXoObB:, \\t\\r\\n+-]|N/A|0x[0-9a-f]{1,20}|app|data|bootloader|partition_table){0,60}") {
        let _ = PartitionTable::parse(Path::new("t.csv"), &text);
        let _ = PartitionTable::parse_bytes(Path::new("t.csv"), text.as_bytes(), &OPTIONS, &|n| (n == "X").then(|| "0x1000".to_owned()));
        let mut bin = vec![0xAA, 0x50];
        bin.extend(text.as_bytes());
        let _ = PartitionTable::parse_bytes(Path::new("t.bin"), &bin, &OPTIONS, &|_| None);
    }
}
