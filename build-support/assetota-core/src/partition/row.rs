//! The rows of a partition table, shared by the W800 and ESP-IDF readers.

/// One row of a partition table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Partition {
    /// The partition's name.
    pub name: String,
    /// Where the partition starts on the flash; `None` only for an ESP-IDF
    /// `bootloader` row when the chip's bootloader offset is not known.
    pub offset: Option<u64>,
    /// Bytes of the partition.
    pub size: u64,
    /// The line of the table it is on (the entry number in a binary table).
    pub line: usize,
    /// The ESP-IDF type, subtype and flags; `None` for W800 rows.
    pub esp: Option<EspEntry>,
}

/// What an ESP-IDF row says besides name, offset and size.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EspEntry {
    /// The type: 0 app, 1 data, 2 bootloader, 3 partition table, or custom.
    pub ptype: u8,
    /// The subtype (for apps: 0 factory, 0x10 + n ota_n, 0x20 test).
    pub subtype: u8,
    /// The `encrypted` flag.
    pub encrypted: bool,
    /// The `readonly` flag.
    pub readonly: bool,
}

/// A syntax error before the path is attached.
pub(crate) struct Syntax {
    pub(crate) line: usize,
    pub(crate) message: String,
}
