//! Defragmentation by copy: move committed extents into lower free runs so
//! free space joins up. Every step is power-fail safe because two copies of
//! the same asset are harmless (the newer is read, gc drops the older).

use embedded_storage::nor_flash::NorFlash;

use crate::error::Error;
use crate::head::Head;
use crate::install::PayloadWriter;
use crate::read::{PayloadSource, Scratch, verify_extent};
use crate::store::{Extent, Store};

impl<F: NorFlash, const MAX: usize> Store<F, MAX> {
    /// Moves committed assets towards the start of the partition, first fit,
    /// until no asset can move lower. Returns how many were moved.
    pub fn compact<const WIN: usize>(
        &mut self,
        scratch: &mut Scratch<WIN>,
    ) -> Result<u32, Error<F::Error>> {
        // Superseded copies (and unfinished installs of stored assets) go first.
        self.gc_by(|_| true)?;
        let mut moved = 0u32;
        loop {
            let mut next = None;
            for e in self.live().iter().filter(|e| e.committed) {
                let dest = self
                    .free_runs()
                    .find(|r| r.start < e.first && r.end.saturating_sub(r.start) >= e.head.blocks);
                if let Some(r) = dest {
                    next = Some((*e, r.start));
                    break;
                }
            }
            let Some((extent, dest)) = next else {
                return Ok(moved);
            };
            // A copy that does not verify stops compaction with the error
            // (the original is kept); `remove` drops an asset that rotted.
            self.move_extent(extent, dest, scratch)?;
            moved = moved.saturating_add(1);
        }
    }

    fn move_extent<const WIN: usize>(
        &mut self,
        old: Extent,
        dest: u32,
        scratch: &mut Scratch<WIN>,
    ) -> Result<(), Error<F::Error>> {
        if self.len >= MAX {
            return Err(Error::TableFull { max: MAX });
        }
        let head = Head {
            seq: self.take_seq(),
            ..old.head
        };
        let new = self.create(dest, head)?;
        let mut writer = PayloadWriter::new(new, 0, 0);
        let mut source = PayloadSource {
            extent: old,
            pos: 0,
        };
        let mut buf = [0u8; 256];
        loop {
            let n = source.read(&mut self.part, &mut buf)?;
            if n == 0 {
                break;
            }
            writer.write(self, buf.get(..n).unwrap_or(&[]))?;
        }
        writer.close(self)?;
        if let Err(e) = verify_extent(self, &new, scratch) {
            if let Some(i) = self.index_of(new.first) {
                self.kill(i)?;
            }
            return Err(e);
        }
        if old.handled {
            let off = self.part.layout.handled_offset();
            self.part.set_word(new.first, off, &[0u8; 8])?;
            if let Some(i) = self.index_of(new.first)
                && let Some(slot) = self.table.get_mut(i)
            {
                slot.handled = true;
            }
        }
        self.commit(new.first)?;
        if let Some(i) = self.index_of(old.first) {
            self.kill(i)?;
        }
        Ok(())
    }
}
