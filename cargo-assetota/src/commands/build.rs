//! `cargo assetota build`: cargo build, then for every binary of an opted-in
//! package: read the manifest back out of the ELF, refuse a stale build, write
//! the firmware image and the bundle, and report.

use std::path::{Path, PathBuf};

use assetota_core::Config;
use assetota_core::bytesize::Bytes;

use crate::cargo::{self, BuiltBinary};
use crate::cli::{BuildArgs, ImageFormat, MessageFormat};
use crate::error::{Error, Result};
use crate::shell::{BarProgress, Shell};
use assetota_bundle::PackageJson;
use assetota_bundle::message::BundleMessage;
use assetota_firmware::ElfFile;
use assetota_report::text::{budget_line, count};

use super::bundle;
use crate::files::display_path;
use crate::platform_choice::platform_override;

pub fn run(args: BuildArgs, shell: &mut Shell) -> Result<()> {
    let json = args.message_format == MessageFormat::Json;
    shell.set_json(json);
    let metadata = cargo::metadata(args.cargo.manifest_path.as_deref())?;

    // Refuse before building what could never give a bundle.
    for name in &args.cargo.package {
        let package = metadata
            .workspace_packages()
            .into_iter()
            .find(|p| p.name.as_str() == name)
            .ok_or_else(|| Error::UnknownPackage(name.clone()))?;
        if !cargo::opted_in(package) {
            return Err(cargo::not_opted_in(package));
        }
    }
    if args.cargo.package.is_empty() && !args.cargo.workspace {
        if let Some(root) = metadata.root_package() {
            if !cargo::opted_in(root) {
                return Err(cargo::not_opted_in(root));
            }
        } else if !metadata
            .workspace_default_packages()
            .iter()
            .any(|p| cargo::opted_in(p))
        {
            return Err(Error::NoOptedInPackage(
                metadata.workspace_root.clone().into(),
            ));
        }
    }

    let over = platform_override(args.platform.as_deref());
    let mut envs = Vec::new();
    if let Some(p) = &args.platform {
        envs.push((assetota_core::config::PLATFORM_ENV, p.as_str()));
    }
    let cargo_args = cargo::build_args(
        &args.cargo,
        shell.is_verbose(),
        shell.verbosity() == crate::shell::Verbosity::Quiet,
    );
    let built = match cargo::build(&cargo_args, &envs, shell) {
        Ok(built) => built,
        // build.rs fails the build when the assets are over budget: say so
        // with exit 3 rather than as a generic cargo failure.
        Err(error @ Error::CargoBuild(_)) => {
            return Err(over_budget(&metadata, &args, over.as_ref(), shell).unwrap_or(error));
        }
        Err(error) => return Err(error),
    };

    let members = metadata.workspace_packages();
    for b in &built {
        if let Some(p) = members
            .iter()
            .find(|p| p.id == b.package_id && !cargo::opted_in(p))
        {
            shell.note(format_args!(
                "skipping binary `{}`: package `{}` has no [package.metadata.assetota] table",
                b.bin, p.name
            ));
        }
    }
    let selected: Vec<(&BuiltBinary, &cargo_metadata::Package)> = built
        .iter()
        .filter_map(|b| {
            members
                .iter()
                .find(|p| p.id == b.package_id)
                .map(|p| (b, *p))
        })
        .filter(|(_, p)| cargo::opted_in(p))
        .collect();
    if selected.is_empty() {
        return Err(Error::NoBinary(
            built.iter().map(|b| b.bin.clone()).collect(),
        ));
    }
    if let Some(out) = &args.out
        && selected.len() > 1
    {
        return Err(Error::OutWithManyBundles {
            count: selected.len(),
            path: out.clone(),
        });
    }

    let cwd = std::env::current_dir().unwrap_or_default();
    let target_dir = match &args.cargo.target_dir {
        Some(dir) => cwd.join(dir),
        None => metadata.target_directory.clone().into_std_path_buf(),
    };
    let mut host = None;
    // A binary without a manifest (a helper tool in the same package) is
    // skipped when another one has a manifest, unless it was named with --bin.
    let mut without_manifest = Vec::new();
    let mut bundled = 0;
    for (binary, package) in selected {
        let (triple, profile) = triple_and_profile(
            &binary.executable,
            &target_dir,
            args.cargo.target.as_deref(),
            &mut host,
        );
        let config = Config::load(package.manifest_path.as_std_path())?
            .ok_or_else(|| cargo::not_opted_in(package))?;
        let platform =
            config.resolve_platform(over.as_ref().map(|(n, f)| (n.as_str(), f.as_str())))?;

        let path = &binary.executable;
        let bytes = std::fs::read(path).map_err(|source| Error::Read {
            path: path.clone(),
            source,
        })?;
        let elf = ElfFile::parse(path, &bytes)?;
        let located = match elf.locate_manifest(path) {
            Ok(located) => located,
            Err(e @ assetota_firmware::Error::NoManifest { .. })
                if !args.cargo.bin.contains(&binary.bin) =>
            {
                without_manifest.push((binary.bin.clone(), e));
                continue;
            }
            Err(e) => return Err(e.into()),
        };
        let manifest = assetota_firmware::decode(path, &bytes, &located)?;

        let bar = shell.progress("Checking", 0);
        let budget = assetota_core::analyze(&config, &platform, &BarProgress(bar))?;
        let changes = assetota_core::stale::compare(&manifest, &budget);
        if !changes.is_empty() {
            return Err(Error::Stale {
                bin: binary.bin.clone(),
                dir: config.dir.clone(),
                changes,
            });
        }
        shell.status(
            "Checked",
            format_args!(
                "{} of `{}` {} the manifest in `{}` ({})",
                count(budget.assets.len(), "asset"),
                package.name,
                if budget.assets.len() == 1 {
                    "matches"
                } else {
                    "match"
                },
                binary.bin,
                located.found_by
            ),
        );
        bundle::check_budget(shell, &package.name, &budget)?;

        let chip = assetota_firmware::esp_slots::chip(&platform, &elf, Some(&triple));
        let format = args.format.unwrap_or(if chip.is_some() {
            ImageFormat::Esp
        } else if triple.contains("-none") {
            ImageFormat::Bin
        } else {
            ImageFormat::Elf
        });
        let out = args
            .out
            .clone()
            .map(|o| cwd.join(o))
            .unwrap_or_else(|| path.with_file_name(format!("{}.assetota.zip", binary.bin)));
        let written = bundle::write(bundle::Job {
            package: PackageJson {
                name: package.name.to_string(),
                version: package.version.to_string(),
            },
            bin: Some(binary.bin.clone()),
            target: Some(triple.clone()),
            profile: Some(profile.clone()),
            elf: &elf,
            elf_path: path,
            located: &located,
            budget: &budget,
            format,
            chip,
            out: out.clone(),
            write_image_to: Some(path.with_file_name(format!("{}.bin", binary.bin))),
        })?;

        if json {
            shell.print_json_line(&BundleMessage::new(
                &written.manifest,
                &budget,
                &out,
                path,
                written.image_path.as_deref(),
            ));
        }
        bundle::show_firmware_check(shell, written.firmware_check.as_ref());
        super::esp_slots::show(shell, written.slot_check.as_ref());
        shell.status("Budget", budget_line(&budget));
        if let Some(image) = &written.image_path {
            shell.verbose(
                "Image",
                format_args!(
                    "{} ({} {})",
                    display_path(image),
                    Bytes(written.image_len),
                    if format == ImageFormat::Esp {
                        "ESP app image"
                    } else {
                        "flat binary"
                    }
                ),
            );
        }
        shell.status(
            "Bundled",
            format_args!(
                "{} ({} {} firmware, {})",
                display_path(&out),
                triple,
                format.as_str(),
                Bytes(written.image_len)
            ),
        );
        bundled += 1;
    }
    if bundled == 0 && !without_manifest.is_empty() {
        return Err(without_manifest.swap_remove(0).1.into());
    }
    for (bin, _) in &without_manifest {
        shell.warn(format_args!(
            "binary `{bin}` has no embedded manifest (no `assetota::manifest!();`), so it has no bundle"
        ));
    }
    Ok(())
}

