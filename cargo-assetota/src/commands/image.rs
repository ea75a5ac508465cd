//! `cargo assetota image BUNDLE -o FILE [--format bin|hex|uf2] [--firmware]`:
//! the factory image of the device store with every asset of a verified
//! bundle installed (README.md, "Factory image"). The image is planned and
//! built by `assetota_bundle::store_image`; this file checks the flags,
//! resolves `--platform`, writes the file atomically and prints.

use assetota_bundle::store_image::report::ImageJson;
use assetota_bundle::store_image::{self, Format, Request, StoreImageError};
use assetota_core::Config;

use crate::cargo;
use crate::cli::{ImageArgs, StoreImageFormat, VerifyArgs};
use crate::error::{Error, Result};
use crate::files::display_path;
use crate::shell::Shell;

pub fn run(args: ImageArgs, shell: &mut Shell) -> Result<()> {
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
    // Flag combinations clap cannot express.
    if let Some(problem) = request.conflict() {
        return Err(Error::ImageUsage(problem.to_owned()));
    }
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
        return Err(Error::StoreImage(StoreImageError::NotStoreBundle {
            path: path.clone(),
            platform: Some("Particle".into()),
        }));
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
    let made = store_image::make(path, &contents, &target, request)?;
    crate::files::write_atomically(&args.out, made.bytes())?;

    let file = display_path(&args.out);
    if args.json {
        shell.print_json(&ImageJson::new(file.clone(), &made, &target, request));
    }
    shell.status("Wrote", made.summary(&file));
    // The store partition of an ESP firmware, for espflash to program.
    if let Some(command) = made.espflash_command(&contents.manifest, &file) {
        shell.status("Flash", command);
    }
    if args.skip_erased {
        shell.note(store_image::SKIP_ERASED_NOTE);
    }
    Ok(())
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
