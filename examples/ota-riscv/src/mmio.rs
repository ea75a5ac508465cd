//! The store's flash bank as memory-mapped I/O: the only raw memory access of
//! the firmware's flash driver.
//!
//! A [`Bank`] can be made once, for the fixed address range of QEMU virt's
//! second CFI flash, and every access is bounds- and alignment-checked before
//! it touches the hardware. That is what makes the volatile accesses below
//! sound: the range is device memory nothing else in the program maps (it is
//! outside the linker's FLASH and RAM regions), there is one owner, and no
//! access leaves the range or is misaligned.
#![allow(unsafe_code)]

use core::sync::atomic::{AtomicBool, Ordering};

/// QEMU virt: the second pflash (`-drive if=pflash,unit=1`).
const PFLASH1_BASE: usize = 0x2200_0000;
/// Its size: 32 MiB, fixed by the machine.
pub const PFLASH1_LEN: usize = 32 * 1024 * 1024;

static TAKEN: AtomicBool = AtomicBool::new(false);

/// Exclusive access to one memory-mapped flash bank.
pub struct Bank {
    base: usize,
    len: usize,
}

impl Bank {
    /// The second pflash of QEMU virt; `None` if it was already taken.
    pub fn take_pflash1() -> Option<Bank> {
        if TAKEN.swap(true, Ordering::AcqRel) {
            return None;
        }
        Some(Bank {
            base: PFLASH1_BASE,
            len: PFLASH1_LEN,
        })
    }

    /// Size of the bank in bytes.
    pub fn size(&self) -> usize {
        self.len
    }

    fn addr(&self, offset: usize, width: usize) -> Option<usize> {
        let end = offset.checked_add(width)?;
        (end <= self.len && offset.is_multiple_of(width)).then(|| self.base + offset)
    }

    /// A byte load at `offset` (in read-array mode: the flash contents).
    pub fn read_u8(&self, offset: usize) -> Option<u8> {
        let addr = self.addr(offset, 1)?;
        // SAFETY: `addr` is inside the bank this value owns (checked above).
        Some(unsafe { core::ptr::read_volatile(addr as *const u8) })
    }

    /// An aligned 32-bit load at `offset` (contents, or status in command mode).
    pub fn read_u32(&self, offset: usize) -> Option<u32> {
        let addr = self.addr(offset, 4)?;
        // SAFETY: inside the bank and 4-byte aligned (checked above).
        Some(unsafe { core::ptr::read_volatile(addr as *const u32) })
    }

    /// An aligned 32-bit store at `offset`: a command or program data.
    pub fn write_u32(&mut self, offset: usize, value: u32) -> Option<()> {
        let addr = self.addr(offset, 4)?;
        // SAFETY: inside the bank and 4-byte aligned (checked above); `&mut
        // self` makes it the only access in flight.
        unsafe { core::ptr::write_volatile(addr as *mut u32, value) };
        Some(())
    }
}
