//! Particle's Asset OTA formats (docs/particle-formats.md), byte for byte as
//! particle-cli and binary-version-reader write and read them:
//!
//! - [`module`]: the module binary (prefix, extensions, suffix, SHA-256, CRC-32);
//! - [`app`]: the checks `particle bundle` makes of an application and the
//!   ASSET_DEPENDENCY extensions it writes into it;
//! - [`asset`]: asset modules, the form a device stores an asset in;
//! - [`zip`]: the bundle zip (application at the root, `assets/<name>`).
//!
//! No function here prints or exits; each module has its own error type.

#![warn(missing_docs)]

pub mod app;
pub mod asset;
pub mod module;
pub mod zip;
