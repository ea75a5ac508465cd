//! Where the manifest is in a flat image, and decoding it where it was found.

use std::path::Path;

use assetota::{DecodeError, Manifest};

use crate::error::{Error, Result};

/// Where the manifest was found in a file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Located {
    /// Offset of the manifest's first byte in the file.
    pub offset: usize,
    /// The manifest's length (its `total_len`).
    pub len: usize,
    /// How it was found, for messages: "section .assetota", "symbol …", "magic scan".
    pub found_by: String,
    /// Load address (LMA) of the manifest, when known.
    pub load_address: Option<u64>,
}

/// A flat image has no headers: the manifest is found by its magic and CRC.
pub fn locate_flat(path: &Path, bytes: &[u8]) -> Result<Located> {
    if let Some((offset, m)) = Manifest::find_in(bytes) {
        return Ok(Located {
            offset,
            len: m.byte_len(),
            found_by: "magic and CRC scan".into(),
            load_address: None,
        });
    }
    // A magic that did not validate: report why, rather than "not firmware".
    if let Some(at) = bytes.windows(4).position(|w| w == assetota::MAGIC) {
        let found_by = format!("magic at offset {at:#x}");
        return match Manifest::parse(&bytes[at..]) {
            Err(DecodeError::UnsupportedVersion(version)) => Err(Error::ManifestTooNew {
                path: path.to_owned(),
                version,
            }),
            Err(source) => Err(Error::CorruptManifest {
                path: path.to_owned(),
                found_by,
                source,
            }),
            Ok(_) => unreachable!("find_in returns the first valid manifest"),
        };
    }
    Err(Error::Unrecognized(path.to_owned()))
}

/// Decodes the manifest at `located` in `bytes`, within `located.len` bytes: a
/// manifest that runs past the end of its section is corrupt, not read beyond.
pub fn decode<'a>(path: &Path, bytes: &'a [u8], located: &Located) -> Result<Manifest<'a>> {
    let end = located.offset.saturating_add(located.len).min(bytes.len());
    let region = bytes.get(located.offset..end).unwrap_or(&[]);
    Manifest::parse(region).map_err(|source| match source {
        DecodeError::UnsupportedVersion(version) => Error::ManifestTooNew {
            path: path.to_owned(),
            version,
        },
        source => Error::CorruptManifest {
            path: path.to_owned(),
            found_by: located.found_by.clone(),
            source,
        },
    })
}
