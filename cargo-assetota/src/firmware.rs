//! Any input file (ELF, flat image, bundle) and the manifest embedded in it.

use std::path::{Path, PathBuf};

use assetota::{DecodeError, Manifest};

use crate::bundle::{self, Contents};
use crate::elf::{ELF_MAGIC, ElfFile, Located};
use crate::error::{Error, Result};

const ZIP_MAGIC: &[u8; 4] = b"PK\x03\x04";

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    Elf,
    Flat,
    Bundle,
}

impl Kind {
    pub fn describe(self) -> &'static str {
        match self {
            Kind::Elf => "ELF",
            Kind::Flat => "flat image",
            Kind::Bundle => "bundle",
        }
    }
}

/// A file with an embedded manifest.
pub struct Loaded {
    pub path: PathBuf,
    pub kind: Kind,
    /// The firmware bytes: the file itself, or the bundle's firmware entry.
    pub firmware: Vec<u8>,
    /// Where the manifest is in `firmware`.
    pub located: Located,
    pub bundle: Option<Contents>,
}

impl Loaded {
    pub fn manifest(&self) -> Result<Manifest<'_>> {
        decode(&self.path, &self.firmware, &self.located)
    }
}

/// Reads `path` and finds its manifest, whatever kind of file it is.
pub fn load(path: &Path) -> Result<Loaded> {
    let bytes = std::fs::read(path).map_err(|source| Error::Read {
        path: path.to_owned(),
        source,
    })?;
    if bytes.starts_with(ZIP_MAGIC) {
        let contents = bundle::read(path)?;
        let fw = &contents.manifest.firmware;
        let located = Located {
            offset: fw.manifest_offset as usize,
            len: fw.manifest_size as usize,
            found_by: format!(
                "at manifest_offset {:#x} of `{}`",
                fw.manifest_offset, fw.file
            ),
            load_address: fw.load_address.map(|a| a + fw.manifest_offset),
        };
        return Ok(Loaded {
            path: path.to_owned(),
            kind: Kind::Bundle,
            firmware: contents.firmware.clone(),
            located,
            bundle: Some(contents),
        });
    }
    if bytes.starts_with(ELF_MAGIC) {
        let located = ElfFile::parse(path, &bytes)?.locate_manifest(path)?;
        return Ok(Loaded {
            path: path.to_owned(),
            kind: Kind::Elf,
            firmware: bytes,
            located,
            bundle: None,
        });
    }
    let located = locate_flat(path, &bytes)?;
    Ok(Loaded {
        path: path.to_owned(),
        kind: Kind::Flat,
        firmware: bytes,
        located,
        bundle: None,
    })
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