/// The over-budget error of the first selected package whose assets do not fit.
fn over_budget(
    metadata: &cargo_metadata::Metadata,
    args: &BuildArgs,
    over: Option<&(String, String)>,
    shell: &mut Shell,
) -> Option<Error> {
    let packages = if args.cargo.workspace {
        metadata
            .workspace_packages()
            .into_iter()
            .filter(|p| cargo::opted_in(p))
            .collect()
    } else {
        cargo::select_packages(metadata, &args.cargo.package).ok()?
    };
    for package in packages {
        let config = Config::load(package.manifest_path.as_std_path()).ok()??;
        let platform = config
            .resolve_platform(over.map(|(n, f)| (n.as_str(), f.as_str())))
            .ok()?;
        let budget = assetota_core::analyze(&config, &platform, &assetota_core::NoProgress).ok()?;
        if let Err(e) = bundle::check_budget(shell, &package.name, &budget) {
            return Some(e);
        }
    }
    None
}

/// The target triple and profile directory of an artifact, from where cargo put
/// it: `<target-dir>/<profile>/<bin>` on the host, `<target-dir>/<triple>/<profile>/<bin>`
/// otherwise (which also covers a target set in `.cargo/config.toml`).
fn triple_and_profile(
    exe: &Path,
    target_dir: &Path,
    flag: Option<&str>,
    host: &mut Option<String>,
) -> (String, String) {
    let profile_dir = exe.parent().unwrap_or(Path::new(""));
    let profile = profile_dir
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let above = profile_dir.parent().map(PathBuf::from).unwrap_or_default();
    let same = |a: &Path, b: &Path| {
        a == b
            || (a
                .canonicalize()
                .ok()
                .is_some_and(|a| b.canonicalize().ok() == Some(a)))
    };
    if !same(&above, target_dir)
        && same(above.parent().unwrap_or(Path::new("")), target_dir)
        && let Some(name) = above.file_name()
    {
        return (name.to_string_lossy().into_owned(), profile);
    }
    if let Some(t) = flag {
        return (t.trim_end_matches(".json").to_owned(), profile);
    }
    let triple = host
        .get_or_insert_with(|| cargo::host_triple().unwrap_or_else(|| "unknown".into()))
        .clone();
    (triple, profile)
}
