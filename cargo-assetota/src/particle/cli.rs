//! `bundle`, `inspect` and `verify` for Particle files: an application
//! module (`.bin`), an asset module, or the bundle zip particle-cli writes.
//! The commands call in here first; `None` means "not a Particle file".

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use assetota_core::bytesize::Bytes;
use assetota_core::measure::Measured;
use assetota_core::{Budget, Config, Platform, Verdict};
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::cli::{BundleArgs, InspectArgs, VerifyArgs};
use crate::error::{Error, Result};
use crate::report::{self, Table};
use crate::shell::{BarProgress, Shell};
use assetota_particle::app::{self, App, AppError, Dependency};
use assetota_particle::asset::{self, AssetModule, AssetModuleError};
use assetota_particle::module::{self, FormatError, Module, flags, function, hex};
use assetota_particle::zip::{self as pzip, BundleError};

/// What goes wrong with Particle files, beyond I/O and budgets.
#[derive(Debug, thiserror::Error)]
pub enum ParticleError {
    #[error("`{}` {source}", path.display())]
    App { path: PathBuf, source: AppError },
    #[error("`{}` is neither an ELF file nor a Particle module: {source}", path.display())]
    NotFirmware { path: PathBuf, source: FormatError },
    #[error("`{}` {source}", path.display())]
    Bundle { path: PathBuf, source: BundleError },
    #[error("`{}` is for Particle platform `{module}`, but --platform says `{flag}`", path.display())]
    PlatformMismatch {
        path: PathBuf,
        module: String,
        flag: String,
    },
    #[error("`--platform {0}` is not a Particle platform")]
    NotParticlePlatform(String),
    #[error("a Particle bundle must be a `.zip` file (particle-cli refuses other names), not `{}`", .0.display())]
    NotZipName(PathBuf),
    #[error("`--modules` writes Particle asset modules, so it needs a Particle application, not the ELF `{}`", .0.display())]
    ModulesWithElf(PathBuf),
    #[error("asset module for `{name}` does not check out: {source}")]
    SelfCheck {
        name: String,
        source: AssetModuleError,
    },
}

impl ParticleError {
    pub fn help(&self) -> Option<String> {
        Some(match self {
            ParticleError::App { source: AppError::DeviceOsTooOld(_), .. } => {
                "build the application against Device OS 5.5.0 or newer (asset OTA needs it)".into()
            }
            ParticleError::App { source: AppError::TooBig { .. }, .. } => {
                "each asset adds 38 bytes plus its name to the application; use fewer or shorter-named assets, or shrink the application".into()
            }
            ParticleError::App { .. } | ParticleError::NotFirmware { .. } => {
                "pass the application `.bin` that `particle compile` (or the Particle workbench) built for a platform with asset OTA".into()
            }
            ParticleError::Bundle { .. } => "rebuild the bundle with `cargo assetota bundle APP.bin --assets DIR`".into(),
            ParticleError::PlatformMismatch { .. } => "leave out --platform: the module names its platform".into(),
            ParticleError::NotParticlePlatform(_) => "`cargo assetota platforms` lists the Particle platforms".into(),
            _ => return None,
        })
    }
}

fn is_elf(bytes: &[u8]) -> bool {
    bytes.starts_with(assetota_firmware::ELF_MAGIC)
}

fn has_bin_extension(path: &Path) -> bool {
    path.extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("bin"))
}

/// A module of the kinds asset OTA deals with (application or asset).
fn sniff_module(bytes: &[u8]) -> Option<Module> {
    Module::parse(bytes)
        .ok()
        .filter(|m| matches!(m.prefix.function, function::USER_PART | function::ASSET))
}

/// What the file is, for `inspect` and `verify`.
enum ParticleFile {
    Module(Module),
    Bundle,
}

fn classify(bytes: &[u8]) -> Option<ParticleFile> {
    if pzip::looks_like_particle_bundle(bytes) {
        return Some(ParticleFile::Bundle);
    }
    if is_elf(bytes) {
        return None;
    }
    sniff_module(bytes).map(ParticleFile::Module)
}

