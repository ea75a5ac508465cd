//! ESP-IDF partition tables as `gen_esp32part.py` reads them (ESP-IDF's
//! `components/partition_table/gen_esp32part.py`): the CSV rules, the offsets
//! it computes for blank fields and negative sizes, and the checks it makes
//! before writing the binary table; and the binary table itself.

use super::row::{EspEntry, Partition, Syntax};

/// Where the partition table is unless the build says otherwise
/// (`CONFIG_PARTITION_TABLE_OFFSET`, gen_esp32part's `--offset`).
pub const DEFAULT_TABLE_OFFSET: u64 = 0x8000;
/// The flash sector the table occupies.
pub const TABLE_SIZE: u64 = 0x1000;
/// Alignment of `app` partitions' offsets.
pub const APP_ALIGN: u64 = 0x10000;
/// Alignment of every other type's offsets.
pub const DATA_ALIGN: u64 = 0x1000;
/// `app` sizes must be multiples of this (no secure boot).
pub const APP_SIZE_ALIGN: u64 = 0x1000;
/// The smallest read/write NVS partition.
pub const NVS_RW_MIN: u64 = 0x3000;
/// The size the otadata partitions must have.
pub const OTADATA_SIZE: u64 = 0x2000;
/// Bytes of the binary table's sector usable by entries and the MD5 entry.
const MAX_TABLE_LEN: usize = 0xC00;

/// Partition types.
pub const APP: u8 = 0x00;
/// The `data` type.
pub const DATA: u8 = 0x01;
/// The `bootloader` type.
pub const BOOTLOADER: u8 = 0x02;
/// The `partition_table` type.
pub const PARTITION_TABLE: u8 = 0x03;

const TYPES: &[(&str, u64)] = &[
    ("bootloader", BOOTLOADER as u64),
    ("partition_table", PARTITION_TABLE as u64),
    ("app", APP as u64),
    ("data", DATA as u64),
];

const BOOTLOADER_SUBTYPES: &[(&str, u64)] = &[("primary", 0), ("ota", 1), ("recovery", 2)];
const TABLE_SUBTYPES: &[(&str, u64)] = &[("primary", 0), ("ota", 1)];
const DATA_SUBTYPES: &[(&str, u64)] = &[
    ("ota", 0x00),
    ("phy", 0x01),
    ("nvs", 0x02),
    ("coredump", 0x03),
    ("nvs_keys", 0x04),
    ("efuse", 0x05),
    ("undefined", 0x06),
    ("esphttpd", 0x80),
    ("fat", 0x81),
    ("spiffs", 0x82),
    ("littlefs", 0x83),
    ("tee_ota", 0x90),
];
const DATA_OTA: u8 = 0x00;
const DATA_NVS: u8 = 0x02;
const DATA_COREDUMP: u8 = 0x03;
const DATA_UNDEFINED: u8 = 0x06;
const DATA_TEE_OTA: u8 = 0x90;

/// What the build passes to gen_esp32part besides the CSV.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EspOptions {
    /// The partition table's offset (`--offset`, default 0x8000).
    pub table_offset: u64,
    /// The chip's bootloader offset (`--primary-bootloader-offset`: 0x1000
    /// on ESP32 and ESP32-S2, 0 on most others); only rows of type
    /// `bootloader` need it. Without it their offset and size are unknown
    /// (`None` and 0).
    pub primary_bootloader_offset: Option<u64>,
    /// `--recovery-bootloader-offset`, for a `bootloader, recovery` row.
    pub recovery_bootloader_offset: Option<u64>,
}

impl Default for EspOptions {
    fn default() -> Self {
        EspOptions {
            table_offset: DEFAULT_TABLE_OFFSET,
            primary_bootloader_offset: None,
            recovery_bootloader_offset: None,
        }
    }
}

