//! What can be wrong with a firmware file.

use std::path::PathBuf;

/// A `Result` of this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Why a firmware file cannot be read as one.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The file does not start with the ELF magic.
    #[error("`{}` is not an ELF file", .0.display())]
    NotElf(PathBuf),

    /// An ELF whose headers or contents are cut short or malformed.
    #[error("`{}` is a truncated or malformed ELF file: {detail}", path.display())]
    BadElf {
        /// The file.
        path: PathBuf,
        /// What is wrong, for the message.
        detail: String,
    },

    /// An ELF with neither the manifest's section nor its symbol.
    #[error("`{}` has no `.assetota` section and no `__ASSETOTA_MANIFEST` symbol{}", path.display(), if *.stripped { "; its symbol table was stripped" } else { "" })]
    NoManifest {
        /// The file.
        path: PathBuf,
        /// Whether the ELF has no symbol table (a strip may have dropped the manifest).
        stripped: bool,
    },

    /// A manifest was found but does not decode.
    #[error("the assetota manifest in `{}` ({found_by}) is corrupted: {source}", path.display())]
    CorruptManifest {
        /// The file.
        path: PathBuf,
        /// How the manifest was found ("section .assetota", "magic at offset …").
        found_by: String,
        /// Why it does not decode.
        source: assetota::DecodeError,
    },

    /// A manifest in a format newer than this crate reads.
    #[error("the assetota manifest in `{}` is format v{version}, newer than this cargo-assetota reads (v{})", path.display(), assetota::FORMAT_VERSION)]
    ManifestTooNew {
        /// The file.
        path: PathBuf,
        /// The manifest's format version.
        version: u16,
    },

    /// Neither an ELF nor a flat image with a manifest.
    #[error("`{}` is not an ELF file, a flat firmware image with an assetota manifest, or a bundle", .0.display())]
    Unrecognized(PathBuf),
}
