//! `cargo assetota image BUNDLE -o FILE [--format bin|hex|uf2] [--firmware]`:
//! the factory image of the device store with every asset of a verified
//! bundle installed (README.md, "Factory image"). The image is built by the store crate
//! itself (`assetota_core::store_image`); this file only picks the geometry,
//! the addresses and the format, and writes the file atomically.

use std::borrow::Cow;
use std::path::Path;

use assetota_core::Config;
use assetota_core::bytesize::Bytes;
use assetota_core::platform::StoreGeometry;
use assetota_core::store_image::{self, Expected, ImageAsset, Placed, Segment, StoreImage};
use serde::Serialize;

use crate::cargo;
use crate::cli::{ImageArgs, StoreImageFormat, VerifyArgs};
use crate::error::{Error, Result};
use crate::shell::Shell;
use assetota_bundle::{self as bundle, BundleManifest, Contents, hex};
use assetota_report::text::count;

use crate::files::display_path;

#[derive(Debug, Serialize)]
struct ImageJson {
    file: String,
    format: &'static str,
    /// Bytes of the output file.
    file_size: u64,
    /// The platform whose geometry the image was built for.
    platform: Option<String>,
    write_size: u32,
    erase_size: u32,
    partition_size: u64,
    /// The partition's address in a hex or uf2 file (`null` for a bin
    /// without a recorded offset).
    partition_offset: Option<u64>,
    /// Bytes the store can use (whole erase blocks) and bytes it uses.
    capacity: u64,
    used: u64,
    skip_erased: bool,
    firmware: Option<FirmwareJson>,
    assets: Vec<AssetJson>,
}

#[derive(Debug, Serialize)]
struct FirmwareJson {
    file: String,
    address: u64,
    size: u64,
}

