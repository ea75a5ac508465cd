//! riscv32imac firmware for QEMU's `virt` machine: the same report as
//! examples/cortex-m (shared source: assets read back through the device
//! store), over RISC-V semihosting.

#![no_std]
#![no_main]

// Linked for its critical-section implementation, which semihosting needs.
use panic_halt as _;
use riscv as _;
use riscv_rt::entry;
use riscv_semihosting::{debug, hio};

#[path = "../../firmware-shared/report.rs"]
mod report;

assetota::manifest!();

#[entry]
fn main() -> ! {
    let ok = match (hio::hstdout(), hio::hstderr()) {
        (Ok(mut out), Ok(mut err)) => report::run(&mut out, &mut err, ASSETOTA.manifest()),
        _ => false,
    };
    debug::exit(if ok {
        debug::EXIT_SUCCESS
    } else {
        debug::EXIT_FAILURE
    });
    loop {}
}
