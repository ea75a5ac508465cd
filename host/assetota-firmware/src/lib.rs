//! Firmware files as cargo-assetota reads them: where the assetota manifest is
//! inside an ELF (its `.assetota` section, else the `__ASSETOTA_MANIFEST`
//! symbol) or a flat image (by magic and CRC), and the flat binary image of a
//! bare-metal ELF; the ESP app image of an ESP ELF (as `espflash save-image`
//! writes it, [`esp`]; making one needs the default `esp-image` feature,
//! reading one does not); WinnerMicro W800 images ([`w800`]) and whether an
//! app fits its platform's partitions ([`fit`]).
//!
//! Every function takes the bytes and the path they came from (for messages);
//! none reads files, prints or exits.

#![warn(missing_docs)]

mod chips;
mod elf;
mod error;
pub mod esp;
pub mod esp_slots;
mod esp_writer;
pub mod fit;
mod locate;
pub mod w800;

pub use elf::{ELF_MAGIC, ElfFile, FlatImage, MAX_FLAT_GAP, MAX_FLAT_IMAGE};
pub use error::{Error, Result};
pub use locate::{Located, decode, locate_flat};
