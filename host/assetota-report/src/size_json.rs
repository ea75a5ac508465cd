//! The JSON of `size --json` (README.md, "Sizes and budgets"): one package's
//! budget on one platform, and the firmware check when there is one.

use assetota_bundle::{CodecJson, hex};
use assetota_core::Budget;
use assetota_core::platform::{Origin, Platform};
use assetota_firmware::fit::FirmwareCheck;
use serde::Serialize;

/// One package on one platform, as `size --json` prints it.
#[derive(Debug, Serialize)]
pub struct SizeJson {
    /// The package's name.
    pub package: String,
    /// The platform's name; `None` when no platform is configured.
    pub platform: Option<String>,
    /// The platform's codec.
    pub codec: CodecJson,
    /// Every asset, in the budget's order.
    pub assets: Vec<SizeAssetJson>,
    /// Bytes of the raw assets.
    pub total_size: u64,
    /// Bytes of the assets compressed with the platform's codec.
    pub total_compressed_size: u64,
    /// Bytes the assets are stored as (compressed, or raw where that is smaller).
    pub total_stored_size: u64,
    /// Bytes of the partition they take (whole blocks, overheads).
    pub total_storage_size: u64,
    /// The platform's total limit.
    pub limit_total: Option<u64>,
    /// The platform's single-asset limit.
    pub limit_single: Option<u64>,
    /// The budget and the firmware (if checked) fit.
    pub fits: bool,
    /// `fits`, `near` or `over`: the budget's verdict.
    pub verdict: &'static str,
    /// The W800 firmware check (`size --firmware`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub firmware: Option<FirmwareCheck>,
}

/// One asset of a [`SizeJson`].
#[derive(Debug, Serialize)]
pub struct SizeAssetJson {
    /// The asset's name.
    pub name: String,
    /// Bytes of the raw file.
    pub size: u64,
    /// SHA-256 of the raw file, lowercase hex.
    pub sha256: String,
    /// Bytes compressed with the platform's codec.
    pub compressed_size: u64,
    /// Bytes as stored.
    pub stored_size: u64,
    /// Bytes of the partition it takes.
    pub storage_size: u64,
    /// `fits`, `near` or `over`.
    pub verdict: &'static str,
    /// The codec the asset is stored with: the platform's, or `none` where a
    /// store platform keeps raw what its codec does not shrink.
    pub codec: &'static str,
}

/// The name a report shows for a platform: `None` for the unconstrained
/// stand-in used when no platform is configured.
pub fn platform_name(p: &Platform) -> Option<String> {
    match p.origin {
        Origin::Unconstrained => None,
        _ => Some(p.name.clone()),
    }
}

/// The JSON of `budget` for `package`; `fits` includes the firmware check.
pub fn size_json(package: &str, budget: &Budget, firmware: Option<FirmwareCheck>) -> SizeJson {
    SizeJson {
        package: package.to_owned(),
        platform: platform_name(&budget.platform),
        codec: CodecJson::from_codec(budget.platform.codec),
        assets: budget
            .assets
            .iter()
            .map(|a| SizeAssetJson {
                name: a.measured.name.clone(),
                size: a.measured.size,
                sha256: hex(&a.measured.sha256),
                compressed_size: a.measured.compressed_size,
                stored_size: a.stored_size,
                storage_size: a.storage_size,
                verdict: a.verdict.as_str(),
                codec: a.codec.kind(),
            })
            .collect(),
        total_size: budget.total_size,
        total_compressed_size: budget.total_compressed_size,
        total_stored_size: budget.total_stored_size,
        total_storage_size: budget.total_storage_size,
        limit_total: budget.limit_total,
        limit_single: budget.limit_single,
        fits: budget.fits() && firmware.as_ref().is_none_or(|f| f.fits),
        verdict: budget.verdict().as_str(),
        firmware,
    }
}
