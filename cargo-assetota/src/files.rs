//! Paths as the user reads them, and the one way commands write files.

use std::path::Path;

use crate::error::{Error, Result};

/// A path as the user would like to read it: relative to the current
/// directory when it is below it.
pub fn display_path(path: &Path) -> String {
    let cwd = std::env::current_dir().unwrap_or_default();
    path.strip_prefix(&cwd)
        .unwrap_or(path)
        .display()
        .to_string()
}

/// Writes `bytes` to `path` atomically (see [`assetota_core::atomic`]).
pub fn write_atomically(path: &Path, bytes: &[u8]) -> Result<()> {
    assetota_core::atomic::write_bytes(path, bytes).map_err(|source| Error::Write {
        path: path.to_owned(),
        source,
    })
}
