//! Cortex-M3 firmware for QEMU's lm3s6965evb: prints its asset manifest over
//! semihosting, checks the runtime's verifier on real asset bytes, and exits
//! through semihosting with status 0 (1 on any failure).

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

/// One asset compiled in so the self-check has real bytes to verify; real
/// firmware receives assets over the air instead.
#[cfg(feature = "self-check")]
const SAMPLE: Option<(&str, &[u8])> =
    Some(("config.json", include_bytes!("../assets/config.json")));
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
