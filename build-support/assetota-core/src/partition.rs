//! Partition tables as CSV, to derive a platform's asset budget from the
//! flash layout instead of copying numbers by hand, read exactly as the
//! vendors' own tools read them.
//!
//! The layout is decided by the first row: W800 (`name, offset, size, flag`)
//! when it has four fields and its second is not an ESP-IDF type name,
//! ESP-IDF (`name, type, subtype, offset, size, flags`) otherwise.
//!
//! - **W800** as the SDK's `tools/wm/partition.py` reads it: every number is
//!   hex, with or without `0x` (a bare `100000` is 0x100000); lines starting
//!   with `#` are skipped (blank lines too); fields after the fourth are
//!   ignored; offsets and sizes 4 KiB aligned, sizes above 0, no overlap,
//!   names under 16 bytes.
//! - **ESP-IDF** as `gen_esp32part.py` reads it ([`esp`]): a BOM picks the
//!   encoding; `$VAR`/`${VAR}` are expanded from the environment first;
//!   lines starting with `#` are skipped, and a `#` after a value is not a
//!   comment; fields after the sixth are ignored; numbers are Python integer
//!   literals with optional K/M suffixes; blank offsets follow the previous
//!   partition (the first after the table at 0x8000 + 0x1000), aligned to
//!   0x10000 for `app` and 0x1000 for the others; a size `-X` ends the
//!   partition at X; `bootloader` and `partition_table` rows get their offset
//!   and size from the build whatever the fields say; then its checks
//!   (alignment, overlap, unique names, NVS and otadata sizes). A binary table
//!   (starting 0xAA 0x50) is read too.

use std::path::{Path, PathBuf};

pub mod esp;
mod row;

pub use esp::EspOptions;
use row::Syntax;
pub use row::{EspEntry, Partition};

/// The alignment the W800 SDK requires of offsets and sizes.
pub const W800_ALIGN: u64 = 0x1000;
/// W800 partition names are shorter than this.
pub const W800_NAME_LIMIT: usize = 16;

/// Why a partition table cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum PartitionError {
    /// The file cannot be read.
    #[error("cannot read partition table `{}`: {source}", path.display())]
    Io {
        /// The table.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// A row, or the table, breaks a rule of its vendor's tool.
    #[error("{}:{line}: {message}", path.display())]
    Syntax {
        /// The table.
        path: PathBuf,
        /// The line (1-based).
        line: usize,
        /// What is wrong and how to fix it.
        message: String,
    },
    /// No partition has the name asked for.
    #[error("partition table `{}` has no partition named `{name}` (it has: {}); fix `partition` or the table", path.display(), available.join(", "))]
    Missing {
        /// The table.
        path: PathBuf,
        /// The name asked for.
        name: String,
        /// The names it has.
        available: Vec<String>,
    },
}

/// A parsed partition table.
#[derive(Debug, Clone)]
pub struct PartitionTable {
    /// Where it was read from.
    pub path: PathBuf,
    /// Its rows, in the order of the file.
    pub partitions: Vec<Partition>,
}

/// Which vendor's rules a table was read with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Layout {
    /// `name, offset, size, flag`, all hex.
    W800,
    /// gen_esp32part's CSV (or binary) table.
    EspIdf,
}

impl PartitionTable {
    /// Reads and parses the table at `path`, with the process environment
    /// for `$VAR` and ESP-IDF's default offsets.
    pub fn read(path: &Path) -> Result<Self, PartitionError> {
        let bytes = std::fs::read(path).map_err(|source| PartitionError::Io {
            path: path.to_owned(),
            source,
        })?;
        Self::parse_bytes(path, &bytes, &EspOptions::default(), &|name| {
            std::env::var(name).ok()
        })
    }

