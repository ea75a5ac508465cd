//! Asset OTA on QEMU's riscv32 `virt` machine: the firmware runs in place
//! from the first flash and keeps its assets in an `assetota-store` on the
//! second (0x2200_0000, 32 MiB, 256 KiB sectors, CFI commands).
//!
//! At boot it mounts the store, installs the assets its embedded manifest
//! says are missing from an `export` directory on the host (`ota=DIR`, read
//! through semihosting file calls as a device would read HTTP ranges,
//! resuming what an earlier boot left), garbage-collects what the manifest
//! no longer needs, then prints every asset of the manifest as it reads it
//! back through the store:
//!
//! ```text
//! <sha256>  <size>  <name>        (or `missing  <size>  <name>`)
//! fetched F B                     (payload bytes read from DIR in this boot)
//! store: used U of T B
//! ```
//!
//! Exit status: 0, 2 when an asset is missing, 1 on an error (no manifest,
//! a store that does not mount, a store that fails a read), 3 after
//! `cut=K`'s simulated power cut. See README.md for the QEMU command.

#![no_std]
#![no_main]
#![deny(unsafe_code)]

mod flash;
mod host;
mod mmio;

use core::fmt::Write;
use core::sync::atomic::{AtomicU32, Ordering};

use assetota::Hex;
use assetota_store::{Error, Scratch, Store};
use embedded_storage::nor_flash::{ErrorType, NorFlash, ReadNorFlash};
use panic_halt as _;
// Linked for its critical-section implementation.
use riscv as _;
use riscv_rt::entry;
use sha2::{Digest, Sha256};

use crate::flash::CfiFlash;
use crate::host::{errln, outln};
use crate::mmio::{Bank, PFLASH1_LEN};

assetota::manifest!();

/// Extents the store's table holds: one per 256 KiB block of the 32 MiB
/// flash, the most there can ever be.
const MAX_EXTENTS: usize = PFLASH1_LEN / flash::ERASE_SIZE;
/// The decoder's window: `window-bits = 12` in Cargo.toml.
const WINDOW: usize = 1 << 12;
/// Payload bytes asked of the host per read (one HTTP range request).
const CHUNK: usize = 4096;

/// Flash writes and erases done in this boot.
static FLASH_OPS: AtomicU32 = AtomicU32::new(0);
/// Payload bytes read from the `ota=` directory in this boot.
static FETCHED: AtomicU32 = AtomicU32::new(0);

#[entry]
fn main() -> ! {
    let status = run();
    host::exit(status)
}

struct Args<'a> {
    ota: Option<&'a str>,
    cut: Option<u32>,
}

fn parse_args(line: &str) -> Result<Args<'_>, ()> {
    let mut args = Args {
        ota: None,
        cut: None,
    };
    for arg in line.split(' ').filter(|a| !a.is_empty()) {
        if let Some(dir) = arg.strip_prefix("ota=") {
            args.ota = Some(dir);
        } else if let Some(k) = arg.strip_prefix("cut=") {
            match k.parse() {
                Ok(k) => args.cut = Some(k),
                Err(_) => {
                    errln!("cut={k}: expected a number of flash operations");
                    return Err(());
                }
            }
        } else {
            errln!("ignoring unknown argument {arg:?} (expected ota=DIR or cut=K)");
        }
    }
    Ok(args)
}

fn run() -> u32 {
    let mut line = [0u8; 2048];
    let Some(line) = host::cmdline(&mut line) else {
        errln!("cannot read the semihosting command line");
        return 1;
    };
    let Ok(args) = parse_args(line) else {
        return 1;
    };
    let manifest = match ASSETOTA.manifest() {
        Ok(m) => m,
        Err(e) => {
            errln!("invalid manifest: {e}");
            return 1;
        }
    };
    let Some(bank) = Bank::take_pflash1() else {
        return 1;
    };
    let cfi = match CfiFlash::new(bank) {
        Ok(f) => f,
        Err(e) => {
            errln!("no store flash at 0x2200_0000: {e:?}");
            return 1;
        }
    };
    let flash = PowerCut::new(cfi, args.cut);
    let mut store = match Store::<_, MAX_EXTENTS>::mount(flash, 0..PFLASH1_LEN as u32) {
        Ok(s) => s,
        Err(e) => {
            errln!("cannot mount the store: {e}");
            return 1;
        }
    };
    let mut scratch = Scratch::<WINDOW>::new();
    let mut buf = [0u8; CHUNK];

    if let Some(dir) = args.ota {
        for asset in manifest.iter() {
            if !store.contains(asset.sha256()) {
                fetch(&mut store, &asset, dir, &mut scratch, &mut buf);
            }
        }
    }
    let mut status = 0;
    if let Err(e) = store.gc(&[manifest]) {
        errln!("gc failed: {e}");
        status = 1;
    }

    for asset in manifest.iter() {
        match read_back(&mut store, asset.sha256(), &mut scratch, &mut buf) {
            Ok(Some(read)) => outln!("{}  {}  {}", Hex(&read.sha256), read.size, asset.name()),
            Ok(None) => {
                outln!("missing  {}  {}", asset.size(), asset.name());
                if status == 0 {
                    status = 2;
                }
            }
            Err(e) => {
                errln!("{}: read back failed: {e}", asset.name());
                outln!("missing  {}  {}", asset.size(), asset.name());
                status = 1;
            }
        }
    }
    outln!("fetched {} B", FETCHED.load(Ordering::Relaxed));
    outln!("store: used {} of {} B", store.used(), store.capacity());
    errln!("flash ops {}", FLASH_OPS.load(Ordering::Relaxed));
    status
}

