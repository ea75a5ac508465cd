//! An `embedded-storage` NOR flash driver for an Intel/Sharp (CFI command set
//! 0x0001) parallel flash bank, as QEMU's `cfi.pflash01` emulates it on the
//! virt machine: a 32-bit bank of two x16 chips side by side (bank width 4,
//! device width 2; the CFI query answers "QRY" in both halves), 256 KiB
//! sectors.
//!
//! Commands go to both chips at once (the command byte in each 16-bit half):
//! `0x98` at word 0x55 reads the CFI query, `0xE8`, the word count − 1, the
//! data words and `0xD0` program through the write buffer (2 KiB per chip,
//! CFI byte 0x2A, so 4 KiB of the bank at once), `0x20` then `0xD0` erases
//! the sector, status reads report ready in bit 7 of each half, `0x50`
//! clears the status and `0xFF` returns to read-array mode, where the
//! contents are plain loads. The driver always leaves the bank in read-array
//! mode. (Word programming, `0x40` then the data word, works too, but QEMU
//! writes 512 bytes of the image file for every word: 40 µs a word, 28 s
//! for 2.6 MB, against under a second through the buffer.)
//!
//! NOR rules are the driver's, not the emulator's: a real chip ANDs a
//! re-programmed word, QEMU overwrites it. The driver relies on neither: it
//! refuses to program a word that is not erased ([`CfiError::NotErased`]),
//! and never programs words of all ones (a no-op on real NOR, an overwrite
//! on QEMU): runs of other words are programmed, those are skipped.

use embedded_storage::nor_flash::{
    ErrorType, NorFlash, NorFlashError, NorFlashErrorKind, ReadNorFlash, check_erase, check_read,
    check_write,
};

use crate::mmio::Bank;

/// Program width: the bank's 32 bits.
pub const WRITE_SIZE: usize = 4;
/// Sector size.
pub const ERASE_SIZE: usize = 256 * 1024;

/// A command byte sent to both x16 chips of the bank.
const fn cmd(c: u8) -> u32 {
    c as u32 * 0x0001_0001
}

const QUERY: u32 = cmd(0x98);
const WRITE_BUFFER: u32 = cmd(0xE8);
const CONFIRM: u32 = cmd(0xD0);
const ERASE_SETUP: u32 = cmd(0x20);
const CLEAR_STATUS: u32 = cmd(0x50);
const READ_ARRAY: u32 = cmd(0xFF);
/// Status bit 7 (ready) of both chips.
const READY: u32 = 0x0080_0080;
/// Status bits 5 (erase error), 4 (program error), 3 (low VPP), 1 (locked).
const FAILED: u32 = 0x003A_003A;
/// Status polls before giving up (QEMU is ready at once; real chips need
/// microseconds to a few seconds for an erase).
const POLLS: u32 = 50_000_000;

/// What can go wrong.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CfiError {
    /// Outside the bank.
    OutOfBounds,
    /// Offset or length not a multiple of the write or erase size.
    NotAligned,
    /// A write to a word that is not erased: NOR cannot do that.
    NotErased {
        /// Offset of the word.
        offset: u32,
    },
    /// The chip reported a program or erase failure (its status register).
    Device {
        /// The status of both chips.
        status: u32,
    },
    /// The chip never reported ready.
    Timeout,
    /// No CFI flash answers the query ("QRY" in both chips).
    NotCfi,
}

impl NorFlashError for CfiError {
    fn kind(&self) -> NorFlashErrorKind {
        match self {
            CfiError::OutOfBounds => NorFlashErrorKind::OutOfBounds,
            CfiError::NotAligned => NorFlashErrorKind::NotAligned,
            _ => NorFlashErrorKind::Other,
        }
    }
}

impl From<NorFlashErrorKind> for CfiError {
    fn from(kind: NorFlashErrorKind) -> Self {
        match kind {
            NorFlashErrorKind::NotAligned => CfiError::NotAligned,
            _ => CfiError::OutOfBounds,
        }
    }
}

/// The driver. Offsets are from the start of the bank.
pub struct CfiFlash {
    bank: Bank,
    /// Bytes of the bank one buffered program may cover (an aligned window).
    buffer: usize,
}

impl CfiFlash {
    /// Checks the CFI query, reads the write-buffer size and leaves the bank
    /// in a known state (status cleared, read array).
    pub fn new(bank: Bank) -> Result<Self, CfiError> {
        let mut flash = CfiFlash { bank, buffer: 0 };
        flash.command(0x55 * 4, QUERY)?;
        // Query byte n is at bank word n, one byte per chip.
        let byte = |f: &Self, n: usize| f.bank.read_u32(n * 4).ok_or(CfiError::OutOfBounds);
        let qry = [
            byte(&flash, 0x10)?,
            byte(&flash, 0x11)?,
            byte(&flash, 0x12)?,
        ];
        let log2 = byte(&flash, 0x2A)?;
        flash.command(0, CLEAR_STATUS)?;
        flash.command(0, READ_ARRAY)?;
        if qry != [cmd(b'Q'), cmd(b'R'), cmd(b'Y')] || log2 != cmd(log2 as u8) {
            return Err(CfiError::NotCfi);
        }
        // Per chip 2^log2 bytes, two chips side by side; at least a word.
        flash.buffer = 1usize
            .checked_shl(log2 & 0xFF)
            .unwrap_or(0)
            .saturating_mul(2)
            .clamp(WRITE_SIZE, ERASE_SIZE);
        Ok(flash)
    }

