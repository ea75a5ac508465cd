#![no_std]
#![no_main]

// Places the asset manifest in the `.assetota` section of the firmware.
assetota::manifest!();

/// How many assets the firmware depends on, for a debugger to look at.
static mut ASSET_COUNT: u32 = 0;

#[unsafe(no_mangle)]
pub extern "C" fn reset() -> ! {
    let count = match ASSETOTA.manifest() {
        Ok(manifest) => manifest.len() as u32,
        Err(_) => u32::MAX,
    };
    // SAFETY: single-threaded, no interrupts are enabled.
    unsafe { core::ptr::write_volatile(&raw mut ASSET_COUNT, count) };
    loop {
        core::hint::spin_loop();
    }
}

/// The reset vector, right after the initial stack pointer (see link.x).
#[used]
#[unsafe(link_section = ".vector_table.reset")]
static RESET: extern "C" fn() -> ! = reset;

#[panic_handler]
fn panic(_: &core::panic::PanicInfo) -> ! {
    loop {
        core::hint::spin_loop();
    }
}
