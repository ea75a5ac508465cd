//! The `--message-format json` line `cargo assetota build` prints for each
//! bundle, beside cargo's own messages.

use std::path::Path;

use assetota_core::Budget;
use serde::Serialize;

use crate::manifest::{BundleManifest, PackageJson};

/// One bundle written by `build`; field order is the JSON's.
#[derive(Debug, Serialize)]
pub struct BundleMessage<'a> {
    /// Always `assetota-bundle`, as cargo's messages have a `reason`.
    pub reason: &'static str,
    /// The package.
    pub package: &'a PackageJson,
    /// The binary target.
    pub bin: &'a str,
    /// The target triple.
    pub target: &'a str,
    /// The profile directory.
    pub profile: &'a str,
    /// The platform, `None` when unconstrained.
    pub platform: Option<&'a str>,
    /// The bundle written.
    pub bundle: String,
    /// The executable cargo built.
    pub executable: String,
    /// The firmware in the bundle.
    pub firmware: FirmwareMessage<'a>,
    /// How many assets.
    pub assets: usize,
    /// Their raw sizes, summed.
    pub total_size: u64,
    /// The flash they occupy.
    pub total_storage_size: u64,
    /// The platform's limit for all assets.
    pub limit_total: Option<u64>,
    /// The platform's limit for one asset.
    pub limit_single: Option<u64>,
    /// Whether assets and firmware fit the platform.
    pub fits: bool,
}

/// The firmware of a [`BundleMessage`].
#[derive(Debug, Serialize)]
pub struct FirmwareMessage<'a> {
    /// Its file in the bundle.
    pub file: &'a str,
    /// The image also written beside the executable.
    pub path: Option<String>,
    /// `elf`, `bin` or `esp`.
    pub format: &'a str,
    /// Its length.
    pub size: u64,
    /// Its SHA-256, in hex.
    pub sha256: &'a str,
    /// Where the assetota manifest is in it.
    pub manifest_offset: u64,
}

impl<'a> BundleMessage<'a> {
    /// The message of the bundle `bundle` with `manifest`, whose assets are
    /// `budget`'s, built from `executable` (its image also written to
    /// `image_path`).
    pub fn new(
        manifest: &'a BundleManifest,
        budget: &Budget,
        bundle: &Path,
        executable: &Path,
        image_path: Option<&Path>,
    ) -> BundleMessage<'a> {
        let fw = &manifest.firmware;
        BundleMessage {
            reason: "assetota-bundle",
            package: &manifest.package,
            bin: manifest.bin.as_deref().unwrap_or_default(),
            target: manifest.target.as_deref().unwrap_or_default(),
            profile: manifest.profile.as_deref().unwrap_or_default(),
            platform: manifest.platform.as_deref(),
            bundle: bundle.display().to_string(),
            executable: executable.display().to_string(),
            firmware: FirmwareMessage {
                file: &fw.file,
                path: image_path.map(|p| p.display().to_string()),
                format: &fw.format,
                size: fw.size,
                sha256: &fw.sha256,
                manifest_offset: fw.manifest_offset,
            },
            assets: budget.assets.len(),
            total_size: budget.total_size,
            total_storage_size: budget.total_storage_size,
            limit_total: budget.limit_total,
            limit_single: budget.limit_single,
            fits: manifest.fits,
        }
    }
}
