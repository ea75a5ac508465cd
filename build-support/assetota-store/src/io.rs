//! Flash access in the store's terms: blocks of the partition, whole words,
//! and reads of any length at any offset whatever the driver's `READ_SIZE`.

use embedded_storage::nor_flash::NorFlash;

use crate::error::Error;
use crate::layout::{GeometryError, Layout, MAX_WRITE_SIZE};

/// Largest `READ_SIZE` supported (reads are bounced through a buffer this big).
pub(crate) const BOUNCE: usize = 64;

/// A partition of a flash, addressed by block index and offset in the block.
pub(crate) struct Partition<F> {
    pub flash: F,
    /// Partition start in bytes from the start of the flash.
    pub base: u32,
    /// Number of blocks.
    pub blocks: u32,
    pub layout: Layout,
}

impl<F: NorFlash> Partition<F> {
    /// Absolute flash offset of byte `offset` of block `block`; saturates (and then
    /// fails in the driver's bounds check) rather than wrapping.
    pub fn addr(&self, block: u32, offset: u32) -> u32 {
        self.base
            .saturating_add(block.saturating_mul(self.layout.block_size()))
            .saturating_add(offset)
    }

    /// Reads `out.len()` bytes at `offset` of `block`, any alignment.
    pub fn read(&mut self, block: u32, offset: u32, out: &mut [u8]) -> Result<(), Error<F::Error>> {
        let start = self.addr(block, offset);
        read_any(&mut self.flash, start, out)
    }

    /// Writes whole words at a word-aligned offset of `block`.
    pub fn write(&mut self, block: u32, offset: u32, bytes: &[u8]) -> Result<(), Error<F::Error>> {
        let at = self.addr(block, offset);
        self.flash.write(at, bytes).map_err(Error::Flash)
    }

    /// Erases `block`.
    pub fn erase(&mut self, block: u32) -> Result<(), Error<F::Error>> {
        let from = self.addr(block, 0);
        let to = from.saturating_add(self.layout.block_size());
        self.flash.erase(from, to).map_err(Error::Flash)
    }

    /// Reads the state word at `offset` of `block`: `None` if erased (all 0xFF),
    /// else its first 8 bytes.
    pub fn word(&mut self, block: u32, offset: u32) -> Result<Option<[u8; 8]>, Error<F::Error>> {
        let mut buf = [0u8; MAX_WRITE_SIZE as usize];
        let len = self.layout.word() as usize;
        let word = buf.get_mut(..len).unwrap_or(&mut []);
        self.read(block, offset, word)?;
        if word.iter().all(|&b| b == 0xFF) {
            return Ok(None);
        }
        let mut first = [0xFFu8; 8];
        for (d, s) in first.iter_mut().zip(word.iter()) {
            *d = *s;
        }
        Ok(Some(first))
    }

    /// Programs a state word: `pattern` then 0x00 to the end of the word.
    pub fn set_word(
        &mut self,
        block: u32,
        offset: u32,
        pattern: &[u8],
    ) -> Result<(), Error<F::Error>> {
        let mut buf = [0u8; MAX_WRITE_SIZE as usize];
        for (d, s) in buf.iter_mut().zip(pattern.iter()) {
            *d = *s;
        }
        let len = self.layout.word() as usize;
        let word = buf
            .get(..len)
            .ok_or(Error::Geometry(GeometryError::WriteSize(
                self.layout.word(),
            )))?;
        self.write(block, offset, word)
    }

    /// Whether every byte of `block` reads as erased.
    pub fn is_blank(&mut self, block: u32) -> Result<bool, Error<F::Error>> {
        let mut buf = [0u8; BOUNCE];
        let mut offset = 0u32;
        let size = self.layout.block_size();
        while offset < size {
            let n = (size.saturating_sub(offset) as usize).min(BOUNCE);
            let chunk = buf.get_mut(..n).unwrap_or(&mut []);
            self.read(block, offset, chunk)?;
            if chunk.iter().any(|&b| b != 0xFF) {
                return Ok(false);
            }
            offset = offset.saturating_add(n as u32);
        }
        Ok(true)
    }
}

/// Reads any byte range through a driver that needs `READ_SIZE`-aligned reads.
pub(crate) fn read_any<F: NorFlash>(
    flash: &mut F,
    start: u32,
    out: &mut [u8],
) -> Result<(), Error<F::Error>> {
    let rs = F::READ_SIZE.max(1);
    if rs == 1 {
        return flash.read(start, out).map_err(Error::Flash);
    }
    let rs32 = rs as u32;
    let mut bounce = [0u8; BOUNCE];
    let mut done = 0usize;
    while done < out.len() {
        let pos = start.saturating_add(done as u32);
        let rest = out.len().saturating_sub(done);
        let misalign = pos.checked_rem(rs32).unwrap_or(0) as usize;
        let dest = out.get_mut(done..).unwrap_or(&mut []);
        if misalign == 0 && rest >= rs {
            // Aligned: read straight into the caller's buffer.
            let n = rest.saturating_sub(rest.checked_rem(rs).unwrap_or(0));
            flash
                .read(pos, dest.get_mut(..n).unwrap_or(&mut []))
                .map_err(Error::Flash)?;
            done = done.saturating_add(n);
        } else {
            let aligned = pos.saturating_sub(misalign as u32);
            let span = (misalign.saturating_add(rest))
                .div_ceil(rs)
                .saturating_mul(rs)
                .min(BOUNCE.saturating_sub(BOUNCE.checked_rem(rs).unwrap_or(0)));
            let chunk = bounce.get_mut(..span).unwrap_or(&mut []);
            flash.read(aligned, chunk).map_err(Error::Flash)?;
            let n = span.saturating_sub(misalign).min(rest);
            let src = chunk
                .get(misalign..misalign.saturating_add(n))
                .unwrap_or(&[]);
            if let Some(d) = dest.get_mut(..src.len()) {
                d.copy_from_slice(src);
            }
            if src.is_empty() {
                break;
            }
            done = done.saturating_add(src.len());
        }
    }
    Ok(())
}