fn read(path: &Path) -> Result<Vec<u8>> {
    std::fs::read(path).map_err(|source| Error::Read {
        path: path.to_owned(),
        source,
    })
}

fn read_bundle(path: &Path, bytes: &[u8]) -> Result<pzip::Bundle> {
    pzip::read(bytes).map_err(|source| match source {
        BundleError::Hostile { entry, reason } => Error::HostileBundle {
            path: path.to_owned(),
            entry,
            reason,
        },
        source => ParticleError::Bundle {
            path: path.to_owned(),
            source,
        }
        .into(),
    })
}

/// The built-in assetota platform of a Particle platform id.
fn platform_for(id: u16) -> Option<Platform> {
    assetota_core::platform::builtin_platforms()
        .into_iter()
        .find(|p| p.particle_id == Some(id))
}

/// The platform to budget against: the module's, or `--platform` if it agrees.
fn choose_platform(path: &Path, app: &App, flag: Option<&str>) -> Result<Platform> {
    let own = platform_for(app.user_part.platform_id).ok_or_else(|| ParticleError::App {
        path: path.to_owned(),
        source: AppError::UnknownPlatform(app.user_part.platform_id),
    })?;
    match flag {
        None => Ok(own),
        Some(name) => {
            let p =
                assetota_core::platform::builtin(name).ok_or_else(|| Error::UnknownPlatform {
                    name: name.to_owned(),
                    known: assetota_core::platform::builtin_names()
                        .into_iter()
                        .map(str::to_owned)
                        .collect(),
                })?;
            match p.particle_id {
                None => Err(ParticleError::NotParticlePlatform(name.to_owned()).into()),
                Some(id) if id != app.user_part.platform_id => {
                    Err(ParticleError::PlatformMismatch {
                        path: path.to_owned(),
                        module: own.name,
                        flag: name.to_owned(),
                    }
                    .into())
                }
                Some(_) => Ok(p),
            }
        }
    }
}

/// Assets read whole when they total at most this much: each is then hashed
/// and compressed from memory once, by the zip crate, into its zip entry.
const KEEP_TOTAL: u64 = 64 << 20;

/// An asset's bytes and zip entry, kept from measuring.
struct Kept {
    raw: Vec<u8>,
    entry: zip::write::PreparedZipFile,
}

/// Asset `name`'s zip entry (deflate level 6, window 15: Particle's codec)
/// and the SHA-256 of `raw`, hashed as it is compressed. The entry's
/// compressed size is what the budget codec gives, byte for byte.
fn prepare_asset(
    name: &str,
    raw: &[u8],
    time: zip::DateTime,
) -> std::io::Result<(zip::write::PreparedZipFile, [u8; 32])> {
    use std::io::Write;
    let mut builder = pzip::entry_builder(&pzip::asset_entry_name(name), raw.len() as u64, time)?;
    let mut sha = Sha256::new();
    for piece in raw.chunks(64 << 10) {
        sha.update(piece);
        builder.write_all(piece)?;
    }
    let entry = builder.finish().map_err(std::io::Error::other)?;
    Ok((entry, sha.finalize().into()))
}

