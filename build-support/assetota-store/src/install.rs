//! Installing an asset: allocate or resume an extent, take the payload in
//! order, verify it from flash, commit.

use embedded_storage::nor_flash::NorFlash;

use crate::error::Error;
use crate::head::{Head, Parsed, RECORD, done_pattern};
use crate::layout::{GeometryError, MAX_WRITE_SIZE};
use crate::read::{Scratch, verify_extent};
use crate::store::{AssetId, Extent, Store};

/// Sequential payload writes into one extent: whole words to flash, the
/// partial word kept in RAM, a DONE word after each full block.
pub(crate) struct PayloadWriter {
    pub extent: Extent,
    /// Payload bytes accepted (flushed plus `tail_len`).
    pub pos: u64,
    tail: [u8; MAX_WRITE_SIZE as usize],
    tail_len: usize,
    /// Blocks whose DONE word is written (a prefix of the extent).
    pub done_blocks: u32,
}

impl PayloadWriter {
    pub fn new(extent: Extent, pos: u64, done_blocks: u32) -> Self {
        PayloadWriter {
            extent,
            pos,
            tail: [0xFF; MAX_WRITE_SIZE as usize],
            tail_len: 0,
            done_blocks,
        }
    }

    /// Appends payload bytes; the caller has checked the length.
    pub fn write<F: NorFlash, const MAX: usize>(
        &mut self,
        store: &mut Store<F, MAX>,
        mut data: &[u8],
    ) -> Result<(), Error<F::Error>> {
        let layout = store.part.layout;
        let word = layout.word() as usize;
        while !data.is_empty() {
            let flushed = self.pos.saturating_sub(self.tail_len as u64);
            let (index, offset) = layout.locate(flushed);
            let block = self.extent.first.saturating_add(index as u32);
            if self.tail_len > 0 || data.len() < word {
                // Fill the partial word.
                let take = word.saturating_sub(self.tail_len).min(data.len());
                let (head, rest) = data.split_at(take);
                if let Some(d) = self
                    .tail
                    .get_mut(self.tail_len..self.tail_len.saturating_add(take))
                {
                    d.copy_from_slice(head);
                }
                self.tail_len = self.tail_len.saturating_add(take);
                self.pos = self.pos.saturating_add(take as u64);
                data = rest;
                if self.tail_len == word {
                    let tail = self.tail;
                    store
                        .part
                        .write(block, offset, tail.get(..word).unwrap_or(&[]))?;
                    self.tail_len = 0;
                    self.tail = [0xFF; MAX_WRITE_SIZE as usize];
                    self.block_filled(store, index)?;
                }
                continue;
            }
            // Whole words straight from the caller's buffer, up to the block's end.
            let room = layout.done_offset().saturating_sub(offset) as usize;
            let n = data.len().min(room);
            let n = n.saturating_sub(n.checked_rem(word).unwrap_or(0));
            let (head, rest) = data.split_at(n);
            store.part.write(block, offset, head)?;
            self.pos = self.pos.saturating_add(n as u64);
            data = rest;
            self.block_filled(store, index)?;
        }
        Ok(())
    }

    /// Writes the DONE word of block `index` once its payload is complete
    /// (the last block's is written by [`close`](Self::close)).
    fn block_filled<F: NorFlash, const MAX: usize>(
        &mut self,
        store: &mut Store<F, MAX>,
        index: u64,
    ) -> Result<(), Error<F::Error>> {
        let layout = store.part.layout;
        let last = u64::from(self.extent.head.blocks.saturating_sub(1));
        let full_at = layout.payload_in_blocks(index.saturating_add(1));
        let flushed = self.pos.saturating_sub(self.tail_len as u64);
        if index < last && flushed >= full_at {
            self.mark_done(store, index as u32)?;
        }
        Ok(())
    }

    fn mark_done<F: NorFlash, const MAX: usize>(
        &mut self,
        store: &mut Store<F, MAX>,
        index: u32,
    ) -> Result<(), Error<F::Error>> {
        if index < self.done_blocks {
            return Ok(());
        }
        let block = self.extent.first.saturating_add(index);
        let pattern = done_pattern(self.extent.head.seq, index);
        store
            .part
            .set_word(block, store.part.layout.done_offset(), &pattern)?;
        self.done_blocks = index.saturating_add(1);
        Ok(())
    }

