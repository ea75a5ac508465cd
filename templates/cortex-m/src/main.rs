//! Firmware that lists the assets it was built with. `cargo run` boots it in
//! QEMU, where it prints one `<sha256>  <size>  <name>` line per asset over
//! semihosting and exits.

#![no_std]
#![no_main]

// Linked for its critical-section implementation, which semihosting needs.
use cortex_m as _;
use cortex_m_rt::entry;
use cortex_m_semihosting::{debug, hprintln};
use panic_halt as _;

// Places the asset manifest in the `.assetota` section of the firmware.
assetota::manifest!();

#[entry]
fn main() -> ! {
    let ok = match ASSETOTA.manifest() {
        Ok(manifest) => {
            for asset in manifest.iter() {
                hprintln!("{}  {}  {}", asset.sha256_hex(), asset.size(), asset.name());
            }
            true
        }
        Err(error) => {
            hprintln!("invalid asset manifest: {}", error);
            false
        }
    };
    debug::exit(if ok { debug::EXIT_SUCCESS } else { debug::EXIT_FAILURE });
    loop {}
}
