//! Partition tables as CSV, to derive a platform's asset budget from the
//! flash layout instead of copying numbers by hand.
//!
//! Two layouts are read, told apart by the column count:
//! - W800: `name, offset, size, flag`;
//! - ESP-IDF: `name, type, subtype, offset, size, flags`.
//!
//! `#` starts a comment. Sizes and offsets are decimal or `0x` hex, with
//! optional K/M suffixes. An ESP-IDF row with a blank offset follows the
//! previous partition as `gen_esp32part.py` places it: the first one at 0x9000
//! (after the table at 0x8000), each aligned to 0x10000 for `app` partitions
//! and to 0x1000 for the others.

use crate::bytesize::parse_byte_size;
use std::path::{Path, PathBuf};

/// One row of a partition table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Partition {
    pub name: String,
    /// Where the partition starts on the flash; `None` for a W800 row whose
    /// offset is blank (ESP-IDF rows always have one, computed when blank).
    pub offset: Option<u64>,
    pub size: u64,
    pub line: usize,
}

/// Where ESP-IDF puts the first partition whose offset is blank: right after
/// the partition table (0x8000 + 0x1000).
const ESP_FIRST_OFFSET: u64 = 0x9000;
/// ESP-IDF's alignment of `app` partitions.
const ESP_APP_ALIGN: u64 = 0x10000;
/// ESP-IDF's alignment of data partitions.
const ESP_DATA_ALIGN: u64 = 0x1000;

#[derive(Debug, thiserror::Error)]
pub enum PartitionError {
    #[error("cannot read partition table `{}`: {source}", path.display())]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{}:{line}: {message}", path.display())]
    Syntax {
        path: PathBuf,
        line: usize,
        message: String,
    },
    #[error("partition table `{}` has no partition named `{name}` (it has: {}); fix `partition` or the table", path.display(), available.join(", "))]
    Missing {
        path: PathBuf,
        name: String,
        available: Vec<String>,
    },
}

/// A parsed partition table.
#[derive(Debug, Clone)]
pub struct PartitionTable {
    pub path: PathBuf,
    pub partitions: Vec<Partition>,
}

impl PartitionTable {
    pub fn read(path: &Path) -> Result<Self, PartitionError> {
        let text = std::fs::read_to_string(path).map_err(|source| PartitionError::Io {
            path: path.to_owned(),
            source,
        })?;
        Self::parse(path, &text)
    }

    pub fn parse(path: &Path, text: &str) -> Result<Self, PartitionError> {
        let mut partitions = Vec::new();
        // Where a blank ESP-IDF offset starts: the end of the previous row.
        let mut next_offset = ESP_FIRST_OFFSET;
        for (index, raw) in text.lines().enumerate() {
            let line = index + 1;
            let content = raw.split('#').next().unwrap_or("").trim();
            if content.is_empty() {
                continue;
            }
            let fields: Vec<&str> = content.split(',').map(str::trim).collect();
            let syntax = |message: String| PartitionError::Syntax {
                path: path.to_owned(),
                line,
                message,
            };
            let (offset_field, size_field, align) = match fields.len() {
                3 | 4 => (fields[1], fields[2], None),
                5 | 6 => (
                    fields[3],
                    fields[4],
                    Some(if fields[1] == "app" {
                        ESP_APP_ALIGN
                    } else {
                        ESP_DATA_ALIGN
                    }),
                ),
                n => {
                    return Err(syntax(format!(
                        "expected `name, offset, size, flag` (W800) or `name, type, subtype, offset, size, flags` (ESP-IDF), found {n} fields"
                    )));
                }
            };
            let name = fields[0];
            if name.is_empty() {
                return Err(syntax("the partition has no name".into()));
            }
            let size = parse_byte_size(size_field)
                .map_err(|e| syntax(format!("partition `{name}`: {e}")))?;
            let offset = match (offset_field, align) {
                ("", Some(align)) => {
                    Some(next_offset.checked_next_multiple_of(align).ok_or_else(|| {
                        syntax(format!(
                            "partition `{name}`: its offset is past the end of any flash"
                        ))
                    })?)
                }
                ("", None) => None,
                (field, _) => Some(
                    parse_byte_size(field)
                        .map_err(|e| syntax(format!("partition `{name}` offset: {e}")))?,
                ),
            };
            if let Some(offset) = offset {
                next_offset = offset.checked_add(size).ok_or_else(|| {
                    syntax(format!("partition `{name}` ends past the end of any flash"))
                })?;
            }
            partitions.push(Partition {
                name: name.to_owned(),
                offset,
                size,
                line,
            });
        }
        Ok(PartitionTable {
            path: path.to_owned(),
            partitions,
        })
    }