/// Python's `int(text, 0)`: an optional sign, then decimal (no leading
/// zeros unless all zeros), `0x`, `0o` or `0b`, with single underscores
/// between digits (and after the base prefix).
pub fn python_int(text: &str) -> Option<i128> {
    let t = text.trim();
    let (negative, t) = match t.as_bytes().first() {
        Some(b'-') => (true, &t[1..]),
        Some(b'+') => (false, &t[1..]),
        _ => (false, t),
    };
    let lower = t.to_ascii_lowercase();
    let (radix, digits, prefixed) = if let Some(d) = lower.strip_prefix("0x") {
        (16, d, true)
    } else if let Some(d) = lower.strip_prefix("0o") {
        (8, d, true)
    } else if let Some(d) = lower.strip_prefix("0b") {
        (2, d, true)
    } else {
        (10, lower.as_str(), false)
    };
    // Underscores: one between digits, or one right after the prefix.
    let digits = if prefixed {
        digits.strip_prefix('_').unwrap_or(digits)
    } else {
        digits
    };
    if digits.is_empty()
        || digits.starts_with('_')
        || digits.ends_with('_')
        || digits.contains("__")
    {
        return None;
    }
    let clean: String = digits.chars().filter(|&c| c != '_').collect();
    if !clean.chars().all(|c| c.is_digit(radix)) {
        return None;
    }
    if radix == 10 && clean.len() > 1 && clean.starts_with('0') && clean.chars().any(|c| c != '0') {
        return None;
    }
    let value = i128::from_str_radix(&clean, radix).ok()?;
    Some(if negative { -value } else { value })
}

