//! riscv32imac firmware for QEMU's `virt` machine: the same report as
//! examples/cortex-m (shared source), over RISC-V semihosting.

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

#[cfg(feature = "self-check")]
const SAMPLE: Option<(&str, &[u8])> = Some((
    "config.json",
    include_bytes!("../../cortex-m/assets/config.json"),
));
#[cfg(not(feature = "self-check"))]
const SAMPLE: Option<(&str, &[u8])> = None;

#[entry]
fn main() -> ! {
    let ok = match (hio::hstdout(), hio::hstderr()) {
        (Ok(mut out), Ok(mut err)) => report::run(&mut out, &mut err, ASSETOTA.manifest(), SAMPLE),
        _ => false,
    };
    debug::exit(if ok {
        debug::EXIT_SUCCESS
    } else {
        debug::EXIT_FAILURE
    });
    loop {}
}
