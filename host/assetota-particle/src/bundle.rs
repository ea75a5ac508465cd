//! `bundle` for a Particle application: the assets measured against the
//! platform, then the application with their dependencies, the asset
//! modules and the bundle zip written, each checked against what was
//! measured.

use std::path::{Path, PathBuf};

use assetota_core::measure::{Measured as MeasuredAsset, Progress};
use assetota_core::{Budget, Config, Platform};
use sha2::{Digest, Sha256};

use crate::app::{self, App, Dependency};
use crate::asset::{self, AssetModule};
use crate::error::Error;
use crate::file;
use crate::measure::{self, Kept};
use crate::zip as pzip;

/// The names a bundle of an application is written under.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Names {
    /// The application's entry in the zip: its file name.
    pub app_name: String,
    /// The application's file stem, which names the package in messages.
    pub stem: String,
    /// The bundle: `--out`, else `<stem>.assetota.zip` beside the application.
    pub out: PathBuf,
}

impl Names {
    /// The names for the application at `path`, written to `out` when
    /// given; the bundle must be a `.zip`, as particle-cli requires.
    pub fn of(path: &Path, out: Option<&Path>) -> Result<Names, Error> {
        let app_name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| "application.bin".into());
        let stem = path
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_else(|| "application".into());
        let out = out
            .map(Path::to_owned)
            .unwrap_or_else(|| path.with_file_name(format!("{stem}.assetota.zip")));
        file::check_bundle_name(&out)?;
        Ok(Names {
            app_name,
            stem,
            out,
        })
    }
}

/// The assets of a bundle, measured; those that fit in memory kept with
/// their zip entries, so they are not read or compressed twice.
pub struct Measured {
    /// The budget of the assets on the platform.
    pub budget: Budget,
    dir: PathBuf,
    kept: Vec<Option<Kept>>,
    time: ::zip::DateTime,
}

/// Scans and measures the assets in `dir` for the application at `path`
/// on `platform`.
pub fn measure(
    path: &Path,
    dir: &Path,
    platform: &Platform,
    progress: &dyn Progress,
) -> Result<Measured, assetota_core::Error> {
    let config = Config {
        manifest_path: path.to_owned(),
        dir: dir.to_owned(),
        platform: None,
        codec: None,
        exclude: Vec::new(),
        custom_platforms: Vec::new(),
        inputs: Vec::new(),
    };
    let files = assetota_core::scan(&config, platform)?;
    let time = assetota_bundle::timestamp();
    let (measured, kept): (Vec<MeasuredAsset>, Vec<Option<Kept>>) =
        measure::measure_keeping(&files, platform.codec, time, progress)?
            .into_iter()
            .unzip();
    Ok(Measured {
        budget: Budget::new(platform, measured),
        dir: dir.to_owned(),
        kept,
        time,
    })
}

/// Why a measured bundle could not be written.
#[derive(Debug, thiserror::Error)]
pub enum WriteError {
    /// The application cannot take the dependencies, or an asset module does not check out.
    #[error(transparent)]
    Particle(#[from] Error),
    /// An asset could not be read again.
    #[error("cannot read `{}`: {source}", path.display())]
    Read {
        /// The asset.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// An asset module or the bundle could not be written.
    #[error("cannot write `{}`: {source}", path.display())]
    Write {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// An asset changed after it was measured.
    #[error("the assets in `{}` changed while `{bin}` was being bundled: {change}", dir.display())]
    Stale {
        /// The application's stem.
        bin: String,
        /// The asset directory.
        dir: PathBuf,
        /// What changed.
        change: String,
    },
}

/// What [`write`] wrote.
pub struct Written {
    /// The budget of the assets written.
    pub budget: Budget,
    /// The application with its dependencies, in bytes.
    pub app_len: u64,
}

/// Writes the bundle of the application `app` (its `bytes`) under `names`,
/// with the `measured` assets as its dependencies, and their asset modules
/// into `modules` when given (each read back as the device reads it first).
pub fn write(
    measured: Measured,
    bytes: &[u8],
    app: &App,
    path: &Path,
    names: &Names,
    modules: Option<&Path>,
) -> Result<Written, WriteError> {
    let Measured {
        budget,
        dir,
        kept,
        time,
    } = measured;
    // The bytes that were measured: kept in memory, or checked again as they
    // are read.
    let mut raws = Vec::with_capacity(budget.assets.len());
    let mut entries = Vec::with_capacity(budget.assets.len());
    for (a, kept) in budget.assets.iter().zip(kept) {
        let m = &a.measured;
        if let Some(kept) = kept {
            raws.push(kept.raw);
            entries.push(Some(kept.entry));
            continue;
        }
        entries.push(None);
        let raw = std::fs::read(&m.path).map_err(|source| WriteError::Read {
            path: m.path.clone(),
            source,
        })?;
        if raw.len() as u64 != m.size || <[u8; 32]>::from(Sha256::digest(&raw)) != m.sha256 {
            return Err(WriteError::Stale {
                bin: names.stem.clone(),
                dir,
                change: format!("`{}` changed while the bundle was being written", m.name),
            });
        }
        raws.push(raw);
    }
    let deps: Vec<Dependency<'_>> = budget
        .assets
        .iter()
        .map(|a| Dependency {
            name: &a.measured.name,
            sha256: a.measured.sha256,
        })
        .collect();
    let updated = app::with_dependencies(bytes, app, &deps).map_err(|cause| Error::App {
        path: path.to_owned(),
        cause,
    })?;

    if let Some(dir) = modules {
        for (a, raw) in budget.assets.iter().zip(&raws) {
            let name = &a.measured.name;
            let target = dir.join(name);
            let m = asset::create(raw, name).map_err(|source| WriteError::Write {
                path: target.clone(),
                source,
            })?;
            // Self-check: the device's rules, the inflated bytes, and the size the budget used.
            let self_check = |cause| Error::SelfCheck {
                name: name.clone(),
                cause,
            };
            AssetModule::parse(&m)
                .and_then(|parsed| parsed.raw(&m, raw.len() as u64))
                .map_err(self_check)?;
            debug_assert_eq!(m.len() as u64, a.stored_size);
            assetota_core::atomic::write_bytes(&target, &m).map_err(|source| {
                WriteError::Write {
                    path: target.clone(),
                    source,
                }
            })?;
        }
    }

    let assets: Vec<(&str, pzip::Entry<'_>)> = budget
        .assets
        .iter()
        .zip(&raws)
        .zip(entries)
        .map(|((a, raw), entry)| {
            let entry = entry.map_or(pzip::Entry::Raw(raw), pzip::Entry::Prepared);
            (a.measured.name.as_str(), entry)
        })
        .collect();
    pzip::write_entries(
        &names.out,
        &names.app_name,
        pzip::Entry::Raw(&updated),
        assets,
        time,
    )
    .map_err(|source| WriteError::Write {
        path: names.out.clone(),
        source,
    })?;
    Ok(Written {
        app_len: updated.len() as u64,
        budget,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_beside_the_application() {
        let n = Names::of(Path::new("fw/app.bin"), None).unwrap();
        assert_eq!(n.app_name, "app.bin");
        assert_eq!(n.stem, "app");
        assert_eq!(n.out, Path::new("fw/app.assetota.zip"));
        let n = Names::of(Path::new("app.bin"), Some(Path::new("x.ZIP"))).unwrap();
        assert_eq!(n.out, Path::new("x.ZIP"));
        assert_eq!(
            Names::of(Path::new("app.bin"), Some(Path::new("x.tar"))),
            Err(Error::NotZipName("x.tar".into()))
        );
    }
}
