//! What can be wrong with a firmware file.

use std::path::PathBuf;

/// A `Result` of this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Why a firmware file cannot be read as one.
#[derive(Debug, thiserror::Error)]
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

    /// An ESP app image cannot be made from this ELF.
    #[error("`{}` cannot be made into an ESP app image: {detail}", path.display())]
    Esp {
        /// The ELF.
        path: PathBuf,
        /// Why, for the message.
        detail: String,
    },

    /// An ESP app image was needed, and this build has no writer for it
    /// (built without the `esp-image` feature).
    #[error("`{}` is {chip} firmware, and this build cannot make ESP app images (built without the `esp-image` feature)", path.display())]
    NoEspImageWriter {
        /// The ELF.
        path: PathBuf,
        /// Its chip.
        chip: String,
    },

    /// A file that starts like an ESP app image but is not a valid one.
    #[error("`{}` is not a valid ESP app image: {detail}", path.display())]
    BadEspImage {
        /// The file.
        path: PathBuf,
        /// What is wrong, for the message.
        detail: String,
    },

    /// An ELF for another chip than the one configured.
    #[error("`{}` is not firmware for the {chip} (the platform's `chip`): it is {found}; build for the {chip} or fix `chip`", path.display())]
    WrongChip {
        /// The ELF.
        path: PathBuf,
        /// The chip configured.
        chip: String,
        /// What the ELF is, for the message.
        found: String,
    },

    /// A chip name espflash does not know.
    #[error("`{0}` is not an ESP chip this cargo-assetota makes images for (known: {known})", known = crate::chips::CHIP_IDS.iter().map(|(c, _)| *c).collect::<Vec<_>>().join(", "))]
    UnknownChip(String),

    /// An ELF whose flat image would be mostly padding between far-apart regions.
    #[error("`{}` has loadable sections {gap} bytes apart ({from:#x} to {to:#x}), too much for a flat image (it would be a dump of the address space): check the linker script's AT> regions, use `--format elf`, or, for an ESP chip, the ESP app image (set `chip = \"esp32c3\"` (or your chip) on the platform, or build for an `xtensa-esp32*` target)", path.display())]
    SparseImage {
        /// The ELF.
        path: PathBuf,
        /// The end of the region below the gap.
        from: u64,
        /// The start of the region above it.
        to: u64,
        /// The gap in bytes.
        gap: u64,
    },

    /// Neither an ELF nor a flat image with a manifest.
    #[error("`{}` is not an ELF file, a flat firmware image with an assetota manifest, or a bundle", .0.display())]
    Unrecognized(PathBuf),
}
