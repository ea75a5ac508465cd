//! The device half of cargo-assetota: a power-fail-safe asset store on NOR flash.
//!
//! `no_std`, no allocation, no `unsafe`, generic over
//! [`embedded_storage::nor_flash::NorFlash`]. Assets are identified by the
//! SHA-256 of their raw bytes (names come from the firmware's manifest), kept
//! **compressed** exactly as `cargo assetota` encoded them, and decoded as
//! they are read through a caller-provided window.
//!
//! * [`Store::mount`] reads the partition (any contents) and never writes.
//! * [`Store::install`] starts or resumes an install: send the payload from
//!   [`Install::resume_offset`] (an HTTP `Range: bytes=N-`), then
//!   [`Install::finish`] decodes it from flash, checks size and SHA-256, and
//!   only then commits. An asset `finish` acknowledged survives any power cut;
//!   a new version never overwrites the old one.
//! * [`Store::open`] streams an asset's raw bytes, with forward seek and rewind.
//! * [`Store::missing`], [`Store::pending`] / [`Store::mark_handled`],
//!   [`Store::gc`] and [`Store::compact`] manage the lifecycle.
//!
//! The on-flash format is specified in `docs/store-format.md`; the exact
//! bytes an asset occupies are [`Layout::storage_size`], which `cargo
//! assetota size` reports for `kind = "assetota-store"` platforms.
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

mod compact;
mod error;
mod flashes;
mod head;
mod install;
mod io;
pub mod layout;
mod read;
mod store;

pub use error::Error;
pub use flashes::{ReadOnlyError, ReadOnlyFlash, SliceFlash, SliceFlashError};
pub use install::Install;
pub use layout::{GeometryError, Layout};
pub use read::{INPUT_LEN, Reader, Scratch};
pub use store::{AssetId, Store, StoredAsset};
