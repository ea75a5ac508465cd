//! The store: mount, the table of extents, space, and the lifecycle
//! operations (handled flags, gc, compaction).

use core::ops::Range;

use assetota::{Asset, Codec, Manifest};
use embedded_storage::nor_flash::NorFlash;

use crate::error::Error;
use crate::head::{Head, Parsed, RECORD};
use crate::io::{BOUNCE, Partition};
use crate::layout::{GeometryError, Layout};

/// One extent: a run of blocks holding one asset's payload.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Extent {
    pub first: u32,
    pub head: Head,
    pub committed: bool,
    pub handled: bool,
}

const EMPTY: Extent = Extent {
    first: 0,
    head: Head {
        blocks: 0,
        seq: 0,
        codec: Codec::None,
        size: 0,
        payload_len: 0,
        sha256: [0; 32],
    },
    committed: false,
    handled: false,
};

impl Extent {
    pub fn end(&self) -> u32 {
        self.first.saturating_add(self.head.blocks)
    }
}

/// What the store holds for one extent, as [`Store::extents`] lists it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StoredAsset {
    /// SHA-256 of the raw bytes.
    pub sha256: [u8; 32],
    /// Raw size.
    pub size: u64,
    /// Payload bytes (the codec's output, or the raw bytes for codec none).
    pub payload_len: u64,
    /// Codec of the payload.
    pub codec: Codec,
    /// First block, relative to the partition.
    pub first_block: u32,
    /// Blocks occupied.
    pub blocks: u32,
    /// Install counter when it was written.
    pub seq: u32,
    /// Verified and committed (readable); otherwise an install in progress.
    pub committed: bool,
    /// Marked handled by the application.
    pub handled: bool,
}

/// What the store must know of an asset to install it: the manifest entry's
/// identity, raw size, payload length and codec.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AssetId {
    /// SHA-256 of the raw bytes.
    pub sha256: [u8; 32],
    /// Raw size.
    pub size: u64,
    /// Exact payload length (the manifest's compressed size).
    pub payload_len: u64,
    /// Codec of the payload.
    pub codec: Codec,
}

impl From<&Asset<'_>> for AssetId {
    fn from(a: &Asset<'_>) -> Self {
        AssetId {
            sha256: *a.sha256(),
            size: a.size(),
            payload_len: a.compressed_size(),
            codec: a.codec(),
        }
    }
}

impl From<Asset<'_>> for AssetId {
    fn from(a: Asset<'_>) -> Self {
        AssetId::from(&a)
    }
}

/// A content-addressed asset store on a partition of a NOR flash.
///
/// `MAX` is how many extents (stored assets plus installs in progress) the
/// table holds; each costs about 72 bytes of RAM.
pub struct Store<F: NorFlash, const MAX: usize> {
    pub(crate) part: Partition<F>,
    pub(crate) table: [Extent; MAX],
    pub(crate) len: usize,
    pub(crate) next_seq: u32,
}

impl<F: NorFlash, const MAX: usize> core::fmt::Debug for Store<F, MAX> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Store")
            .field("base", &self.part.base)
            .field("blocks", &self.part.blocks)
            .field("layout", &self.part.layout)
            .field("extents", &self.len)
            .finish_non_exhaustive()
    }
}

impl<F: NorFlash, const MAX: usize> Store<F, MAX> {
    /// Mounts the store on `range` (byte offsets in the flash, whole erase
    /// blocks) with the layout of the flash's own `WRITE_SIZE` and `ERASE_SIZE`.
    /// Only reads; accepts any flash contents.
    pub fn mount(flash: F, range: Range<u32>) -> Result<Self, Error<F::Error>> {
        let layout = Layout::new(F::WRITE_SIZE as u32, F::ERASE_SIZE as u32)?;
        Self::mount_with(flash, range, layout)
    }