    /// Flushes the partial word (padded with 0xFF) and marks the last block done.
    pub fn close<F: NorFlash, const MAX: usize>(
        &mut self,
        store: &mut Store<F, MAX>,
    ) -> Result<(), Error<F::Error>> {
        let layout = store.part.layout;
        let word = layout.word() as usize;
        if self.tail_len > 0 {
            let flushed = self.pos.saturating_sub(self.tail_len as u64);
            let (index, offset) = layout.locate(flushed);
            let block = self.extent.first.saturating_add(index as u32);
            let tail = self.tail;
            store
                .part
                .write(block, offset, tail.get(..word).unwrap_or(&[]))?;
            self.tail_len = 0;
        }
        let last = self.extent.head.blocks.saturating_sub(1);
        // Blocks before the last are DONE once full; a short payload leaves
        // none of them unfilled (the block count is exact).
        let mut i = self.done_blocks;
        while i <= last {
            self.mark_done(store, i)?;
            i = i.saturating_add(1);
        }
        Ok(())
    }
}

/// An install in progress, from [`Store::install`].
///
/// Send the payload from [`resume_offset`](Self::resume_offset) with
/// [`write`](Self::write), then [`finish`](Self::finish). Dropping it (or a
/// power cut) at any point keeps what was written: the next `install` of the
/// same asset resumes after the last complete block.
pub struct Install<'s, F: NorFlash, const MAX: usize> {
    store: &'s mut Store<F, MAX>,
    state: State,
}

enum State {
    /// Already stored: nothing to send.
    Stored {
        payload_len: u64,
    },
    Writing(PayloadWriter),
    /// A flash error stopped it: words may be torn, so nothing more is
    /// programmed through it (a retry would program them twice).
    Interrupted,
}

impl<F: NorFlash, const MAX: usize> core::fmt::Debug for Install<'_, F, MAX> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Install")
            .field("resume_offset", &self.resume_offset())
            .field("already_stored", &self.is_stored())
            .finish_non_exhaustive()
    }
}

