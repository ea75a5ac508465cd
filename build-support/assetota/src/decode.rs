//! Zero-copy validation of a v1 manifest and lookups over it.
//!
//! `parse` checks every rule once; the accessors then only re-read fields that are
//! known to be in bounds, but still go through checked reads so that no code path can
//! panic even if an invariant were broken.

use core::cmp::Ordering;
use core::fmt;

use crate::asset::Asset;
use crate::codec::Codec;
use crate::error::DecodeError;
use crate::format::{
    self, CRC_LEN, ENTRY_LEN, FORMAT_VERSION, HEADER_LEN, MAGIC, MIN_LEN, ent, hdr,
};

/// A validated manifest borrowed from the bytes it was parsed from.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Manifest<'a> {
    /// Exactly `total_len` bytes, CRC included.
    bytes: &'a [u8],
    count: usize,
    strtab_off: usize,
    platform_len: usize,
}

/// The header fields, read without interpretation.
struct Header {
    magic: [u8; 4],
    version: u16,
    header_len: u16,
    total_len: u32,
    count: u32,
    entry_len: u16,
    flags: u16,
    strtab_off: u32,
    strtab_len: u32,
    platform_len: u16,
    reserved: u16,
}

impl Header {
    fn read(b: &[u8]) -> Option<Header> {
        Some(Header {
            magic: *format::array::<4>(b, hdr::MAGIC)?,
            version: format::u16_at(b, hdr::VERSION)?,
            header_len: format::u16_at(b, hdr::HEADER_LEN)?,
            total_len: format::u32_at(b, hdr::TOTAL_LEN)?,
            count: format::u32_at(b, hdr::COUNT)?,
            entry_len: format::u16_at(b, hdr::ENTRY_LEN)?,
            flags: format::u16_at(b, hdr::FLAGS)?,
            strtab_off: format::u32_at(b, hdr::STRTAB_OFF)?,
            strtab_len: format::u32_at(b, hdr::STRTAB_LEN)?,
            platform_len: format::u16_at(b, hdr::PLATFORM_LEN)?,
            reserved: format::u16_at(b, hdr::RESERVED)?,
        })
    }
}

/// Converts a length from the format to `usize`; on targets where it does not fit the
/// manifest cannot be in memory anyway, so it is reported as truncated.
fn to_usize(v: u64, h: &Header, available: usize) -> Result<usize, DecodeError> {
    usize::try_from(v).map_err(|_| DecodeError::Truncated {
        total_len: h.total_len,
        available,
    })
}

