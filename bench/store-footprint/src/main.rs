//! Code size and RAM of assetota-store on a Cortex-M3 (see Cargo.toml).
//! Prints, over semihosting: the static sizes of the store and the scratch,
//! and the peak stack of installing, verifying and reading an asset, for
//! deflate windows of 4 KiB and 32 KiB. Stack is measured by painting.
#![no_std]
#![no_main]

use cortex_m as _;
use cortex_m_rt::entry;
use cortex_m_semihosting::{debug, hprintln};
use panic_halt as _;

#[cfg(feature = "store")]
mod measure {
    use assetota::Codec;
    use assetota_store::{AssetId, Scratch, SliceFlash, Store, layout::Layout};
    use cortex_m_semihosting::hprintln;

    pub const PAYLOAD12: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/payload12.bin"));
    pub const PAYLOAD15: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/payload15.bin"));
    const SHA: &[u8; 32] = include_bytes!(concat!(env!("OUT_DIR"), "/raw.sha256"));
    const LEN: &[u8; 8] = include_bytes!(concat!(env!("OUT_DIR"), "/raw.len"));

    /// 32 blocks of 256 B of "flash" in RAM.
    pub type Flash = SliceFlash<'static>;
    pub const MAX: usize = 8;

    /// Installs the payload, reads it back; returns whether the bytes verified.
    #[inline(never)]
    pub fn run<const WIN: usize>(
        flash: &'static mut [u8; 8192],
        payload: &[u8],
        bits: u8,
        scratch: &mut Scratch<WIN>,
    ) -> bool {
        flash.fill(0xFF);
        let Ok(layout) = Layout::new(4, 256) else {
            return false;
        };
        let Ok(mut store) =
            Store::<Flash, MAX>::mount_with(SliceFlash::new(flash), 0..8192, layout)
        else {
            return false;
        };
        let id = AssetId {
            sha256: *SHA,
            size: u64::from_le_bytes(*LEN),
            payload_len: payload.len() as u64,
            codec: Codec::Deflate { window_bits: bits },
        };
        let Ok(mut inst) = store.install(id) else {
            return false;
        };
        for (i, chunk) in payload.chunks(100).enumerate() {
            if inst.write((i * 100) as u64, chunk).is_err() {
                return false;
            }
        }
        if inst.finish(scratch).is_err() {
            return false;
        }
        let Ok(mut reader) = store.open(SHA, scratch) else {
            return false;
        };
        let mut buf = [0u8; 64];
        let mut n = 0u64;
        loop {
            match reader.read(&mut buf) {
                Ok(0) => break,
                Ok(k) => n += k as u64,
                Err(_) => return false,
            }
        }
        let _ = store.gc_by(|_| true);
        n == u64::from_le_bytes(*LEN)
    }

    pub fn report<const WIN: usize>() -> bool {
        hprintln!(
            "static: Store<SliceFlash, {}> {} B, Scratch<{}> {} B",
            MAX,
            core::mem::size_of::<Store<Flash, MAX>>(),
            WIN,
            core::mem::size_of::<Scratch<WIN>>()
        );
        true
    }
}

unsafe extern "C" {
    static mut __ebss: u32;
}

/// Fills the free stack below the current frame with a pattern.
#[inline(never)]
fn paint() -> (usize, usize) {
    let sp = cortex_m::register::msp::read() as usize - 256;
    let bottom = &raw mut __ebss as usize;
    let mut p = bottom;
    while p < sp {
        // SAFETY: between the end of .bss and below the live frame: unused stack.
        unsafe { core::ptr::write_volatile(p as *mut u32, 0xA5A5_A5A5) };
        p += 4;
    }
    (bottom, sp)
}

/// Bytes of the painted region that were overwritten.
fn used((bottom, top): (usize, usize)) -> usize {
    let mut p = bottom;
    // SAFETY: the painted region, read back.
    while p < top && unsafe { core::ptr::read_volatile(p as *const u32) } == 0xA5A5_A5A5 {
        p += 4;
    }
    top - p
}

#[entry]
fn main() -> ! {
    #[cfg(feature = "store")]
    {
        use assetota_store::Scratch;
        #[cfg(not(feature = "window15"))]
        const WIN: usize = 4096;
        #[cfg(feature = "window15")]
        const WIN: usize = 32768;
        let (payload, bits) = if WIN == 4096 {
            (measure::PAYLOAD12, 12)
        } else {
            (measure::PAYLOAD15, 15)
        };
        let flash = cortex_m::singleton!(: [u8; 8192] = [0xFF; 8192]).unwrap();
        let scratch = cortex_m::singleton!(: Scratch<WIN> = Scratch::new()).unwrap();
        let ok = measure::report::<WIN>();
        let region = paint();
        let verified = measure::run(flash, payload, bits, scratch);
        let stack = used(region);
        hprintln!(
            "deflate window {bits}: payload {} B, verified {verified}, stack peak {stack} B",
            payload.len()
        );
        debug::exit(if ok && verified {
            debug::EXIT_SUCCESS
        } else {
            debug::EXIT_FAILURE
        });
    }
    #[cfg(not(feature = "store"))]
    {
        hprintln!("baseline");
        debug::exit(debug::EXIT_SUCCESS);
    }
    loop {}
}
