//! Prints the firmware's asset manifest over semihosting, one
//! `<sha256>  <size>  <name>` line per asset (the format of `examples/hello`),
//! checks the runtime's verifier on real asset bytes, and exits through
//! semihosting with status 0 (1 on any failure).

#![no_std]
#![no_main]

// Linked for its critical-section implementation, which semihosting needs.
use cortex_m as _;
use cortex_m_rt::entry;
use cortex_m_semihosting::{debug, heprintln, hprintln};
use panic_halt as _;

assetota::manifest!();

#[entry]
fn main() -> ! {
    let ok = run();
    debug::exit(if ok { debug::EXIT_SUCCESS } else { debug::EXIT_FAILURE });
    loop {}
}

fn run() -> bool {
    let manifest = match ASSETOTA.manifest() {
        Ok(manifest) => manifest,
        Err(error) => {
            heprintln!("invalid manifest: {}", error);
            return false;
        }
    };
    for asset in manifest.iter() {
        hprintln!("{}  {}  {}", asset.sha256_hex(), asset.size(), asset.name());
    }
    self_check(&manifest)
}

#[cfg(feature = "self-check")]
fn self_check(manifest: &assetota::Manifest<'_>) -> bool {
    const NAME: &str = "config.json";
    const BYTES: &[u8] = include_bytes!("../assets/config.json");
    let Some(asset) = manifest.get(NAME) else {
        heprintln!("self-check: {} is not in the manifest", NAME);
        return false;
    };

    // The bytes as received, in uneven chunks, must verify.
    let mut verifier = asset.verifier();
    for chunk in BYTES.chunks(7) {
        verifier.update(chunk);
    }
    let accepted = verifier.finish().is_ok();

    // The same bytes with one bit flipped must not.
    let mut verifier = asset.verifier();
    let (head, tail) = BYTES.split_at(BYTES.len() / 2);
    verifier.update(head);
    verifier.update(&[tail[0] ^ 0x01]);
    verifier.update(&tail[1..]);
    let rejected = verifier.finish().is_err();

    // A device that holds every asset but this one must fetch exactly it.
    let mut held = 0;
    let mut stored = [("", [0u8; 32]); 8];
    for other in manifest.iter().filter(|a| a.name() != NAME).take(stored.len()) {
        stored[held] = (other.name(), *other.sha256());
        held += 1;
    }
    let mut missing = manifest.missing(&stored[..held]);
    let fetches_only_it = missing.next().map(|a| a.name()) == Some(NAME) && missing.next().is_none();

    heprintln!(
        "self-check: verify accepts {}, rejects corrupt copy {}, missing() {}",
        accepted,
        rejected,
        fetches_only_it
    );
    accepted && rejected && fetches_only_it
}

#[cfg(not(feature = "self-check"))]
fn self_check(_: &assetota::Manifest<'_>) -> bool {
    true
}