#[derive(Debug, Serialize)]
struct AssetJson {
    name: String,
    sha256: String,
    size: u64,
    payload_len: u64,
    codec: String,
    /// Offset of its first block in the partition.
    offset: u64,
    storage_size: u64,
    /// An earlier asset with the same bytes: the store keeps one copy.
    same_as: Option<String>,
}

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
    let contents = bundle::read_bytes(path, &bytes)?;
    drop(bytes);
    let m = &contents.manifest;
    let (platform, geometry) = geometry(&args, m, shell)?;

    let address = match args.format {
        StoreImageFormat::Bin => None,
        format => Some(args.address.or(geometry.partition_offset).ok_or_else(|| {
            Error::NoPartitionAddress {
                format: format.as_str(),
                platform: platform.clone().unwrap_or_else(|| "(none)".into()),
            }
        })?),
    };
    let firmware = match args.firmware {
        true => Some(firmware(path, &contents)?),
        false => None,
    };

    let image = build(path, &contents, &geometry)?;
    let image_err = |cause| Error::StoreImage {
        path: path.clone(),
        cause,
    };
    let mut segments = vec![Segment {
        name: "the store partition",
        address: address.unwrap_or(0),
        bytes: &image.bytes,
    }];
    if let Some((_, address, bytes)) = &firmware {
        segments.push(Segment {
            name: "the firmware",
            address: *address,
            bytes,
        });
    }
    let bytes: Cow<'_, [u8]> = match args.format {
        StoreImageFormat::Bin => Cow::Borrowed(&image.bytes),
        StoreImageFormat::Hex => store_image::intel_hex(&segments, args.skip_erased)
            .map_err(image_err)?
            .into(),
        StoreImageFormat::Uf2 => store_image::uf2(&segments, args.family_id, args.skip_erased)
            .map_err(image_err)?
            .into(),
    };
    crate::files::write_atomically(&args.out, &bytes)?;

    if args.json {
        shell.print_json(&ImageJson {
            file: display_path(&args.out),
            format: args.format.as_str(),
            file_size: bytes.len() as u64,
            platform: platform.clone(),
            write_size: geometry.write_size,
            erase_size: geometry.erase_size,
            partition_size: geometry.partition_size,
            partition_offset: address.or(geometry.partition_offset),
            capacity: image.capacity,
            used: image.used,
            skip_erased: args.skip_erased,
            firmware: firmware
                .as_ref()
                .map(|(file, address, bytes)| FirmwareJson {
                    file: file.clone(),
                    address: *address,
                    size: bytes.len() as u64,
                }),
            assets: image.assets.iter().map(asset_json).collect(),
        });
    }
    shell.status(
        "Wrote",
        format_args!(
            "{} ({}, {}{}): store {} of {} used, {}{}{}",
            display_path(&args.out),
            args.format.as_str(),
            Bytes(bytes.len() as u64),
            address
                .map(|a| format!(", partition at {a:#x}"))
                .unwrap_or_default(),
            Bytes(image.used),
            Bytes(image.capacity),
            count(image.assets.len(), "asset"),
            match image.assets.iter().filter(|a| a.same_as.is_some()).count() {
                0 => String::new(),
                n => format!(" ({n} identical to another, stored once)"),
            },
            firmware
                .as_ref()
                .map(|(file, address, bytes)| format!(
                    ", firmware `{file}` {} at {address:#x}",
                    Bytes(bytes.len() as u64)
                ))
                .unwrap_or_default(),
        ),
    );
    // The store partition of an ESP firmware, for espflash to program.
    if m.firmware.format == "esp"
        && args.format == StoreImageFormat::Bin
        && let Some(offset) = address.or(geometry.partition_offset)
    {
        shell.status(
            "Flash",
            format_args!("espflash write-bin {offset:#x} {}", display_path(&args.out)),
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

/// The geometry to build for: the bundle's, or that of `--platform` from the
/// package's config (noted when it differs from what the bundle records).
fn geometry(
    args: &ImageArgs,
    m: &BundleManifest,
    shell: &mut Shell,
) -> Result<(Option<String>, StoreGeometry)> {
    let recorded = m.storage.store.map(|s| StoreGeometry {
        write_size: s.write_size,
        erase_size: s.erase_size,
        partition_size: s.partition_size,
        partition_offset: s.partition_offset,
    });
    let Some(name) = &args.platform else {
        return match recorded {
            Some(g) => Ok((m.platform.clone(), g)),
            None => Err(Error::NotStoreBundle {
                path: args.bundle.clone(),
                platform: m.platform.clone(),
            }),
        };
    };
    let platform = store_platform(args, name)?;
    let Some(geometry) = platform.store else {
        return Err(Error::NotStorePlatform {
            name: name.clone(),
            kind: platform.kind().to_owned(),
        });
    };
    if recorded != Some(geometry) {
        shell.note(format_args!(
            "building for platform `{name}` ({}) instead of the bundle's {}",
            describe(&geometry),
            match (&recorded, &m.platform) {
                (Some(g), Some(p)) => format!("`{p}` ({})", describe(g)),
                (Some(g), None) => describe(g),
                (None, Some(p)) => format!("`{p}` (not a store platform)"),
                (None, None) => "(no platform)".to_owned(),
            }
        ));
    }
    Ok((Some(name.clone()), geometry))
}

fn describe(g: &StoreGeometry) -> String {
    format!(
        "write size {} B, erase size {} B, partition {}{}",
        g.write_size,
        g.erase_size,
        Bytes(g.partition_size),
        g.partition_offset
            .map(|o| format!(" at {o:#x}"))
            .unwrap_or_default()
    )
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

/// Builds the partition from the bundle's assets, each with its recorded
/// codec, and reads it back once more before anything is written.
fn build(path: &Path, contents: &Contents, geometry: &StoreGeometry) -> Result<StoreImage> {
    let m = &contents.manifest;
    let bad = |reason: String| Error::BadBundle {
        path: path.to_owned(),
        reason,
    };
    let mut assets = Vec::with_capacity(m.assets.len());
    let mut expected = Vec::with_capacity(m.assets.len());
    for a in &m.assets {
        let bytes = contents
            .assets
            .get(&a.name)
            .ok_or_else(|| bad(format!("`{}` is listed but not in the bundle", a.file)))?;
        let codec = a
            .stored_codec(&m.codec)
            .map_err(|e| bad(format!("`{}`: codec: {e}", a.file)))?;
        assets.push(ImageAsset {
            name: &a.name,
            bytes,
            codec,
        });
        let sha256: [u8; 32] = <sha2::Sha256 as sha2::Digest>::digest(bytes).into();
        if hex(&sha256) != a.sha256 {
            return Err(bad(format!(
                "`{}` does not hash to the sha256 manifest.json gives",
                a.file
            )));
        }
        expected.push(Expected {
            name: &a.name,
            size: a.size,
            sha256,
        });
    }
    let image_err = |cause| Error::StoreImage {
        path: path.to_owned(),
        cause,
    };
    let image = store_image::build(geometry, &assets).map_err(image_err)?;
    store_image::check(geometry, &image.bytes, &expected).map_err(image_err)?;
    Ok(image)
}

/// The firmware's bytes and load address: a flat image at the
/// `load_address` manifest.json records, an ELF as the flat image of its
/// loadable sections (what `objcopy -O binary` writes).
fn firmware(path: &Path, contents: &Contents) -> Result<(String, u64, Vec<u8>)> {
    let fw = &contents.manifest.firmware;
    if contents.firmware.starts_with(assetota_firmware::ELF_MAGIC) {
        let elf = assetota_firmware::ElfFile::parse(path, &contents.firmware)?;
        let flat = elf.flat_image(path)?;
        return Ok((fw.file.clone(), flat.base_address, flat.bytes));
    }
    let address = fw.load_address.ok_or_else(|| Error::NoFirmwareAddress {
        path: path.to_owned(),
        file: fw.file.clone(),
    })?;
    Ok((fw.file.clone(), address, contents.firmware.clone()))
}

fn asset_json(a: &Placed) -> AssetJson {
    AssetJson {
        name: a.name.clone(),
        sha256: hex(&a.sha256),
        size: a.size,
        payload_len: a.payload_len,
        codec: a.codec.kind().to_owned(),
        offset: a.offset,
        storage_size: a.storage_size,
        same_as: a.same_as.clone(),
    }
}
