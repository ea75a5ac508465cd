//! Reading and writing the package's files, with the path in every error.

use std::path::Path;

use crate::{Error, Result};

/// The file as text.
pub(crate) fn read(path: &Path) -> Result<String> {
    std::fs::read_to_string(path).map_err(|source| Error::Read {
        path: path.to_owned(),
        source,
    })
}

/// Replaces the file at once (see [`assetota_core::atomic`]): an edit
/// interrupted half-way never leaves a user's file cut short.
pub(crate) fn write_atomically(path: &Path, bytes: &[u8]) -> Result<()> {
    assetota_core::atomic::write_bytes(path, bytes).map_err(|source| Error::Write {
        path: path.to_owned(),
        source,
    })
}

/// Checks a `--platform` name against the built-in platforms.
pub(crate) fn check_platform(name: &str) -> Result<()> {
    match assetota_core::platform::builtin(name) {
        Some(_) => Ok(()),
        None => Err(Error::UnknownPlatform {
            name: name.to_owned(),
            known: assetota_core::platform::builtin_names()
                .into_iter()
                .map(str::to_owned)
                .collect(),
        }),
    }
}
