//! The semihosting calls riscv-semihosting 0.2 does not wrap: the command
//! line, reading host files, and an exit with any status.
//!
//! Each call passes the host a parameter block of machine words; the host
//! reads (and for the command line writes) the memory the block points to.
//! That is the whole of the unsafety: every pointer below is to a live local
//! or to a slice the caller lent for the duration of the call.
#![allow(unsafe_code)]

use core::fmt;
use core::sync::atomic::{AtomicIsize, Ordering};

use riscv_semihosting::{nr, syscall1};

/// SYS_EXIT_EXTENDED: like SYS_EXIT, with a status code on 32-bit targets too
/// (the plain SYS_EXIT of a 32-bit target reports only success or failure).
const SYS_EXIT_EXTENDED: usize = 0x20;
/// ADP_Stopped_ApplicationExit: the reason code of a normal exit.
const APPLICATION_EXIT: usize = 0x20026;

fn call(op: usize, block: &mut [usize]) -> isize {
    // SAFETY: `block` is a live parameter block of the layout `op` expects,
    // and its pointers (built by the callers below) are valid for the call.
    unsafe { syscall1(op, block.as_mut_ptr() as usize) as isize }
}

/// Exits QEMU with `status`.
pub fn exit(status: u32) -> ! {
    let mut block = [APPLICATION_EXIT, status as usize];
    call(SYS_EXIT_EXTENDED, &mut block);
    // A debugger may let the program go on; stop here.
    loop {
        core::hint::spin_loop();
    }
}

/// QEMU's stdout (`:tt` opened for writing) or stderr (`:tt` for appending).
#[derive(Clone, Copy)]
pub enum Stream {
    Out,
    Err,
}

static HANDLES: [AtomicIsize; 2] = [AtomicIsize::new(-1), AtomicIsize::new(-1)];

impl Stream {
    fn handle(self) -> Option<usize> {
        let (slot, mode) = match self {
            Stream::Out => (&HANDLES[0], nr::open::W_TRUNC),
            Stream::Err => (&HANDLES[1], nr::open::W_APPEND),
        };
        let mut h = slot.load(Ordering::Relaxed);
        if h < 0 {
            let tt = b":tt\0";
            let mut block = [tt.as_ptr() as usize, mode, tt.len() - 1];
            h = call(nr::OPEN, &mut block);
            slot.store(h, Ordering::Relaxed);
        }
        usize::try_from(h).ok()
    }

    /// Writes `args` and a newline.
    pub fn line(self, args: fmt::Arguments<'_>) {
        let _ = fmt::write(&mut Writer(self), format_args!("{args}\n"));
    }
}

struct Writer(Stream);

impl fmt::Write for Writer {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        let handle = self.0.handle().ok_or(fmt::Error)?;
        let mut block = [handle, s.as_ptr() as usize, s.len()];
        // The host returns the number of bytes it did NOT write.
        match call(nr::WRITE, &mut block) {
            0 => Ok(()),
            _ => Err(fmt::Error),
        }
    }
}

/// Prints a line on QEMU's stdout.
macro_rules! outln {
    ($($arg:tt)*) => {
        $crate::host::Stream::Out.line(format_args!($($arg)*))
    };
}

/// Prints a line on QEMU's stderr.
macro_rules! errln {
    ($($arg:tt)*) => {
        $crate::host::Stream::Err.line(format_args!($($arg)*))
    };
}

pub(crate) use {errln, outln};

/// The semihosting command line (`-semihosting-config arg=...`, joined by
/// spaces), read into `buf`.
pub fn cmdline(buf: &mut [u8]) -> Option<&str> {
    let mut block = [buf.as_mut_ptr() as usize, buf.len()];
    if call(nr::GET_CMDLINE, &mut block) != 0 {
        return None;
    }
    let len = block[1].min(buf.len());
    core::str::from_utf8(&buf[..len]).ok()
}

/// A host file open for reading.
pub struct File {
    handle: usize,
}

impl File {
    /// Opens `path` (NUL-terminated, relative to QEMU's working directory)
    /// for reading in binary mode.
    pub fn open(path: &[u8]) -> Option<File> {
        let (&0, name) = path.split_last()? else {
            return None;
        };
        let mut block = [path.as_ptr() as usize, nr::open::R_BINARY, name.len()];
        match call(nr::OPEN, &mut block) {
            -1 => None,
            handle => Some(File {
                handle: handle as usize,
            }),
        }
    }

    /// The file's length in bytes.
    pub fn size(&self) -> Option<u64> {
        let mut block = [self.handle];
        let n = call(nr::FLEN, &mut block);
        (n >= 0).then_some(n as u64)
    }

    /// Moves to byte `pos` from the start.
    pub fn seek(&mut self, pos: u64) -> bool {
        let Ok(pos) = usize::try_from(pos) else {
            return false;
        };
        let mut block = [self.handle, pos];
        call(nr::SEEK, &mut block) == 0
    }

    /// Reads up to `buf.len()` bytes; returns how many (0 at the end).
    pub fn read(&mut self, buf: &mut [u8]) -> Option<usize> {
        let mut block = [self.handle, buf.as_mut_ptr() as usize, buf.len()];
        // The host returns the number of bytes it did NOT read.
        let left = call(nr::READ, &mut block);
        let left = usize::try_from(left).ok().filter(|&l| l <= buf.len())?;
        Some(buf.len() - left)
    }
}

impl Drop for File {
    fn drop(&mut self) {
        let mut block = [self.handle];
        call(nr::CLOSE, &mut block);
    }
}
