//! ESP32-C3 firmware (esp-hal) that keeps its assets in an assetota store on
//! the `assets` data partition of its `partitions.csv`.
//!
//! At boot it reads the partition table from flash, mounts the store on the
//! `assets` partition through esp-storage's `FlashStorage` (an
//! `embedded-storage` `NorFlash`), and reads every asset of its manifest back
//! through the store, checking each against the manifest's SHA-256 with the
//! runtime's verifier. It reports over the USB serial JTAG console:
//! `<sha256>  <size>  <name>` for an asset read back, `missing  <size>
//! <name>` for one the store does not hold yet (flash the partition with
//! `cargo assetota image` and `espflash write-bin`, or install it over the
//! air), then `store: used U of T B`.

#![no_std]
#![no_main]

use core::fmt::Write;

use assetota_store::{Scratch, Store};
use esp_bootloader_esp_idf::partitions;
use esp_hal::main;
use esp_hal::usb::usb_serial_jtag::UsbSerialJtag;
use esp_storage::FlashStorage;

assetota::manifest!();

// The ESP-IDF app descriptor the second-stage bootloader checks.
esp_bootloader_esp_idf::esp_app_desc!();

/// The label of the store's partition in partitions.csv.
const STORE_PARTITION: &str = "assets";
/// How many stored assets the store's table tracks.
const MAX_ASSETS: usize = 16;
/// The platform's deflate window: `window-bits = 12`.
const WINDOW: usize = 4096;

#[panic_handler]
fn panic(_: &core::panic::PanicInfo) -> ! {
    loop {
        core::hint::spin_loop();
    }
}

#[main]
fn main() -> ! {
    let peripherals = esp_hal::init(esp_hal::Config::default());
    let mut out = UsbSerialJtag::new(peripherals.USB_DEVICE);
    let mut flash = FlashStorage::new(peripherals.FLASH);
    match run(&mut flash, &mut out) {
        Ok(()) => {}
        Err(message) => {
            let _ = writeln!(out, "error: {message}");
        }
    }
    loop {
        core::hint::spin_loop();
    }
}

fn run(flash: &mut FlashStorage<'_>, out: &mut impl Write) -> Result<(), &'static str> {
    let manifest = ASSETOTA.manifest().map_err(|_| "invalid manifest")?;

    // Where the store is: the `assets` row of the partition table in flash.
    let mut table = [0u8; partitions::PARTITION_TABLE_MAX_LEN];
    let range = {
        let table = partitions::read_partition_table(flash, &mut table)
            .map_err(|_| "cannot read the partition table")?;
        let part = table
            .iter()
            .find(|p| p.label_as_str() == STORE_PARTITION)
            .ok_or("the partition table has no `assets` partition")?;
        part.offset()..part.offset() + part.len()
    };

    let mut store =
        Store::<_, MAX_ASSETS>::mount(&mut *flash, range).map_err(|_| "cannot mount the store")?;
    let mut scratch = Scratch::<WINDOW>::new();
    for asset in manifest.iter() {
        match read_back(&mut store, &mut scratch, &asset) {
            Ok(size) => {
                let _ = writeln!(
                    out,
                    "{}  {}  {}",
                    assetota::Hex(asset.sha256()),
                    size,
                    asset.name()
                );
            }
            Err(()) => {
                let _ = writeln!(out, "missing  {}  {}", asset.size(), asset.name());
            }
        }
    }
    let _ = writeln!(
        out,
        "store: used {} of {} B",
        store.used(),
        store.capacity()
    );
    Ok(())
}

/// Reads `asset` back through the store and checks its length and SHA-256
/// with the runtime's verifier; the size read.
fn read_back<F: embedded_storage::nor_flash::NorFlash, const N: usize>(
    store: &mut Store<F, N>,
    scratch: &mut Scratch<WINDOW>,
    asset: &assetota::Asset<'_>,
) -> Result<u64, ()> {
    let mut verifier = asset.verifier();
    let mut size = 0u64;
    let mut buf = [0u8; 256];
    if asset.codec() == assetota::Codec::None {
        let mut reader = store.open_raw(asset.sha256()).map_err(|_| ())?;
        loop {
            let n = reader.read(&mut buf).map_err(|_| ())?;
            if n == 0 {
                break;
            }
            verifier.update(&buf[..n]);
            size += n as u64;
        }
    } else {
        let mut reader = store.open(asset.sha256(), scratch).map_err(|_| ())?;
        loop {
            let n = reader.read(&mut buf).map_err(|_| ())?;
            if n == 0 {
                break;
            }
            verifier.update(&buf[..n]);
            size += n as u64;
        }
    }
    verifier.finish().map_err(|_| ())?;
    Ok(size)
}
