//! Why a manifest was rejected.

use core::fmt;

/// A manifest failed validation. Each variant names the rule that fired.
///
/// Entry indices are 0-based positions in the entry table.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
#[allow(missing_docs)] // the fields are named by what they hold; the variants are documented
pub enum DecodeError {
    /// The input is shorter than the 32-byte header.
    TooShort { len: usize },
    /// The input does not start with `AOTA`.
    BadMagic { found: [u8; 4] },
    /// The manifest was written in a format version this runtime does not know.
    UnsupportedVersion(u16),
    /// The header length field is not 32.
    HeaderLength(u16),
    /// The entry length field is not 64.
    EntryLength(u16),
    /// The reserved flags field is not zero.
    Flags(u16),
    /// The reserved header field at offset 30 is not zero.
    Reserved(u16),
    /// The total length is smaller than the smallest possible manifest (36 bytes).
    TotalLengthTooSmall { total_len: u32 },
    /// The total length runs past the end of the input.
    Truncated { total_len: u32, available: usize },
    /// The CRC-32 trailer does not match the bytes before it.
    Crc { stored: u32, computed: u32 },
    /// The string table does not start right after the entry table.
    StringTableOffset { expected: u64, found: u32 },
    /// The total length does not match header + entries + string table + padding + CRC.
    Layout { expected: u64, total_len: u32 },
    /// A padding byte after the string table is not zero (offset from manifest start).
    Padding { offset: usize },
    /// The platform name is longer than the string table.
    PlatformOutOfBounds {
        platform_len: u16,
        string_table_len: u32,
    },
    /// The platform name is not valid UTF-8.
    PlatformNotUtf8,
    /// An entry's name length is zero.
    EmptyName { index: usize },
    /// An entry's name runs past the end of the string table.
    NameOutOfBounds { index: usize },
    /// An entry's name does not start right after the previous name (or the platform name).
    NameOffset {
        index: usize,
        expected: u32,
        found: u32,
    },
    /// An entry's name is not valid UTF-8.
    NameNotUtf8 { index: usize },
    /// An entry's name is not byte-wise greater than the previous entry's name.
    NotSorted { index: usize },
    /// An entry has a codec id this runtime does not know.
    UnknownCodec { index: usize, id: u8 },
    /// An entry's codec parameter is out of range for its codec.
    CodecParameter { index: usize, id: u8, param: u8 },
    /// An entry's stored size is smaller than its compressed size.
    StoredSize {
        index: usize,
        compressed: u64,
        stored: u64,
    },
    /// The platform name and the names do not fill the string table exactly.
    StringTableLength { expected: u64, found: u32 },
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use DecodeError::*;
        match self {
            TooShort { len } => {
                write!(f, "manifest too short: {len} bytes, the header alone is 32")
            }
            BadMagic {
                found: [a, b, c, d],
            } => write!(
                f,
                "manifest magic is {a:02x} {b:02x} {c:02x} {d:02x}, expected 41 4f 54 41 (\"AOTA\"): not an assetota manifest"
            ),
            UnsupportedVersion(v) => write!(
                f,
                "manifest format v{v} is newer than this runtime supports (v{}); update assetota",
                crate::format::FORMAT_VERSION
            ),
            HeaderLength(n) => write!(f, "manifest header length is {n}, v1 requires 32"),
            EntryLength(n) => write!(f, "manifest entry length is {n}, v1 requires 64"),
            Flags(x) => write!(f, "manifest flags are {x:#06x}, v1 requires 0"),
            Reserved(x) => write!(
                f,
                "manifest reserved header field is {x:#06x}, v1 requires 0"
            ),
            TotalLengthTooSmall { total_len } => {
                write!(
                    f,
                    "manifest total length {total_len} is below the minimum of 36 bytes"
                )
            }
            Truncated {
                total_len,
                available,
            } => write!(
                f,
                "manifest truncated: header says {total_len} bytes, only {available} available"
            ),
            Crc { stored, computed } => write!(
                f,
                "manifest CRC-32 mismatch: stored {stored:#010x}, computed {computed:#010x}"
            ),
            StringTableOffset { expected, found } => write!(
                f,
                "manifest string table at offset {found}, expected {expected} (right after the entries)"
            ),
            Layout {
                expected,
                total_len,
            } => write!(
                f,
                "manifest total length {total_len} does not match its layout ({expected} bytes)"
            ),
            Padding { offset } => write!(f, "manifest padding byte at offset {offset} is not zero"),
            PlatformOutOfBounds {
                platform_len,
                string_table_len,
            } => write!(
                f,
                "manifest platform name ({platform_len} bytes) is longer than the string table ({string_table_len} bytes)"
            ),
            PlatformNotUtf8 => f.write_str("manifest platform name is not valid UTF-8"),
            EmptyName { index } => write!(f, "manifest entry {index} has an empty name"),
            NameOutOfBounds { index } => {
                write!(
                    f,
                    "manifest entry {index}: name runs past the end of the string table"
                )
            }
            NameOffset {
                index,
                expected,
                found,
            } => write!(
                f,
                "manifest entry {index}: name at string table offset {found}, expected {expected}"
            ),
            NameNotUtf8 { index } => write!(f, "manifest entry {index}: name is not valid UTF-8"),
            NotSorted { index } => write!(
                f,
                "manifest entry {index}: name is not strictly greater than the previous one (entries must be sorted and unique)"
            ),
            UnknownCodec { index, id } => {
                write!(f, "manifest entry {index}: unknown codec id {id}")
            }
            CodecParameter { index, id, param } => write!(
                f,
                "manifest entry {index}: parameter {param} is out of range for codec id {id}"
            ),
            StoredSize {
                index,
                compressed,
                stored,
            } => write!(
                f,
                "manifest entry {index}: stored size {stored} is smaller than compressed size {compressed}"
            ),
            StringTableLength { expected, found } => write!(
                f,
                "manifest string table is {found} bytes, the platform and asset names take {expected}"
            ),
        }
    }
}

impl core::error::Error for DecodeError {}
