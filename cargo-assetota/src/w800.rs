//! W800 firmware images: `cargo assetota bundle APP.bin --platform P`
//! (`PREFIX.img` and `PREFIX_ota.img`, byte-identical to the SDK's packer)
//! and `cargo assetota inspect FILE.img`. The format is
//! `assetota_firmware::w800`'s; this file only finds the platform, writes the
//! files and prints.

use std::path::{Path, PathBuf};

use assetota_core::bytesize::Bytes;
use assetota_core::{Config, Platform};
use assetota_firmware::w800::{self, Layout};
use serde::Serialize;

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

#[derive(Serialize)]
struct FileJson {
    file: String,
    size: u64,
}

#[derive(Serialize)]
struct BundleJson {
    app: String,
    app_size: u64,
    package: String,
    platform: String,
    version: String,
    bootloader_flags: u32,
    image: FileJson,
    ota_image: FileJson,
    app_partition: u64,
    app_limit: u64,
    ota_limit: u64,
    fits: bool,
    /// The files are written only when the images fit.
    written: bool,
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

fn layout_of(platform: &Platform) -> Result<Layout> {
    match (platform.firmware_partitions, platform.firmware_offsets) {
        (Some((app_size, ota_size)), Some((app_offset, ota_offset))) => Ok(Layout {
            app_offset,
            app_size,
            ota_offset,
            ota_size,
        }),
        _ => Err(Error::NotW800Platform {
            platform: platform.name.clone(),
        }),
    }
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
    let layout = layout_of(&platform)?;
    let version = args.package_version.clone().unwrap_or(package_version);
    let flags = args.bootloader_flags.unwrap_or(0);
    let images = w800::pack(
        path,
        bytes,
        &layout,
        w800::Options {
            version: &version,
            bootloader_flags: flags,
        },
    )?;
    if !bytes.len().is_multiple_of(4) {
        shell.warn(format_args!(
            "`{}` is {}, not a multiple of 4: padded with 0xFF to {} as the SDK's packer pads it",
            display_path(path),
            Bytes(bytes.len() as u64),
            Bytes(bytes.len().next_multiple_of(4) as u64)
        ));
    }
    let check = FirmwareCheck::of(&images, &layout);
    for warning in check.warnings() {
        shell.warn(format_args!("platform `{name}`: {warning}"));
    }
    let prefix = match &args.out {
        Some(prefix) => prefix.clone(),
        None => path.with_extension(""),
    };
    let image_path = with_suffix(&prefix, ".img");
    let ota_path = with_suffix(&prefix, "_ota.img");
    if check.fits {
        write_atomically(&image_path, &images.image)?;
        write_atomically(&ota_path, &images.ota_image)?;
    }
    if args.json {
        shell.print_json(&BundleJson {
            app: display_path(path),
            app_size: images.app_len,
            package,
            platform: name.to_owned(),
            version: version.clone(),
            bootloader_flags: flags,
            image: FileJson {
                file: display_path(&image_path),
                size: images.image.len() as u64,
            },
            ota_image: FileJson {
                file: display_path(&ota_path),
                size: images.ota_image.len() as u64,
            },
            app_partition: layout.app_size,
            app_limit: layout.app_limit(),
            ota_limit: layout.ota_limit(),
            fits: check.fits,
            written: check.fits,
        });
    }
    if !check.fits {
        return Err(Error::FirmwareTooBig {
            file: path.clone(),
            platform: name.to_owned(),
            problems: check.problems(),
        });
    }
    shell.status("Firmware", check.summary());
    shell.status(
        "Bundled",
        format_args!(
            "{} ({}) and {} ({}), version `{version}`, for `{name}` (app at {:#x}, OTA at {:#x})",
            display_path(&image_path),
            Bytes(images.image.len() as u64),
            display_path(&ota_path),
            Bytes(images.ota_image.len() as u64),
            layout.app_offset,
            layout.ota_offset
        ),
    );
    Ok(())
}

/// `PREFIX` + `suffix`, keeping whatever dots PREFIX has.
fn with_suffix(prefix: &Path, suffix: &str) -> PathBuf {
    let mut s = prefix.as_os_str().to_owned();
    s.push(suffix);
    PathBuf::from(s)
}

#[derive(Serialize)]
struct HeaderJson {
    image_type: u32,
    compress_type: u32,
    compression: &'static str,
    encrypted: bool,
    signed: bool,
    attr: u32,
    run_address: u32,
    header_address: u32,
    upgrade_address: u32,
    body_size: u32,
    body_crc: u32,
    header_crc: u32,
    upd_no: u32,
    version: String,
    bootloader_flags: u32,
    next: u32,
}

#[derive(Serialize)]
struct InspectJson {
    file: String,
    kind: &'static str,
    size: u64,
    header: HeaderJson,
    crc_ok: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    inner: Option<HeaderJson>,
    app_size: u64,
    app_sha256: String,
}

fn header_json(h: &w800::Header) -> HeaderJson {
    HeaderJson {
        image_type: h.image_type(),
        compress_type: h.compress_type(),
        compression: match h.compress_type() {
            0 => "none",
            1 => "xz",
            _ => "unknown",
        },
        encrypted: h.encrypted(),
        signed: h.signed(),
        attr: h.attr,
        run_address: h.img_addr,
        header_address: h.img_header_addr,
        upgrade_address: h.upgrade_img_addr,
        body_size: h.img_len,
        body_crc: h.org_checksum,
        header_crc: h.hd_checksum,
        upd_no: h.upd_no,
        version: h.version(),
        bootloader_flags: h.flags,
        next: h.next,
    }
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
    let app = image.app();
    let report = InspectJson {
        file: display_path(path),
        kind: if image.inner.is_some() {
            "w800-ota-image"
        } else {
            "w800-image"
        },
        size: bytes.len() as u64,
        header: header_json(&image.header),
        crc_ok: true,
        inner: image.inner.as_ref().map(|i| header_json(&i.header)),
        app_size: app.len() as u64,
        app_sha256: assetota_bundle::sha256_hex(app),
    };
    if args.json {
        shell.print_json(&report);
        return Ok(());
    }
    let mut out = format!(
        "{}: W800 {} image, {}\n",
        report.file,
        if image.inner.is_some() {
            "OTA"
        } else {
            "firmware"
        },
        Bytes(report.size)
    );
    let describe = |out: &mut String, label: &str, h: &HeaderJson| {
        out.push_str(&format!(
            "  {label}: type {} ({}), compression {}, version `{}`, bootloader flags {:#x}\n    header at {:#x}, runs at {:#x}, update at {:#x}; body {} (CRC {:#010x} ok), header CRC {:#010x} ok{}{}\n",
            h.image_type,
            match h.image_type {
                0 => "bootloader",
                1 => "app",
                2 => "partition table",
                0xE => "CPFT",
                _ => "unknown",
            },
            h.compression,
            h.version,
            h.bootloader_flags,
            h.header_address,
            h.run_address,
            h.upgrade_address,
            Bytes(u64::from(h.body_size)),
            h.body_crc,
            h.header_crc,
            if h.encrypted { ", encrypted" } else { "" },
            if h.signed { ", signed" } else { "" },
        ));
    };
    describe(&mut out, "header", &report.header);
    if let Some(inner) = &report.inner {
        describe(&mut out, "inner image (xz-decompressed)", inner);
    }
    out.push_str(&format!(
        "  app: {} (padded to 4), sha256 {}\n",
        Bytes(report.app_size),
        report.app_sha256
    ));
    shell.print(out);
    Ok(())
}