impl<'a> Manifest<'a> {
    /// Validates a manifest at the start of `input`.
    ///
    /// `input` may be longer than the manifest (a padded linker section, a slice of a
    /// flash image): only the first `total_len` bytes are read.
    pub fn parse(input: &'a [u8]) -> Result<Self, DecodeError> {
        let available = input.len();
        let h = Header::read(input).ok_or(DecodeError::TooShort { len: available })?;
        // The magic and version come first so that a future format with a different
        // header still gets the "update assetota" error rather than a layout complaint.
        if h.magic != MAGIC {
            return Err(DecodeError::BadMagic { found: h.magic });
        }
        if h.version != FORMAT_VERSION {
            return Err(DecodeError::UnsupportedVersion(h.version));
        }
        if usize::from(h.header_len) != HEADER_LEN {
            return Err(DecodeError::HeaderLength(h.header_len));
        }
        if usize::from(h.entry_len) != ENTRY_LEN {
            return Err(DecodeError::EntryLength(h.entry_len));
        }
        if h.flags != 0 {
            return Err(DecodeError::Flags(h.flags));
        }
        if h.reserved != 0 {
            return Err(DecodeError::Reserved(h.reserved));
        }

        let total = to_usize(u64::from(h.total_len), &h, available)?;
        if total < MIN_LEN {
            return Err(DecodeError::TotalLengthTooSmall {
                total_len: h.total_len,
            });
        }
        let bytes = input.get(..total).ok_or(DecodeError::Truncated {
            total_len: h.total_len,
            available,
        })?;

        // CRC before structure: a corrupted manifest is reported as corrupted, not as
        // whatever structural rule the corruption happens to break.
        let crc_at = total
            .checked_sub(CRC_LEN)
            .ok_or(DecodeError::TotalLengthTooSmall {
                total_len: h.total_len,
            })?;
        let covered = bytes
            .get(..crc_at)
            .ok_or(DecodeError::TotalLengthTooSmall {
                total_len: h.total_len,
            })?;
        let stored = format::u32_at(bytes, crc_at).ok_or(DecodeError::TotalLengthTooSmall {
            total_len: h.total_len,
        })?;
        let computed = crate::format::crc32(covered);
        if stored != computed {
            return Err(DecodeError::Crc { stored, computed });
        }

        // Layout: header, N entries, string table, zero padding to 4, CRC; nothing else.
        // u64 cannot overflow here: 32 + 64 * u32::MAX + 2 * u32::MAX < 2^39.
        let count64 = u64::from(h.count);
        let strtab_expected = count64
            .checked_mul(ENTRY_LEN as u64)
            .and_then(|v| v.checked_add(HEADER_LEN as u64))
            .ok_or(DecodeError::Layout {
                expected: u64::MAX,
                total_len: h.total_len,
            })?;
        if u64::from(h.strtab_off) != strtab_expected {
            return Err(DecodeError::StringTableOffset {
                expected: strtab_expected,
                found: h.strtab_off,
            });
        }
        let strtab_end = u64::from(h.strtab_off)
            .checked_add(u64::from(h.strtab_len))
            .ok_or(DecodeError::Layout {
                expected: u64::MAX,
                total_len: h.total_len,
            })?;
        let expected_total = strtab_end
            .checked_add(3)
            .map(|v| v & !3)
            .and_then(|v| v.checked_add(CRC_LEN as u64))
            .ok_or(DecodeError::Layout {
                expected: u64::MAX,
                total_len: h.total_len,
            })?;
        if expected_total != u64::from(h.total_len) {
            return Err(DecodeError::Layout {
                expected: expected_total,
                total_len: h.total_len,
            });
        }

        // From here every region lies inside `bytes` (total == expected_total).
        let strtab_off = to_usize(u64::from(h.strtab_off), &h, available)?;
        let strtab_end = to_usize(strtab_end, &h, available)?;
        let count = to_usize(count64, &h, available)?;
        let padding = bytes.get(strtab_end..crc_at).unwrap_or(&[]);
        if let Some(pos) = padding.iter().position(|&b| b != 0) {
            return Err(DecodeError::Padding {
                offset: strtab_end.saturating_add(pos),
            });
        }
        let strtab = bytes.get(strtab_off..strtab_end).unwrap_or(&[]);

        let platform_len = usize::from(h.platform_len);
        let platform = strtab
            .get(..platform_len)
            .ok_or(DecodeError::PlatformOutOfBounds {
                platform_len: h.platform_len,
                string_table_len: h.strtab_len,
            })?;
        if core::str::from_utf8(platform).is_err() {
            return Err(DecodeError::PlatformNotUtf8);
        }

        let m = Manifest {
            bytes,
            count,
            strtab_off,
            platform_len,
        };
        let mut next_off = u64::from(h.platform_len);
        let mut prev: Option<&[u8]> = None;
        for index in 0..count {
            let (name, end) = m.check_entry(index, next_off, prev, strtab)?;
            prev = Some(name);
            next_off = end;
        }
        if next_off != u64::from(h.strtab_len) {
            return Err(DecodeError::StringTableLength {
                expected: next_off,
                found: h.strtab_len,
            });
        }
        Ok(m)
    }