    /// Parses the bytes of a table: a BOM picks the encoding (UTF-8, UTF-16
    /// or UTF-32), otherwise UTF-8; a binary ESP-IDF table is read as such.
    pub fn parse_bytes(
        path: &Path,
        bytes: &[u8],
        esp: &EspOptions,
        vars: &dyn Fn(&str) -> Option<String>,
    ) -> Result<Self, PartitionError> {
        let wrap = |s: Syntax| PartitionError::Syntax {
            path: path.to_owned(),
            line: s.line,
            message: s.message,
        };
        let syntax = |line: usize, message: String| Syntax { line, message };
        if bytes.starts_with(&[0xAA, 0x50]) {
            return Ok(PartitionTable {
                path: path.to_owned(),
                partitions: esp::parse_binary(bytes, &syntax).map_err(wrap)?,
            });
        }
        let text = decode(bytes).map_err(|m| wrap(syntax(1, m)))?;
        Self::parse_with(path, &text, esp, vars)
    }

    /// Parses the text of a table with no environment variables set.
    pub fn parse(path: &Path, text: &str) -> Result<Self, PartitionError> {
        Self::parse_with(path, text, &EspOptions::default(), &|_| None)
    }

    /// Parses the text of a table with these ESP-IDF options and variables.
    pub fn parse_with(
        path: &Path,
        text: &str,
        esp: &EspOptions,
        vars: &dyn Fn(&str) -> Option<String>,
    ) -> Result<Self, PartitionError> {
        let syntax = |line: usize, message: String| Syntax { line, message };
        // A UTF-8 BOM left in the text (gen_esp32part decodes it away).
        let text = text.strip_prefix('\u{feff}').unwrap_or(text);
        let partitions = match layout_of(text) {
            Layout::W800 => parse_w800(text, &syntax),
            Layout::EspIdf => esp::parse(text, esp, vars, &syntax),
        }
        .map_err(|s| PartitionError::Syntax {
            path: path.to_owned(),
            line: s.line,
            message: s.message,
        })?;
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

    /// The size of the partition named `name`.
    pub fn size_of(&self, name: &str) -> Result<u64, PartitionError> {
        self.get(name).map(|p| p.size)
    }

    /// Where the partition named `name` starts on the flash, if the table says.
    pub fn offset_of(&self, name: &str) -> Result<Option<u64>, PartitionError> {
        self.get(name).map(|p| p.offset)
    }
}

/// Text from the bytes of a CSV table, as gen_esp32part decodes it.
fn decode(bytes: &[u8]) -> Result<String, String> {
    let utf16 = |b: &[u8], le: bool| {
        let units: Vec<u16> = b
            .chunks_exact(2)
            .map(|c| {
                if le {
                    u16::from_le_bytes([c[0], c[1]])
                } else {
                    u16::from_be_bytes([c[0], c[1]])
                }
            })
            .collect();
        String::from_utf16(&units).map_err(|_| "the table is not valid UTF-16".to_owned())
    };
    if let Some(rest) = bytes.strip_prefix(&[0xEF, 0xBB, 0xBF]) {
        return String::from_utf8(rest.to_vec()).map_err(|_| "the table is not valid UTF-8".into());
    }
    // gen_esp32part checks FF FE (UTF-16 LE) before FF FE 00 00 (UTF-32 LE).
    if let Some(rest) = bytes.strip_prefix(&[0xFF, 0xFE]) {
        return utf16(rest, true);
    }
    if let Some(rest) = bytes.strip_prefix(&[0xFE, 0xFF]) {
        return utf16(rest, false);
    }
    if let Some(rest) = bytes.strip_prefix(&[0x00, 0x00, 0xFE, 0xFF]) {
        return rest
            .chunks_exact(4)
            .map(|c| char::from_u32(u32::from_be_bytes([c[0], c[1], c[2], c[3]])))
            .collect::<Option<String>>()
            .ok_or_else(|| "the table is not valid UTF-32".into());
    }
    String::from_utf8(bytes.to_vec())
        .map_err(|_| "the table is not UTF-8 (and has no byte order mark saying what it is)".into())
}

/// The layout of a table, from its first row.
fn layout_of(text: &str) -> Layout {
    let first = text
        .lines()
        .map(|l| l.trim_start_matches('\u{feff}').trim())
        .find(|l| !l.is_empty() && !l.starts_with('#'));
    match first {
        Some(line) => {
            let fields: Vec<&str> = line.split(',').map(str::trim).collect();
            let esp_type = fields.get(1).is_some_and(|t| {
                ["app", "data", "bootloader", "partition_table"]
                    .contains(&t.to_ascii_lowercase().as_str())
            });
            if fields.len() == 4 && !esp_type {
                Layout::W800
            } else {
                Layout::EspIdf
            }
        }
        None => Layout::EspIdf,
    }
}

/// Python's `int(text, 16)`: optional sign and `0x`, hex digits with single
/// underscores between them.
fn hex(text: &str) -> Option<u64> {
    let t = text.trim();
    let t = t.strip_prefix('+').unwrap_or(t);
    let digits = t
        .strip_prefix("0x")
        .or_else(|| t.strip_prefix("0X"))
        .map(|d| d.strip_prefix('_').unwrap_or(d))
        .unwrap_or(t);
    if digits.is_empty()
        || digits.starts_with('_')
        || digits.ends_with('_')
        || digits.contains("__")
    {
        return None;
    }
    let clean: String = digits.chars().filter(|&c| c != '_').collect();
    if !clean.chars().all(|c| c.is_ascii_hexdigit()) {
        return None;
    }
    u64::from_str_radix(&clean, 16).ok()
}

/// A W800 table, as the SDK's `tools/wm/partition.py` reads and checks it.
fn parse_w800(
    text: &str,
    syntax: &dyn Fn(usize, String) -> Syntax,
) -> Result<Vec<Partition>, Syntax> {
    let mut partitions: Vec<Partition> = Vec::new();
    for (index, raw) in text.lines().enumerate() {
        let line = index + 1;
        let content = raw.trim();
        if content.is_empty() || content.starts_with('#') {
            continue;
        }
        let fields: Vec<&str> = content.split(',').collect();
        if fields.len() < 4 {
            return Err(syntax(
                line,
                format!(
                    "expected `name, offset, size, flag` (W800), found {} field{}",
                    fields.len(),
                    if fields.len() == 1 { "" } else { "s" }
                ),
            ));
        }
        let name = fields[0].trim();
        let number = |i: usize, what: &str| {
            hex(fields[i]).ok_or_else(|| {
                syntax(
                    line,
                    format!(
                        "partition `{name}`: the {what} `{}` is not a hex number (the W800 SDK reads every number as hex, with or without 0x)",
                        fields[i].trim()
                    ),
                )
            })
        };
        let offset = number(1, "offset")?;
        let size = number(2, "size")?;
        number(3, "flag")?;
        if name.len() >= W800_NAME_LIMIT {
            return Err(syntax(
                line,
                format!(
                    "partition name `{name}` is {} bytes; the W800 SDK takes at most {}",
                    name.len(),
                    W800_NAME_LIMIT - 1
                ),
            ));
        }
        if offset % W800_ALIGN != 0 || size == 0 || size % W800_ALIGN != 0 {
            return Err(syntax(
                line,
                format!(
                    "partition `{name}` ({offset:#x}, {size:#x}) is not 4 KiB aligned: the W800 SDK needs offset and size multiples of 0x1000, and a size above 0"
                ),
            ));
        }
        partitions.push(Partition {
            name: name.to_owned(),
            offset: Some(offset),
            size,
            line,
            esp: None,
        });
    }
    let mut sorted: Vec<&Partition> = partitions.iter().collect();
    sorted.sort_by_key(|p| p.offset);
    for pair in sorted.windows(2) {
        let (a, b) = (pair[0], pair[1]);
        let (ao, bo) = (a.offset.unwrap_or_default(), b.offset.unwrap_or_default());
        if ao.saturating_add(a.size) > bo {
            return Err(syntax(
                b.line,
                format!(
                    "partition `{}` at {bo:#x} overlaps `{}` ({ao:#x}..{:#x}, line {})",
                    b.name,
                    a.name,
                    ao.saturating_add(a.size),
                    a.line
                ),
            ));
        }
    }
    Ok(partitions)
}

#[cfg(test)]
mod tests {
    use super::*;