/// gen_esp32part's `parse_int`: `k`/`K` (×1024) and `m`/`M` (×1024²)
/// suffixes (each peeled off in turn), then [`python_int`], then a keyword.
fn parse_int(text: &str, keywords: &[(&str, u64)]) -> Result<i128, String> {
    let lower = text.to_lowercase();
    let last = text.chars().last();
    for (letter, multiplier) in [('k', 1024i128), ('m', 1024 * 1024)] {
        if let Some(last) = last
            && last.to_lowercase().to_string().ends_with(letter)
        {
            // Python drops the last character (`v[:-1]`), whatever its width.
            let head = &text[..text.len() - last.len_utf8()];
            return match parse_int(head, keywords) {
                Ok(v) => v
                    .checked_mul(multiplier)
                    .filter(|v| v.unsigned_abs() <= u128::from(u64::MAX))
                    .ok_or_else(|| format!("`{text}` is too large")),
                Err(e) => Err(e),
            };
        }
    }
    if let Some(v) = python_int(text) {
        // No flash is this large; the bound keeps every sum below in range.
        if v.unsigned_abs() > u128::from(u64::MAX) {
            return Err(format!("`{text}` is too large"));
        }
        return Ok(v);
    }
    if keywords.is_empty() {
        return Err(if text.contains('$') {
            format!("`{text}` is not a number (an unknown variable?)")
        } else {
            format!(
                "`{text}` is not a number (decimal, 0x hex, 0o octal or 0b binary, with an optional K or M suffix)"
            )
        });
    }
    keywords
        .iter()
        .find(|(k, _)| *k == lower)
        .map(|(_, v)| i128::from(*v))
        .ok_or_else(|| {
            format!(
                "`{text}` is not valid; known keywords: {}",
                keywords
                    .iter()
                    .map(|(k, _)| *k)
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        })
}

fn app_subtypes() -> Vec<(String, u64)> {
    let mut v = vec![("factory".to_owned(), 0x00), ("test".to_owned(), 0x20)];
    v.extend((0..16).map(|i| (format!("ota_{i}"), 0x10 + i)));
    v.extend((0..2).map(|i| (format!("tee_{i}"), 0x30 + i)));
    v
}

fn byte(value: i128, what: &str) -> Result<u8, String> {
    u8::try_from(value).map_err(|_| format!("{what} {value} does not fit in a byte (0 to 255)"))
}

/// One row before the table fixes blank offsets and negative sizes.
struct Row {
    name: String,
    ptype: u8,
    subtype: u8,
    offset: Option<i128>,
    size: i128,
    encrypted: bool,
    readonly: bool,
    line: usize,
}

impl Row {
    fn is_primary_fixed(&self) -> bool {
        (self.ptype == BOOTLOADER || self.ptype == PARTITION_TABLE) && self.subtype == 0
    }
}

fn parse_row(line: &str, line_no: usize, opts: &EspOptions) -> Result<Row, String> {
    let padded = format!("{line},,,,");
    let fields: Vec<&str> = padded.split(',').map(str::trim).collect();
    let name = fields[0].to_owned();
    if fields[1].is_empty() {
        return Err("the type field is empty".into());
    }
    let ptype = byte(parse_int(fields[1], TYPES)?, "the type")?;
    let subtype = if fields[2].is_empty() {
        if ptype == APP {
            return Err("an app partition needs a subtype (factory, ota_0 … ota_15, test)".into());
        }
        DATA_UNDEFINED
    } else {
        let app = app_subtypes();
        let app: Vec<(&str, u64)> = app.iter().map(|(k, v)| (k.as_str(), *v)).collect();
        let keywords: &[(&str, u64)] = match ptype {
            APP => &app,
            DATA => DATA_SUBTYPES,
            BOOTLOADER => BOOTLOADER_SUBTYPES,
            PARTITION_TABLE => TABLE_SUBTYPES,
            _ => &[],
        };
        byte(parse_int(fields[2], keywords)?, "the subtype")?
    };
    finish_row(name, ptype, subtype, &fields, line_no, opts)
}

fn finish_row(
    name: String,
    ptype: u8,
    subtype: u8,
    fields: &[&str],
    line_no: usize,
    opts: &EspOptions,
) -> Result<Row, String> {
    let need_primary = || {
        opts.primary_bootloader_offset
            .map(i128::from)
            .ok_or_else(|| "a bootloader row needs the chip's bootloader offset".to_owned())
    };
    let table_offset = i128::from(opts.table_offset);
    // Offset: computed for the bootloader and the primary table, whatever
    // the field says (blank, N/A, …).
    let offset = if ptype == BOOTLOADER && subtype == 0 {
        opts.primary_bootloader_offset.map(i128::from)
    } else if ptype == BOOTLOADER && subtype == 2 {
        Some(
            opts.recovery_bootloader_offset
                .map(i128::from)
                .ok_or_else(|| "a recovery bootloader row needs the recovery bootloader offset (gen_esp32part's --recovery-bootloader-offset)".to_owned())?,
        )
    } else if ptype == PARTITION_TABLE && subtype == 0 {
        Some(table_offset)
    } else if fields[3].is_empty() {
        None
    } else {
        Some(parse_int(fields[3], &[]).map_err(|e| format!("offset: {e}"))?)
    };
    let size = if ptype == BOOTLOADER {
        match opts.primary_bootloader_offset {
            Some(b) => table_offset - i128::from(b),
            None if subtype == 0 => 0,
            None => table_offset - need_primary()?,
        }
    } else if ptype == PARTITION_TABLE {
        i128::from(TABLE_SIZE)
    } else if fields[4].is_empty() {
        return Err("the size field is empty".into());
    } else {
        parse_int(fields[4], &[]).map_err(|e| format!("size: {e}"))?
    };
    let (mut encrypted, mut readonly) = (false, false);
    // Flags are split on `:` and not trimmed, as gen_esp32part does.
    for flag in fields.get(5).copied().unwrap_or("").split(':') {
        match flag {
            "encrypted" => encrypted = true,
            "readonly" => readonly = true,
            "" => {}
            other => {
                return Err(format!(
                    "unknown flag `{other}` (known: encrypted, readonly, separated by `:`)"
                ));
            }
        }
    }
    Ok(Row {
        name,
        ptype,
        subtype,
        offset,
        size,
        encrypted,
        readonly,
        line: line_no,
    })
}

/// Python's `str.splitlines()`: the line boundaries it knows.
fn split_lines(text: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut start = 0;
    let mut chars = text.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        let end = match c {
            '\r' => {
                if let Some(&(_, '\n')) = chars.peek() {
                    chars.next();
                    i + 2
                } else {
                    i + 1
                }
            }
            '\n' | '\x0b' | '\x0c' | '\x1c' | '\x1d' | '\x1e' | '\u{85}' | '\u{2028}'
            | '\u{2029}' => i + c.len_utf8(),
            _ => continue,
        };
        out.push(&text[start..i]);
        start = end;
    }
    if start < text.len() {
        out.push(&text[start..]);
    }
    out
}