    /// Mounts with an explicit layout: its blocks a multiple of the flash's
    /// `ERASE_SIZE`, its word a multiple of `WRITE_SIZE` (larger logical blocks
    /// than the flash erases, or a host image of another device's geometry).
    pub fn mount_with(
        flash: F,
        range: Range<u32>,
        layout: Layout,
    ) -> Result<Self, Error<F::Error>> {
        let erase = (F::ERASE_SIZE as u32).max(1);
        let write = (F::WRITE_SIZE as u32).max(1);
        let read = F::READ_SIZE.max(1);
        if !layout.block_size().is_multiple_of(erase) || !layout.word().is_multiple_of(write) {
            return Err(Error::Geometry(GeometryError::EraseSize {
                erase_size: F::ERASE_SIZE as u32,
                word: layout.word(),
            }));
        }
        if read > BOUNCE || !(layout.word() as usize).is_multiple_of(read) {
            return Err(Error::Geometry(GeometryError::ReadSize(
                F::READ_SIZE as u32,
            )));
        }
        let capacity = flash.capacity() as u64;
        let bad_partition = GeometryError::Partition {
            start: range.start,
            end: range.end,
            erase_size: layout.block_size(),
            capacity,
        };
        if range.start > range.end
            || u64::from(range.end) > capacity
            || !range.start.is_multiple_of(layout.block_size())
            || !range.end.is_multiple_of(layout.block_size())
        {
            return Err(Error::Geometry(bad_partition));
        }
        let blocks = range
            .end
            .saturating_sub(range.start)
            .checked_div(layout.block_size())
            .unwrap_or(0);
        if blocks == 0 {
            return Err(Error::Geometry(GeometryError::Empty));
        }
        let mut store = Store {
            part: Partition {
                flash,
                base: range.start,
                blocks,
                layout,
            },
            table: [EMPTY; MAX],
            len: 0,
            next_seq: 0,
        };
        store.scan()?;
        Ok(store)
    }

    /// Reads every head: what is not a live extent is free space.
    fn scan(&mut self) -> Result<(), Error<F::Error>> {
        let layout = self.part.layout;
        let mut block = 0u32;
        while block < self.part.blocks {
            let mut rec = [0u8; RECORD];
            self.part.read(block, 0, &mut rec)?;
            let head = match Head::parse(&rec, &layout, block) {
                Parsed::None => {
                    block = block.saturating_add(1);
                    continue;
                }
                Parsed::Foreign { block_size, word } => {
                    return Err(Error::ForeignLayout {
                        block_size,
                        word,
                        expected_block_size: layout.block_size(),
                        expected_word: layout.word(),
                    });
                }
                Parsed::Newer(v) => return Err(Error::UnsupportedLayout(v)),
                Parsed::Head(h) => h,
            };
            let end = block.saturating_add(head.blocks);
            if head.blocks == 0 || end > self.part.blocks {
                block = block.saturating_add(1);
                continue;
            }
            self.next_seq = self.next_seq.max(head.seq.saturating_add(1));
            if self.part.word(block, layout.dead_offset())?.is_some() {
                // Dead: its blocks are free. Skip them whole so that payload
                // bytes inside are never taken for heads.
                block = end;
                continue;
            }
            let committed = self.part.word(block, layout.commit_offset())?.is_some();
            let handled = self.part.word(block, layout.handled_offset())?.is_some();
            self.push(Extent {
                first: block,
                head,
                committed,
                handled,
            })?;
            block = end;
        }
        Ok(())
    }

    /// Appends or inserts an extent, keeping the table sorted by first block.
    pub(crate) fn push(&mut self, e: Extent) -> Result<usize, Error<F::Error>> {
        if self.len >= MAX {
            return Err(Error::TableFull { max: MAX });
        }
        let at = self
            .live()
            .iter()
            .position(|x| x.first > e.first)
            .unwrap_or(self.len);
        let mut i = self.len;
        while i > at {
            let prev = i.saturating_sub(1);
            if let Some(p) = self.table.get(prev).copied()
                && let Some(slot) = self.table.get_mut(i)
            {
                *slot = p;
            }
            i = prev;
        }
        if let Some(slot) = self.table.get_mut(at) {
            *slot = e;
        }
        self.len = self.len.saturating_add(1);
        Ok(at)
    }