    // The SDK's with_ota table (CRLF, no newline at the end), plus an assets row.
    const W800: &str = "# name, offset, size, flag\r\n\
        ft,        0x0,      0x2000,  0x0\r\n\
        bootloader, 0x2000,  0xC000,  0x0\r\n\
        partition_table, 0xE000, 0x1000, 0x0\r\n\
        app,       0xF000,   0x122000, 0x0\r\n\
        app_ota,   0x131000, 0xAF000, 0x0\r\n\
        assets,    1E0000,   40000,   0";

    const ESP: &str = "# Name,   Type, SubType, Offset,  Size, Flags\n\
        nvs,      data, nvs,     0x9000,  0x6000,\n\
        phy_init, data, phy,     0xf000,  0x1000,\n\
        factory,  app,  factory, 0x10000, 1M,\n\
        storage,  data, spiffs,  ,        0xF0000,\n";

    fn err(text: &str) -> String {
        PartitionTable::parse(Path::new("t.csv"), text)
            .unwrap_err()
            .to_string()
    }

    #[test]
    fn reads_w800_layout() {
        let t = PartitionTable::parse(Path::new("p.csv"), W800).unwrap();
        assert_eq!(t.size_of("app").unwrap(), 0x122000);
        assert_eq!(t.offset_of("app").unwrap(), Some(0xF000));
        assert_eq!(t.size_of("app_ota").unwrap(), 0xAF000);
        // Bare numbers are hex, as the SDK reads them.
        assert_eq!(t.size_of("assets").unwrap(), 0x40000);
        assert_eq!(t.offset_of("assets").unwrap(), Some(0x1E0000));
        assert_eq!(t.offset_of("ft").unwrap(), Some(0));
        assert_eq!(t.partitions[3].line, 5);
        assert!(t.partitions[0].esp.is_none());
    }

