//! `cargo assetota image BUNDLE -o FILE [--format bin|hex|uf2] [--firmware]`:
//! the factory image of the device store with every asset of a verified
//! bundle installed (README.md, "Factory image"). The image is planned and
//! built by `assetota_bundle::store_image`; this file checks the flags,
//! resolves `--platform`, writes the file atomically and prints.

use assetota_bundle::store_image::report::ImageJson;
use assetota_bundle::store_image::{self, Format, Request};
use assetota_core::Config;

use crate::cargo;
use crate::cli::{ImageArgs, StoreImageFormat, VerifyArgs};
use crate::error::{Error, Result};
use crate::files::display_path;
use crate::shell::Shell;

pub fn run(args: ImageArgs, shell: &mut Shell) -> Result<()> {
    check_flags(&args)?;
    // The whole check `verify` does, with its report: a bundle it refuses is
    // refused here before anything is built.
    super::verify::run(
        VerifyArgs {
            bundle: args.bundle.clone(),
            platform: None,
            json: false,
        },
        shell,
    )?;
    shell.set_json(args.json);
    let path = &args.bundle;
    let bytes = std::fs::read(path).map_err(|source| Error::Read {
        path: path.clone(),
        source,
    })?;
    if assetota_particle::zip::looks_like_particle_bundle(&bytes) {
        return Err(Error::NotStoreBundle {
            path: path.clone(),
            platform: Some("Particle".into()),
        });
    }
    let contents = assetota_bundle::read_bytes(path, &bytes)?;
    drop(bytes);
    let chosen = match &args.platform {
        Some(name) => Some((name.as_str(), store_platform(&args, name)?)),
        None => None,
    };
    let target = store_image::target(path, &contents.manifest, chosen)?;
    if let Some(note) = &target.note {
        shell.note(note);
    }
    let request = Request {
        format: match args.format {
            StoreImageFormat::Bin => Format::Bin,
            StoreImageFormat::Hex => Format::Hex,
            StoreImageFormat::Uf2 => Format::Uf2,
        },
        address: args.address,
        firmware: args.firmware,
        family_id: args.family_id,
        skip_erased: args.skip_erased,
    };
    let made = store_image::make(path, &contents, &target, request)?;
    crate::files::write_atomically(&args.out, made.bytes())?;

    let file = display_path(&args.out);
    if args.json {
        shell.print_json(&ImageJson::new(file.clone(), &made, &target, request));
    }
    shell.status("Wrote", made.summary(&file, request.format));
    // The store partition of an ESP firmware, for espflash to program.
    if contents.manifest.firmware.format == "esp"
        && request.format == Format::Bin
        && let Some(offset) = made.address.or(target.geometry.partition_offset)
    {
        shell.status(
            "Flash",
            format_args!("espflash write-bin {offset:#x} {file}"),
        );
    }
    if args.skip_erased {
        shell.note(
            "erased (all-0xFF) ranges were left out of the file: program it only with a tool that erases the whole store partition first, or stale flash contents survive there",
        );
    }
    Ok(())
}

/// Flag combinations clap cannot express.
fn check_flags(args: &ImageArgs) -> Result<()> {
    let usage = |text: &str| Err(Error::ImageUsage(text.to_owned()));
    match args.format {
        StoreImageFormat::Bin if args.firmware => usage(
            "`--firmware` needs `--format hex` or `--format uf2`: a bin is exactly the store partition",
        ),
        StoreImageFormat::Bin if args.address.is_some() => {
            usage("`--address` applies to `--format hex` and `--format uf2` only")
        }
        StoreImageFormat::Bin if args.skip_erased => {
            usage("`--skip-erased` applies to `--format hex` and `--format uf2` only")
        }
        StoreImageFormat::Bin | StoreImageFormat::Hex if args.family_id.is_some() => {
            usage("`--family-id` applies to `--format uf2` only")
        }
        _ => Ok(()),
    }
}

/// `--platform NAME` as `size` resolves it: from the selected packages'
/// config (the first that knows the name).
fn store_platform(args: &ImageArgs, name: &str) -> Result<assetota_core::Platform> {
    let metadata = cargo::metadata(args.packages.manifest_path.as_deref())?;
    let packages = cargo::select_packages(&metadata, &args.packages.package)?;
    let mut first_error = None;
    for package in packages {
        let config = Config::load(package.manifest_path.as_std_path())?
            .ok_or_else(|| cargo::not_opted_in(package))?;
        match config.resolve_platform(Some((name, "--platform"))) {
            Ok(p) => return Ok(p),
            Err(e) => {
                first_error.get_or_insert(e);
            }
        }
    }
    Err(match first_error {
        Some(e) => e.into(),
        None => Error::UnknownPlatform {
            name: name.to_owned(),
            known: Vec::new(),
        },
    })
}