/// [`assetota_core::measure::measure_all`], keeping each asset's bytes and
/// zip entry when the budget's codec is the zip's (Particle's deflate) and
/// the assets are small enough in all: the entry is made while measuring, its
/// compressed size is the measured size, and bundling compresses nothing
/// twice. Larger trees are streamed and not kept (they are far over any
/// Particle budget anyway).
fn measure_keeping(
    files: &[assetota_core::ScannedFile],
    codec: assetota_core::Codec,
    time: zip::DateTime,
    progress: &dyn assetota_core::Progress,
) -> std::result::Result<Vec<(Measured, Option<Kept>)>, assetota_core::MeasureError> {
    use assetota_core::MeasureError;
    let zip_codec = assetota_core::Codec::Deflate {
        level: pzip::LEVEL as u32,
        window_bits: 15,
    };
    let total: u64 = files
        .iter()
        .map(|f| std::fs::metadata(&f.path).map_or(u64::MAX, |m| m.len()))
        .fold(0, u64::saturating_add);
    if codec != zip_codec || total > KEEP_TOTAL {
        let measured = assetota_core::measure::measure_all(files, codec, progress)?;
        return Ok(measured.into_iter().map(|m| (m, None)).collect());
    }
    progress.start(files.len(), total);
    let results = pzip::parallel_map(files, |f| {
        let raw = std::fs::read(&f.path).map_err(|source| match source.kind() {
            std::io::ErrorKind::NotFound => MeasureError::Vanished {
                name: f.name.clone(),
                path: f.path.clone(),
            },
            _ => MeasureError::Read {
                name: f.name.clone(),
                path: f.path.clone(),
                source,
            },
        })?;
        let (entry, sha256) =
            prepare_asset(&f.name, &raw, time).map_err(|source| MeasureError::Encode {
                name: f.name.clone(),
                codec,
                source,
            })?;
        progress.advance(&f.name, raw.len() as u64);
        let measured = Measured {
            name: f.name.clone(),
            path: f.path.clone(),
            size: raw.len() as u64,
            sha256,
            compressed_size: entry.compressed_size(),
        };
        Ok((measured, Some(Kept { raw, entry })))
    });
    progress.finish();
    results.into_iter().collect()
}

/// `cargo assetota bundle APP.bin --assets DIR [-o OUT.zip] [--modules DIR]`
/// for a Particle application; `None` when the firmware is an ELF (the
/// command's own path), after refusing `--modules` for it.
pub fn bundle(args: &BundleArgs, bytes: &[u8], shell: &mut Shell) -> Option<Result<()>> {
    let path = &args.firmware;
    if is_elf(bytes) {
        return args
            .modules
            .as_ref()
            .map(|_| Err(ParticleError::ModulesWithElf(path.clone()).into()));
    }
    if sniff_module(bytes).is_none() && !has_bin_extension(path) {
        return None;
    }
    Some(run_bundle(args, bytes, shell))
}

