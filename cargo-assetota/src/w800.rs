//! W800 firmware images: `cargo assetota bundle APP.bin --platform P`
//! (`PREFIX.img` and `PREFIX_ota.img`, byte-identical to the SDK's packer)
//! and `cargo assetota inspect FILE.img`. The format is
//! `assetota_firmware::w800`'s; this file only finds the platform, writes the
//! files and prints (the images, the report and the JSON are
//! `assetota_firmware::w800::{bundle, inspect}`'s).

use assetota_core::{Config, Platform};
use assetota_firmware::w800::bundle::{BundleJson, Packed, image_paths};
use assetota_firmware::w800::inspect::InspectJson;
use assetota_firmware::w800::{self, Layout};

use crate::cargo;
use crate::cli::{BundleArgs, InspectArgs};
use crate::error::{Error, Result};
use crate::shell::Shell;
use assetota_firmware::fit::FirmwareCheck;

use crate::files::{display_path, write_atomically};

/// `bundle` of a W800 app: when the firmware is neither an ELF nor a W800
/// image and `--platform` names a platform that is not built in (a platform
/// of the package's config). `None` leaves the file to the other bundlers.
pub fn bundle(args: &BundleArgs, bytes: &[u8], shell: &mut Shell) -> Option<Result<()>> {
    let name = args.platform.as_deref()?;
    if bytes.starts_with(assetota_firmware::ELF_MAGIC)
        || assetota_core::platform::builtin(name).is_some()
    {
        return None;
    }
    Some(run_bundle(args, name, bytes, shell))
}

/// The package of the workspace (as `size` selects it) whose config defines
/// `name`, its version and the resolved platform.
fn find_platform(args: &BundleArgs, name: &str) -> Result<(String, String, Platform)> {
    let metadata = cargo::metadata(args.manifest_path.as_deref())?;
    let packages = cargo::select_packages(&metadata, &[])?;
    let mut defined = Vec::new();
    for package in packages {
        let Some(config) = Config::load(package.manifest_path.as_std_path())? else {
            continue;
        };
        if config.custom_platforms.iter().any(|p| p.name == name) {
            let platform = config.resolve_platform(Some((name, "--platform")))?;
            return Ok((
                package.name.to_string(),
                package.version.to_string(),
                platform,
            ));
        }
        defined.extend(config.custom_platforms.iter().map(|p| p.name.clone()));
    }
    let mut known: Vec<String> = assetota_core::platform::builtin_names()
        .into_iter()
        .map(str::to_owned)
        .collect();
    known.extend(defined);
    Err(Error::UnknownPlatform {
        name: name.to_owned(),
        known,
    })
}

fn run_bundle(args: &BundleArgs, name: &str, bytes: &[u8], shell: &mut Shell) -> Result<()> {
    shell.set_json(args.json);
    let path = &args.firmware;
    if w800::is_image(bytes) {
        return Err(Error::BundleUsage(format!(
            "`{}` is already a W800 image; pass the app binary it was made from",
            display_path(path)
        )));
    }
    let (package, package_version, platform) = find_platform(args, name)?;
    let layout = Layout::of_platform(&platform)?;
    let version = args.package_version.clone().unwrap_or(package_version);
    let options = w800::Options {
        version: &version,
        bootloader_flags: args.bootloader_flags.unwrap_or(0),
    };
    let packed = Packed::new(path, bytes, name, layout, options)?;
    if let Some(warning) = packed.padding_warning(&display_path(path)) {
        shell.warn(warning);
    }
    let check = FirmwareCheck::of(&packed.images, &packed.layout);
    for warning in check.warnings() {
        shell.warn(format_args!("platform `{name}`: {warning}"));
    }
    let prefix = match &args.out {
        Some(prefix) => prefix.clone(),
        None => path.with_extension(""),
    };
    let (image_path, ota_path) = image_paths(&prefix);
    if check.fits {
        write_atomically(&image_path, &packed.images.image)?;
        write_atomically(&ota_path, &packed.images.ota_image)?;
    }
    let (image_file, ota_file) = (display_path(&image_path), display_path(&ota_path));
    if args.json {
        let app = display_path(path);
        let json = BundleJson::new(&packed, app, package, image_file.clone(), ota_file.clone());
        shell.print_json(&json);
    }
    if !check.fits {
        return Err(Error::FirmwareTooBig {
            file: path.clone(),
            platform: name.to_owned(),
            problems: check.problems(),
        });
    }
    shell.status("Firmware", check.summary());
    shell.status("Bundled", packed.summary(&image_file, &ota_file));
    Ok(())
}

/// `inspect` of a W800 image; `None` when the file does not start with the
/// W800 magic.
pub fn inspect(args: &InspectArgs, shell: &mut Shell) -> Option<Result<()>> {
    let mut head = [0u8; 4];
    let mut file = std::fs::File::open(&args.file).ok()?;
    std::io::Read::read_exact(&mut file, &mut head).ok()?;
    if !w800::is_image(&head) {
        return None;
    }
    Some(run_inspect(args, shell))
}

fn run_inspect(args: &InspectArgs, shell: &mut Shell) -> Result<()> {
    shell.set_json(args.json);
    let path = &args.file;
    let bytes = std::fs::read(path).map_err(|source| Error::Read {
        path: path.to_owned(),
        source,
    })?;
    let image = w800::read(path, &bytes)?;
    let report = InspectJson::of(display_path(path), bytes.len() as u64, &image);
    if args.json {
        shell.print_json(&report);
    } else {
        shell.print(report.render());
    }
    Ok(())
}
