//! `cargo assetota bundle FIRMWARE --assets DIR`, and the bundle writing that
//! `build` shares with it.

use std::borrow::Cow;
use std::path::{Path, PathBuf};

use assetota_core::{Budget, Config};

use crate::cli::{BundleArgs, ImageFormat};
use crate::error::{Error, Result};
use crate::shell::{BarProgress, Shell};
use assetota_bundle::{self as bundle, BundleManifest, Entry, PackageJson, assemble};
use assetota_firmware::fit::FirmwareCheck;
use assetota_firmware::{ElfFile, Located};
use assetota_report::size_json::platform_name;
use assetota_report::text::{budget_line, count};

use crate::files::display_path;

/// Everything a bundle is made of.
pub struct Job<'a> {
    pub package: PackageJson,
    pub bin: Option<String>,
    pub target: Option<String>,
    pub profile: Option<String>,
    pub elf: &'a ElfFile<'a>,
    pub elf_path: &'a Path,
    pub located: &'a Located,
    pub budget: &'a Budget,
    pub format: ImageFormat,
    /// The ESP chip, for `ImageFormat::Esp` (see `assetota_firmware::esp_slots::chip`).
    pub chip: Option<String>,
    pub out: PathBuf,
    /// Also write the flat image here (beside the ELF, as `objcopy` would).
    pub write_image_to: Option<PathBuf>,
}

/// What was written.
pub struct Written {
    pub manifest: BundleManifest,
    pub image_len: u64,
    pub image_path: Option<PathBuf>,
    pub firmware_check: Option<FirmwareCheck>,
    /// The ESP app image against the table's app slots.
    pub slot_check: Option<assetota_firmware::esp_slots::SlotCheck>,
}

