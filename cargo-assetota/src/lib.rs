//! The parsers of untrusted input in `cargo-assetota` — the bundle reader and
//! the ELF manifest locator — as a library, so the fuzz targets in `fuzz/` can
//! call the same code the binary runs. Not a public API: the binary compiles
//! these files itself (`src/main.rs`), and nothing here is semver-stable.

pub mod bundle;
pub mod elf;
/// The report renderers (no I/O), here so the browser tests can render
/// hostile and large reports without a project on disk.
pub mod report_html;

/// The errors `bundle` and `elf` return: the variants of the binary's
/// `error::Error` they use, with the same fields and messages. The binary's own
/// module also covers every command, which this library leaves out.
pub mod error {
    use std::path::PathBuf;

    pub type Result<T, E = Error> = std::result::Result<T, E>;

    #[derive(Debug, thiserror::Error)]
    pub enum Error {
        #[error("cannot read `{}`: {source}", path.display())]
        Read {
            path: PathBuf,
            source: std::io::Error,
        },
        #[error("cannot write `{}`: {source}", path.display())]
        Write {
            path: PathBuf,
            source: std::io::Error,
        },
        #[error("`{}` is not an ELF file", .0.display())]
        NotElf(PathBuf),
        #[error("`{}` is a truncated or malformed ELF file: {detail}", path.display())]
        BadElf { path: PathBuf, detail: String },
        #[error("`{}` has no `.assetota` section and no `__ASSETOTA_MANIFEST` symbol", path.display())]
        NoManifest { path: PathBuf, stripped: bool },
        #[error("the build of `{bin}` is stale: the assets in `{}` changed after it was built", dir.display())]
        Stale {
            bin: String,
            dir: PathBuf,
            changes: Vec<String>,
        },
        #[error("`{}` is a bundle in format v{found}, newer than this cargo-assetota reads", path.display())]
        BundleTooNew { path: PathBuf, found: u64 },
        #[error("`{}` is not a valid bundle: {reason}", path.display())]
        BadBundle { path: PathBuf, reason: String },
        #[error("`{}` is rejected: entry `{entry}` {reason}", path.display())]
        HostileBundle {
            path: PathBuf,
            entry: String,
            reason: String,
        },
        #[error("cannot write the bundle `{}`: {source}", path.display())]
        Zip {
            path: PathBuf,
            source: zip::result::ZipError,
        },
    }
}
