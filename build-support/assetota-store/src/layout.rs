//! Where everything sits on flash: the geometry of a store and the arithmetic
//! the host's budget shares with the device (one source, so `cargo assetota
//! size` and the store can never disagree). Specified in `docs/store-format.md`.

use core::fmt;

/// Magic at the start of every extent's head block.
pub const MAGIC: [u8; 4] = *b"AOTS";
/// Version of the on-flash layout this crate reads and writes.
pub const LAYOUT_VERSION: u16 = 1;
/// Bytes of the head record, its CRC-32 included, before padding to a word.
pub const HEAD_RECORD_LEN: u32 = 76;
/// Smallest flash word the store programs: state words are at least 8 bytes.
pub const MIN_WORD: u32 = 8;
/// Largest `WRITE_SIZE` supported.
pub const MAX_WRITE_SIZE: u32 = 32;
/// Smallest erase block supported.
pub const MIN_ERASE_SIZE: u32 = 256;
/// Largest erase block supported.
pub const MAX_ERASE_SIZE: u32 = 256 * 1024;

/// A flash geometry the store cannot use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GeometryError {
    /// `WRITE_SIZE` must be 1 to 32 bytes.
    WriteSize(u32),
    /// `ERASE_SIZE` must be 256 B to 256 KiB and a multiple of the store's word.
    EraseSize {
        /// The flash's erase size.
        erase_size: u32,
        /// The store's word (the write size rounded up to at least 8 bytes).
        word: u32,
    },
    /// The partition must start and end on erase-block boundaries, inside the flash.
    Partition {
        /// Partition start, in bytes from the start of the flash.
        start: u32,
        /// Partition end (exclusive).
        end: u32,
        /// The flash's erase size.
        erase_size: u32,
        /// The flash's capacity in bytes.
        capacity: u64,
    },
    /// The partition holds no whole erase block.
    Empty,
    /// The driver's `READ_SIZE` must divide the store's word and be at most 64 bytes.
    ReadSize(u32),
}

impl fmt::Display for GeometryError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            GeometryError::WriteSize(w) => write!(
                f,
                "flash write size {w} B is not supported; the store supports 1 to {MAX_WRITE_SIZE} B"
            ),
            GeometryError::EraseSize { erase_size, word } => write!(
                f,
                "flash erase size {erase_size} B is not supported; the store needs {MIN_ERASE_SIZE} B to {MAX_ERASE_SIZE} B, a multiple of its {word}-byte word"
            ),
            GeometryError::Partition {
                start,
                end,
                erase_size,
                capacity,
            } => write!(
                f,
                "store partition {start:#x}..{end:#x} must start and end on {erase_size}-byte erase blocks inside the flash's {capacity} B"
            ),
            GeometryError::Empty => f.write_str("store partition holds no whole erase block"),
            GeometryError::ReadSize(r) => write!(
                f,
                "flash read size {r} B is not supported; it must divide the store's word and be at most 64 B"
            ),
        }
    }
}

impl core::error::Error for GeometryError {}

/// The layout of one store: block (erase) size and word size, and every offset
/// derived from them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Layout {
    block: u32,
    word: u32,
}

const fn round_up(value: u32, to: u32) -> u32 {
    // `to` is 8..=32 here, `value` at most 256 KiB: no overflow.
    match value.checked_next_multiple_of(to) {
        Some(v) => v,
        None => u32::MAX,
    }
}

impl Layout {
    /// The layout for a flash with these `WRITE_SIZE` and `ERASE_SIZE`.
    pub const fn new(write_size: u32, erase_size: u32) -> Result<Layout, GeometryError> {
        if write_size == 0 || write_size > MAX_WRITE_SIZE {
            return Err(GeometryError::WriteSize(write_size));
        }
        let word = round_up(MIN_WORD, write_size);
        if erase_size < MIN_ERASE_SIZE
            || erase_size > MAX_ERASE_SIZE
            || !erase_size.is_multiple_of(word)
        {
            return Err(GeometryError::EraseSize { erase_size, word });
        }
        let layout = Layout {
            block: erase_size,
            word,
        };
        // The head block must hold the head, the state words and its DONE word.
        if layout.container().saturating_add(word) > erase_size {
            return Err(GeometryError::EraseSize { erase_size, word });
        }
        Ok(layout)
    }

    /// Erase block size in bytes (`ERASE_SIZE`).
    pub const fn block_size(&self) -> u32 {
        self.block
    }

    /// The store's word: `WRITE_SIZE` rounded up to a multiple of it of at least 8 bytes.
    /// Every state word and every payload write is a whole number of words.
    pub const fn word(&self) -> u32 {
        self.word
    }

    /// Length of the head record padded to a word: where the state words start.
    pub const fn head_len(&self) -> u32 {
        round_up(HEAD_RECORD_LEN, self.word)
    }

    /// Offset of the COMMIT word in the head block.
    pub const fn commit_offset(&self) -> u32 {
        self.head_len()
    }

    /// Offset of the HANDLED word in the head block.
    pub const fn handled_offset(&self) -> u32 {
        self.head_len().saturating_add(self.word)
    }

