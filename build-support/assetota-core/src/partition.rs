//! Partition tables as CSV, to derive a platform's asset budget from the
//! flash layout instead of copying numbers by hand.
//!
//! Two layouts are read, told apart by the column count:
//! - W800: `name, offset, size, flag`;
//! - ESP-IDF: `name, type, subtype, offset, size, flags`.
//!
//! `#` starts a comment. Sizes are decimal or `0x` hex, with optional K/M suffixes.

use crate::bytesize::parse_byte_size;
use std::path::{Path, PathBuf};

/// One row of a partition table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Partition {
    pub name: String,
    pub size: u64,
    pub line: usize,
}

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
            let size_field = match fields.len() {
                3 | 4 => fields[2],
                5 | 6 => fields[4],
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
            partitions.push(Partition {
                name: name.to_owned(),
                size,
                line,
            });
        }
        Ok(PartitionTable {
            path: path.to_owned(),
            partitions,
        })
    }

    pub fn size_of(&self, name: &str) -> Result<u64, PartitionError> {
        self.partitions
            .iter()
            .find(|p| p.name == name)
            .map(|p| p.size)
            .ok_or_else(|| PartitionError::Missing {
                path: self.path.clone(),
                name: name.to_owned(),
                available: self.partitions.iter().map(|p| p.name.clone()).collect(),
            })
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
        assert_eq!(t.partitions[2].line, 4);
    }

    #[test]
    fn reads_esp_idf_layout_with_blank_offsets() {
        let t = PartitionTable::parse(Path::new("p.csv"), ESP).unwrap();
        assert_eq!(t.size_of("factory").unwrap(), 1 << 20);
        assert_eq!(t.size_of("storage").unwrap(), 0xF0000);
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
