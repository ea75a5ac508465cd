//! `cargo assetota size`: the budget table, or the fit matrix over all platforms.

use std::collections::HashMap;
use std::path::PathBuf;

use assetota_core::cache::Cache;
use assetota_core::measure::Measured;
use assetota_core::{Budget, Config, Platform, Verdict};

use crate::cargo;
use crate::cli::{OutputFormat, SizeArgs};
use crate::error::{Error, Result};
use crate::shell::{BarProgress, Shell};
use assetota_firmware::fit::FirmwareCheck;
use assetota_report::size_html::{platforms_table, size_section};
use assetota_report::size_json::size_json;
use assetota_report::text::{budget_table, fit_matrix};
use assetota_report::{self as report_html, Report, Section, report_date};

use crate::platform_choice::platform_override;

pub fn run(args: SizeArgs, shell: &mut Shell) -> Result<()> {
    let format = if args.json {
        OutputFormat::Json
    } else {
        args.format.unwrap_or(OutputFormat::Human)
    };
    let human = format == OutputFormat::Human;
    let want_sections = args.report.is_some() || format == OutputFormat::Markdown;
    let mut sections: Vec<Section> = Vec::new();
    shell.set_json(format == OutputFormat::Json);
    let metadata = cargo::metadata(args.packages.manifest_path.as_deref())?;
    let packages = cargo::select_packages(&metadata, &args.packages.package)?;
    // The measure cache build.rs and watch share: unchanged assets are not read.
    let mut measure_cache = Cache::for_target_dir(metadata.target_directory.as_std_path());
    let mut measured_paths = Vec::new();
    let image = match &args.firmware {
        Some(path) => Some(firmware_image(path)?),
        None => None,
    };

    let mut json: Vec<serde_json::Value> = Vec::new();
    let mut over = Vec::new();
    for package in packages {
        let manifest_path = package.manifest_path.as_std_path();
        let config = Config::load(manifest_path)?.ok_or_else(|| cargo::not_opted_in(package))?;
        let name = package.name.to_string();
        if args.all_platforms {
            let mut platforms: Vec<Platform> = Vec::new();
            for p in assetota_core::platform::builtin_platforms()
                .into_iter()
                .chain(config.custom_platforms.iter().cloned())
            {
                platforms.push(config.resolve_platform(Some((&p.name, "--all-platforms")))?);
            }
            let rows: Vec<(String, std::result::Result<Budget, String>)> = platforms
                .iter()
                .zip(measure_for(
                    &config,
                    &platforms,
                    shell,
                    &mut measure_cache,
                    &mut measured_paths,
                )?)
                .map(|(p, r)| (p.name.clone(), r.map_err(|e| e.to_string())))
                .collect();
            if human {
                shell.print(fit_matrix(&name, &rows));
            }
            if want_sections {
                // The treemap shows the configured platform (or the first
                // that takes the assets); the table below it, every platform.
                let over_name = platform_override(None);
                let configured = config
                    .resolve_platform(over_name.as_ref().map(|(n, f)| (n.as_str(), f.as_str())))
                    .ok()
                    .and_then(|p| {
                        measure_for(
                            &config,
                            std::slice::from_ref(&p),
                            shell,
                            &mut measure_cache,
                            &mut measured_paths,
                        )
                        .ok()
                        .and_then(|mut v| v.remove(0).ok())
                    });
                let shown =
                    configured.or_else(|| rows.iter().find_map(|(_, r)| r.as_ref().ok().cloned()));
                if let Some(budget) = shown {
                    let mut section = size_section(&name, &budget, None);
                    section.platforms = Some(platforms_table(&rows));
                    sections.push(section);
                }
            }
            for (platform, row) in &rows {
                json.push(match row {
                    Ok(b) => serde_json::to_value(size_json(&name, b, None)).unwrap_or_default(),
                    Err(e) => serde_json::json!({ "package": name, "platform": platform, "fits": false, "error": e }),
                });
            }
            // The matrix answers "which platforms fit"; over on some is not an error.
        } else {
            let over_name = platform_override(args.platform.as_deref());
            let platform = config
                .resolve_platform(over_name.as_ref().map(|(n, f)| (n.as_str(), f.as_str())))?;
            let budget = measure_for(
                &config,
                std::slice::from_ref(&platform),
                shell,
                &mut measure_cache,
                &mut measured_paths,
            )?
            .remove(0)?;
            let check = match &image {
                Some(img) => FirmwareCheck::run(&platform, img, &package.version.to_string())?,
                None => None,
            };
            if image.is_some() && check.is_none() {
                shell.warn(format_args!(
                    "platform `{}` has no app/OTA partitions (set `partition-table` in its definition); the firmware was not checked",
                    platform.name
                ));
            }
            if want_sections {
                sections.push(size_section(&name, &budget, check.as_ref()));
            }
            if human {
                shell.print(budget_table(&name, &budget));
                if let Some(c) = &check {
                    shell.print(format!("  firmware: {}\n", c.summary()));
                }
            }
            for finding in budget.findings() {
                if finding.verdict() == Verdict::Near {
                    shell.warn(finding.message(&platform.name));
                }
            }
            for warning in check.iter().flat_map(FirmwareCheck::warnings) {
                shell.warn(format_args!("platform `{}`: {warning}", platform.name));
            }
            let mut problems: Vec<String> = budget
                .findings()
                .iter()
                .filter(|f| f.verdict() == Verdict::Over)
                .map(|f| f.message(&platform.name))
                .collect();
            if let Some(c) = &check {
                problems.extend(c.problems());
            }
            if !problems.is_empty() {
                over.push((name.clone(), platform.name.clone(), problems));
            }
            json.push(serde_json::to_value(size_json(&name, &budget, check)).unwrap_or_default());
        }
    }
    measure_cache.save(&measured_paths);
    if want_sections {
        let title = match sections.as_slice() {
            [one] => format!("Asset budget: {}", one.heading),
            _ => "Asset budgets".to_owned(),
        };
        let page = Report {
            title,
            date: report_date(),
            refresh_seconds: None,
            sections,
        };
        if let Some(path) = &args.report {
            crate::files::write_atomically(path, report_html::page::render(&page).as_bytes())?;
        }
        if format == OutputFormat::Markdown {
            shell.print(report_html::markdown::render(&page));
        }
    }
    if format == OutputFormat::Json {
        if json.len() == 1 && !args.all_platforms {
            shell.print_json(&json[0]);
        } else {
            shell.print_json(&json);
        }
    }
    if let Some((package, platform, findings)) = over.into_iter().next() {
        return Err(Error::OverBudget {
            package,
            platform,
            findings,
        });
    }
    Ok(())
}

