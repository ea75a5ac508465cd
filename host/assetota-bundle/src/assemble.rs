//! A bundle put together from a budget and a firmware image: its
//! `manifest.json`, and its entries read back from the asset files, each
//! checked against what was measured.

use std::borrow::Cow;
use std::path::Path;

use assetota_core::Budget;

use crate::error::{Error, Result};
use crate::manifest::{
    BundleManifest, CodecJson, FORMAT, FirmwareJson, PackageJson, StorageJson, assets_json,
    sha256_hex,
};
use crate::write::Entry;

/// Where a bundle's firmware came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Origin {
    /// The cargo package (or what `--name` and `--package-version` say).
    pub package: PackageJson,
    /// The binary target, which names the firmware file.
    pub bin: Option<String>,
    /// The target triple, when known.
    pub target: Option<String>,
    /// The cargo profile, when known.
    pub profile: Option<String>,
}

/// The firmware as it goes into the bundle.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Image<'a> {
    /// `elf`, `bin` or `esp`.
    pub format: &'static str,
    /// The extension of its file in the bundle.
    pub extension: &'static str,
    /// Its bytes.
    pub bytes: Cow<'a, [u8]>,
    /// Where the assetota manifest is in `bytes`.
    pub manifest_offset: u64,
    /// The manifest's length.
    pub manifest_size: u64,
    /// A flat image's load address.
    pub load_address: Option<u64>,
}

/// The `manifest.json` of a bundle of `image` and the assets of `budget`
/// (on the platform named `platform`, `None` when unconstrained), written
/// by `generator`; `firmware_fits` says the image passed the platform's
/// firmware checks.
pub fn manifest(
    origin: Origin,
    generator: String,
    platform: Option<String>,
    budget: &Budget,
    image: &Image<'_>,
    firmware_fits: bool,
) -> BundleManifest {
    let file = format!(
        "{}.{}",
        origin.bin.as_deref().unwrap_or(&origin.package.name),
        image.extension
    );
    BundleManifest {
        format: FORMAT,
        generator,
        package: origin.package,
        bin: origin.bin,
        target: origin.target,
        profile: origin.profile,
        platform,
        storage: StorageJson::from_platform(&budget.platform),
        codec: CodecJson::from_codec(budget.platform.codec),
        firmware: FirmwareJson {
            file,
            format: image.format.into(),
            size: image.bytes.len() as u64,
            sha256: sha256_hex(&image.bytes),
            manifest_offset: image.manifest_offset,
            manifest_size: image.manifest_size,
            load_address: image.load_address,
        },
        assets: assets_json(budget),
        total_size: budget.total_size,
        total_storage_size: budget.total_storage_size,
        fits: budget.fits() && firmware_fits,
    }
}

/// The entries of the assets of `budget` in the bundle of `manifest`, read
/// again from their files: an asset changed since it was measured makes the
/// build stale. The firmware's entry goes after them.
pub fn asset_entries(manifest: &BundleManifest, budget: &Budget) -> Result<Vec<Entry<'static>>> {
    let bin = manifest.bin.as_deref().unwrap_or(&manifest.package.name);
    budget
        .assets
        .iter()
        .zip(&manifest.assets)
        .map(|(asset, json)| {
            let bytes = read_asset(
                &asset.measured.path,
                &json.name,
                json.size,
                &json.sha256,
                bin,
            )?;
            Ok(Entry {
                name: json.file.clone(),
                bytes: bytes.into(),
            })
        })
        .collect()
}

/// Reads an asset for the bundle, checking it is still what was measured
/// (`size` bytes hashing to `sha256`): an asset changed or removed since
/// then makes the build of `bin` stale.
pub fn read_asset(path: &Path, name: &str, size: u64, sha256: &str, bin: &str) -> Result<Vec<u8>> {
    let stale = |what: &str| Error::Stale {
        bin: bin.to_owned(),
        dir: path.parent().unwrap_or(Path::new(".")).to_owned(),
        change: format!("`{name}` {what} while the bundle was being written"),
    };
    let bytes = match std::fs::read(path) {
        Ok(bytes) => bytes,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Err(stale("was removed")),
        Err(source) => {
            return Err(Error::Read {
                path: path.to_owned(),
                source,
            });
        }
    };
    if bytes.len() as u64 != size || sha256_hex(&bytes) != sha256 {
        return Err(stale("changed"));
    }
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_changed_or_removed_asset_is_stale() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.txt");
        std::fs::write(&path, b"hello").unwrap();
        let sha = sha256_hex(b"hello");
        assert_eq!(read_asset(&path, "a.txt", 5, &sha, "fw").unwrap(), b"hello");
        std::fs::write(&path, b"HELLO").unwrap();
        let e = read_asset(&path, "a.txt", 5, &sha, "fw").unwrap_err();
        assert!(
            matches!(&e, Error::Stale { bin, change, .. } if bin == "fw" && change == "`a.txt` changed while the bundle was being written"),
            "{e}"
        );
        std::fs::remove_file(&path).unwrap();
        let e = read_asset(&path, "a.txt", 5, &sha, "fw").unwrap_err();
        assert!(e.to_string().contains("`a.txt` was removed"), "{e}");
    }
}
