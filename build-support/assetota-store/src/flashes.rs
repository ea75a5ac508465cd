//! Two flashes over plain memory: [`SliceFlash`] to build a store image on
//! the host (or keep one in RAM), [`ReadOnlyFlash`] to mount an image placed
//! in the firmware's own read-only flash.

use embedded_storage::nor_flash::{
    ErrorType, NorFlash, NorFlashError, NorFlashErrorKind, ReadNorFlash,
};

/// A NOR flash over a mutable byte slice: programming ANDs bits as real NOR
/// does, erase sets 0xFF. Byte granular (`READ_SIZE`, `WRITE_SIZE` and
/// `ERASE_SIZE` 1), so mount it with [`Store::mount_with`](crate::Store::mount_with)
/// and the layout of the device the image is for.
#[derive(Debug)]
pub struct SliceFlash<'a> {
    bytes: &'a mut [u8],
}

impl<'a> SliceFlash<'a> {
    /// A flash over `bytes` (fill it with 0xFF for an erased flash).
    pub fn new(bytes: &'a mut [u8]) -> Self {
        SliceFlash { bytes }
    }
}

/// An access outside a memory flash.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SliceFlashError;

impl NorFlashError for SliceFlashError {
    fn kind(&self) -> NorFlashErrorKind {
        NorFlashErrorKind::OutOfBounds
    }
}

impl ErrorType for SliceFlash<'_> {
    type Error = SliceFlashError;
}

fn span(len: usize, offset: u32, n: usize) -> Option<core::ops::Range<usize>> {
    let start = offset as usize;
    let end = start.checked_add(n)?;
    (end <= len).then_some(start..end)
}

impl ReadNorFlash for SliceFlash<'_> {
    const READ_SIZE: usize = 1;

    fn read(&mut self, offset: u32, bytes: &mut [u8]) -> Result<(), Self::Error> {
        let r = span(self.bytes.len(), offset, bytes.len()).ok_or(SliceFlashError)?;
        bytes.copy_from_slice(self.bytes.get(r).ok_or(SliceFlashError)?);
        Ok(())
    }

    fn capacity(&self) -> usize {
        self.bytes.len()
    }
}

impl NorFlash for SliceFlash<'_> {
    const WRITE_SIZE: usize = 1;
    const ERASE_SIZE: usize = 1;

    fn erase(&mut self, from: u32, to: u32) -> Result<(), Self::Error> {
        let n = (to as usize)
            .checked_sub(from as usize)
            .ok_or(SliceFlashError)?;
        let r = span(self.bytes.len(), from, n).ok_or(SliceFlashError)?;
        self.bytes.get_mut(r).ok_or(SliceFlashError)?.fill(0xFF);
        Ok(())
    }

    fn write(&mut self, offset: u32, bytes: &[u8]) -> Result<(), Self::Error> {
        let r = span(self.bytes.len(), offset, bytes.len()).ok_or(SliceFlashError)?;
        for (d, s) in self
            .bytes
            .get_mut(r)
            .ok_or(SliceFlashError)?
            .iter_mut()
            .zip(bytes)
        {
            *d &= *s;
        }
        Ok(())
    }
}

/// A store image in read-only memory (the firmware's own flash): reads
/// work, writes and erases fail. `WRITE_SIZE` and `ERASE_SIZE` are the
/// geometry the image was made for.
#[derive(Debug, Clone, Copy)]
pub struct ReadOnlyFlash<'a, const WRITE: usize, const ERASE: usize> {
    bytes: &'a [u8],
}

impl<'a, const WRITE: usize, const ERASE: usize> ReadOnlyFlash<'a, WRITE, ERASE> {
    /// A read-only flash over `bytes`.
    pub const fn new(bytes: &'a [u8]) -> Self {
        ReadOnlyFlash { bytes }
    }
}

/// A write or erase of a read-only flash, or a read outside it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReadOnlyError {
    /// Writes and erases are refused.
    ReadOnly,
    /// Outside the image.
    OutOfBounds,
}

impl NorFlashError for ReadOnlyError {
    fn kind(&self) -> NorFlashErrorKind {
        match self {
            ReadOnlyError::ReadOnly => NorFlashErrorKind::Other,
            ReadOnlyError::OutOfBounds => NorFlashErrorKind::OutOfBounds,
        }
    }
}

impl<const WRITE: usize, const ERASE: usize> ErrorType for ReadOnlyFlash<'_, WRITE, ERASE> {
    type Error = ReadOnlyError;
}

impl<const WRITE: usize, const ERASE: usize> ReadNorFlash for ReadOnlyFlash<'_, WRITE, ERASE> {
    const READ_SIZE: usize = 1;

    fn read(&mut self, offset: u32, bytes: &mut [u8]) -> Result<(), Self::Error> {
        let r = span(self.bytes.len(), offset, bytes.len()).ok_or(ReadOnlyError::OutOfBounds)?;
        bytes.copy_from_slice(self.bytes.get(r).ok_or(ReadOnlyError::OutOfBounds)?);
        Ok(())
    }

    fn capacity(&self) -> usize {
        self.bytes.len()
    }
}

impl<const WRITE: usize, const ERASE: usize> NorFlash for ReadOnlyFlash<'_, WRITE, ERASE> {
    const WRITE_SIZE: usize = WRITE;
    const ERASE_SIZE: usize = ERASE;

    fn erase(&mut self, _from: u32, _to: u32) -> Result<(), Self::Error> {
        Err(ReadOnlyError::ReadOnly)
    }

    fn write(&mut self, _offset: u32, _bytes: &[u8]) -> Result<(), Self::Error> {
        Err(ReadOnlyError::ReadOnly)
    }
}