impl<F: NorFlash, const MAX: usize> Store<F, MAX> {
    /// Starts, resumes, or (for an asset already stored) skips the install
    /// of `asset`. A partial install of the same asset left by an earlier
    /// boot is resumed: its first unfinished block is erased again (and any
    /// later one that is not blank), the blocks before it are kept.
    pub fn install(
        &mut self,
        asset: impl Into<AssetId>,
    ) -> Result<Install<'_, F, MAX>, Error<F::Error>> {
        let id = asset.into();
        if !id.codec.is_valid() {
            // A head with such a codec would refuse every later mount.
            return Err(Error::InvalidCodec(id.codec));
        }
        crate::read::check_codec::<F::Error>(id.codec)?;
        if self.contains(&id.sha256) {
            return Ok(Install {
                store: self,
                state: State::Stored {
                    payload_len: id.payload_len,
                },
            });
        }
        let layout = self.part.layout;
        let blocks = layout.blocks_for(id.payload_len);
        let partial = self
            .live()
            .iter()
            .position(|e| !e.committed && e.head.sha256 == id.sha256);
        if let Some(i) = partial {
            let e = self.live().get(i).copied();
            match e {
                Some(e)
                    if e.head.size == id.size
                        && e.head.payload_len == id.payload_len
                        && e.head.codec == id.codec =>
                {
                    let writer = self.resume(i, e)?;
                    return Ok(Install {
                        store: self,
                        state: State::Writing(writer),
                    });
                }
                // Same content, other encoding (a new build changed the codec): start over.
                _ => self.kill(i)?,
            }
        }
        let Ok(blocks) = u32::try_from(blocks) else {
            return Err(self.no_space(blocks));
        };
        let Some(first) = self.allocate(blocks) else {
            return Err(self.no_space(u64::from(blocks)));
        };
        if self.len >= MAX {
            return Err(Error::TableFull { max: MAX });
        }
        let head = Head {
            blocks,
            seq: self.take_seq(),
            codec: id.codec,
            size: id.size,
            payload_len: id.payload_len,
            sha256: id.sha256,
        };
        let extent = self.create(first, head)?;
        Ok(Install {
            store: self,
            state: State::Writing(PayloadWriter::new(extent, 0, 0)),
        })
    }

    fn no_space(&self, blocks: u64) -> Error<F::Error> {
        Error::NoSpace {
            need: blocks.saturating_mul(u64::from(self.part.layout.block_size())),
            free: self.free(),
            largest_run: self.largest_free_run(),
        }
    }

    /// Erases the run, then writes the head: until the head is written the
    /// blocks are free space, so a cut anywhere leaves nothing half-made.
    /// Records hidden in reused dead extents are cleared first (see
    /// `clear_hidden_heads`).
    pub(crate) fn create(&mut self, first: u32, head: Head) -> Result<Extent, Error<F::Error>> {
        let end = first.saturating_add(head.blocks);
        self.clear_hidden_heads(first, end)?;
        // Last block first: a dead head in the run guards the blocks after
        // it until it is erased itself, so a cut never exposes them.
        let mut b = end;
        while b > first {
            b = b.saturating_sub(1);
            self.part.erase(b)?;
        }
        self.write_head(first, &head)?;
        let extent = Extent {
            first,
            head,
            committed: false,
            handled: false,
        };
        self.push(extent)?;
        Ok(extent)
    }

    /// Mount skips a dead extent's blocks whole, so the rest of a dead
    /// extent whose first blocks the run `first..end` reuses was never
    /// scanned: a head record its old payload holds there would surface at
    /// the next mount (and could claim blocks of live extents). While the
    /// dead head still guards that range, erase every block of it, outside
    /// the run and outside live extents, that starts with a valid record.
    fn clear_hidden_heads(&mut self, first: u32, end: u32) -> Result<(), Error<F::Error>> {
        let layout = self.part.layout;
        let mut guarded = end;
        let mut b = first;
        while b < end {
            let mut rec = [0u8; RECORD];
            self.part.read(b, 0, &mut rec)?;
            if let Parsed::Head(h) = Head::parse(&rec, &layout, b) {
                guarded = guarded.max(b.saturating_add(h.blocks).min(self.part.blocks));
            }
            b = b.saturating_add(1);
        }
        let mut b = end;
        while b < guarded {
            if let Some(live) = self.live().iter().find(|e| e.first <= b && b < e.end()) {
                b = live.end();
                continue;
            }
            let mut rec = [0u8; RECORD];
            self.part.read(b, 0, &mut rec)?;
            if !matches!(Head::parse(&rec, &layout, b), Parsed::None) {
                self.part.erase(b)?;
            }
            b = b.saturating_add(1);
        }
        Ok(())
    }

    fn write_head(&mut self, first: u32, head: &Head) -> Result<(), Error<F::Error>> {
        let layout = self.part.layout;
        let rec = head.encode(&layout, first);
        // head_len is at most round_up(76, 25) = 100 (word 25); never silently short.
        let mut buf = [0xFFu8; 128];
        for (d, s) in buf.iter_mut().zip(rec.iter()) {
            *d = *s;
        }
        let len = layout.head_len() as usize;
        let padded = buf
            .get(..len)
            .ok_or(Error::Geometry(GeometryError::WriteSize(layout.word())))?;
        self.part.write(first, 0, padded)
    }

    /// Picks up a partial extent after the blocks whose DONE word is written.
    fn resume(&mut self, index: usize, e: Extent) -> Result<PayloadWriter, Error<F::Error>> {
        let layout = self.part.layout;
        let mut done = 0u32;
        while done < e.head.blocks {
            let block = e.first.saturating_add(done);
            let want = done_pattern(e.head.seq, done);
            match self.part.word(block, layout.done_offset())? {
                Some(w) if w == want && self.done_word_rest_is_zero(block)? => {
                    done = done.saturating_add(1)
                }
                _ => break,
            }
        }
        if done == e.head.blocks {
            return Ok(PayloadWriter::new(e, e.head.payload_len, done));
        }
        if done == 0 {
            // The head block itself is unfinished: rewrite the extent from scratch.
            self.remove_entry(index);
            let head = Head {
                seq: self.take_seq(),
                ..e.head
            };
            let extent = self.create(e.first, head)?;
            return Ok(PayloadWriter::new(extent, 0, 0));
        }
        // Erase the unfinished block; later ones were never written, but make sure.
        let mut b = done;
        while b < e.head.blocks {
            let block = e.first.saturating_add(b);
            if b == done || !self.part.is_blank(block)? {
                self.part.erase(block)?;
            }
            b = b.saturating_add(1);
        }
        let pos = layout
            .payload_in_blocks(u64::from(done))
            .min(e.head.payload_len);
        Ok(PayloadWriter::new(e, pos, done))
    }

    /// Bytes of a DONE word after its 8-byte pattern are programmed to 0x00.
    fn done_word_rest_is_zero(&mut self, block: u32) -> Result<bool, Error<F::Error>> {
        let layout = self.part.layout;
        let mut buf = [0u8; MAX_WRITE_SIZE as usize];
        let len = layout.word() as usize;
        let w = buf.get_mut(..len).unwrap_or(&mut []);
        self.part.read(block, layout.done_offset(), w)?;
        Ok(w.iter().skip(8).all(|&b| b == 0))
    }

    /// Writes COMMIT on a verified extent.
    pub(crate) fn commit(&mut self, first: u32) -> Result<(), Error<F::Error>> {
        let off = self.part.layout.commit_offset();
        // Programmed only if it reads erased: a COMMIT an earlier failed
        // attempt left torn is never programmed twice.
        if self.part.word(first, off)?.is_none() {
            self.part.set_word(first, off, &[0u8; 8])?;
        }
        for i in 0..self.len {
            if let Some(slot) = self.table.get_mut(i)
                && slot.first == first
            {
                slot.committed = true;
            }
        }
        Ok(())
    }

    pub(crate) fn index_of(&self, first: u32) -> Option<usize> {
        self.live().iter().position(|e| e.first == first)
    }
}