pub fn write(job: Job<'_>) -> Result<Written> {
    let (image, manifest_offset, load_address): (Cow<'_, [u8]>, u64, Option<u64>) = match job.format
    {
        ImageFormat::Elf => (
            Cow::Borrowed(job.elf.bytes),
            job.located.offset as u64,
            None,
        ),
        ImageFormat::Bin => {
            let flat = job.elf.flat_image(job.elf_path)?;
            let offset = flat.image_offset(job.located.offset as u64).ok_or_else(|| assetota_firmware::Error::BadElf {
                path: job.elf_path.to_owned(),
                detail: "the manifest is not in a loadable section, so the device cannot read it from a flat image; keep `.assetota` in a region that is loaded (e.g. `> FLASH`)".into(),
            })?;
            (Cow::Owned(flat.bytes), offset, Some(flat.base_address))
        }
        ImageFormat::Esp => {
            let chip = job.chip.as_deref().ok_or_else(|| Error::NoChip {
                file: job.elf_path.to_owned(),
            })?;
            let esp = assetota_firmware::esp::app_image(job.elf_path, job.elf, job.located, chip)?;
            (Cow::Owned(esp.bytes), esp.manifest_offset, None)
        }
    };
    // The offset recorded must lead to the same manifest in the stored image.
    let manifest = assetota_firmware::decode(
        job.elf_path,
        &image,
        &Located {
            offset: manifest_offset as usize,
            ..job.located.clone()
        },
    )?;
    let manifest_size = manifest.byte_len() as u64;

    let budget = job.budget;
    let platform = &budget.platform;
    let firmware_check = FirmwareCheck::run(platform, &image, &job.package.version)?;
    let slot_check = match job.format {
        ImageFormat::Esp => {
            assetota_firmware::esp_slots::SlotCheck::run(platform, image.len() as u64)
        }
        _ => None,
    };
    if let Some(check) = &slot_check
        && !check.fits
    {
        return Err(Error::FirmwareTooBig {
            file: job.elf_path.to_owned(),
            platform: platform.name.clone(),
            problems: check.problems(),
        });
    }
    if let Some(check) = &firmware_check
        && !check.fits
    {
        return Err(Error::FirmwareTooBig {
            file: job.elf_path.to_owned(),
            platform: platform.name.clone(),
            problems: check.problems(),
        });
    }
    let image = assemble::Image {
        format: job.format.as_str(),
        extension: job.format.extension(),
        bytes: image,
        manifest_offset,
        manifest_size,
        load_address,
    };
    let origin = assemble::Origin {
        package: job.package,
        bin: job.bin,
        target: job.target,
        profile: job.profile,
    };
    let bundle_manifest = assemble::manifest(
        origin,
        format!("cargo-assetota {}", env!("CARGO_PKG_VERSION")),
        platform_name(platform),
        budget,
        &image,
        firmware_check.as_ref().is_none_or(|c| c.fits)
            && slot_check.as_ref().is_none_or(|c| c.fits),
    );

    let mut entries = assemble::asset_entries(&bundle_manifest, budget)?;
    let image_len = image.bytes.len() as u64;
    let image_path = match (&job.write_image_to, job.format) {
        (Some(path), ImageFormat::Bin | ImageFormat::Esp) => {
            crate::files::write_atomically(path, &image.bytes)?;
            Some(path.clone())
        }
        _ => None,
    };
    entries.push(Entry {
        name: bundle_manifest.firmware.file.clone(),
        bytes: image.bytes,
    });
    bundle::write(&job.out, &bundle_manifest, entries)?;
    Ok(Written {
        manifest: bundle_manifest,
        image_len,
        image_path,
        firmware_check,
        slot_check,
    })
}

pub fn run(args: BundleArgs, shell: &mut Shell) -> Result<()> {
    let path = &args.firmware;
    let bytes = std::fs::read(path).map_err(|source| Error::Read {
        path: path.to_owned(),
        source,
    })?;
    if let Some(result) = crate::w800::bundle(&args, &bytes, shell) {
        return result;
    }
    if args.assets.as_os_str().is_empty() {
        return Err(Error::BundleUsage(format!(
            "`--assets DIR` is required to bundle `{}` (only W800 apps, with a W800 `--platform`, are bundled without assets)",
            display_path(path)
        )));
    }
    if let Some(result) = crate::particle::bundle::bundle(&args, &bytes, shell) {
        return result;
    }
    let elf = ElfFile::parse(path, &bytes)?;
    let located = elf.locate_manifest(path)?;
    let manifest = assetota_firmware::decode(path, &bytes, &located)?;

    let mut platform = match (&args.platform, manifest.platform()) {
        (Some(name), _) => crate::platform_choice::builtin_platform(name)?,
        (None, Some(name)) => {
            crate::platform_choice::builtin_platform(name).map_err(|_| Error::UnknownPlatform {
                name: name.to_owned(),
                known: assetota_core::platform::builtin_names()
                    .into_iter()
                    .map(str::to_owned)
                    .collect(),
            })?
        }
        (None, None) => {
            assetota_core::platform::unconstrained(assetota_core::codec::PARTICLE_DEFLATE)
        }
    };
    // The codec the firmware was built with, as far as the manifest records it.
    if let Some(first) = manifest.iter().next() {
        platform.codec = bundle::codec::as_recorded(platform.codec, first.codec());
    }
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
    let budget = assetota_core::analyze(&config, &platform, &BarProgress(bar))?;
    let changes = assetota_core::stale::compare(&manifest, &budget);
    let bin = path
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "firmware".into());
    if !changes.is_empty() {
        return Err(Error::Stale {
            bin: display_path(path),
            dir: args.assets.clone(),
            changes,
        });
    }
    shell.status(
        "Checked",
        format_args!(
            "{} in `{}` {} the manifest in `{}`",
            count(budget.assets.len(), "asset"),
            display_path(&args.assets),
            if budget.assets.len() == 1 {
                "matches"
            } else {
                "match"
            },
            display_path(path)
        ),
    );
    check_budget(shell, &bin, &budget)?;

    let chip = assetota_firmware::esp_slots::chip(&platform, &elf, args.target.as_deref());
    let format = args.format.unwrap_or(if chip.is_some() {
        ImageFormat::Esp
    } else if elf.is_bare_metal() {
        ImageFormat::Bin
    } else {
        ImageFormat::Elf
    });
    let out = args
        .out
        .clone()
        .unwrap_or_else(|| path.with_file_name(format!("{bin}.assetota.zip")));
    let written = write(Job {
        package: PackageJson {
            name: args.name.clone().unwrap_or_else(|| bin.clone()),
            version: args
                .package_version
                .clone()
                .unwrap_or_else(|| "0.0.0".to_owned()),
        },
        bin: Some(bin),
        target: args.target.clone(),
        profile: None,
        elf: &elf,
        elf_path: path,
        located: &located,
        budget: &budget,
        format,
        chip,
        out: out.clone(),
        write_image_to: None,
    })?;
    show_firmware_check(shell, written.firmware_check.as_ref());
    super::esp_slots::show(shell, written.slot_check.as_ref());
    shell.status("Budget", budget_line(&budget));
    shell.status(
        "Bundled",
        format_args!(
            "{} ({} firmware image, {})",
            display_path(&out),
            format.as_str(),
            assetota_core::bytesize::Bytes(written.image_len)
        ),
    );
    Ok(())
}

/// Near-limit findings are warnings; over-limit ones fail with exit 3.
pub fn check_budget(shell: &mut Shell, package: &str, budget: &Budget) -> Result<()> {
    let findings = bundle::budget::findings(budget);
    for message in findings.near {
        shell.warn(message);
    }
    if !findings.over.is_empty() {
        return Err(Error::OverBudget {
            package: package.to_owned(),
            platform: budget.platform.name.clone(),
            findings: findings.over,
        });
    }
    Ok(())
}

/// The result of the partition check of platforms defined by a partition table.
pub fn show_firmware_check(shell: &mut Shell, check: Option<&FirmwareCheck>) {
    if let Some(check) = check {
        shell.status("Firmware", check.summary());
        for warning in check.warnings() {
            shell.warn(warning);
        }
    }
}
