//! `manifest.json`, the bundle's table of contents (cargo-assetota/README.md, "The bundle"):
//! its types, as serde reads and writes them, and the helpers that fill it.

use assetota_core::platform::{Container, Limits, Origin, Platform, StoreGeometry};
use assetota_core::{Budget, Codec};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use std::path::PathBuf;

/// The bundle format this tool writes and reads.
pub const FORMAT: u64 = 1;
/// The name of the table of contents, the zip's first entry.
pub const MANIFEST_JSON: &str = "manifest.json";
/// The directory the raw assets are stored under (`assets/<name>`).
pub const ASSETS_PREFIX: &str = "assets/";

/// Largest decompressed entry accepted (firmware and assets are a few MiB).
pub const MAX_ENTRY: u64 = 256 << 20;
/// Largest total of decompressed entries accepted.
pub const MAX_TOTAL: u64 = 512 << 20;
/// Largest `manifest.json` accepted.
pub const MAX_MANIFEST_JSON: u64 = 16 << 20;
/// DEFLATE cannot expand more than about 1032:1; a higher declared ratio is a lie.
pub const MAX_RATIO: u64 = 1100;

/// `manifest.json`: what the bundle holds and the budget it was built to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BundleManifest {
    /// The bundle format version ([`FORMAT`]); a newer one is refused.
    pub format: u64,
    /// The tool that wrote the bundle, e.g. `cargo-assetota 0.1.0`.
    pub generator: String,
    /// The cargo package the firmware was built from.
    pub package: PackageJson,
    /// The cargo binary target, when the firmware came from one.
    pub bin: Option<String>,
    /// The target triple the firmware was built for, when known.
    pub target: Option<String>,
    /// The cargo profile (`dev`, `release`, …), when known.
    pub profile: Option<String>,
    /// The platform the budget was computed for; `null` when none was configured.
    pub platform: Option<String>,
    /// The platform's storage model, so `verify` can recheck the budget alone.
    pub storage: StorageJson,
    /// The platform's codec: the one an asset without its own `codec` is stored with.
    pub codec: CodecJson,
    /// The firmware file in the bundle.
    pub firmware: FirmwareJson,
    /// Every asset, sorted by name.
    pub assets: Vec<AssetJson>,
    /// The sum of the assets' raw sizes, in bytes.
    pub total_size: u64,
    /// The sum of the assets' `storage_size`: the flash they occupy, in bytes.
    pub total_storage_size: u64,
    /// Whether the assets were within the platform's limits when bundled.
    pub fits: bool,
}

/// The package a bundle's firmware was built from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PackageJson {
    /// The package's name in its `Cargo.toml`.
    pub name: String,
    /// The package's version in its `Cargo.toml`.
    pub version: String,
}

/// The platform's storage model, as the budget used it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StorageJson {
    /// The total limit on the assets' `storage_size`, in bytes; `None` without limits.
    pub limit_total: Option<u64>,
    /// The limit on one asset's `stored_size`, in bytes, if the platform has one.
    pub limit_single: Option<u64>,
    /// The storage block, in bytes (0 without limits).
    pub block_size: u64,
    /// Bytes of each block the storage keeps for itself.
    pub per_block_overhead: u64,
    /// Bytes of container around each stored asset (Particle's module: 124).
    pub per_asset_overhead: u64,
    /// Whether the asset's name is stored in its container too (adding its length).
    pub name_in_container: bool,
    /// The device store's flash geometry (platforms of kind `assetota-store`),
    /// so the factory image can be rebuilt from the bundle alone.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub store: Option<StoreJson>,
}

/// The flash geometry of an `assetota-store` platform.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoreJson {
    /// The flash's write size (`WRITE_SIZE`), in bytes.
    pub write_size: u32,
    /// The flash's erase size (`ERASE_SIZE`): the store's block.
    pub erase_size: u32,
    /// Bytes of the store partition.
    pub partition_size: u64,
    /// Where the partition starts on the flash, when known.
    #[serde(default)]
    pub partition_offset: Option<u64>,
}

/// A codec and its parameters, as `manifest.json` records it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CodecJson {
    /// `none`, `deflate` or `xz`.
    pub kind: String,
    /// The deflate level, or the xz preset.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub level: Option<u32>,
    /// The deflate window, in bits.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub window_bits: Option<u8>,
    /// The xz dictionary size, in bytes.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub dict_size: Option<u32>,
}

/// The firmware file of a bundle.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FirmwareJson {
    /// Its entry name in the zip.
    pub file: String,
    /// `bin` (flat image) or `elf`.
    pub format: String,
    /// Its length, in bytes.
    pub size: u64,
    /// The SHA-256 of its bytes, in lowercase hex.
    pub sha256: String,
    /// Where the embedded manifest starts inside `file`.
    pub manifest_offset: u64,
    /// The embedded manifest's length, in bytes.
    pub manifest_size: u64,
    /// Load address of the image's first byte (flat images).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub load_address: Option<u64>,
}

/// One asset of a bundle and what it costs on the device.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AssetJson {
    /// The asset's name, relative to the assets directory (`/`-separated).
    pub name: String,
    /// Its entry in the zip: `assets/<name>`, holding the raw bytes.
    pub file: String,
    /// Raw bytes.
    pub size: u64,
    /// The SHA-256 of the raw bytes, in lowercase hex.
    pub sha256: String,
    /// The exact length of the codec's output.
    pub compressed_size: u64,
    /// `compressed_size` plus the platform's container around the asset.
    pub stored_size: u64,
    /// The flash it occupies once rounded up to whole blocks.
    pub storage_size: u64,
    /// The codec this asset is stored with (written for every asset; an asset
    /// that compression does not shrink is stored with `none`). Absent in
    /// bundles from older versions: the bundle-level `codec` applies.
    #[serde(default)]
    pub codec: Option<CodecJson>,
}