    /// Offset of the DEAD word in the head block.
    pub const fn dead_offset(&self) -> u32 {
        self.head_len().saturating_add(self.word.saturating_mul(2))
    }

    /// Bytes of each extent that are not payload in its head block: the head
    /// and three state words. This is the budget's per-asset overhead.
    pub const fn container(&self) -> u32 {
        self.head_len().saturating_add(self.word.saturating_mul(3))
    }

    /// Bytes at the end of every block kept for its DONE word: the budget's
    /// per-block overhead.
    pub const fn per_block_overhead(&self) -> u32 {
        self.word
    }

    /// Offset of the DONE word inside a block.
    pub const fn done_offset(&self) -> u32 {
        self.block.saturating_sub(self.word)
    }

    /// Payload bytes the head block holds.
    pub const fn head_payload(&self) -> u32 {
        self.block_payload().saturating_sub(self.container())
    }

    /// Payload bytes every later block holds.
    pub const fn block_payload(&self) -> u32 {
        self.block.saturating_sub(self.word)
    }

    /// Blocks an asset whose payload is `payload_len` bytes occupies:
    /// `ceil((payload_len + container) / (block − word))`, at least 1.
    pub const fn blocks_for(&self, payload_len: u64) -> u64 {
        let per_block = self.block_payload() as u64;
        let needed = payload_len.saturating_add(self.container() as u64);
        let blocks = needed.div_ceil(per_block);
        if blocks == 0 { 1 } else { blocks }
    }

    /// Bytes of flash an asset whose payload is `payload_len` bytes occupies.
    pub const fn storage_size(&self, payload_len: u64) -> u64 {
        self.blocks_for(payload_len)
            .saturating_mul(self.block as u64)
    }

    /// Where payload byte `pos` sits: (block index in the extent, offset in that block).
    pub(crate) const fn locate(&self, pos: u64) -> (u64, u32) {
        let head = self.head_payload() as u64;
        if pos < head {
            // pos < head_payload < 256 KiB: the sum fits.
            (0, self.container().saturating_add(pos as u32))
        } else {
            let rest = pos.saturating_sub(head);
            // block_payload ≥ 8 (the layout was checked): never zero.
            let per = self.block_payload() as u64;
            match (rest.checked_div(per), rest.checked_rem(per)) {
                (Some(q), Some(r)) => (q.saturating_add(1), r as u32),
                _ => (u64::MAX, 0),
            }
        }
    }

    /// Payload bytes held by the first `blocks` blocks of an extent.
    pub(crate) const fn payload_in_blocks(&self, blocks: u64) -> u64 {
        if blocks == 0 {
            0
        } else {
            (self.head_payload() as u64).saturating_add(
                (blocks.saturating_sub(1)).saturating_mul(self.block_payload() as u64),
            )
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offsets_for_common_geometries() {
        let l = Layout::new(4, 4096).unwrap();
        assert_eq!(l.word(), 8);
        assert_eq!(l.head_len(), 80);
        assert_eq!(l.container(), 104);
        assert_eq!(l.per_block_overhead(), 8);
        assert_eq!(l.head_payload(), 4096 - 8 - 104);
        let l = Layout::new(16, 256).unwrap();
        assert_eq!((l.word(), l.head_len(), l.container()), (16, 80, 128));
        let l = Layout::new(32, 256).unwrap();
        assert_eq!((l.word(), l.head_len(), l.container()), (32, 96, 192));
        assert_eq!(l.head_payload(), 32);
        // Write size 3: the word is 9 bytes, and 2304 = 256 × 9 is a multiple of it.
        assert_eq!(Layout::new(3, 2304).unwrap().word(), 9);
    }

    #[test]
    fn blocks_match_the_budget_formula() {
        let l = Layout::new(1, 4096).unwrap();
        for len in [0u64, 1, 3983, 3984, 3985, 4088 + 3984, 4088 + 3985, 1 << 20] {
            let want = (len + 104).div_ceil(4088).max(1);
            assert_eq!(l.blocks_for(len), want, "{len}");
            // The payload really fits in that many blocks, and not in one fewer.
            assert!(l.payload_in_blocks(want) >= len);
            assert!(want == 1 || l.payload_in_blocks(want - 1) < len);
        }
    }

    #[test]
    fn locate_walks_blocks() {
        let l = Layout::new(8, 256).unwrap();
        assert_eq!(l.locate(0), (0, l.container()));
        let head = u64::from(l.head_payload());
        assert_eq!(l.locate(head - 1), (0, 256 - 8 - 1));
        assert_eq!(l.locate(head), (1, 0));
        assert_eq!(l.locate(head + 248), (2, 0));
    }

    #[test]
    fn rejects_unusable_geometries() {
        assert_eq!(Layout::new(0, 4096), Err(GeometryError::WriteSize(0)));
        assert_eq!(Layout::new(64, 4096), Err(GeometryError::WriteSize(64)));
        assert!(Layout::new(4, 128).is_err());
        assert!(Layout::new(4, 512 * 1024).is_err());
        assert!(Layout::new(3, 4096).is_err()); // word 9 does not divide 4096
    }
}
