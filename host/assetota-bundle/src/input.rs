//! Any input file `inspect` and `diff` take (ELF, flat image, ESP app image,
//! bundle) and where the manifest embedded in it is.

use std::path::{Path, PathBuf};

use assetota::Manifest;
use assetota_firmware::{ELF_MAGIC, ElfFile, Located, decode, locate_flat};

use crate::{Contents, Error, Result};

const ZIP_MAGIC: &[u8; 4] = b"PK\x03\x04";

/// What kind of file an input is, told by its first bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    /// An ELF (the manifest in its `.assetota` section or symbol).
    Elf,
    /// A flat binary image (the manifest found by magic and CRC).
    Flat,
    /// An ESP app image (`espflash save-image`'s output).
    Esp,
    /// A cargo-assetota bundle (the manifest in its firmware entry).
    Bundle,
}

impl Kind {
    /// The kind as `inspect` names it.
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
    /// The file read.
    pub path: PathBuf,
    /// What kind of file it is.
    pub kind: Kind,
    /// The firmware bytes: the file itself, or the bundle's firmware entry.
    pub firmware: Vec<u8>,
    /// Where the manifest is in `firmware`.
    pub located: Located,
    /// The bundle read, when the file is one.
    pub bundle: Option<Contents>,
}

impl Loaded {
    /// The embedded manifest, decoded (a damaged one is an error).
    pub fn manifest(&self) -> Result<Manifest<'_>, assetota_firmware::Error> {
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
        let contents = crate::read(path)?;
        let fw = &contents.manifest.firmware;
        let located = Located {
            offset: fw.manifest_offset as usize,
            len: fw.manifest_size as usize,
            found_by: format!(
                "at manifest_offset {:#x} of `{}`",
                fw.manifest_offset, fw.file
            ),
            // Untrusted numbers: an address past the top of memory is none.
            load_address: fw
                .load_address
                .and_then(|a| a.checked_add(fw.manifest_offset)),
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_file_is_a_read_error_naming_it() {
        let path = Path::new("/nonexistent/assetota/input.elf");
        match load(path) {
            Err(Error::Read { path: p, .. }) => assert_eq!(p, path),
            Err(other) => panic!("expected a read error, got {other}"),
            Ok(_) => panic!("a missing file loaded"),
        }
    }

    #[test]
    fn a_file_without_a_manifest_is_a_firmware_error() {
        let dir = std::env::temp_dir().join(format!("assetota-input-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("plain.bin");
        std::fs::write(&path, b"no manifest in here").unwrap();
        let result = load(&path);
        std::fs::remove_dir_all(&dir).unwrap();
        assert!(matches!(result, Err(Error::Firmware(_))));
    }
}
