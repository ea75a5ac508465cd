//! Any input file a command takes (ELF, flat image, bundle) and the manifest
//! embedded in it.

use std::path::{Path, PathBuf};

use assetota::Manifest;
use assetota_firmware::{ELF_MAGIC, ElfFile, Located, decode, locate_flat};

use crate::error::{Error, Result};
use assetota_bundle::{self as bundle, Contents};

const ZIP_MAGIC: &[u8; 4] = b"PK\x03\x04";

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    Elf,
    Flat,
    /// An ESP app image (`espflash save-image`'s output).
    Esp,
    Bundle,
}

impl Kind {
    pub fn describe(self) -> &'static str {
        match self {
            Kind::Elf => "ELF",
            Kind::Flat => "flat image",
            Kind::Esp => "ESP app image",
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
        Ok(decode(&self.path, &self.firmware, &self.located)?)
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
    if bytes.first() == Some(&assetota_firmware::esp::ESP_IMAGE_MAGIC) {
        // An ESP app image: checked (checksum, SHA-256) before it is read.
        let (_, located) = assetota_firmware::esp::locate_app_image(path, &bytes)?;
        return Ok(Loaded {
            path: path.to_owned(),
            kind: Kind::Esp,
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