/// Python's `os.path.expandvars` on one line: `$NAME` and `${NAME}` whose
/// NAME the environment has are replaced; the others are left as written.
fn expand_vars(line: &str, vars: &dyn Fn(&str) -> Option<String>) -> String {
    let mut out = String::with_capacity(line.len());
    let mut rest = line;
    while let Some(i) = rest.find('$') {
        out.push_str(&rest[..i]);
        let after = &rest[i + 1..];
        let (name, len) = if let Some(braced) = after.strip_prefix('{') {
            match braced.find('}') {
                Some(end) => (&braced[..end], end + 2),
                None => ("", 0),
            }
        } else {
            let end = after
                .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                .unwrap_or(after.len());
            (&after[..end], end)
        };
        match (len, vars(name)) {
            (l, Some(value)) if l > 0 && !name.is_empty() => {
                out.push_str(&value);
                rest = &after[len..];
            }
            _ => {
                out.push('$');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

/// The variable a line starts with, when it is not expanded
/// (gen_esp32part's "unknown variable" check).
fn leading_variable(line: &str) -> Option<&str> {
    let after = line.strip_prefix('$')?;
    let first = after.chars().next()?;
    if !(first.is_ascii_alphabetic() || first == '_') {
        return None;
    }
    let end = after
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .unwrap_or(after.len());
    Some(&after[..end])
}

/// Parses the CSV `text` of an ESP-IDF table: every row, offsets and sizes
/// resolved, then the checks gen_esp32part makes.
pub(super) fn parse(
    text: &str,
    opts: &EspOptions,
    vars: &dyn Fn(&str) -> Option<String>,
    syntax: &dyn Fn(usize, String) -> Syntax,
) -> Result<Vec<Partition>, Syntax> {
    let mut rows = Vec::new();
    for (index, raw) in split_lines(text).into_iter().enumerate() {
        let line_no = index + 1;
        let expanded = expand_vars(raw, vars);
        if let Some(var) = leading_variable(&expanded) {
            return Err(syntax(
                line_no,
                format!("unknown variable `${var}`; set it in the environment of the build"),
            ));
        }
        let line = expanded.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        rows.push(parse_row(line, line_no, opts).map_err(|m| syntax(line_no, m))?);
    }

    // Blank offsets and negative sizes, in order (gen_esp32part's from_csv).
    let first_free = i128::from(opts.table_offset + TABLE_SIZE);
    let mut last_end = first_free;
    for (i, row) in rows.iter_mut().enumerate() {
        if row.is_primary_fixed() {
            continue;
        }
        if let Some(offset) = row.offset
            && offset < last_end
        {
            return Err(syntax(
                row.line,
                if i == 0 {
                    format!(
                        "partition `{}` at {offset:#x} overlaps the partition table at {:#x}; use {last_end:#x} or higher",
                        row.name, opts.table_offset
                    )
                } else {
                    format!(
                        "partition `{}` at {offset:#x} overlaps the previous partition, which ends at {last_end:#x}",
                        row.name
                    )
                },
            ));
        }
        let offset = match row.offset {
            Some(o) => o,
            None => {
                let align = i128::from(alignment(row.ptype));
                let o = (last_end + align - 1) / align * align;
                row.offset = Some(o);
                o
            }
        };
        if row.size < 0 {
            row.size = -row.size - offset;
        }
        last_end = offset + row.size;
    }

    // Checks before the binary table is written (gen_esp32part's verify).
    for row in &rows {
        let err = |m: String| syntax(row.line, format!("partition `{}`: {m}", row.name));
        if row.size < 0 {
            return Err(err(format!(
                "its size is negative ({:#x}): a negative size `-X` ends the partition at X, which is before its offset",
                row.size
            )));
        }
        let Some(offset) = row.offset else {
            continue; // a bootloader without the chip's offset
        };
        let align = i128::from(alignment(row.ptype));
        if offset % align != 0 {
            return Err(err(format!(
                "its offset {offset:#x} is not aligned to {align:#x}"
            )));
        }
        if row.ptype == APP && row.size % i128::from(APP_SIZE_ALIGN) != 0 {
            return Err(err(format!(
                "an app partition's size must be a multiple of {APP_SIZE_ALIGN:#x}; {:#x} is not",
                row.size
            )));
        }
        if row.ptype == DATA
            && (row.subtype == DATA_OTA || row.subtype == DATA_COREDUMP)
            && row.readonly
        {
            return Err(err(
                "otadata and coredump partitions cannot be readonly".into()
            ));
        }
        if row.ptype == DATA
            && row.subtype == DATA_NVS
            && row.size < i128::from(NVS_RW_MIN)
            && !row.readonly
        {
            return Err(err(format!(
                "a read/write NVS partition needs at least {NVS_RW_MIN:#x} bytes; it has {:#x} (or flag it `readonly`)",
                row.size
            )));
        }
        if offset > i128::from(u32::MAX) || row.size > i128::from(u32::MAX) {
            return Err(err("its offset or size does not fit in 32 bits".into()));
        }
    }
    for (i, row) in rows.iter().enumerate() {
        if let Some(first) = rows[..i].iter().find(|r| r.name == row.name) {
            return Err(syntax(
                row.line,
                format!(
                    "partition name `{}` is used twice (also on line {}); names must be unique",
                    row.name, first.line
                ),
            ));
        }
    }
    let mut sorted: Vec<&Row> = rows.iter().filter(|r| r.offset.is_some()).collect();
    sorted.sort_by_key(|r| r.offset);
    let mut last: Option<&Row> = None;
    for row in sorted {
        let offset = row.offset.unwrap_or_default();
        if offset < first_free && !row.is_primary_fixed() {
            return Err(syntax(
                row.line,
                format!(
                    "partition `{}` at {offset:#x} is below {first_free:#x}, the end of the partition table",
                    row.name
                ),
            ));
        }
        if let Some(prev) = last {
            let prev_offset = prev.offset.unwrap_or_default();
            if offset < prev_offset + prev.size {
                return Err(syntax(
                    row.line,
                    format!(
                        "partition `{}` at {offset:#x} overlaps `{}` ({prev_offset:#x}..{:#x}, line {})",
                        row.name,
                        prev.name,
                        prev_offset + prev.size,
                        prev.line
                    ),
                ));
            }
        }
        last = Some(row);
    }
    for (subtype, what) in [(DATA_OTA, "otadata"), (DATA_TEE_OTA, "TEE otadata")] {
        let found: Vec<&Row> = rows
            .iter()
            .filter(|r| r.ptype == DATA && r.subtype == subtype)
            .collect();
        if found.len() > 1 {
            return Err(syntax(
                found[1].line,
                format!(
                    "a second {what} partition (the first is on line {}); a table has at most one",
                    found[0].line
                ),
            ));
        }
        if let Some(r) = found.first()
            && r.size != i128::from(OTADATA_SIZE)
        {
            return Err(syntax(
                r.line,
                format!(
                    "the {what} partition `{}` must be {OTADATA_SIZE:#x} bytes; it is {:#x}",
                    r.name, r.size
                ),
            ));
        }
    }
    if (rows.len() + 1) * 32 >= MAX_TABLE_LEN {
        return Err(syntax(
            rows.last().map_or(1, |r| r.line),
            format!(
                "{} partitions do not fit the binary table (at most {})",
                rows.len(),
                MAX_TABLE_LEN / 32 - 2
            ),
        ));
    }
    Ok(rows
        .into_iter()
        .map(|r| Partition {
            name: r.name,
            offset: r.offset.map(|o| o as u64),
            size: r.size as u64,
            line: r.line,
            esp: Some(EspEntry {
                ptype: r.ptype,
                subtype: r.subtype,
                encrypted: r.encrypted,
                readonly: r.readonly,
            }),
        })
        .collect())
}

fn alignment(ptype: u8) -> u64 {
    if ptype == APP { APP_ALIGN } else { DATA_ALIGN }
}

/// The binary table (32-byte entries starting 0xAA 0x50, an optional MD5
/// entry starting 0xEB 0xEB, then 0xFF): IDF accepts it where a CSV goes.
/// The MD5 is not checked.
pub(super) fn parse_binary(
    bytes: &[u8],
    syntax: &dyn Fn(usize, String) -> Syntax,
) -> Result<Vec<Partition>, Syntax> {
    let mut out = Vec::new();
    for (i, entry) in bytes.chunks(32).enumerate() {
        let n = i + 1;
        if entry.len() != 32 {
            return Err(syntax(
                n,
                "the binary table's length is not a multiple of 32 bytes".into(),
            ));
        }
        if entry.iter().all(|&b| b == 0xFF) {
            return Ok(out);
        }
        if entry[..2] == [0xEB, 0xEB] {
            continue;
        }
        if entry[..2] != [0xAA, 0x50] {
            return Err(syntax(
                n,
                format!("entry {n} of the binary table does not start with 0xAA 0x50"),
            ));
        }
        let word =
            |o: usize| u32::from_le_bytes([entry[o], entry[o + 1], entry[o + 2], entry[o + 3]]);
        let name = &entry[12..28];
        let end = name.iter().position(|&b| b == 0).unwrap_or(16);
        let flags = word(28);
        out.push(Partition {
            name: String::from_utf8_lossy(&name[..end]).into_owned(),
            offset: Some(u64::from(word(4))),
            size: u64::from(word(8)),
            line: n,
            esp: Some(EspEntry {
                ptype: entry[2],
                subtype: entry[3],
                encrypted: flags & 1 != 0,
                readonly: flags & 2 != 0,
            }),
        });
    }
    Err(syntax(
        out.len() + 1,
        "the binary table has no end marker (32 bytes of 0xFF)".into(),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn python_int_rules() {
        for (text, want) in [
            ("0", Some(0)),
            ("00", Some(0)),
            ("010", None),
            ("1_000", Some(1000)),
            ("1__0", None),
            ("_1", None),
            ("1_", None),
            ("0x_1f", Some(31)),
            ("0X1F", Some(31)),
            ("0o17", Some(15)),
            ("0b101", Some(5)),
            ("-0x10", Some(-16)),
            ("+7", Some(7)),
            ("0x", None),
            ("1.5", None),
            ("", None),
        ] {
            assert_eq!(python_int(text), want, "{text}");
        }
        assert_eq!(parse_int("1M", &[]), Ok(1 << 20));
        assert_eq!(parse_int("64k", &[]), Ok(64 << 10));
        assert_eq!(parse_int("1kk", &[]), Ok(1 << 20));
        assert!(parse_int("64KB", &[]).is_err());
        assert!(parse_int("1.5M", &[]).is_err());
        assert_eq!(parse_int("-1M", &[]), Ok(-(1 << 20)));
        assert_eq!(parse_int("APP", TYPES), Ok(0));
    }

    #[test]
    fn lines_and_vars() {
        assert_eq!(split_lines("a\r\nb\rc\n\nd"), ["a", "b", "c", "", "d"]);
        let vars = |n: &str| (n == "OFF").then(|| "0x9000".to_owned());
        assert_eq!(
            expand_vars("x, $OFF, ${OFF}, $NO, ${NO}", &vars),
            "x, 0x9000, 0x9000, $NO, ${NO}"
        );
        assert_eq!(leading_variable("$NO, data"), Some("NO"));
        assert_eq!(leading_variable("a, $NO"), None);
    }
}
