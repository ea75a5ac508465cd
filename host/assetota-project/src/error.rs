//! Why a package could not be set up.

use std::path::PathBuf;

/// A `Result` with this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that stops `init` or `new`; the messages are the ones the user reads.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// `init` was run in a virtual workspace without `--manifest-path`.
    #[error(
        "this is a virtual workspace; run `cargo assetota init` in a package directory or pass `--manifest-path`"
    )]
    VirtualWorkspace,

    /// Cargo.toml does not parse.
    #[error("`{}` is not valid TOML: {source}", path.display())]
    InvalidToml {
        /// The manifest.
        path: PathBuf,
        /// What the parser found.
        source: toml_edit::TomlError,
    },

    /// Cargo.toml has no `[package]` (a virtual workspace manifest).
    #[error("`{}` has no [package] table; `init` sets up a package", .0.display())]
    NoPackage(PathBuf),

    /// A table to add to is some other kind of value (`package.metadata`,
    /// `dependencies`, `build-dependencies`).
    #[error("`{0}` is not a table")]
    NotATable(&'static str),

    /// `--platform` names no built-in platform.
    #[error("unknown platform `{name}`; known platforms: {}", known.join(", "))]
    UnknownPlatform {
        /// The name given.
        name: String,
        /// The built-in platforms.
        known: Vec<String>,
    },

    /// `new` never writes into a directory that has files.
    #[error(
        "`{}` already exists and is not empty; `new` never overwrites (use `cargo assetota init` inside it)",
        .0.display()
    )]
    NotEmpty(PathBuf),

    /// `new` was given a path without a last component and no `--name`.
    #[error("cannot take a package name from `{}`; pass `--name`", .0.display())]
    NoName(PathBuf),

    /// The package name is not one cargo accepts.
    #[error(
        "`{0}` is not a valid package name (letters, digits, `-` and `_`, not starting with a digit); pass `--name`"
    )]
    BadName(String),

    /// A file could not be read.
    #[error("cannot read `{}`: {source}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },

    /// A file or directory could not be written.
    #[error("cannot write `{}`: {source}", path.display())]
    Write {
        /// The file or directory.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
}
