//! What can go wrong reading or writing a bundle.

use std::path::PathBuf;

/// A `Result` of this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Why a bundle cannot be read or written.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The file cannot be read.
    #[error("cannot read `{}`: {source}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The bundle cannot be written.
    #[error("cannot write `{}`: {source}", path.display())]
    Write {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// A bundle format newer than this crate reads.
    #[error("`{}` is a bundle in format v{found}, newer than this cargo-assetota reads (v{})", path.display(), crate::manifest::FORMAT)]
    BundleTooNew {
        /// The file.
        path: PathBuf,
        /// Its `format`.
        found: u64,
    },
    /// Not a bundle, or a damaged one.
    #[error("`{}` is not a valid bundle: {reason}", path.display())]
    BadBundle {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// An entry that could harm the reader (an escaping name, a bomb, …).
    #[error("`{}` is rejected: entry `{entry}` {reason}", path.display())]
    HostileBundle {
        /// The file.
        path: PathBuf,
        /// The entry's name, with unprintable characters escaped.
        entry: String,
        /// Why it is refused.
        reason: String,
    },
    /// The zip writer failed.
    #[error("cannot write the bundle `{}`: {source}", path.display())]
    Zip {
        /// The file.
        path: PathBuf,
        /// The zip crate's error.
        source: zip::result::ZipError,
    },
    /// The export directory has a shape the layout cannot use.
    #[error("cannot export into `{}`: it {reason}", path.display())]
    ExportLayout {
        /// The path in the way.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },
    /// Blobs with the release's names but other bytes are already exported.
    #[error("cannot export into `{}`: blobs are immutable, and {} already there with other bytes; nothing was written\n{}", dir.display(), if conflicts.len() == 1 { "one is" } else { "some are" }, conflicts.iter().map(|c| format!("  - {c}")).collect::<Vec<_>>().join("\n"))]
    BlobConflict {
        /// The export directory.
        dir: PathBuf,
        /// One line per blob in the way.
        conflicts: Vec<String>,
    },
    /// An asset changed or went away between measuring it and bundling it:
    /// the build it was measured for is stale.
    #[error("the build of `{bin}` is stale: the assets in `{}` changed after it was built\n  - {change}", dir.display())]
    Stale {
        /// The binary (or firmware file) the bundle is of.
        bin: String,
        /// The asset's directory.
        dir: PathBuf,
        /// What happened to the asset.
        change: String,
    },
    /// The firmware entry's embedded manifest is in a format newer than
    /// this crate reads.
    #[error(transparent)]
    Firmware(#[from] assetota_firmware::Error),
    /// No store image can be made of the bundle (`store_image`).
    #[error(transparent)]
    StoreImage(#[from] crate::store_image::error::StoreImageError),
}
