//! The head record at the start of every extent (docs/store-format.md).

use assetota::Codec;

use crate::layout::{HEAD_RECORD_LEN, LAYOUT_VERSION, Layout, MAGIC};

/// Length of the record as an array size.
pub(crate) const RECORD: usize = HEAD_RECORD_LEN as usize;
/// Bytes the CRC covers inside the record (the CRC then also covers the block index).
const CRC_AT: usize = 72;

/// What the head of an extent says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Head {
    pub blocks: u32,
    pub seq: u32,
    pub codec: Codec,
    pub size: u64,
    pub payload_len: u64,
    pub sha256: [u8; 32],
}

/// What a block's first bytes turned out to be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Parsed {
    /// Not a head (free, dirty, payload, garbage).
    None,
    /// A valid head for this layout.
    Head(Head),
    /// A valid head written for another geometry.
    Foreign { block_size: u32, word: u32 },
    /// A valid head (its CRC matches) this version cannot read: a newer
    /// layout version, or fields only other code writes.
    Newer(u16),
}

/// CRC-32 (IEEE, as zlib) without a lookup table: heads are 76 bytes, and a
/// table would cost the firmware 1 to 16 KiB of flash.
const CRC32: crc::Crc<u32, crc::NoTable> =
    crc::Crc::<u32, crc::NoTable>::new(&crc::CRC_32_ISO_HDLC);

fn crc(record: &[u8], block_index: u32) -> u32 {
    let mut d = CRC32.digest();
    d.update(record);
    d.update(&block_index.to_le_bytes());
    d.finalize()
}

fn le_u16(b: &[u8; RECORD], at: usize) -> u16 {
    let mut a = [0u8; 2];
    if let Some(s) = b.get(at..at.saturating_add(2)) {
        a.copy_from_slice(s);
    }
    u16::from_le_bytes(a)
}

fn le_u32(b: &[u8; RECORD], at: usize) -> u32 {
    let mut a = [0u8; 4];
    if let Some(s) = b.get(at..at.saturating_add(4)) {
        a.copy_from_slice(s);
    }
    u32::from_le_bytes(a)
}

fn le_u64(b: &[u8; RECORD], at: usize) -> u64 {
    let mut a = [0u8; 8];
    if let Some(s) = b.get(at..at.saturating_add(8)) {
        a.copy_from_slice(s);
    }
    u64::from_le_bytes(a)
}

fn put(b: &mut [u8; RECORD], at: usize, bytes: &[u8]) {
    if let Some(s) = b.get_mut(at..at.saturating_add(bytes.len())) {
        s.copy_from_slice(bytes);
    }
}

impl Head {
    /// The record as written at block `block_index` (relative to the partition).
    pub(crate) fn encode(&self, layout: &Layout, block_index: u32) -> [u8; RECORD] {
        let mut b = [0u8; RECORD];
        put(&mut b, 0, &MAGIC);
        put(&mut b, 4, &LAYOUT_VERSION.to_le_bytes());
        put(&mut b, 6, &(layout.word() as u16).to_le_bytes());
        put(&mut b, 8, &layout.block_size().to_le_bytes());
        put(&mut b, 12, &self.blocks.to_le_bytes());
        put(&mut b, 16, &self.seq.to_le_bytes());
        put(&mut b, 20, &[self.codec.id(), self.codec.param()]);
        put(&mut b, 24, &self.size.to_le_bytes());
        put(&mut b, 32, &self.payload_len.to_le_bytes());
        put(&mut b, 40, &self.sha256);
        let c = crc(b.get(..CRC_AT).unwrap_or(&[]), block_index);
        put(&mut b, CRC_AT, &c.to_le_bytes());
        b
    }