    /// Removes table entry `index`.
    pub(crate) fn remove_entry(&mut self, index: usize) {
        if index >= self.len {
            return;
        }
        let mut i = index;
        while i.saturating_add(1) < self.len {
            let next = i.saturating_add(1);
            if let Some(n) = self.table.get(next).copied()
                && let Some(slot) = self.table.get_mut(i)
            {
                *slot = n;
            }
            i = next;
        }
        self.len = self.len.saturating_sub(1);
    }

    pub(crate) fn live(&self) -> &[Extent] {
        self.table.get(..self.len).unwrap_or(&[])
    }

    /// The committed extent for `sha` (the newest if a copy left two).
    pub(crate) fn find_committed(&self, sha: &[u8; 32]) -> Option<usize> {
        let mut best: Option<(usize, u32)> = None;
        for (i, e) in self.live().iter().enumerate() {
            if e.committed && &e.head.sha256 == sha && best.is_none_or(|(_, s)| e.head.seq > s) {
                best = Some((i, e.head.seq));
            }
        }
        best.map(|(i, _)| i)
    }

    /// Writes DEAD on extent `index` and drops it from the table.
    pub(crate) fn kill(&mut self, index: usize) -> Result<(), Error<F::Error>> {
        let Some(e) = self.live().get(index).copied() else {
            return Ok(());
        };
        let dead = self.part.layout.dead_offset();
        if self.part.word(e.first, dead)?.is_none() {
            self.part.set_word(e.first, dead, &[0u8; 8])?;
        }
        self.remove_entry(index);
        Ok(())
    }

    pub(crate) fn take_seq(&mut self) -> u32 {
        let s = self.next_seq;
        self.next_seq = self.next_seq.saturating_add(1);
        s
    }

    /// The layout the store was mounted with.
    pub fn layout(&self) -> Layout {
        self.part.layout
    }

    /// The partition's size in bytes.
    pub fn capacity(&self) -> u64 {
        u64::from(self.part.blocks).saturating_mul(u64::from(self.part.layout.block_size()))
    }

    /// Bytes occupied by extents (stored assets and installs in progress).
    pub fn used(&self) -> u64 {
        let blocks: u64 = self
            .live()
            .iter()
            .map(|e| u64::from(e.head.blocks))
            .fold(0, u64::saturating_add);
        blocks.saturating_mul(u64::from(self.part.layout.block_size()))
    }

    /// Bytes not occupied: `capacity() − used()`.
    pub fn free(&self) -> u64 {
        self.capacity().saturating_sub(self.used())
    }