    #[test]
    fn w800_rules() {
        // Misaligned, empty, overlapping, long names: refused naming the line.
        let e = err("app, 0x10000, 0x400, 0\n");
        assert!(
            e.starts_with("t.csv:1: partition `app`") && e.contains("4 KiB"),
            "{e}"
        );
        let e = err("app, 0x10000, 0x0, 0\n");
        assert!(e.starts_with("t.csv:1:"), "{e}");
        let e = err("a, 0x10000, 0x2000, 0\nb, 0x11000, 0x1000, 0\n");
        assert!(
            e.starts_with("t.csv:2: partition `b`") && e.contains("overlaps `a`"),
            "{e}"
        );
        let e = err("a_very_long_name, 0x10000, 0x2000, 0\n");
        assert!(e.contains("at most 15"), "{e}");
        let e = err("a, 0x10000, 4K, 0\n");
        assert!(e.starts_with("t.csv:1:") && e.contains("hex"), "{e}");
        // A `#` after a value is not a comment.
        let e = err("a, 0x10000, 0x1000, 0 # note\n");
        assert!(e.starts_with("t.csv:1:"), "{e}");
    }

    #[test]
    fn reads_esp_idf_layout_with_blank_offsets() {
        let t = PartitionTable::parse(Path::new("p.csv"), ESP).unwrap();
        assert_eq!(t.size_of("factory").unwrap(), 1 << 20);
        assert_eq!(t.size_of("storage").unwrap(), 0xF0000);
        assert_eq!(t.offset_of("nvs").unwrap(), Some(0x9000));
        assert_eq!(t.offset_of("factory").unwrap(), Some(0x10000));
        assert_eq!(t.offset_of("storage").unwrap(), Some(0x110000));
        assert_eq!(t.get("factory").unwrap().esp.unwrap().ptype, esp::APP);
    }

