//! Device runtime of cargo-assetota: the asset manifest embedded in the firmware.
//!
//! `no_std`, no allocation, zero `unsafe` blocks. [`manifest!`] places the manifest
//! written by `assetota_build::embed()` in the `.assetota` linker section;
//! [`Manifest`] lists the assets, finds one by name, computes which ones a device is
//! missing, and [`Verifier`] checks received bytes. The binary format is specified in
//! `docs/manifest-format.md`; [`Manifest::parse`] never panics, whatever the input.
#![no_std]
#![deny(unsafe_code)]
#![cfg_attr(
    not(test),
    deny(
        clippy::indexing_slicing,
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::panic,
        clippy::arithmetic_side_effects
    )
)]
#![warn(missing_docs)]

mod asset;
mod codec;
mod decode;
mod embed;
mod error;
mod format;
mod hex;
mod iter;
mod verify;

pub use asset::Asset;
pub use codec::Codec;
pub use decode::Manifest;
pub use embed::Embedded;
pub use error::DecodeError;
pub use format::{CRC_LEN, ENTRY_LEN, FORMAT_VERSION, HEADER_LEN, MAGIC, MIN_LEN};
pub use hex::Hex;
pub use iter::{Iter, Missing};
pub use verify::{Verifier, VerifyError};

/// ELF section the manifest is placed in.
pub const SECTION: &str = ".assetota";
/// Symbol the manifest static is exported as (fallback when the section was renamed).
pub const SYMBOL: &str = "__ASSETOTA_MANIFEST";
