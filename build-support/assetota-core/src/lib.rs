//! The shared asset model of cargo-assetota. build.rs, `cargo assetota size`
//! and `watch` all go through [`analyze`], so they can never disagree about
//! which files are assets or what they cost.

pub mod atomic;
pub mod budget;
pub mod bytesize;
pub mod cache;
pub mod codec;
pub mod config;
pub mod esp;
pub mod manifest;
pub mod measure;
pub mod names;
pub mod partition;
pub mod platform;
pub mod scan;
pub mod stale;
#[cfg(feature = "store-image")]
pub mod store_image;
pub mod zlib_deflate;

pub use budget::{AssetCost, Budget, Finding, Verdict};
pub use codec::Codec;
pub use config::{Config, ConfigError};
pub use measure::{MeasureError, Measured, NoProgress, Progress};
pub use platform::Platform;
pub use scan::{ScanError, ScannedFile};

/// Anything that stops an analysis.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error(transparent)]
    Scan(#[from] ScanError),
    #[error(transparent)]
    Measure(#[from] MeasureError),
}

/// Scans, measures and budgets the assets of a package.
pub fn analyze(
    config: &Config,
    platform: &Platform,
    progress: &dyn Progress,
) -> Result<Budget, Error> {
    analyze_cached(config, platform, progress, &mut cache::Cache::in_memory())
}

/// [`analyze`] with an incremental cache: unchanged files are not read, and
/// the cache is saved (best effort) with the files of this scan.
pub fn analyze_cached(
    config: &Config,
    platform: &Platform,
    progress: &dyn Progress,
    cache: &mut cache::Cache,
) -> Result<Budget, Error> {
    let files = scan(config, platform)?;
    let measured = cache::measure_all_cached(&files, platform.codec, progress, cache)?;
    cache.save(&files.iter().map(|f| f.path.clone()).collect::<Vec<_>>());
    Ok(Budget::new(platform, measured))
}

/// The assets of a package on a platform, without measuring them. Nested
/// names are refused on platforms with `flat_names` (Particle's).
pub fn scan(config: &Config, platform: &Platform) -> Result<Vec<ScannedFile>, ScanError> {
    let files = scan::scan(&scan::ScanOptions {
        dir: config.dir.clone(),
        exclude: config.exclude.clone(),
        max_name_len: platform.max_name_len,
    })?;
    if platform.flat_names {
        scan::check_flat(&files, &platform.name)?;
    }
    Ok(files)
}

/// The binary manifest (format v1) for a budget, as build.rs embeds it. Each
/// entry carries the codec its asset is stored with.
pub fn manifest_bytes(budget: &Budget) -> Result<Vec<u8>, manifest::EncodeError> {
    let entries: Vec<manifest::ManifestEntry<'_>> = budget
        .assets
        .iter()
        .map(|a| manifest::ManifestEntry {
            name: &a.measured.name,
            size: a.measured.size,
            compressed_size: a.measured.compressed_size,
            stored_size: a.stored_size,
            sha256: a.measured.sha256,
            codec: a.codec.device_codec(),
        })
        .collect();
    let platform = match budget.platform.origin {
        platform::Origin::Unconstrained => None,
        _ => Some(budget.platform.name.as_str()),
    };
    manifest::encode(platform, &entries)
}
