//! Cortex-M3 firmware for QEMU's lm3s6965evb: reads every asset of its
//! manifest back through the device store (a store image the build placed in
//! flash), prints them over semihosting, checks the runtime's verifier on
//! bytes read from the store, and exits through semihosting with status 0
//! (1 on any failure).

#![no_std]
#![no_main]

// Linked for its critical-section implementation, which semihosting needs.
use cortex_m as _;
use cortex_m_rt::entry;
use cortex_m_semihosting::{debug, hio};
use panic_halt as _;

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