/// Installs `asset` from `DIR/blobs/<sha256>`, resuming after what an earlier
/// boot left, counting the payload bytes read from the host in [`FETCHED`].
/// A blob that is absent, of the wrong length, or that fails verification
/// leaves the asset missing (and says why on stderr).
fn fetch<F: NorFlash>(
    store: &mut Store<F, MAX_EXTENTS>,
    asset: &assetota::Asset<'_>,
    dir: &str,
    scratch: &mut Scratch<WINDOW>,
    buf: &mut [u8; CHUNK],
) where
    F::Error: core::fmt::Debug,
{
    let mut path = Path::new();
    if write!(path, "{dir}/blobs/{}\0", asset.sha256_hex()).is_err() {
        errln!("{}: the path under {dir:?} is too long", asset.name());
        return;
    }
    let Some(mut blob) = host::File::open(path.as_bytes()) else {
        errln!("{}: no blob at {}", asset.name(), path.as_str());
        return;
    };
    let len = blob.size().unwrap_or(0);
    if len != asset.compressed_size() {
        errln!(
            "{}: the blob is {len} B, the manifest says {} B; not installed",
            asset.name(),
            asset.compressed_size()
        );
        return;
    }
    let mut install = match store.install(asset) {
        Ok(i) => i,
        Err(e) => {
            errln!("{}: cannot install: {e}", asset.name());
            return;
        }
    };
    let mut offset = install.resume_offset();
    if offset < len && !blob.seek(offset) {
        errln!("{}: cannot seek the blob to {offset}", asset.name());
        return;
    }
    while offset < len {
        let want = (len - offset).min(CHUNK as u64) as usize;
        let got = match blob.read(&mut buf[..want]) {
            Some(n) if n > 0 => n,
            _ => {
                errln!("{}: the blob ended at {offset} of {len} B", asset.name());
                return;
            }
        };
        FETCHED.fetch_add(got as u32, Ordering::Relaxed);
        if let Err(e) = install.write(offset, &buf[..got]) {
            errln!("{}: cannot write: {e}", asset.name());
            return;
        }
        offset += got as u64;
    }
    if let Err(e) = install.finish(scratch) {
        errln!("{}: refused: {e}", asset.name());
    }
}

/// What reading an asset back through the store gave.
struct ReadBack {
    sha256: [u8; 32],
    size: u64,
}

/// Streams a stored asset through the store's reader: its SHA-256 and size
/// as read, or `None` when it is not stored.
fn read_back<F: NorFlash>(
    store: &mut Store<F, MAX_EXTENTS>,
    sha256: &[u8; 32],
    scratch: &mut Scratch<WINDOW>,
    buf: &mut [u8; CHUNK],
) -> Result<Option<ReadBack>, Error<F::Error>> {
    let mut reader = match store.open(sha256, scratch) {
        Ok(r) => r,
        Err(Error::NotStored) => return Ok(None),
        Err(e) => return Err(e),
    };
    let mut hasher = Sha256::new();
    let mut size = 0u64;
    loop {
        let n = reader.read(buf)?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
        size += n as u64;
    }
    Ok(Some(ReadBack {
        sha256: hasher.finalize().into(),
        size,
    }))
}

/// A flash that loses power right after its `cut`-th write or erase: the
/// boot stops there, with nothing after it done, as a real power cut.
struct PowerCut<F> {
    flash: F,
    cut: Option<u32>,
}

impl<F> PowerCut<F> {
    fn new(flash: F, cut: Option<u32>) -> Self {
        let this = PowerCut { flash, cut };
        this.tick(0);
        this
    }

    fn tick(&self, n: u32) {
        let ops = FLASH_OPS.fetch_add(n, Ordering::Relaxed) + n;
        if self.cut == Some(ops) {
            outln!("power cut after {ops} flash operations");
            errln!(
                "fetched {} B before the cut",
                FETCHED.load(Ordering::Relaxed)
            );
            host::exit(3);
        }
    }
}

impl<F: ErrorType> ErrorType for PowerCut<F> {
    type Error = F::Error;
}

impl<F: ReadNorFlash> ReadNorFlash for PowerCut<F> {
    const READ_SIZE: usize = F::READ_SIZE;

    fn read(&mut self, offset: u32, bytes: &mut [u8]) -> Result<(), Self::Error> {
        self.flash.read(offset, bytes)
    }

    fn capacity(&self) -> usize {
        self.flash.capacity()
    }
}

impl<F: NorFlash> NorFlash for PowerCut<F> {
    const WRITE_SIZE: usize = F::WRITE_SIZE;
    const ERASE_SIZE: usize = F::ERASE_SIZE;

    fn erase(&mut self, from: u32, to: u32) -> Result<(), Self::Error> {
        self.flash.erase(from, to)?;
        self.tick(1);
        Ok(())
    }

    fn write(&mut self, offset: u32, bytes: &[u8]) -> Result<(), Self::Error> {
        self.flash.write(offset, bytes)?;
        self.tick(1);
        Ok(())
    }
}

/// A NUL-terminated host path built in place.
struct Path {
    buf: [u8; 1280],
    len: usize,
}

impl Path {
    fn new() -> Self {
        Path {
            buf: [0; 1280],
            len: 0,
        }
    }

    fn as_bytes(&self) -> &[u8] {
        &self.buf[..self.len]
    }

    /// Without the NUL.
    fn as_str(&self) -> &str {
        let bytes = self.as_bytes();
        core::str::from_utf8(&bytes[..bytes.len().saturating_sub(1)]).unwrap_or("?")
    }
}

impl Write for Path {
    fn write_str(&mut self, s: &str) -> core::fmt::Result {
        let end = self.len + s.len();
        self.buf
            .get_mut(self.len..end)
            .ok_or(core::fmt::Error)?
            .copy_from_slice(s.as_bytes());
        self.len = end;
        Ok(())
    }
}