    fn command(&mut self, offset: usize, value: u32) -> Result<(), CfiError> {
        self.bank
            .write_u32(offset, value)
            .ok_or(CfiError::OutOfBounds)
    }

    /// Waits for both chips to be ready, then checks for failure. Leaves the
    /// bank in read-array mode on error.
    fn wait(&mut self, offset: usize) -> Result<(), CfiError> {
        for _ in 0..POLLS {
            let status = self.bank.read_u32(offset).ok_or(CfiError::OutOfBounds)?;
            if status & READY == READY {
                if status & FAILED != 0 {
                    self.command(offset, CLEAR_STATUS)?;
                    self.command(offset, READ_ARRAY)?;
                    return Err(CfiError::Device { status });
                }
                return Ok(());
            }
        }
        self.command(offset, READ_ARRAY)?;
        Err(CfiError::Timeout)
    }

    /// Programs the words of `bytes` at `offset`: each run of words other
    /// than all ones, split at write-buffer windows, in one buffered program.
    fn program_words(&mut self, offset: usize, bytes: &[u8]) -> Result<(), CfiError> {
        let word = |i: usize| {
            let w = &bytes[i * WRITE_SIZE..(i + 1) * WRITE_SIZE];
            u32::from_le_bytes([w[0], w[1], w[2], w[3]])
        };
        let words = bytes.len() / WRITE_SIZE;
        let mut i = 0;
        while i < words {
            if word(i) == u32::MAX {
                i += 1;
                continue;
            }
            let at = offset + i * WRITE_SIZE;
            let window_end = (at / self.buffer + 1) * self.buffer;
            let mut end = i + 1;
            while end < words && offset + end * WRITE_SIZE < window_end && word(end) != u32::MAX {
                end += 1;
            }
            self.command(at, WRITE_BUFFER)?;
            self.wait(at)?;
            // Bus writes that follow, minus one, to each chip.
            self.command(at, (end - i - 1) as u32 * 0x0001_0001)?;
            for j in i..end {
                self.command(offset + j * WRITE_SIZE, word(j))?;
            }
            self.command(at, CONFIRM)?;
            self.wait(at)?;
            i = end;
        }
        Ok(())
    }
}

impl ErrorType for CfiFlash {
    type Error = CfiError;
}

impl ReadNorFlash for CfiFlash {
    const READ_SIZE: usize = 1;

    fn read(&mut self, offset: u32, bytes: &mut [u8]) -> Result<(), CfiError> {
        check_read(self, offset, bytes.len())?;
        let mut at = offset as usize;
        let mut rest = bytes;
        // Bytes up to a word boundary, then words, then the tail.
        while !rest.is_empty() {
            if at.is_multiple_of(4) && rest.len() >= 4 {
                let (word, tail) = rest.split_at_mut(4);
                let v = self.bank.read_u32(at).ok_or(CfiError::OutOfBounds)?;
                word.copy_from_slice(&v.to_le_bytes());
                rest = tail;
                at += 4;
            } else {
                let (byte, tail) = rest.split_at_mut(1);
                byte[0] = self.bank.read_u8(at).ok_or(CfiError::OutOfBounds)?;
                rest = tail;
                at += 1;
            }
        }
        Ok(())
    }

    fn capacity(&self) -> usize {
        self.bank.size()
    }
}

impl NorFlash for CfiFlash {
    const WRITE_SIZE: usize = WRITE_SIZE;
    const ERASE_SIZE: usize = ERASE_SIZE;

    fn erase(&mut self, from: u32, to: u32) -> Result<(), CfiError> {
        check_erase(self, from, to)?;
        let mut sector = from as usize;
        while sector < to as usize {
            self.command(sector, ERASE_SETUP)?;
            self.command(sector, CONFIRM)?;
            self.wait(sector)?;
            self.command(sector, READ_ARRAY)?;
            sector += ERASE_SIZE;
        }
        Ok(())
    }

    fn write(&mut self, offset: u32, bytes: &[u8]) -> Result<(), CfiError> {
        check_write(self, offset, bytes.len())?;
        let start = offset as usize;
        // In read-array mode: every word to program must be erased.
        for (i, word) in bytes.chunks_exact(WRITE_SIZE).enumerate() {
            let at = start + i * WRITE_SIZE;
            if word != [0xFF; WRITE_SIZE] {
                let current = self.bank.read_u32(at).ok_or(CfiError::OutOfBounds)?;
                if current != u32::MAX {
                    return Err(CfiError::NotErased { offset: at as u32 });
                }
            }
        }
        let result = self.program_words(start, bytes);
        self.command(start, READ_ARRAY)?;
        result
    }
}