    /// The partition named `name`.
    pub fn get(&self, name: &str) -> Result<&Partition, PartitionError> {
        self.partitions
            .iter()
            .find(|p| p.name == name)
            .ok_or_else(|| PartitionError::Missing {
                path: self.path.clone(),
                name: name.to_owned(),
                available: self.partitions.iter().map(|p| p.name.clone()).collect(),
            })
    }

    pub fn size_of(&self, name: &str) -> Result<u64, PartitionError> {
        self.get(name).map(|p| p.size)
    }

    /// Where the partition named `name` starts on the flash, if the table says.
    pub fn offset_of(&self, name: &str) -> Result<Option<u64>, PartitionError> {
        self.get(name).map(|p| p.offset)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const W800: &str = "# name, offset, size, flag\n\
        ft,        0x0,      0x2000,  0x0\n\
        secboot,   0x2000,   0xC000,  0x0\n\
        app,       0xE000,   0x122000, 0x0   # the running image\n\
        app_ota,   0x130000, 0xAF000, 0x0\n\
        assets,    0x1DF000, 256K,    0x0\n";

    const ESP: &str = "# Name,   Type, SubType, Offset,  Size, Flags\n\
        nvs,      data, nvs,     0x9000,  0x6000,\n\
        phy_init, data, phy,     0xf000,  0x1000,\n\
        factory,  app,  factory, 0x10000, 1M,\n\
        storage,  data, spiffs,  ,        0xF0000,\n";

    #[test]
    fn reads_w800_layout() {
        let t = PartitionTable::parse(Path::new("p.csv"), W800).unwrap();
        assert_eq!(t.size_of("app").unwrap(), 0x122000);
        assert_eq!(t.size_of("app_ota").unwrap(), 0xAF000);
        assert_eq!(t.size_of("assets").unwrap(), 262_144);
        assert_eq!(t.offset_of("assets").unwrap(), Some(0x1DF000));
        assert_eq!(t.offset_of("ft").unwrap(), Some(0));
        assert_eq!(t.partitions[2].line, 4);
    }

    #[test]
    fn reads_esp_idf_layout_with_blank_offsets() {
        let t = PartitionTable::parse(Path::new("p.csv"), ESP).unwrap();
        assert_eq!(t.size_of("factory").unwrap(), 1 << 20);
        assert_eq!(t.size_of("storage").unwrap(), 0xF0000);
        // Explicit offsets as written; the blank one follows `factory`
        // (0x10000 + 1 MiB), aligned to 0x1000 for data.
        assert_eq!(t.offset_of("nvs").unwrap(), Some(0x9000));
        assert_eq!(t.offset_of("factory").unwrap(), Some(0x10000));
        assert_eq!(t.offset_of("storage").unwrap(), Some(0x110000));
    }

    #[test]
    fn blank_esp_idf_offsets_follow_gen_esp32part_alignment() {
        // IDF's partitions_singleapp.csv leaves every offset blank (nvs at
        // 0x9000, phy_init at 0xf000, factory at 0x10000); then a data
        // partition ending off a 4 KiB boundary, and an app aligned to 64 KiB.
        let t = PartitionTable::parse(
            Path::new("p.csv"),
            "nvs, data, nvs, , 0x6000,\n\
             phy_init, data, phy, , 0x1000,\n\
             factory, app, factory, , 1M,\n\
             assets, data, spiffs, , 0x1800,\n\
             next, data, spiffs, , 4K,\n\
             ota_0, app, ota_0, , 64K,\n",
        )
        .unwrap();
        let offsets: Vec<u64> = t.partitions.iter().filter_map(|p| p.offset).collect();
        assert_eq!(
            offsets,
            [0x9000, 0xF000, 0x10000, 0x110000, 0x112000, 0x120000]
        );
        // A W800 row may leave its offset blank: the size is still usable.
        let t = PartitionTable::parse(Path::new("t.csv"), "a, , 4K, 0\n").unwrap();
        assert_eq!(
            (t.size_of("a").unwrap(), t.offset_of("a").unwrap()),
            (4096, None)
        );
    }

    #[test]
    fn missing_partition_lists_the_known_ones() {
        let t = PartitionTable::parse(Path::new("parts.csv"), W800).unwrap();
        let e = t.size_of("asset").unwrap_err().to_string();
        assert!(
            e.contains("parts.csv") && e.contains("`asset`") && e.contains("app_ota, assets"),
            "{e}"
        );
    }

    #[test]
    fn bad_rows_name_file_and_line() {
        let e = PartitionTable::parse(Path::new("t.csv"), "a, 0x0, 12 parsecs, 0\n")
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("t.csv:1: partition `a`"), "{e}");
        let e = PartitionTable::parse(Path::new("t.csv"), "\n\nonly,two\n")
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("t.csv:3: expected"), "{e}");
    }
}
