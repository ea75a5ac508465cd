//! The cargo-assetota bundle (cargo-assetota/README.md, "The bundle"): `manifest.json`, the
//! firmware image and the raw assets in a deterministic zip. [`write`] makes
//! one atomically; [`read`] refuses hostile zips (escaping names, symlinks,
//! duplicates, unlisted entries, decompression bombs) before anything is
//! decompressed, and writes nowhere. [`input`] reads any file a manifest is
//! embedded in: an ELF, a flat or ESP image, or a bundle.
//!
//! No function here prints or exits; errors are [`Error`].

#![warn(missing_docs)]

pub mod assemble;
pub mod budget;
pub mod codec;
mod error;
pub mod export;
pub mod input;
pub mod inspect;
mod manifest;
pub mod message;
mod read;
pub mod store_image;
pub mod verify;
mod write;

pub use error::{Error, Result};
pub use manifest::*;
pub use read::{Contents, central_directory_names, check_entry_name, read, read_bytes};
pub use write::{Entry, timestamp, write};
