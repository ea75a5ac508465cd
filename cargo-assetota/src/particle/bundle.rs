//! `cargo assetota bundle APP.bin --assets DIR [-o OUT.zip] [--modules DIR]`
//! for a Particle application.

use assetota_core::bytesize::Bytes;
use assetota_core::measure::Measured;
use assetota_core::{Budget, Config};
use assetota_particle::app::{self, App, Dependency};
use assetota_particle::asset::{self, AssetModule};
use assetota_particle::measure::{self, Kept};
use assetota_particle::zip as pzip;
use assetota_particle::{Error as ParticleError, file, platform};
use sha2::{Digest, Sha256};

use crate::cli::BundleArgs;
use crate::error::{Error, Result};
use crate::files::display_path;
use crate::report;
use crate::shell::{BarProgress, Shell};
use assetota_particle::text::dependencies;

/// The Particle path of `bundle`; `None` when the firmware is an ELF (the
/// command's own path), after refusing `--modules` for it.
pub fn bundle(args: &BundleArgs, bytes: &[u8], shell: &mut Shell) -> Option<Result<()>> {
    let path = &args.firmware;
    if file::is_elf(bytes) {
        return args
            .modules
            .as_ref()
            .map(|_| Err(Error::ModulesWithElf(path.clone())));
    }
    if file::sniff_module(bytes).is_none() && !file::has_bin_extension(path) {
        return None;
    }
    Some(run(args, bytes, shell))
}

fn run(args: &BundleArgs, bytes: &[u8], shell: &mut Shell) -> Result<()> {
    let path = &args.firmware;
    let modules = args.modules.as_deref();
    let app = App::check(bytes).map_err(|e| ParticleError::app(path, e))?;
    let platform = platform::choose(path, &app, args.platform.as_deref())?;
    for (given, flag) in [
        (args.format.is_some(), "--format"),
        (args.target.is_some(), "--target"),
        (args.name.is_some(), "--name"),
    ] {
        if given {
            shell.warn(format_args!(
                "{flag} does not apply to a Particle application; ignored"
            ));
        }
    }
    let app_name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "application.bin".into());
    let stem = path
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "application".into());
    let out = args
        .out
        .clone()
        .unwrap_or_else(|| path.with_file_name(format!("{stem}.assetota.zip")));
    file::check_bundle_name(&out)?;

    let config = Config {
        manifest_path: path.clone(),
        dir: args.assets.clone(),
        platform: None,
        codec: None,
        exclude: Vec::new(),
        custom_platforms: Vec::new(),
        inputs: Vec::new(),
    };
    let bar = shell.progress("Measuring", 0);
    let files = assetota_core::scan(&config, &platform).map_err(assetota_core::Error::from)?;
    let time = assetota_bundle::timestamp();
    let (measured, kept): (Vec<Measured>, Vec<Option<Kept>>) =
        measure::measure_keeping(&files, platform.codec, time, &BarProgress(bar))
            .map_err(assetota_core::Error::from)?
            .into_iter()
            .unzip();
    let budget = Budget::new(&platform, measured);
    let findings = measure::findings(&budget);
    for message in findings.near {
        shell.warn(message);
    }
    if !findings.over.is_empty() {
        return Err(Error::OverBudget {
            package: stem,
            platform: platform.name.clone(),
            findings: findings.over,
        });
    }

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
        let raw = std::fs::read(&m.path).map_err(|source| Error::Read {
            path: m.path.clone(),
            source,
        })?;
        if raw.len() as u64 != m.size || <[u8; 32]>::from(Sha256::digest(&raw)) != m.sha256 {
            return Err(Error::Stale {
                bin: stem.clone(),
                dir: args.assets.clone(),
                changes: vec![format!(
                    "`{}` changed while the bundle was being written",
                    m.name
                )],
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
    let updated =
        app::with_dependencies(bytes, &app, &deps).map_err(|cause| ParticleError::App {
            path: path.clone(),
            cause,
        })?;

    if let Some(dir) = modules {
        for (a, raw) in budget.assets.iter().zip(&raws) {
            let name = &a.measured.name;
            let target = dir.join(name);
            let m = asset::create(raw, name).map_err(|source| Error::Write {
                path: target.clone(),
                source,
            })?;
            // Self-check: the device's rules, the inflated bytes, and the size the budget used.
            let self_check = |cause| ParticleError::SelfCheck {
                name: name.clone(),
                cause,
            };
            AssetModule::parse(&m)
                .and_then(|parsed| parsed.raw(&m, raw.len() as u64))
                .map_err(self_check)?;
            debug_assert_eq!(m.len() as u64, a.stored_size);
            crate::files::write_atomically(&target, &m)?;
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
    pzip::write_entries(&out, &app_name, pzip::Entry::Raw(&updated), assets, time).map_err(
        |source| Error::Write {
            path: out.clone(),
            source,
        },
    )?;

    let placement = if app.deps_in_prefix() {
        "prefix"
    } else {
        "suffix"
    };
    shell.status(
        "Bundling",
        format_args!(
            "{} for Particle `{}` with {} ({} in the module's {placement}, {} → {})",
            display_path(path),
            platform.name,
            report::count(deps.len(), "asset"),
            dependencies(deps.len()),
            Bytes(bytes.len() as u64),
            Bytes(updated.len() as u64)
        ),
    );
    for a in &budget.assets {
        shell.verbose(
            "Asset",
            format_args!(
                "{} ({} → module {})",
                a.measured.name,
                Bytes(a.measured.size),
                Bytes(a.stored_size)
            ),
        );
    }
    shell.status("Budget", report::budget_line(&budget));
    if let Some(dir) = modules {
        shell.status(
            "Wrote",
            format_args!(
                "{} asset modules to {}",
                budget.assets.len(),
                display_path(dir)
            ),
        );
    }
    shell.status("Bundled", display_path(&out));
    Ok(())
}