    /// Parses the first bytes of block `block_index`; never panics.
    pub(crate) fn parse(b: &[u8; RECORD], layout: &Layout, block_index: u32) -> Parsed {
        if b.get(..4) != Some(&MAGIC[..]) {
            return Parsed::None;
        }
        let version = le_u16(b, 4);
        let word = u32::from(le_u16(b, 6));
        let block_size = le_u32(b, 8);
        let stored_crc = le_u32(b, CRC_AT);
        let covered = b.get(..CRC_AT).unwrap_or(&[]);
        if word != layout.word() || block_size != layout.block_size() {
            // Its CRC covers its own block index: where it was written, in its units.
            let byte_offset = u64::from(block_index).saturating_mul(u64::from(layout.block_size()));
            let theirs = byte_offset
                .checked_div(u64::from(block_size))
                .filter(|_| block_size != 0 && byte_offset.is_multiple_of(u64::from(block_size)))
                .and_then(|i| u32::try_from(i).ok());
            return match theirs {
                Some(i) if crc(covered, i) == stored_crc => Parsed::Foreign { block_size, word },
                _ => Parsed::None,
            };
        }
        if crc(covered, block_index) != stored_crc {
            return Parsed::None;
        }
        if version != LAYOUT_VERSION {
            return Parsed::Newer(version);
        }
        // A head with a valid CRC that this version cannot read (unknown codec,
        // reserved bits set, a block count from other arithmetic) was written
        // by other code: refuse the mount rather than take its blocks as free.
        let Some(codec) = Codec::from_parts(
            b.get(20).copied().unwrap_or(0xFF),
            b.get(21).copied().unwrap_or(0xFF),
        ) else {
            return Parsed::Newer(version);
        };
        if le_u16(b, 22) != 0 {
            return Parsed::Newer(version);
        }
        let mut sha256 = [0u8; 32];
        if let Some(s) = b.get(40..72) {
            sha256.copy_from_slice(s);
        }
        let head = Head {
            blocks: le_u32(b, 12),
            seq: le_u32(b, 16),
            codec,
            size: le_u64(b, 24),
            payload_len: le_u64(b, 32),
            sha256,
        };
        // A head whose block count does not match its payload is not one we wrote.
        if u64::from(head.blocks) != layout.blocks_for(head.payload_len) {
            return Parsed::Newer(version);
        }
        Parsed::Head(head)
    }
}

/// The DONE word of block `index` of an extent with sequence number `seq`.
pub(crate) fn done_pattern(seq: u32, index: u32) -> [u8; 8] {
    let mut w = [0u8; 8];
    let tag = *b"DN";
    if let Some(s) = w.get_mut(..2) {
        s.copy_from_slice(&tag);
    }
    if let Some(s) = w.get_mut(2..4) {
        s.copy_from_slice(&(index as u16).to_le_bytes());
    }
    if let Some(s) = w.get_mut(4..8) {
        s.copy_from_slice(&seq.to_le_bytes());
    }
    w
}

#[cfg(test)]
mod tests {
    use super::*;

    fn head() -> Head {
        let layout = Layout::new(4, 4096).unwrap();
        Head {
            blocks: layout.blocks_for(1000) as u32,
            seq: 7,
            codec: Codec::Deflate { window_bits: 12 },
            size: 5000,
            payload_len: 1000,
            sha256: [0xAB; 32],
        }
    }

    #[test]
    fn round_trips_at_its_own_block_only() {
        let layout = Layout::new(4, 4096).unwrap();
        let rec = head().encode(&layout, 3);
        assert_eq!(Head::parse(&rec, &layout, 3), Parsed::Head(head()));
        assert_eq!(Head::parse(&rec, &layout, 4), Parsed::None);
    }

    #[test]
    fn every_single_bit_flip_is_refused() {
        let layout = Layout::new(4, 4096).unwrap();
        let rec = head().encode(&layout, 0);
        for byte in 0..RECORD {
            for bit in 0..8 {
                let mut bad = rec;
                bad[byte] ^= 1 << bit;
                assert!(
                    !matches!(Head::parse(&bad, &layout, 0), Parsed::Head(_)),
                    "{byte}.{bit}"
                );
            }
        }
    }

    #[test]
    fn a_checked_head_this_version_cannot_read_refuses_the_mount() {
        let layout = Layout::new(4, 4096).unwrap();
        for (at, value) in [(20usize, 9u8), (21, 3), (22, 1), (12, 99)] {
            let mut rec = head().encode(&layout, 5);
            rec[at] = value;
            let c = crc(&rec[..CRC_AT], 5);
            rec[CRC_AT..].copy_from_slice(&c.to_le_bytes());
            assert_eq!(Head::parse(&rec, &layout, 5), Parsed::Newer(1), "byte {at}");
        }
    }

    #[test]
    fn another_geometry_is_recognised() {
        let theirs = Layout::new(4, 4096).unwrap();
        let ours = Layout::new(4, 8192).unwrap();
        let rec = head().encode(&theirs, 0);
        assert_eq!(
            Head::parse(&rec, &ours, 0),
            Parsed::Foreign {
                block_size: 4096,
                word: 8
            }
        );
    }
}
