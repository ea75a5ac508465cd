//! The errors of every command. Each one knows its exit code and what the user
//! should do about it; `main` renders them as diagnostics.

use std::path::PathBuf;

use assetota_bundle::store_image::StoreImageError;
use assetota_firmware::Error as FirmwareError;

use crate::exit;

pub type Result<T, E = Error> = std::result::Result<T, E>;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("`{}` is not inside a cargo project (no Cargo.toml found there or above)", .0.display())]
    NotCargoProject(PathBuf),

    #[error("`cargo metadata` failed: {0}")]
    Metadata(String),

    #[error("cannot run `{program}`: {source}")]
    Spawn {
        program: String,
        source: std::io::Error,
    },

    #[error("package `{package}` has no [package.metadata.assetota] table in `{}`", manifest.display())]
    NotOptedIn { package: String, manifest: PathBuf },

    #[error("no package in the workspace at `{}` has a [package.metadata.assetota] table", .0.display())]
    NoOptedInPackage(PathBuf),

    #[error("package `{0}` is not a member of this workspace")]
    UnknownPackage(String),

    #[error(transparent)]
    Config(#[from] assetota_core::ConfigError),

    #[error(transparent)]
    Analyze(#[from] assetota_core::Error),

    #[error("`cargo build` failed{}", .0.map(|c| format!(" (exit code {c})")).unwrap_or_default())]
    CargoBuild(Option<i32>),

    #[error("cargo built no binary of a package with [package.metadata.assetota]{}", if .0.is_empty() { String::new() } else { format!(" (built: {})", .0.join(", ")) })]
    NoBinary(Vec<String>),

    #[error("{} bundles would be written to the one `--out` file `{}`", .count, .path.display())]
    OutWithManyBundles { count: usize, path: PathBuf },

    #[error("cannot read `{}`: {source}", path.display())]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },

    #[error("cannot write `{}`: {source}", path.display())]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },

    #[error(transparent)]
    Firmware(#[from] assetota_firmware::Error),

    #[error(transparent)]
    W800(#[from] assetota_firmware::w800::W800Error),

    #[error("the build of `{bin}` is stale: the assets in `{}` changed after it was built\n{}", dir.display(), list(.changes))]
    Stale {
        bin: String,
        dir: PathBuf,
        changes: Vec<String>,
    },

    #[error("`{package}` is over budget on platform `{platform}`\n{}", list(.findings))]
    OverBudget {
        package: String,
        platform: String,
        findings: Vec<String>,
    },

    #[error("`{}`: `--format esp` needs the ESP chip; set `chip = \"esp32c3\"` (or your chip) on the platform", file.display())]
    NoChip { file: PathBuf },

    #[error("firmware `{}` does not fit platform `{platform}`\n{}", file.display(), list(.problems))]
    FirmwareTooBig {
        file: PathBuf,
        platform: String,
        problems: Vec<String>,
    },

    #[error("`{}` is a bundle in format v{found}, newer than this cargo-assetota reads (v{})", path.display(), assetota_bundle::FORMAT)]
    BundleTooNew { path: PathBuf, found: u64 },

    #[error("`{}` is not a valid bundle: {reason}", path.display())]
    BadBundle { path: PathBuf, reason: String },

    #[error("`{}` is rejected: entry `{entry}` {reason}", path.display())]
    HostileBundle {
        path: PathBuf,
        entry: String,
        reason: String,
    },

    #[error("`{}` failed verification\n{}", path.display(), list(.problems))]
    VerifyFailed {
        path: PathBuf,
        problems: Vec<String>,
        over_budget_only: bool,
    },

    #[error("unknown platform `{name}`; known platforms: {}", known.join(", "))]
    UnknownPlatform { name: String, known: Vec<String> },

    #[error("cannot write the bundle `{}`: {source}", path.display())]
    Zip {
        path: PathBuf,
        source: zip::result::ZipError,
    },

    #[error("{0}")]
    Init(String),

    #[error(transparent)]
    Particle(assetota_particle::Error),

    #[error("`--modules` writes Particle asset modules, so it needs a Particle application, not the ELF `{}`", .0.display())]
    ModulesWithElf(PathBuf),

    #[error("{0}")]
    Watch(String),

    #[error("cannot export into `{}`: it {reason}", path.display())]
    ExportLayout { path: PathBuf, reason: String },

    #[error("cannot export into `{}`: blobs are immutable, and {} already there with other bytes; nothing was written\n{}", dir.display(), if conflicts.len() == 1 { "one is" } else { "some are" }, list(.conflicts))]
    BlobConflict {
        dir: PathBuf,
        conflicts: Vec<String>,
    },

    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: String,
        source: std::io::Error,
    },

    #[error("the server failed: {0}")]
    Serve(String),

    #[error(transparent)]
    StoreImage(assetota_bundle::store_image::StoreImageError),

    #[error("{0}")]
    ImageUsage(String),

    #[error("{0}")]
    BundleUsage(String),

    #[error(transparent)]
    NotW800Platform(#[from] assetota_firmware::w800::platform::NotW800Platform),
}

/// The bundle crate's errors, as the variants the commands already report.
impl From<assetota_bundle::Error> for Error {
    fn from(e: assetota_bundle::Error) -> Self {
        use assetota_bundle::Error as B;
        match e {
            B::Read { path, source } => Error::Read { path, source },
            B::Write { path, source } => Error::Write { path, source },
            B::BundleTooNew { path, found } => Error::BundleTooNew { path, found },
            B::BadBundle { path, reason } => Error::BadBundle { path, reason },
            B::HostileBundle {
                path,
                entry,
                reason,
            } => Error::HostileBundle {
                path,
                entry,
                reason,
            },
            B::Zip { path, source } => Error::Zip { path, source },
            B::ExportLayout { path, reason } => Error::ExportLayout { path, reason },
            B::BlobConflict { dir, conflicts } => Error::BlobConflict { dir, conflicts },
            B::Stale { bin, dir, change } => Error::Stale {
                bin,
                dir,
                changes: vec![change],
            },
            B::Firmware(e) => Error::Firmware(e),
            B::StoreImage(e) => Error::StoreImage(e),
        }
    }
}

/// The project crate's errors: files and platforms as every command reports
/// them, the rest as `init` and `new` always did.
impl From<assetota_project::Error> for Error {
    fn from(e: assetota_project::Error) -> Self {
        use assetota_project::Error as P;
        match e {
            P::Read { path, source } => Error::Read { path, source },
            P::Write { path, source } => Error::Write { path, source },
            P::UnknownPlatform { name, known } => Error::UnknownPlatform { name, known },
            e @ (P::VirtualWorkspace
            | P::InvalidToml { .. }
            | P::NoPackage(_)
            | P::NotATable(_)
            | P::NotEmpty(_)
            | P::NoName(_)
            | P::BadName(_)) => Error::Init(e.to_string()),
        }
    }
}

/// The Particle crate's errors: a hostile bundle and an unknown platform as
/// the variants every command reports them with, the rest as they are.
impl From<assetota_particle::Error> for Error {
    fn from(e: assetota_particle::Error) -> Self {
        use assetota_particle::Error as P;
        match e {
            P::Hostile {
                path,
                entry,
                reason,
            } => Error::HostileBundle {
                path,
                entry,
                reason,
            },
            P::UnknownPlatform { name, known } => Error::UnknownPlatform { name, known },
            other => Error::Particle(other),
        }
    }
}

/// A Particle file that could not be verified at all.
impl From<assetota_particle::verdict::VerdictError> for Error {
    fn from(e: assetota_particle::verdict::VerdictError) -> Self {
        use assetota_particle::verdict::VerdictError as V;
        match e {
            V::Particle(e) => e.into(),
            V::Measure { path, source } => Error::Read { path, source },
        }
    }
}

/// A Particle bundle that could not be written.
impl From<assetota_particle::bundle::WriteError> for Error {
    fn from(e: assetota_particle::bundle::WriteError) -> Self {
        use assetota_particle::bundle::WriteError as W;
        match e {
            W::Particle(e) => e.into(),
            W::Read { path, source } => Error::Read { path, source },
            W::Write { path, source } => Error::Write { path, source },
            W::Stale { bin, dir, change } => Error::Stale {
                bin,
                dir,
                changes: vec![change],
            },
        }
    }
}

/// What to do about a Particle error.
fn particle_help(e: &assetota_particle::Error) -> Option<String> {
    use assetota_particle::Error as P;
    use assetota_particle::app::AppError;
    Some(match e {
        P::App { cause: AppError::DeviceOsTooOld(_), .. } => {
            "build the application against Device OS 5.5.0 or newer".into()
        }
        P::App { cause: AppError::TooBig { .. }, .. } => {
            "each asset adds 38 B plus its name to the application; use fewer or shorter-named assets, or shrink the application".into()
        }
        P::App { .. } | P::NotFirmware { .. } => {
            "pass the application `.bin` that `particle compile` (or the Particle workbench) built for a platform with asset OTA".into()
        }
        P::Bundle { .. } => "rebuild the bundle with `cargo assetota bundle APP.bin --assets DIR`".into(),
        P::PlatformMismatch { .. } => "leave out --platform: the module names its platform".into(),
        P::NotParticlePlatform(_) => "`cargo assetota platforms` lists the Particle platforms".into(),
        _ => return None,
    })
}

fn list(items: &[String]) -> String {
    items
        .iter()
        .map(|i| format!("  - {i}"))
        .collect::<Vec<_>>()
        .join("\n")
}

impl Error {
    pub fn exit_code(&self) -> u8 {
        match self {
            Error::OverBudget { .. } | Error::FirmwareTooBig { .. } => exit::OVER_BUDGET,
            Error::VerifyFailed {
                over_budget_only: true,
                ..
            } => exit::OVER_BUDGET,
            Error::StoreImage(StoreImageError::Image {
                cause: assetota_core::store_image::ImageError::NoSpace { .. },
                ..
            }) => exit::OVER_BUDGET,
            Error::ImageUsage(_) | Error::BundleUsage(_) => exit::USAGE,
            Error::Stale { .. }
            | Error::Firmware(FirmwareError::CorruptManifest { .. })
            | Error::W800(
                assetota_firmware::w800::W800Error::BadCrc { .. }
                | assetota_firmware::w800::W800Error::BadXz { .. },
            )
            | Error::HostileBundle { .. }
            | Error::VerifyFailed { .. } => exit::VERIFY_FAILED,
            _ => exit::ERROR,
        }
    }

    /// A stable code for scripts and for searching the docs.
    pub fn code(&self) -> &'static str {
        match self {
            Error::NotCargoProject(_) => "assetota::not_cargo_project",
            Error::Metadata(_) => "assetota::cargo_metadata",
            Error::Spawn { .. } => "assetota::spawn",
            Error::NotOptedIn { .. } | Error::NoOptedInPackage(_) => "assetota::not_opted_in",
            Error::UnknownPackage(_) => "assetota::unknown_package",
            Error::Config(_) => "assetota::config",
            Error::Analyze(_) => "assetota::assets",
            Error::CargoBuild(_) => "assetota::cargo_build",
            Error::NoBinary(_) => "assetota::no_binary",
            Error::OutWithManyBundles { .. } => "assetota::usage",
            Error::Read { .. } | Error::Write { .. } => "assetota::io",
            Error::Firmware(e) => match e {
                FirmwareError::Unrecognized(_) | FirmwareError::NotElf(_) => {
                    "assetota::not_firmware"
                }
                FirmwareError::BadElf { .. } => "assetota::bad_elf",
                FirmwareError::NoManifest { .. } => "assetota::no_manifest",
                FirmwareError::CorruptManifest { .. } => "assetota::corrupt_manifest",
                FirmwareError::ManifestTooNew { .. } => "assetota::manifest_version",
                FirmwareError::WrongChip { .. } => "assetota::wrong_chip",
                FirmwareError::SparseImage { .. } => "assetota::sparse_image",
                FirmwareError::Esp { .. }
                | FirmwareError::BadEspImage { .. }
                | FirmwareError::NoEspImageWriter { .. } => "assetota::esp_image",
                FirmwareError::UnknownChip(_) => "assetota::firmware",
            },
            Error::Stale { .. } => "assetota::stale",
            Error::NoChip { .. } => "assetota::wrong_chip",
            Error::OverBudget { .. } | Error::FirmwareTooBig { .. } => "assetota::over_budget",
            Error::BundleTooNew { .. } => "assetota::bundle_version",
            Error::BadBundle { .. } => "assetota::bad_bundle",
            Error::HostileBundle { .. } => "assetota::hostile_bundle",
            Error::VerifyFailed { .. } => "assetota::verify",
            Error::UnknownPlatform { .. } => "assetota::unknown_platform",
            Error::Zip { .. } => "assetota::zip",
            Error::Particle(_) | Error::ModulesWithElf(_) => "assetota::particle",
            Error::W800(_) => "assetota::w800",
            Error::Init(_) => "assetota::init",
            Error::Watch(_) => "assetota::watch",
            Error::ExportLayout { .. } => "assetota::export",
            Error::BlobConflict { .. } => "assetota::blob_conflict",
            Error::Bind { .. } | Error::Serve(_) => "assetota::serve",
            Error::StoreImage(e) => match e {
                StoreImageError::NotStoreBundle { .. }
                | StoreImageError::NotStorePlatform { .. } => "assetota::not_store_platform",
                StoreImageError::NoPartitionAddress { .. }
                | StoreImageError::NoFirmwareAddress { .. } => "assetota::image_address",
                StoreImageError::Image { .. } => "assetota::store_image",
            },
            Error::ImageUsage(_) | Error::BundleUsage(_) => "assetota::usage",
            Error::NotW800Platform(_) => "assetota::not_w800_platform",
        }
    }

    /// What to do about it.
    pub fn help(&self) -> Option<String> {
        Some(match self {
            Error::NotCargoProject(_) => "run this inside a cargo package, or point at one with `--manifest-path path/to/Cargo.toml`".into(),
            Error::NotOptedIn { .. } | Error::NoOptedInPackage(_) => "opt in by adding to the package's Cargo.toml:\n\n    [package.metadata.assetota]\n    dir = \"assets\"\n\nor run `cargo assetota init` in the package".into(),
            Error::UnknownPackage(_) => "check the name given to `-p`; `cargo metadata --no-deps` lists the members".into(),
            Error::CargoBuild(_) => "cargo printed the reason above; fix it and run `cargo assetota build` again".into(),
            Error::NoBinary(_) => "build a binary target of a package that has [package.metadata.assetota] (check `-p` and `--bin`)".into(),
            Error::OutWithManyBundles { .. } => "select one binary with `-p` and `--bin`, or leave out `--out` to write each bundle beside its binary".into(),
            Error::Firmware(FirmwareError::Unrecognized(_) | FirmwareError::NotElf(_)) => "pass the firmware ELF cargo built (under target/), a flat image made from it, or a `.assetota.zip` bundle".into(),
            Error::Firmware(FirmwareError::BadElf { .. }) => "the file was cut short or damaged; build it again (`cargo assetota build`) or copy it again".into(),
            Error::Firmware(FirmwareError::NoManifest { stripped, .. }) => {
                let mut h = String::from("the firmware must embed the manifest: its build.rs needs\n\n    fn main() { assetota_build::embed(); }\n\nand its main.rs (or lib.rs) needs\n\n    assetota::manifest!();\n\n`cargo assetota init` adds both");
                if *stripped {
                    h.push_str("; if it has them, a linker script or a strip step dropped the `.assetota` section: keep it with `KEEP(*(.assetota))`");
                }
                h
            }
            Error::Firmware(FirmwareError::NoEspImageWriter { .. }) => "this cargo-assetota was built without its default `esp` feature; reinstall it with it (`cargo install cargo-assetota`, or `--features esp`), or bundle the ELF as it is with `--format elf`".into(),
            Error::Firmware(FirmwareError::CorruptManifest { .. }) => "the firmware file was modified or damaged after it was built; build it again".into(),
            Error::Firmware(FirmwareError::ManifestTooNew { .. }) | Error::BundleTooNew { .. } => "update cargo-assetota: `cargo install cargo-assetota`".into(),
            Error::Stale { .. } => "run `cargo assetota build` again so the firmware embeds the current assets (plain `cargo build` reruns build.rs too)".into(),
            Error::OverBudget { .. } => "shrink or remove assets (or the firmware), or budget against a larger platform with `--platform`".into(),
            Error::FirmwareTooBig { .. } => "make the firmware smaller (opt-level = \"z\", LTO) or enlarge the app/OTA partitions in the partition table".into(),
            Error::HostileBundle { .. } | Error::BadBundle { .. } => "do not use this bundle; rebuild it with `cargo assetota build`".into(),
            Error::VerifyFailed { over_budget_only: true, .. } => "the bundle is intact but does not fit; shrink the assets or use a platform with more storage".into(),
            Error::VerifyFailed { .. } => "do not ship this bundle; rebuild it with `cargo assetota build`".into(),
            Error::UnknownPlatform { .. } => "`cargo assetota platforms` lists the platforms".into(),
            Error::Analyze(assetota_core::Error::Scan(assetota_core::ScanError::DirMissing(_))) => "create the directory, or run `cargo assetota init` to set it up".into(),
            Error::ExportLayout { .. } => "export into an empty directory, or one an earlier `cargo assetota export` wrote".into(),
            Error::BlobConflict { .. } => "a blob's name must always stand for the same bytes, since devices, caches and CDNs keep it. This happens when an asset's codec settings changed since an earlier release was exported there (or a blob was modified): export this release into a new directory, or, if no device still needs the release that wrote those blobs, delete them and export again".into(),
            Error::Bind { .. } => "pick another address or port with `--addr` (`--addr 127.0.0.1:0` takes any free port)".into(),
            Error::StoreImage(StoreImageError::NotStoreBundle { .. }) => "name a platform of kind \"assetota-store\" from the package's Cargo.toml with `--platform NAME` (a `[package.metadata.assetota.platforms.NAME]` table with `kind = \"assetota-store\"`, `partition-size`, `erase-size` and `write-size`), or rebuild the bundle for such a platform".into(),
            Error::StoreImage(StoreImageError::NotStorePlatform { .. }) => "`cargo assetota platforms` lists the platforms and their kinds; define one with `kind = \"assetota-store\"`, `partition-size`, `erase-size` and `write-size`".into(),
            Error::StoreImage(StoreImageError::NoPartitionAddress { .. }) => "set `partition-offset` (or a `partition-table`) in the platform's definition and rebuild the bundle, or give the address with `--address 0x…`".into(),
            Error::StoreImage(StoreImageError::NoFirmwareAddress { .. }) => "leave out `--firmware` and program the firmware on its own, or bundle the firmware as an ELF or a flat image with a load address".into(),
            Error::StoreImage(StoreImageError::Image { cause: assetota_core::store_image::ImageError::NoSpace { .. }, .. }) => "shrink or remove assets, or image for a platform with a larger partition (`--platform`)".into(),
            Error::StoreImage(StoreImageError::Image { cause: assetota_core::store_image::ImageError::Overlap { .. }, .. }) => "the firmware and the store partition must not share flash; check `partition-offset` against the firmware's load address and size".into(),
            Error::NotW800Platform(_) => "give the platform a W800 `partition-table` (name, offset, size, flag) with `app` and `app_ota` rows, or name them with `app-partition` and `ota-partition`".into(),
            Error::Particle(e) => return particle_help(e),
            _ => return None,
        })
    }
}
