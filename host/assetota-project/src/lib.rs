//! Setting a cargo package up for cargo-assetota, as `cargo assetota init`
//! and `cargo assetota new` do:
//!
//! - [`manifest`]: `[package.metadata.assetota]` and the two dependencies in
//!   Cargo.toml, edited with toml_edit so the rest keeps its formatting;
//! - [`build_script`]: the `assetota_build::embed()` call in build.rs;
//! - [`crate_root`]: the `assetota::manifest!()` call in src/main.rs;
//! - [`template`]: a new project written from `templates/`;
//! - [`dependency`]: how those dependencies are written (crates.io, or a
//!   local checkout's `build-support/`).
//!
//! No function here prints or exits: each returns what it did, for the
//! caller to tell the user, or an [`Error`].

#![warn(missing_docs)]

pub mod build_script;
pub mod crate_root;
pub mod dependency;
mod error;
mod files;
pub mod manifest;
pub mod template;

pub use error::{Error, Result};