impl<F: NorFlash, const MAX: usize> Install<'_, F, MAX> {
    /// The next payload offset to send (`Range: bytes=N-`): after a reboot,
    /// the payload of the blocks already complete on flash. Equal to the
    /// payload length when nothing is left.
    pub fn resume_offset(&self) -> u64 {
        match &self.state {
            State::Stored { payload_len } => *payload_len,
            State::Writing(w) => w.pos,
            State::Interrupted => 0,
        }
    }

    /// Whether the asset was already stored (the install costs nothing).
    pub fn is_stored(&self) -> bool {
        matches!(self.state, State::Stored { .. })
    }

    /// Takes the payload bytes at `offset`, which must be the next expected one.
    pub fn write(&mut self, offset: u64, data: &[u8]) -> Result<(), Error<F::Error>> {
        let w = match &mut self.state {
            State::Stored { .. } => return Ok(()),
            State::Interrupted => return Err(Error::Interrupted),
            State::Writing(w) => w,
        };
        if offset != w.pos {
            return Err(Error::OutOfOrder {
                expected: w.pos,
                got: offset,
            });
        }
        let end = w.pos.saturating_add(data.len() as u64);
        if end > w.extent.head.payload_len {
            return Err(Error::TooLong {
                expected: w.extent.head.payload_len,
                got: end,
            });
        }
        let result = w.write(self.store, data);
        if result.is_err() {
            self.state = State::Interrupted;
        }
        result
    }

    /// Decodes the payload from flash, checks its size and SHA-256, and only
    /// then commits. On a mismatch the extent is freed and the error says why.
    pub fn finish<const WIN: usize>(
        self,
        scratch: &mut Scratch<WIN>,
    ) -> Result<(), Error<F::Error>> {
        let Install { store, state } = self;
        let mut w = match state {
            State::Stored { .. } => return Ok(()),
            State::Interrupted => return Err(Error::Interrupted),
            State::Writing(w) => w,
        };
        if w.pos != w.extent.head.payload_len {
            return Err(Error::Short {
                expected: w.extent.head.payload_len,
                received: w.pos,
            });
        }
        w.close(store)?;
        match verify_extent(store, &w.extent, scratch) {
            Ok(()) => store.commit(w.extent.first),
            Err(e @ (Error::Verify(_) | Error::Corrupt)) => {
                if let Some(i) = store.index_of(w.extent.first) {
                    store.kill(i)?;
                }
                Err(e)
            }
            Err(e) => Err(e),
        }
    }
}
