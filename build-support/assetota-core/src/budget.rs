//! The budget: what each asset and all of them cost on a platform, against
//! its limits.

use crate::codec::Codec;
use crate::measure::Measured;
use crate::platform::Platform;

/// Share of a limit from which a budget counts as near (90 %).
pub const NEAR_PERCENT: u64 = 90;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Verdict {
    Fits,
    Near,
    Over,
}

impl Verdict {
    fn of(used: u64, limit: Option<u64>) -> Verdict {
        match limit {
            Some(limit) if used > limit => Verdict::Over,
            Some(limit) if (used as u128) * 100 >= (limit as u128) * NEAR_PERCENT as u128 => {
                Verdict::Near
            }
            _ => Verdict::Fits,
        }
    }

    pub fn as_str(&self) -> &'static str {
        match self {
            Verdict::Fits => "fits",
            Verdict::Near => "near",
            Verdict::Over => "over",
        }
    }
}

/// One asset's cost on a platform.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AssetCost {
    /// Its `compressed_size` is the length of the payload as stored with
    /// [`AssetCost::codec`] (the raw size when stored raw).
    pub measured: Measured,
    /// The codec the asset is stored with: the platform's, or `none` where
    /// the platform stores raw what its codec does not shrink.
    pub codec: Codec,
    /// Encoded payload plus the platform's container.
    pub stored_size: u64,
    /// Flash occupied once rounded to the filesystem's blocks.
    pub storage_size: u64,
    /// Against the single-asset limit.
    pub verdict: Verdict,
}

impl AssetCost {
    pub fn name(&self) -> &str {
        &self.measured.name
    }
}

/// All assets on one platform.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Budget {
    pub platform: Platform,
    pub assets: Vec<AssetCost>,
    pub total_size: u64,
    pub total_compressed_size: u64,
    pub total_stored_size: u64,
    pub total_storage_size: u64,
    pub limit_total: Option<u64>,
    pub limit_single: Option<u64>,
    /// Against the total limit.
    pub total_verdict: Verdict,
}

impl Budget {
    /// The budget of assets measured with the platform's codec. On a
    /// platform that [stores raw](Platform::stores_raw_when_not_smaller) what
    /// its codec does not shrink, an asset whose `compressed_size >= size` is
    /// stored with codec `none`: its compressed size becomes its size.
    pub fn new(platform: &Platform, measured: Vec<Measured>) -> Budget {
        let raw_fallback = platform.stores_raw_when_not_smaller();
        let with_codecs = measured
            .into_iter()
            .map(|mut m| {
                if raw_fallback && m.compressed_size >= m.size {
                    m.compressed_size = m.size;
                    (m, Codec::None)
                } else {
                    (m, platform.codec)
                }
            })
            .collect();
        Budget::with_codecs(platform, with_codecs)
    }

    /// The budget of assets whose codec is already decided (as a bundle
    /// records it): each `compressed_size` is the length with its codec.
    pub fn with_codecs(platform: &Platform, measured: Vec<(Measured, Codec)>) -> Budget {
        let limit_total = platform.limits.as_ref().map(|l| l.total);
        let limit_single = platform.limits.as_ref().and_then(|l| l.max_asset);
        let assets: Vec<AssetCost> = measured
            .into_iter()
            .map(|(m, codec)| {
                let stored_size = platform.stored_size(&m.name, m.compressed_size);
                AssetCost {
                    storage_size: platform.storage_size(stored_size),
                    verdict: Verdict::of(stored_size, limit_single),
                    stored_size,
                    codec,
                    measured: m,
                }
            })
            .collect();
        let total_storage_size = assets.iter().map(|a| a.storage_size).sum();
        Budget {
            platform: platform.clone(),
            total_size: assets.iter().map(|a| a.measured.size).sum(),
            total_compressed_size: assets.iter().map(|a| a.measured.compressed_size).sum(),
            total_stored_size: assets.iter().map(|a| a.stored_size).sum(),
            total_verdict: Verdict::of(total_storage_size, limit_total),
            total_storage_size,
            limit_total,
            limit_single,
            assets,
        }
    }

    /// The worst verdict, per asset or in total.
    pub fn verdict(&self) -> Verdict {
        self.assets
            .iter()
            .map(|a| a.verdict)
            .chain([self.total_verdict])
            .max()
            .unwrap_or(Verdict::Fits)
    }

    pub fn fits(&self) -> bool {
        self.verdict() != Verdict::Over
    }

    /// Each way the budget is broken or nearly broken, worst first.
    pub fn findings(&self) -> Vec<Finding<'_>> {
        let mut out = Vec::new();
        if let Some(limit) = self.limit_total
            && self.total_verdict != Verdict::Fits
        {
            out.push(Finding::Total {
                verdict: self.total_verdict,
                used: self.total_storage_size,
                limit,
            });
        }
        if let Some(limit) = self.limit_single {
            out.extend(
                self.assets
                    .iter()
                    .filter(|a| a.verdict != Verdict::Fits)
                    .map(|asset| Finding::Asset { asset, limit }),
            );
        }
        out.sort_by_key(|f| std::cmp::Reverse(f.verdict()));
        out
    }
}

/// One limit an asset or the total is over or near.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Finding<'a> {
    Asset {
        asset: &'a AssetCost,
        limit: u64,
    },
    Total {
        verdict: Verdict,
        used: u64,
        limit: u64,
    },
}

impl Finding<'_> {
    pub fn verdict(&self) -> Verdict {
        match self {
            Finding::Asset { asset, .. } => asset.verdict,
            Finding::Total { verdict, .. } => *verdict,
        }
    }

    /// A one-line message that names the asset, the sizes, the limit and the fix.
    pub fn message(&self, platform: &str) -> String {
        use crate::bytesize::Bytes;
        match self {
            Finding::Asset { asset, limit } if asset.verdict == Verdict::Over => format!(
                "asset `{}` ({}) is stored as {}, over the single-asset limit of {} on platform `{platform}` by {}; shrink or split it, or choose a platform with a larger limit",
                asset.name(),
                asset.measured.path.display(),
                Bytes(asset.stored_size),
                Bytes(*limit),
                Bytes(asset.stored_size - limit)
            ),
            Finding::Asset { asset, limit } => format!(
                "asset `{}` is stored as {}, {}% of the single-asset limit of {} on platform `{platform}`",
                asset.name(),
                Bytes(asset.stored_size),
                percent(asset.stored_size, *limit),
                Bytes(*limit)
            ),
            Finding::Total {
                verdict: Verdict::Over,
                used,
                limit,
            } => format!(
                "assets need {} of storage, over the total limit of {} on platform `{platform}` by {}; remove or shrink assets (each one takes at least one block)",
                Bytes(*used),
                Bytes(*limit),
                Bytes(used - limit)
            ),
            Finding::Total { used, limit, .. } => format!(
                "assets need {} of storage, {}% of the total limit of {} on platform `{platform}`",
                Bytes(*used),
                percent(*used, *limit),
                Bytes(*limit)
            ),
        }
    }
}

/// `used` as a whole percentage of `limit`, rounded down.
pub fn percent(used: u64, limit: u64) -> u64 {
    if limit == 0 {
        100
    } else {
        ((used as u128 * 100) / limit as u128) as u64
    }
}
