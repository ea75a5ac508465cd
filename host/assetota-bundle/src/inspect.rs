//! What `cargo assetota inspect FILE` reports about the manifest embedded in
//! an ELF, a flat image or a bundle's firmware: the JSON of `--json`, and the
//! lines of the text report above its asset table.

use assetota::Manifest;
use assetota_core::bytesize::Bytes;
use assetota_firmware::Located;
use serde::Serialize;

use crate::input::Kind;
use crate::manifest::{BundleManifest, hex};

/// The JSON of `inspect --json` for a file with an embedded manifest.
#[derive(Debug, Serialize)]
pub struct InspectJson<'a> {
    /// The file, as displayed.
    pub file: String,
    /// What kind of file it is, as the loader names it.
    pub kind: Kind,
    /// The embedded manifest.
    pub manifest: ManifestJson,
    /// A bundle's `manifest.json`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bundle: Option<&'a BundleManifest>,
}

/// The embedded manifest: where it is, how it was found, what it lists.
#[derive(Debug, Serialize)]
pub struct ManifestJson {
    /// Its offset in the firmware.
    pub offset: u64,
    /// Its bytes.
    pub size: u64,
    /// How it was found ("section .assetota", …).
    pub found_by: String,
    /// Its load address, when known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub load_address: Option<u64>,
    /// The manifest format version this crate reads.
    pub format_version: u16,
    /// The platform it was built for.
    pub platform: Option<String>,
    /// The assets it lists.
    pub assets: Vec<ManifestAssetJson>,
}

/// One asset of the embedded manifest.
#[derive(Debug, Serialize)]
pub struct ManifestAssetJson {
    /// Its name.
    pub name: String,
    /// Bytes raw.
    pub size: u64,
    /// The SHA-256 of its raw bytes.
    pub sha256: String,
    /// Bytes compressed.
    pub compressed_size: u64,
    /// Bytes stored.
    pub stored_size: u64,
    /// Its codec.
    pub codec: String,
}

impl ManifestJson {
    /// The report of `manifest`, found in the firmware as `located` says.
    pub fn of(located: &Located, manifest: &Manifest<'_>) -> ManifestJson {
        ManifestJson {
            offset: located.offset as u64,
            size: manifest.byte_len() as u64,
            found_by: located.found_by.clone(),
            load_address: located.load_address,
            format_version: assetota::FORMAT_VERSION,
            platform: manifest.platform().map(str::to_owned),
            assets: manifest
                .iter()
                .map(|a| ManifestAssetJson {
                    name: a.name().to_owned(),
                    size: a.size(),
                    sha256: hex(a.sha256()),
                    compressed_size: a.compressed_size(),
                    stored_size: a.stored_size(),
                    codec: a.codec().to_string(),
                })
                .collect(),
        }
    }

    /// The text report's `manifest:` and `platform:` lines.
    pub fn describe(&self) -> String {
        format!(
            "  manifest:  v{}, {} at offset {:#x} ({}){}\n  platform:  {}\n",
            self.format_version,
            Bytes(self.size),
            self.offset,
            self.found_by,
            self.load_address
                .map(|a| format!(", load address {a:#010x}"))
                .unwrap_or_default(),
            self.platform.as_deref().unwrap_or("(none)"),
        )
    }
}

/// The text report's `package:`, `target:` and `firmware:` lines of a bundle.
pub fn describe_bundle(b: &BundleManifest) -> String {
    format!(
        "  package:   {} {}\n  target:    {}\n  firmware:  {} ({}, {}, sha256 {})\n",
        b.package.name,
        b.package.version,
        b.target.as_deref().unwrap_or("-"),
        b.firmware.file,
        b.firmware.format,
        Bytes(b.firmware.size),
        b.firmware.sha256
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn manifest_lines() {
        let m = ManifestJson {
            offset: 0x40,
            size: 96,
            found_by: "section .assetota".into(),
            load_address: Some(0x0800_0040),
            format_version: 1,
            platform: None,
            assets: Vec::new(),
        };
        assert_eq!(
            m.describe(),
            "  manifest:  v1, 96 B at offset 0x40 (section .assetota), load address 0x08000040\n  platform:  (none)\n"
        );
    }
}