    /// Free runs of blocks, in address order, as block ranges.
    pub(crate) fn free_runs(&self) -> FreeRuns<'_> {
        FreeRuns {
            extents: self.live(),
            next: 0,
            cursor: 0,
            end: self.part.blocks,
        }
    }

    /// The longest run of free bytes: the largest asset that can be installed
    /// without [`compact`](Self::compact).
    pub fn largest_free_run(&self) -> u64 {
        let blocks = self
            .free_runs()
            .map(|r| r.end.saturating_sub(r.start))
            .max()
            .unwrap_or(0);
        u64::from(blocks).saturating_mul(u64::from(self.part.layout.block_size()))
    }

    /// The first free run of at least `blocks` blocks.
    pub(crate) fn allocate(&self, blocks: u32) -> Option<u32> {
        self.free_runs()
            .find(|r| r.end.saturating_sub(r.start) >= blocks)
            .map(|r| r.start)
    }

    /// Every extent, in address order.
    pub fn extents(&self) -> impl Iterator<Item = StoredAsset> + '_ {
        self.live().iter().map(|e| StoredAsset {
            sha256: e.head.sha256,
            size: e.head.size,
            payload_len: e.head.payload_len,
            codec: e.head.codec,
            first_block: e.first,
            blocks: e.head.blocks,
            seq: e.head.seq,
            committed: e.committed,
            handled: e.handled,
        })
    }

    /// Whether a committed asset with this SHA-256 is stored.
    pub fn contains(&self, sha256: &[u8; 32]) -> bool {
        self.find_committed(sha256).is_some()
    }

    /// The manifest's assets that are not stored (what to download).
    pub fn missing<'m, 'a>(
        &'a self,
        manifest: &'a Manifest<'m>,
    ) -> impl Iterator<Item = Asset<'m>> + 'a {
        manifest.iter().filter(|a| !self.contains(a.sha256()))
    }

    /// The manifest's assets that are stored and not yet handled: what
    /// Particle's `onAssetOta` hands the application, but per asset.
    pub fn pending<'m, 'a>(
        &'a self,
        manifest: &'a Manifest<'m>,
    ) -> impl Iterator<Item = Asset<'m>> + 'a {
        manifest.iter().filter(|a| {
            self.find_committed(a.sha256())
                .and_then(|i| self.live().get(i))
                .is_some_and(|e| !e.handled)
        })
    }

    /// Whether the stored asset was marked handled.
    pub fn is_handled(&self, sha256: &[u8; 32]) -> bool {
        self.find_committed(sha256)
            .and_then(|i| self.live().get(i))
            .is_some_and(|e| e.handled)
    }

    /// Marks a stored asset handled (Particle's `assetsHandled`, per asset).
    /// Idempotent; survives power loss once it returns.
    pub fn mark_handled(&mut self, sha256: &[u8; 32]) -> Result<(), Error<F::Error>> {
        if !self.contains(sha256) {
            return Err(Error::NotStored);
        }
        let off = self.part.layout.handled_offset();
        for i in 0..self.len {
            let Some(e) = self.live().get(i).copied() else {
                break;
            };
            if e.committed && &e.head.sha256 == sha256 && !e.handled {
                if self.part.word(e.first, off)?.is_none() {
                    self.part.set_word(e.first, off, &[0u8; 8])?;
                }
                if let Some(slot) = self.table.get_mut(i) {
                    slot.handled = true;
                }
            }
        }
        Ok(())
    }

    /// Drops every copy of an asset, stored or being installed, so it can be
    /// installed again: for an asset whose read ended in
    /// [`Error::Verify`] (bit rot, a bad image). Returns the blocks freed.
    pub fn remove(&mut self, sha256: &[u8; 32]) -> Result<u32, Error<F::Error>> {
        self.gc_by(|s| s != sha256)
    }

    /// Frees every extent no kept manifest needs (keep the running and the
    /// incoming firmware's manifests until the new one is confirmed): stored
    /// assets, unfinished installs of assets no kept manifest lists, and
    /// superseded copies (an older copy left by compaction, an unfinished
    /// install of an asset that is stored). Returns the blocks freed.
    pub fn gc(&mut self, keep: &[Manifest<'_>]) -> Result<u32, Error<F::Error>> {
        self.gc_by(|sha| keep.iter().any(|m| m.iter().any(|a| a.sha256() == sha)))
    }

    /// [`gc`](Self::gc) with any rule for which SHA-256s to keep.
    pub fn gc_by(
        &mut self,
        mut keep: impl FnMut(&[u8; 32]) -> bool,
    ) -> Result<u32, Error<F::Error>> {
        let mut freed = 0u32;
        let mut i = 0usize;
        while i < self.len {
            let Some(e) = self.live().get(i).copied() else {
                break;
            };
            let best = self.find_committed(&e.head.sha256);
            let superseded = match best {
                Some(b) => b != i,
                None => false,
            };
            if superseded || !keep(&e.head.sha256) {
                self.kill(i)?;
                freed = freed.saturating_add(e.head.blocks);
            } else {
                i = i.saturating_add(1);
            }
        }
        Ok(freed)
    }

    /// Gives the flash back.
    pub fn into_flash(self) -> F {
        self.part.flash
    }
}

/// Free block ranges between the extents.
pub(crate) struct FreeRuns<'a> {
    extents: &'a [Extent],
    next: usize,
    cursor: u32,
    end: u32,
}

impl Iterator for FreeRuns<'_> {
    type Item = Range<u32>;

    fn next(&mut self) -> Option<Range<u32>> {
        while self.cursor < self.end {
            match self.extents.get(self.next) {
                Some(e) => {
                    self.next = self.next.saturating_add(1);
                    let start = self.cursor;
                    self.cursor = self.cursor.max(e.end());
                    if e.first > start {
                        return Some(start..e.first);
                    }
                }
                None => {
                    let start = self.cursor;
                    self.cursor = self.end;
                    return Some(start..self.end);
                }
            }
        }
        None
    }
}
