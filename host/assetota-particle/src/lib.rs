//! Particle's Asset OTA formats (docs/particle-platforms.md for the cost model; binary-version-reader and particle-cli from npm are the reference, checked by the tests), byte for byte as
//! particle-cli and binary-version-reader write and read them:
//!
//! - [`module`]: the module binary (prefix, extensions, suffix, SHA-256, CRC-32);
//! - [`app`]: the checks `particle bundle` makes of an application and the
//!   ASSET_DEPENDENCY extensions it writes into it;
//! - [`asset`]: asset modules, the form a device stores an asset in;
//! - [`zip`]: the bundle zip (application at the root, `assets/<name>`);
//!
//! and what the commands over them decide:
//!
//! - [`file`]: whether a file is a Particle application, asset module or bundle;
//! - [`platform`]: the platform an application is budgeted against;
//! - [`bundle`]: `bundle` of an application: measure, then write;
//! - [`measure`]: assets measured against Particle's limits, their zip entries
//!   made on the way;
//! - [`verify`]: every problem `verify` finds in an application, an asset
//!   module or a bundle;
//! - [`json`]: the JSON models of modules;
//! - [`inspect`]: the report `inspect` makes of a Particle file;
//! - [`verdict`]: the whole of `verify` for one file, its JSON model;
//! - [`text`]: the phrases the Particle reports share.
//!
//! No function here prints or exits. Each format module has its own error
//! type; [`Error`] is those errors with the file they are about.

#![warn(missing_docs)]

pub mod app;
pub mod asset;
pub mod bundle;
mod error;
pub mod file;
pub mod inspect;
pub mod json;
pub mod measure;
pub mod module;
pub mod platform;
pub mod text;
pub mod verdict;
pub mod verify;
pub mod zip;

pub use error::Error;