impl CodecJson {
    /// The record of `codec`.
    pub fn from_codec(codec: Codec) -> CodecJson {
        match codec {
            Codec::None => CodecJson {
                kind: "none".into(),
                level: None,
                window_bits: None,
                dict_size: None,
            },
            Codec::Deflate { level, window_bits } => CodecJson {
                kind: "deflate".into(),
                level: Some(level),
                window_bits: Some(window_bits),
                dict_size: None,
            },
            Codec::Xz { preset, dict_size } => CodecJson {
                kind: "xz".into(),
                level: Some(preset),
                window_bits: None,
                dict_size: Some(dict_size),
            },
        }
    }

    /// The codec this records; an error says which part is invalid.
    pub fn to_codec(&self) -> std::result::Result<Codec, String> {
        Codec::from_parts(
            &self.kind,
            self.level,
            self.window_bits.map(u32::from),
            self.dict_size.map(u64::from),
        )
        .map_err(|e| e.to_string())
    }
}

impl StorageJson {
    /// The storage model of platform `p`.
    pub fn from_platform(p: &Platform) -> StorageJson {
        let l = p.limits.as_ref();
        StorageJson {
            limit_total: l.map(|l| l.total),
            limit_single: l.and_then(|l| l.max_asset),
            block_size: l.map_or(0, |l| l.block_size),
            per_block_overhead: l.map_or(0, |l| l.per_block_overhead),
            per_asset_overhead: p.container.fixed,
            name_in_container: p.container.includes_name,
            store: p.store.map(|g| StoreJson {
                write_size: g.write_size,
                erase_size: g.erase_size,
                partition_size: g.partition_size,
                partition_offset: g.partition_offset,
            }),
        }
    }
}

impl BundleManifest {
    /// The platform the bundle records, rebuilt so its budget can be checked.
    /// A store platform is rebuilt from its geometry, which must give the
    /// block model `storage` records.
    pub fn platform(&self) -> std::result::Result<Platform, String> {
        let codec = self.codec.to_codec().map_err(|e| format!("codec: {e}"))?;
        let s = &self.storage;
        let origin = match &self.platform {
            None => Origin::Unconstrained,
            Some(name) if assetota_core::platform::builtin(name).is_some() => Origin::BuiltIn,
            Some(_) => Origin::Config(PathBuf::from(MANIFEST_JSON)),
        };
        if let Some(store) = &s.store {
            let geometry = StoreGeometry {
                write_size: store.write_size,
                erase_size: store.erase_size,
                partition_size: store.partition_size,
                partition_offset: store.partition_offset,
            };
            let name = self.platform.as_deref().unwrap_or("(none)");
            let p = assetota_core::platform::store_platform(
                name,
                geometry,
                s.limit_single,
                codec,
                origin,
            )
            .map_err(|e| format!("storage.store: {e}"))?;
            let rebuilt = StorageJson::from_platform(&p);
            if rebuilt != *s {
                return Err(format!(
                    "storage: the block model ({} B blocks, {} B per block, {} B per asset, {:?} B in total) is not what the store geometry gives ({} B, {} B, {} B, {:?} B)",
                    s.block_size,
                    s.per_block_overhead,
                    s.per_asset_overhead,
                    s.limit_total,
                    rebuilt.block_size,
                    rebuilt.per_block_overhead,
                    rebuilt.per_asset_overhead,
                    rebuilt.limit_total
                ));
            }
            return Ok(p);
        }
        let mut p = match &self.platform {
            Some(name) => assetota_core::platform::builtin(name)
                .unwrap_or_else(|| assetota_core::platform::unconstrained(codec)),
            None => assetota_core::platform::unconstrained(codec),
        };
        p.name = self.platform.clone().unwrap_or_else(|| "(none)".into());
        p.codec = codec;
        p.container = Container {
            fixed: s.per_asset_overhead,
            includes_name: s.name_in_container,
        };
        p.limits = s.limit_total.map(|total| Limits {
            total,
            max_asset: s.limit_single,
            block_size: s.block_size,
            per_block_overhead: s.per_block_overhead,
        });
        p.origin = origin;
        Ok(p)
    }
}

impl AssetJson {
    /// The codec this asset is stored with: its own, or the bundle's `codec`
    /// when the bundle predates per-asset codecs.
    pub fn stored_codec(&self, bundle: &CodecJson) -> std::result::Result<Codec, String> {
        self.codec.as_ref().unwrap_or(bundle).to_codec()
    }
}

/// `bytes` in lowercase hex.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The SHA-256 of `bytes`, in lowercase hex.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex(&Sha256::digest(bytes))
}

/// The asset list of `manifest.json` for a budget.
pub fn assets_json(budget: &Budget) -> Vec<AssetJson> {
    budget
        .assets
        .iter()
        .map(|a| AssetJson {
            name: a.measured.name.clone(),
            file: format!("{ASSETS_PREFIX}{}", a.measured.name),
            size: a.measured.size,
            sha256: hex(&a.measured.sha256),
            compressed_size: a.measured.compressed_size,
            stored_size: a.stored_size,
            storage_size: a.storage_size,
            codec: Some(CodecJson::from_codec(a.codec)),
        })
        .collect()
}
