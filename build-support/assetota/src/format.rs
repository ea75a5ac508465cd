//! Layout constants of manifest format v1 and checked little-endian readers.
//!
//! Every offset here is fixed by `docs/manifest-format.md`; the readers return `None`
//! instead of panicking so the decoder can run on untrusted bytes.

/// Magic bytes at offset 0.
pub const MAGIC: [u8; 4] = *b"AOTA";
/// The only format version this runtime decodes.
pub const FORMAT_VERSION: u16 = 1;
/// Header length in bytes (v1).
pub const HEADER_LEN: usize = 32;
/// Entry length in bytes (v1).
pub const ENTRY_LEN: usize = 64;
/// Trailer (CRC-32) length in bytes.
pub const CRC_LEN: usize = 4;
/// Smallest possible manifest: header, no entries, empty string table, CRC.
pub const MIN_LEN: usize = HEADER_LEN + CRC_LEN;

/// Header field offsets.
pub(crate) mod hdr {
    pub const MAGIC: usize = 0;
    pub const VERSION: usize = 4;
    pub const HEADER_LEN: usize = 6;
    pub const TOTAL_LEN: usize = 8;
    pub const COUNT: usize = 12;
    pub const ENTRY_LEN: usize = 16;
    pub const FLAGS: usize = 18;
    pub const STRTAB_OFF: usize = 20;
    pub const STRTAB_LEN: usize = 24;
    pub const PLATFORM_LEN: usize = 28;
    pub const RESERVED: usize = 30;
}

/// Entry field offsets, relative to the entry start.
pub(crate) mod ent {
    pub const NAME_OFF: usize = 0;
    pub const NAME_LEN: usize = 4;
    pub const CODEC: usize = 6;
    pub const PARAM: usize = 7;
    pub const SIZE: usize = 8;
    pub const COMPRESSED: usize = 16;
    pub const STORED: usize = 24;
    pub const SHA256: usize = 32;
}

/// `N` bytes at `at`, or `None` when out of bounds.
pub(crate) fn array<const N: usize>(bytes: &[u8], at: usize) -> Option<&[u8; N]> {
    let end = at.checked_add(N)?;
    bytes.get(at..end)?.try_into().ok()
}

pub(crate) fn u16_at(bytes: &[u8], at: usize) -> Option<u16> {
    array::<2>(bytes, at).map(|b| u16::from_le_bytes(*b))
}

pub(crate) fn u32_at(bytes: &[u8], at: usize) -> Option<u32> {
    array::<4>(bytes, at).map(|b| u32::from_le_bytes(*b))
}

pub(crate) fn u64_at(bytes: &[u8], at: usize) -> Option<u64> {
    array::<8>(bytes, at).map(|b| u64::from_le_bytes(*b))
}

pub(crate) fn u8_at(bytes: &[u8], at: usize) -> Option<u8> {
    bytes.get(at).copied()
}

/// CRC-32 (IEEE 802.3, as zlib) computed bit by bit: no lookup table, so the
/// firmware pays a few hundred bytes of code instead of a 16 KiB table.
const CRC32: crc::Crc<u32, crc::NoTable> =
    crc::Crc::<u32, crc::NoTable>::new(&crc::CRC_32_ISO_HDLC);

/// The manifest trailer's checksum of `bytes`.
pub(crate) fn crc32(bytes: &[u8]) -> u32 {
    CRC32.checksum(bytes)
}