/// Budgets for several platforms, measuring each distinct (codec, file list)
/// once. The outer error stops everything (the assets dir cannot be read); an
/// inner one is a platform that refuses these assets (e.g. nested names on a
/// flat-name platform). Unchanged files come from `measure_cache`; the paths
/// scanned are added to `scanned` (what the cache keeps when saved).
pub fn measure_for(
    config: &Config,
    platforms: &[Platform],
    shell: &mut Shell,
    measure_cache: &mut Cache,
    scanned: &mut Vec<PathBuf>,
) -> Result<Vec<std::result::Result<Budget, assetota_core::Error>>> {
    let mut cache: HashMap<(String, Vec<String>), Vec<Measured>> = HashMap::new();
    let mut out = Vec::new();
    for platform in platforms {
        let files = match assetota_core::scan(config, platform) {
            Ok(files) => files,
            Err(
                e @ (assetota_core::ScanError::NestedName { .. }
                | assetota_core::ScanError::BadName { .. }),
            ) => {
                out.push(Err(e.into()));
                continue;
            }
            Err(e) => return Err(assetota_core::Error::from(e).into()),
        };
        scanned.extend(files.iter().map(|f| f.path.clone()));
        let key = (
            format!("{:?}", platform.codec),
            files.iter().map(|f| f.name.clone()).collect::<Vec<_>>(),
        );
        let measured = match cache.get(&key) {
            Some(m) => m.clone(),
            None => {
                let bar = shell.progress("Measuring", 0);
                let m = assetota_core::cache::measure_all_cached(
                    &files,
                    platform.codec,
                    &BarProgress(bar),
                    measure_cache,
                )
                .map_err(assetota_core::Error::from)?;
                cache.insert(key, m.clone());
                m
            }
        };
        out.push(Ok(Budget::new(platform, measured)));
    }
    Ok(out)
}

/// The image to check against the partitions (an ELF as its flat binary).
fn firmware_image(path: &std::path::Path) -> Result<Vec<u8>> {
    let bytes = std::fs::read(path).map_err(|source| Error::Read {
        path: path.to_owned(),
        source,
    })?;
    Ok(assetota_firmware::fit::app_image(path, bytes)?)
}