fn run_bundle(args: &BundleArgs, bytes: &[u8], shell: &mut Shell) -> Result<()> {
    let path = &args.firmware;
    let modules = args.modules.as_deref();
    let app = App::check(bytes).map_err(|source| match source {
        AppError::Format(source) => ParticleError::NotFirmware {
            path: path.clone(),
            source,
        },
        source => ParticleError::App {
            path: path.clone(),
            source,
        },
    })?;
    let platform = choose_platform(path, &app, args.platform.as_deref())?;
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
    if !out
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("zip"))
    {
        return Err(ParticleError::NotZipName(out).into());
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
    let files = assetota_core::scan(&config, &platform).map_err(assetota_core::Error::from)?;
    let time = assetota_bundle::timestamp();
    let (measured, kept): (Vec<Measured>, Vec<Option<Kept>>) =
        measure_keeping(&files, platform.codec, time, &BarProgress(bar))
            .map_err(assetota_core::Error::from)?
            .into_iter()
            .unzip();
    let budget = Budget::new(&platform, measured);
    let mut over = Vec::new();
    for f in budget.findings() {
        match f.verdict() {
            Verdict::Over => over.push(f.message(&platform.name)),
            _ => shell.warn(f.message(&platform.name)),
        }
    }
    if !over.is_empty() {
        return Err(Error::OverBudget {
            package: stem,
            platform: platform.name.clone(),
            findings: over,
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
        let raw = read(&m.path)?;
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
        app::with_dependencies(bytes, &app, &deps).map_err(|source| ParticleError::App {
            path: path.clone(),
            source,
        })?;

    if let Some(dir) = modules {
        for (a, raw) in budget.assets.iter().zip(&raws) {
            let name = &a.measured.name;
            let m = asset::create(raw, name).map_err(|source| Error::Write {
                path: dir.join(name),
                source,
            })?;
            // Self-check: the device's rules, the inflated bytes, and the size the budget used.
            let parsed = AssetModule::parse(&m).map_err(|source| ParticleError::SelfCheck {
                name: name.clone(),
                source,
            })?;
            parsed
                .raw(&m, raw.len() as u64)
                .map_err(|source| ParticleError::SelfCheck {
                    name: name.clone(),
                    source,
                })?;
            debug_assert_eq!(m.len() as u64, a.stored_size);
            crate::files::write_atomically(&dir.join(name), &m)?;
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
            display(path),
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
            format_args!("{} asset modules to {}", budget.assets.len(), display(dir)),
        );
    }
    shell.status("Bundled", display(&out));
    Ok(())
}

// ---------------------------------------------------------------------------
// inspect

#[derive(Serialize)]
struct ModuleJson {
    function: &'static str,
    function_id: u8,
    platform_id: u16,
    platform: Option<String>,
    module_version: u16,
    start_address: String,
    end_address: String,
    flags: u8,
    size: usize,
    device_os_dependency: u16,
    crc_ok: bool,
    sha256_ok: bool,
}

fn module_json(m: &Module, bytes: &[u8]) -> ModuleJson {
    let p = &m.prefix;
    ModuleJson {
        function: function::name(p.function),
        function_id: p.function,
        platform_id: p.platform_id,
        platform: app::user_part(p.platform_id).map(|u| u.name.to_owned()),
        module_version: p.module_version,
        start_address: format!("{:#010x}", p.start),
        end_address: format!("{:#010x}", p.end),
        flags: p.flags,
        size: bytes.len(),
        device_os_dependency: p.dep1.version,
        crc_ok: module::crc32(bytes).is_some_and(|(a, b)| a == b),
        sha256_ok: module::sha256(bytes).is_some_and(|(a, b)| a == b),
    }
}

#[derive(Serialize)]
struct DependencyJson {
    name: String,
    sha256: String,
    /// `valid`, `mismatch` or `missing` for a bundle; absent for a bare `.bin`.
    #[serde(skip_serializing_if = "Option::is_none")]
    status: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    actual_sha256: Option<String>,
}

#[derive(Serialize)]
struct AssetModuleJson {
    name: String,
    sha256: String,
    original_size: u64,
    module_size: usize,
    compressed: bool,
    /// Why the device would delete it, if it would.
    #[serde(skip_serializing_if = "Option::is_none")]
    problem: Option<String>,
}

#[derive(Serialize)]
struct InspectJson {
    file: String,
    kind: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    application: Option<String>,
    module: ModuleJson,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    dependencies: Vec<DependencyJson>,
    #[serde(skip_serializing_if = "Option::is_none")]
    asset: Option<AssetModuleJson>,
    /// Assets in the bundle the application does not depend on.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    unused_assets: Vec<String>,
    /// Entries Particle's tools skip.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    ignored_entries: Vec<String>,
}

fn dependencies_json(
    m: &Module,
    assets: Option<&BTreeMap<String, Vec<u8>>>,
) -> Vec<DependencyJson> {
    m.asset_dependencies()
        .iter()
        .map(|d| {
            let name = d.name_lossy();
            let (status, actual) = match assets.map(|a| a.get(&name)) {
                None => (None, None),
                Some(None) => (Some("missing"), None),
                Some(Some(bytes)) => {
                    let actual: [u8; 32] = Sha256::digest(bytes).into();
                    if d.sha256() == Some(actual) {
                        (Some("valid"), None)
                    } else {
                        (Some("mismatch"), Some(hex(&actual)))
                    }
                }
            };
            DependencyJson {
                name,
                sha256: hex(&d.hash),
                status,
                actual_sha256: actual,
            }
        })
        .collect()
}

fn asset_module_json(bytes: &[u8]) -> Option<AssetModuleJson> {
    let m = Module::parse(bytes).ok()?;
    let name = m
        .suffix_extension(module::ext::NAME)
        .map(|e| String::from_utf8_lossy(e.body()).into_owned())
        .unwrap_or_default();
    let parsed = AssetModule::parse(bytes);
    let problem = match &parsed {
        Err(e) => Some(e.to_string()),
        Ok(a) => a.raw(bytes, pzip::MAX_ENTRY).err().map(|e| e.to_string()),
    };
    Some(AssetModuleJson {
        name,
        sha256: parsed.as_ref().map(|a| hex(&a.sha256)).unwrap_or_default(),
        original_size: parsed.as_ref().map_or(0, |a| a.original_size),
        module_size: bytes.len(),
        compressed: m.prefix.has(flags::COMPRESSED),
        problem,
    })
}

/// `cargo assetota inspect FILE` for a Particle module or bundle; `None` for anything else.
pub fn inspect(args: &InspectArgs, shell: &mut Shell) -> Option<Result<()>> {
    let bytes = std::fs::read(&args.file).ok()?;
    let kind = classify(&bytes)?;
    Some(run_inspect(args, &bytes, kind, shell))
}

fn run_inspect(
    args: &InspectArgs,
    bytes: &[u8],
    kind: ParticleFile,
    shell: &mut Shell,
) -> Result<()> {
    shell.set_json(args.json);
    let path = &args.file;
    let report = match kind {
        ParticleFile::Module(m) if m.prefix.function == function::ASSET => InspectJson {
            file: display(path),
            kind: "particle-asset-module",
            application: None,
            module: module_json(&m, bytes),
            dependencies: Vec::new(),
            asset: asset_module_json(bytes),
            unused_assets: Vec::new(),
            ignored_entries: Vec::new(),
        },
        ParticleFile::Module(m) => InspectJson {
            file: display(path),
            kind: "particle-application",
            application: None,
            module: module_json(&m, bytes),
            dependencies: dependencies_json(&m, None),
            asset: None,
            unused_assets: Vec::new(),
            ignored_entries: Vec::new(),
        },
        ParticleFile::Bundle => {
            let b = read_bundle(path, bytes)?;
            let m = Module::parse(&b.app).map_err(|source| ParticleError::NotFirmware {
                path: path.join(&b.app_name),
                source,
            })?;
            let assets: BTreeMap<String, Vec<u8>> = b.assets.iter().cloned().collect();
            let deps = dependencies_json(&m, Some(&assets));
            let wanted: BTreeSet<String> = deps.iter().map(|d| d.name.clone()).collect();
            InspectJson {
                file: display(path),
                kind: "particle-bundle",
                application: Some(b.app_name.clone()),
                module: module_json(&m, &b.app),
                dependencies: deps,
                asset: None,
                unused_assets: assets
                    .keys()
                    .filter(|n| !wanted.contains(*n))
                    .cloned()
                    .collect(),
                ignored_entries: b.ignored,
            }
        }
    };
    if args.json {
        shell.print_json(&report);
        return Ok(());
    }
    let m = &report.module;
    let mut text = format!(
        "{} ({})\n",
        report.file,
        match report.kind {
            "particle-bundle" => "Particle bundle",
            "particle-asset-module" => "Particle asset module",
            _ => "Particle application",
        }
    );
    if let Some(app) = &report.application {
        text.push_str(&format!("  application: {app}\n"));
    }
    let target = match (m.function_id, &m.platform) {
        (function::ASSET, _) => "any platform".to_owned(),
        (_, Some(name)) => format!("{name} (platform {})", m.platform_id),
        (_, None) => format!("platform {}, which has no asset OTA", m.platform_id),
    };
    text.push_str(&format!(
        "  module:      {} for {target}, {}, {}..{}, flags {:#04x}\n  checksums:   CRC-32 {}, SHA-256 {}\n",
        m.function,
        Bytes(m.size as u64),
        m.start_address,
        m.end_address,
        m.flags,
        if m.crc_ok { "ok" } else { "FAILED" },
        if m.sha256_ok { "ok" } else { "FAILED" },
    ));
    if m.function_id == function::USER_PART {
        text.push_str(&format!(
            "  device os:   module version {} or newer\n",
            m.device_os_dependency
        ));
    }
    if let Some(a) = &report.asset {
        text.push_str(&format!(
            "  asset:       `{}`, {} raw, sha256 {}\n  device:      {}\n",
            a.name,
            Bytes(a.original_size),
            a.sha256,
            a.problem
                .as_deref()
                .map(|p| format!("would delete it: {p}"))
                .unwrap_or_else(|| "accepts it".into())
        ));
    }
    if m.function_id == function::USER_PART {
        text.push_str(&format!(
            "  depends on:  {}\n",
            report::count(report.dependencies.len(), "asset")
        ));
        if !report.dependencies.is_empty() {
            let bundle = report.kind == "particle-bundle";
            let mut t = Table::new(if bundle {
                &["ASSET", "SHA-256", "IN BUNDLE"]
            } else {
                &["ASSET", "SHA-256"]
            })
            .left_aligned(3);
            for d in &report.dependencies {
                let mut row = vec![d.name.clone(), d.sha256.clone()];
                if bundle {
                    row.push(match (d.status, &d.actual_sha256) {
                        (Some("mismatch"), Some(actual)) => format!("MISMATCH (is {actual})"),
                        (Some("missing"), _) => "MISSING".into(),
                        (Some(s), _) => s.into(),
                        (None, _) => String::new(),
                    });
                }
                t.row(row);
            }
            text.push_str(&t.render());
        }
    }
    for n in &report.unused_assets {
        text.push_str(&format!(
            "\n  unused:      `assets/{n}` (the application does not depend on it)"
        ));
    }
    for n in &report.ignored_entries {
        text.push_str(&format!(
            "\n  ignored:     `{n}` (Particle's tools skip it)"
        ));
    }
    shell.print(text.trim_end());
    Ok(())
}

// ---------------------------------------------------------------------------
// verify

#[derive(Serialize)]
struct VerifyJson<'a> {
    bundle: String,
    ok: bool,
    kind: &'static str,
    platform: Option<String>,
    problems: &'a [String],
}

/// `cargo assetota verify FILE` for a Particle bundle or module; `None` for anything else.
pub fn verify(args: &VerifyArgs, shell: &mut Shell) -> Option<Result<()>> {
    let bytes = std::fs::read(&args.bundle).ok()?;
    let kind = classify(&bytes)?;
    Some(run_verify(args, &bytes, kind, shell))
}

/// Every check of an application: what `particle bundle` requires, plus
/// intact checksums.
fn app_problems(name: &str, bytes: &[u8]) -> (Option<App>, Vec<String>) {
    let mut problems = Vec::new();
    let app = match App::check(bytes) {
        Ok(app) => Some(app),
        Err(e) => {
            problems.push(format!("`{name}` {e}"));
            None
        }
    };
    if let Some((stored, computed)) = module::sha256(bytes)
        && stored != computed
        && app.is_some()
    {
        problems.push(format!(
            "`{name}` fails its SHA-256 check (stored {}, computed {})",
            hex(&stored),
            hex(&computed)
        ));
    }
    if let Some(app) = &app
        && bytes.len() as u64 > app.user_part.max_size
    {
        problems.push(format!(
            "`{name}` is {}, over the {} user part of `{}`",
            Bytes(bytes.len() as u64),
            Bytes(app.user_part.max_size),
            app.user_part.name
        ));
    }
    (app, problems)
}

fn run_verify(
    args: &VerifyArgs,
    bytes: &[u8],
    kind: ParticleFile,
    shell: &mut Shell,
) -> Result<()> {
    shell.set_json(args.json);
    let path = &args.bundle;
    let mut problems = Vec::new();
    let mut budget_problems = Vec::new();
    let mut platform_name = None;
    let (what, summary) = match kind {
        ParticleFile::Module(m) if m.prefix.function == function::ASSET => {
            let mut name = String::new();
            match AssetModule::parse(bytes) {
                Err(e) => problems.push(format!("the device would delete it: it {e}")),
                Ok(a) => {
                    name = a.name_lossy();
                    if let Err(e) = a.raw(bytes, pzip::MAX_ENTRY) {
                        problems.push(format!("asset `{name}` {e}"));
                    }
                    if let Some(file) = path.file_name().and_then(|f| f.to_str())
                        && file != name
                    {
                        shell.note(format_args!(
                            "the device stores this module as `{name}`, not `{file}`"
                        ));
                    }
                }
            }
            (
                "particle-asset-module",
                format!(
                    "Particle asset module `{name}`, {}",
                    Bytes(bytes.len() as u64)
                ),
            )
        }
        ParticleFile::Module(_) => {
            let name = display(path);
            let (app, p) = app_problems(&name, bytes);
            problems.extend(p);
            let deps = app
                .as_ref()
                .map_or(0, |a| a.module.asset_dependencies().len());
            platform_name = app.as_ref().map(|a| a.user_part.name.to_owned());
            (
                "particle-application",
                format!(
                    "Particle application for `{}`, {}; its {} can only be checked in a bundle",
                    platform_name.as_deref().unwrap_or("?"),
                    Bytes(bytes.len() as u64),
                    dependencies(deps)
                ),
            )
        }
        ParticleFile::Bundle => {
            let b = read_bundle(path, bytes)?;
            let (app, p) = app_problems(&b.app_name, &b.app);
            problems.extend(p);
            let assets: BTreeMap<String, Vec<u8>> = b.assets.iter().cloned().collect();
            let mut wanted = BTreeSet::new();
            if let Ok(m) = Module::parse(&b.app) {
                for d in m.asset_dependencies() {
                    let name = d.name_lossy();
                    if !wanted.insert(name.clone()) {
                        problems.push(format!(
                            "`{}` depends on `{name}` twice; the device stores one file per name",
                            b.app_name
                        ));
                    }
                    let Some(expected) = d.sha256() else {
                        problems.push(format!(
                            "`{name}`: the dependency's hash is not a SHA-256 (type {}, {} bytes)",
                            d.hash_type,
                            d.hash.len()
                        ));
                        continue;
                    };
                    match assets.get(&name) {
                        None => problems.push(format!("`{name}`: the application depends on it, but the bundle has no `assets/{name}`")),
                        Some(raw) => {
                            let actual: [u8; 32] = Sha256::digest(raw).into();
                            if actual != expected {
                                problems.push(format!(
                                    "`assets/{name}`: sha256 {}, but the application depends on {}",
                                    hex(&actual),
                                    hex(&expected)
                                ));
                            }
                        }
                    }
                }
            }
            for name in assets.keys().filter(|n| !wanted.contains(*n)) {
                problems.push(format!(
                    "`assets/{name}` is in the bundle, but the application does not depend on it"
                ));
            }
            for entry in &b.ignored {
                problems.push(format!("`{entry}` is neither the application nor `assets/<name>`; Particle's tools would skip it"));
            }
            // The budget, from the bytes.
            if let Some(app) = &app {
                let platform = choose_platform(path, app, args.platform.as_deref())?;
                platform_name = Some(platform.name.clone());
                let mut measured = Vec::new();
                for (name, raw) in &b.assets {
                    let compressed =
                        asset::deflate(platform.codec, raw).map_err(|source| Error::Read {
                            path: path.clone(),
                            source,
                        })?;
                    measured.push(Measured {
                        name: name.clone(),
                        path: PathBuf::from(format!("{}{name}", pzip::ASSETS_DIR)),
                        size: raw.len() as u64,
                        sha256: Sha256::digest(raw).into(),
                        compressed_size: compressed.len() as u64,
                    });
                }
                let budget = Budget::new(&platform, measured);
                for f in budget.findings() {
                    if f.verdict() == Verdict::Over {
                        budget_problems.push(f.message(&platform.name));
                    } else {
                        shell.warn(f.message(&platform.name));
                    }
                }
            }
            (
                "particle-bundle",
                format!(
                    "Particle bundle: `{}` and {}, all matching{}",
                    b.app_name,
                    report::count(b.assets.len(), "asset"),
                    platform_name
                        .as_ref()
                        .map(|p| format!(", fits `{p}`"))
                        .unwrap_or_default()
                ),
            )
        }
    };
    let over_budget_only = problems.is_empty() && !budget_problems.is_empty();
    problems.extend(budget_problems);
    if args.json {
        shell.print_json(&VerifyJson {
            bundle: display(path),
            ok: problems.is_empty(),
            kind: what,
            platform: platform_name,
            problems: &problems,
        });
    }
    if !problems.is_empty() {
        return Err(Error::VerifyFailed {
            path: path.clone(),
            problems,
            over_budget_only,
        });
    }
    shell.status("Verified", format_args!("{} ({summary})", display(path)));
    Ok(())
}

/// A path as the user would like to read it: relative to the current
/// directory when it is below it.
fn display(path: &Path) -> String {
    let cwd = std::env::current_dir().unwrap_or_default();
    path.strip_prefix(&cwd)
        .unwrap_or(path)
        .display()
        .to_string()
}

fn dependencies(n: usize) -> String {
    format!(
        "{n} asset {}",
        if n == 1 { "dependency" } else { "dependencies" }
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{Cursor, Read};

    /// Deterministic noise (xorshift32).
    fn noise(len: usize, mut x: u32) -> Vec<u8> {
        (0..len)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 17;
                x ^= x << 5;
                x as u8
            })
            .collect()
    }

    /// The budget is exact only if an asset's zip entry, made while
    /// measuring, is as long as Particle's codec says and inflates to the
    /// asset.
    #[test]
    fn an_entry_is_as_long_as_the_budget_codec_says_and_inflates_to_the_asset() {
        let json: Vec<u8> = (0..60_000u32)
            .flat_map(|i| {
                format!(
                    "{{\"id\": {i}, \"name\": \"item-{}\", \"on\": {}}},\n",
                    i % 313,
                    i % 3 == 0
                )
                .into_bytes()
            })
            .collect();
        // An 800×480 RGB565 frame, three times over: gradients with a little grain.
        let grain = noise(800 * 480, 0x2545_f491);
        let rgb565: Vec<u8> = (0..3 * 800 * 480usize)
            .flat_map(|i| {
                let (x, y) = (i % 800, (i / 800) % 480);
                let r = (x * 31 / 799) as u16;
                let g = ((y * 63 / 479) as u16) ^ (grain[i % grain.len()] as u16 & 1);
                let b = (((x + y) * 31) / 1278) as u16;
                ((r << 11) | (g << 5) | b).to_le_bytes()
            })
            .collect();
        assert!(rgb565.len() > 2 << 20);
        let cases: Vec<(&str, Vec<u8>)> = vec![
            ("config.json", json),
            ("noise.bin", noise(300_000, 0x9e37_79b9)),
            ("empty", Vec::new()),
            ("byte", vec![7]),
            ("frames.rgb565", rgb565),
        ];
        let codec = assetota_core::Codec::Deflate {
            level: 6,
            window_bits: 15,
        };
        let time = zip::DateTime::from_date_and_time(2024, 5, 17, 12, 34, 56).unwrap();
        for (name, raw) in &cases {
            let (entry, sha256) = prepare_asset(name, raw, time).unwrap();
            assert_eq!(
                entry.compressed_size(),
                codec.encoded_len(raw).unwrap(),
                "`{name}`: the zip entry's size is not the budget's"
            );
            assert_eq!(entry.uncompressed_size(), raw.len() as u64, "`{name}`");
            assert_eq!(sha256, <[u8; 32]>::from(Sha256::digest(raw)), "`{name}`");

            let mut zip = zip::ZipWriter::new(Cursor::new(Vec::new()));
            zip.add_prepared_file(entry).unwrap();
            let bytes = zip.finish().unwrap().into_inner();
            let mut archive = zip::ZipArchive::new(Cursor::new(bytes)).unwrap();
            let mut file = archive.by_index(0).unwrap();
            assert_eq!(file.name_raw(), pzip::asset_entry_name(name).as_bytes());
            assert_eq!(file.compression(), zip::CompressionMethod::Deflated);
            let mut back = Vec::new();
            file.read_to_end(&mut back).unwrap();
            assert!(back == *raw, "`{name}` does not inflate to its bytes");
        }
    }
}