    /// Validates entry `index` whose name must start at `expected_off` in the string
    /// table; returns its name and where the name ends.
    fn check_entry<'s>(
        &self,
        index: usize,
        expected_off: u64,
        prev: Option<&[u8]>,
        strtab: &'s [u8],
    ) -> Result<(&'s [u8], u64), DecodeError> {
        // The entry table was bounds-checked by the layout rule; a miss here would be a
        // bug, reported as a layout error rather than a panic.
        let total_len = u32::try_from(self.bytes.len()).unwrap_or(u32::MAX);
        let layout = DecodeError::Layout {
            expected: 0,
            total_len,
        };
        let e = self.entry(index).ok_or(layout.clone())?;
        let name_off = format::u32_at(e, ent::NAME_OFF).ok_or(layout.clone())?;
        let name_len = format::u16_at(e, ent::NAME_LEN).ok_or(layout.clone())?;
        if name_len == 0 {
            return Err(DecodeError::EmptyName { index });
        }
        let start =
            usize::try_from(name_off).map_err(|_| DecodeError::NameOutOfBounds { index })?;
        let end = start
            .checked_add(usize::from(name_len))
            .ok_or(DecodeError::NameOutOfBounds { index })?;
        let name = strtab
            .get(start..end)
            .ok_or(DecodeError::NameOutOfBounds { index })?;
        if u64::from(name_off) != expected_off {
            return Err(DecodeError::NameOffset {
                index,
                expected: u32::try_from(expected_off).unwrap_or(u32::MAX),
                found: name_off,
            });
        }
        if core::str::from_utf8(name).is_err() {
            return Err(DecodeError::NameNotUtf8 { index });
        }
        if prev.is_some_and(|p| name <= p) {
            return Err(DecodeError::NotSorted { index });
        }
        let id = format::u8_at(e, ent::CODEC).ok_or(layout.clone())?;
        let param = format::u8_at(e, ent::PARAM).ok_or(layout.clone())?;
        if Codec::from_parts(id, param).is_none() {
            return Err(if id > Codec::ID_XZ {
                DecodeError::UnknownCodec { index, id }
            } else {
                DecodeError::CodecParameter { index, id, param }
            });
        }
        let compressed = format::u64_at(e, ent::COMPRESSED).ok_or(layout.clone())?;
        let stored = format::u64_at(e, ent::STORED).ok_or(layout)?;
        if stored < compressed {
            return Err(DecodeError::StoredSize {
                index,
                compressed,
                stored,
            });
        }
        Ok((name, expected_off.saturating_add(u64::from(name_len))))
    }

    /// The first offset in `haystack` where `AOTA` starts a manifest that fully
    /// validates, with that manifest. For scanning flat images (`.bin`) that have no
    /// section table. Candidates that fail validation are skipped.
    pub fn find_in(haystack: &'a [u8]) -> Option<(usize, Manifest<'a>)> {
        let mut from = 0usize;
        loop {
            let rest = haystack.get(from..)?;
            let pos = rest.windows(MAGIC.len()).position(|w| w == MAGIC)?;
            let at = from.checked_add(pos)?;
            if let Ok(m) = Manifest::parse(haystack.get(at..)?) {
                return Some((at, m));
            }
            from = at.checked_add(1)?;
        }
    }

    /// Number of assets.
    pub fn len(&self) -> usize {
        self.count
    }

    /// Whether the manifest lists no asset.
    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// Length of the manifest in bytes, CRC included (`total_len`).
    pub fn byte_len(&self) -> usize {
        self.bytes.len()
    }

    /// Exactly the manifest's bytes, without whatever followed it in the input.
    pub fn as_bytes(&self) -> &'a [u8] {
        self.bytes
    }

    /// The platform the manifest was built for, if one was recorded.
    pub fn platform(&self) -> Option<&'a str> {
        if self.platform_len == 0 {
            return None;
        }
        let end = self.strtab_off.checked_add(self.platform_len)?;
        core::str::from_utf8(self.bytes.get(self.strtab_off..end)?).ok()
    }

    /// The asset called `name` (exact byte match), by binary search.
    pub fn get(&self, name: &str) -> Option<Asset<'a>> {
        let key = name.as_bytes();
        let (mut lo, mut hi) = (0usize, self.count);
        while lo < hi {
            let mid = lo.checked_add(hi.checked_sub(lo)? / 2)?;
            match self.name_bytes(mid)?.cmp(key) {
                Ordering::Less => lo = mid.checked_add(1)?,
                Ordering::Greater => hi = mid,
                Ordering::Equal => return self.asset(mid),
            }
        }
        None
    }

    /// The asset at `index` in name order.
    pub fn asset(&self, index: usize) -> Option<Asset<'a>> {
        if index >= self.count {
            return None;
        }
        let e = self.entry(index)?;
        let name = core::str::from_utf8(self.name_bytes(index)?).ok()?;
        let codec =
            Codec::from_parts(format::u8_at(e, ent::CODEC)?, format::u8_at(e, ent::PARAM)?)?;
        Some(Asset {
            name,
            size: format::u64_at(e, ent::SIZE)?,
            compressed_size: format::u64_at(e, ent::COMPRESSED)?,
            stored_size: format::u64_at(e, ent::STORED)?,
            sha256: format::array::<32>(e, ent::SHA256)?,
            codec,
        })
    }

    /// The 64 bytes of entry `index`.
    fn entry(&self, index: usize) -> Option<&'a [u8; ENTRY_LEN]> {
        let at = index.checked_mul(ENTRY_LEN)?.checked_add(HEADER_LEN)?;
        format::array::<ENTRY_LEN>(self.bytes, at)
    }

    /// The raw name bytes of entry `index`.
    fn name_bytes(&self, index: usize) -> Option<&'a [u8]> {
        let e = self.entry(index)?;
        let off = usize::try_from(format::u32_at(e, ent::NAME_OFF)?).ok()?;
        let len = usize::from(format::u16_at(e, ent::NAME_LEN)?);
        let start = self.strtab_off.checked_add(off)?;
        self.bytes.get(start..start.checked_add(len)?)
    }
}

impl fmt::Debug for Manifest<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Manifest")
            .field("platform", &self.platform())
            .field("assets", &self.count)
            .field("byte_len", &self.bytes.len())
            .finish()
    }
}