    #[test]
    fn blank_esp_idf_offsets_follow_gen_esp32part_alignment() {
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
    }

    #[test]
    fn esp_idf_rules() {
        let bom = "\u{feff}nvs, data, nvs, , 0x6000, , extra, fields\n\
            bootloader, bootloader, primary, N/A, N/A\n\
            pt, partition_table, primary, N/A, N/A\n\
            factory, app, factory, 0o200000, -0x200000\n\
            big, data, fat, , 0b1000000000000\n";
        let t = PartitionTable::parse(Path::new("p.csv"), bom).unwrap();
        assert_eq!(t.offset_of("nvs").unwrap(), Some(0x9000));
        assert_eq!(t.get("bootloader").unwrap().offset, None);
        assert_eq!(t.offset_of("pt").unwrap(), Some(0x8000));
        assert_eq!(t.size_of("pt").unwrap(), 0x1000);
        assert_eq!(t.size_of("factory").unwrap(), 0x200000 - 0x10000);
        assert_eq!(t.offset_of("big").unwrap(), Some(0x200000));
        assert_eq!(t.size_of("big").unwrap(), 4096);
        // With the chip's bootloader offset, the bootloader row is placed.
        let opts = EspOptions {
            primary_bootloader_offset: Some(0x1000),
            ..EspOptions::default()
        };
        let t = PartitionTable::parse_with(Path::new("p.csv"), bom, &opts, &|_| None).unwrap();
        assert_eq!(t.offset_of("bootloader").unwrap(), Some(0x1000));
        assert_eq!(t.size_of("bootloader").unwrap(), 0x7000);
        // Variables: expanded, and an unknown one at the start of a line refused.
        let vars = |n: &str| (n == "NVS_SIZE").then(|| "0x6000".to_owned());
        let t = PartitionTable::parse_with(
            Path::new("p.csv"),
            "nvs, data, nvs, , $NVS_SIZE\n",
            &opts,
            &vars,
        )
        .unwrap();
        assert_eq!(t.size_of("nvs").unwrap(), 0x6000);
        let e = err("nvs, data, nvs, , 0x6000\n$PART, data, fat, , 1M\n");
        assert!(e.starts_with("t.csv:2: unknown variable `$PART`"), "{e}");
        // Overlaps, misalignment, bad numbers, duplicates: refused naming the line.
        let e = err("a, data, fat, 0x9000, 0x2000\nb, data, fat, 0xA000, 0x1000\n");
        assert!(e.starts_with("t.csv:2:") && e.contains("overlaps"), "{e}");
        let e = err("a, app, factory, 0x18000, 1M\n");
        assert!(
            e.starts_with("t.csv:1:") && e.contains("aligned to 0x10000"),
            "{e}"
        );
        let e = err("a, data, fat, , 1.5M\n");
        assert!(e.starts_with("t.csv:1:"), "{e}");
        let e = err("a, data, fat, , 64KB\n");
        assert!(e.starts_with("t.csv:1:"), "{e}");
        let e = err("a, data, fat, , 4K\na, data, fat, , 4K\n");
        assert!(e.starts_with("t.csv:2:") && e.contains("twice"), "{e}");
        let e = err("a, data, fat, , 4K, encrypted # comment\n");
        assert!(e.starts_with("t.csv:1:") && e.contains("flag"), "{e}");
        let e = err("a, data, fat, 0x8000, 4K\n");
        assert!(
            e.starts_with("t.csv:1:") && e.contains("overlaps the partition table"),
            "{e}"
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
        let e = err("a, 0x0, 12 parsecs, 0\n");
        assert!(e.starts_with("t.csv:1: partition `a`"), "{e}");
        let e = err("\n\nonly,two\n");
        assert!(e.starts_with("t.csv:3:"), "{e}");
    }
}
