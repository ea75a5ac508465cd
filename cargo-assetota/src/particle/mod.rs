//! Particle interoperability: bundle Particle module binaries as particle-cli
//! does, with the same application and module bytes and a zip with the same
//! entries (research/particle-asset-ota.md, issue 6).
//!
//! - [`module`]: the module format (prefix, extensions, suffix, SHA-256, CRC-32);
//! - [`app`]: the checks `particle bundle` makes and the ASSET_DEPENDENCY
//!   extensions it writes into an application;
//! - [`asset`]: asset modules, the form the device stores an asset in;
//! - [`zip`]: the bundle zip (application at the root, `assets/<name>`);
//! - [`cli`]: `bundle`, `inspect` and `verify` for Particle files.
//!
//! Everything but `cli` depends only on external crates and its siblings, so
//! the tests in `tests/particle*.rs` compile these files as they are and
//! check them against binary-version-reader and particle-cli from npm.

pub mod app;
pub mod asset;
pub mod cli;
pub mod module;
pub mod zip;

/// For `zip`: the zip name listing both bundle readers share.
use crate::bundle::central_directory_names;
