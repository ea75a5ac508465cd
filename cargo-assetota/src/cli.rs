//! The command line: every subcommand's flags (clap derive).

use std::ffi::OsString;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::shell::ColorChoice;

/// Runs as `cargo assetota …`; cargo passes `assetota` as the first argument.
#[derive(Debug, Parser)]
#[command(name = "cargo", bin_name = "cargo", styles = clap_cargo_styles())]
pub enum CargoCli {
    Assetota(Cli),
}

/// Ship firmware assets over the air next to the code.
#[derive(Debug, Args)]
#[command(version, about, long_about = None, propagate_version = true)]
pub struct Cli {
    /// Coloring: auto, always, never
    #[arg(
        long,
        global = true,
        value_enum,
        value_name = "WHEN",
        env = "CARGO_TERM_COLOR",
        default_value = "auto"
    )]
    pub color: ColorChoice,

    /// Use verbose output (also passed to cargo)
    #[arg(short, long, global = true, conflicts_with = "quiet")]
    pub verbose: bool,

    /// Print no status messages (also passed to cargo)
    #[arg(short, long, global = true)]
    pub quiet: bool,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Build through cargo, check the embedded manifest and write the bundle
    Build(BuildArgs),
    /// Report what the assets cost on a platform, or which platforms they fit
    Size(SizeArgs),
    /// Show the manifest of an ELF, a flat image or a bundle
    Inspect(InspectArgs),
    /// Check that a bundle's firmware, manifest.json and assets agree and fit
    Verify(VerifyArgs),
    /// What an OTA update must send to go from OLD to NEW
    Diff(DiffArgs),
    /// Bundle a prebuilt firmware ELF, or a Particle application .bin, with its assets directory
    Bundle(BundleArgs),
    /// List the built-in and configured platforms
    Platforms(PlatformsArgs),
    /// Set up assets in an existing package (Cargo.toml, build.rs, assets dir)
    Init(InitArgs),
    /// Create a new firmware package with assets from a template
    New(NewArgs),
    /// Watch the assets: report each change and the budget live, optionally rebuild
    Watch(WatchArgs),
    /// Write a bundle as a static content-addressed directory (manifest.json, blobs/<sha256>, firmware)
    Export(ExportArgs),
    /// Serve an export directory, or a bundle, over HTTP for development (Range, ETag, HEAD)
    Serve(ServeArgs),
    /// Write the factory image of the device store with every asset installed (bin, Intel HEX or UF2)
    Image(ImageArgs),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum MessageFormat {
    Human,
    Json,
}

/// The firmware image stored in the bundle.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ImageFormat {
    /// Flat binary of the loadable sections (what `objcopy -O binary` writes)
    Bin,
    /// The ELF file itself
    Elf,
    /// ESP app image, as `espflash save-image` writes it [default for ESP chips]
    Esp,
}

impl ImageFormat {
    pub fn as_str(self) -> &'static str {
        match self {
            ImageFormat::Bin => "bin",
            ImageFormat::Elf => "elf",
            ImageFormat::Esp => "esp",
        }
    }

    /// The extension of the firmware file in the bundle.
    pub fn extension(self) -> &'static str {
        match self {
            ImageFormat::Esp => "bin",
            other => other.as_str(),
        }
    }
}

/// Package selection shared by the commands that read Cargo.toml.
#[derive(Debug, Clone, Args, Default)]
pub struct PackageArgs {
    /// Package to work on (repeatable)
    #[arg(short = 'p', long = "package", value_name = "SPEC")]
    pub package: Vec<String>,
    /// Path to Cargo.toml
    #[arg(long, value_name = "PATH")]
    pub manifest_path: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct BuildArgs {
    /// Budget against this platform (sets ASSETOTA_PLATFORM for the build)
    #[arg(long, value_name = "NAME")]
    pub platform: Option<String>,
    /// Write the bundle here instead of beside the binary
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// Output format of the report on stdout
    #[arg(long, value_enum, value_name = "FMT", default_value = "human")]
    pub message_format: MessageFormat,
    /// Firmware image in the bundle [default: esp for ESP chips, bin for other `*-none*` targets, elf otherwise]
    #[arg(long, value_enum)]
    pub format: Option<ImageFormat>,
    #[command(flatten)]
    pub cargo: CargoBuildFlags,
}

/// `cargo build` flags passed through unchanged.
#[derive(Debug, Clone, Args, Default)]
#[command(next_help_heading = "Cargo build options")]
pub struct CargoBuildFlags {
    /// Build with the release profile
    #[arg(short = 'r', long)]
    pub release: bool,
    /// Build with the given profile
    #[arg(long, value_name = "PROFILE-NAME")]
    pub profile: Option<String>,
    /// Build for the target triple
    #[arg(long, value_name = "TRIPLE")]
    pub target: Option<String>,
    /// Directory for all generated artifacts
    #[arg(long, value_name = "DIRECTORY")]
    pub target_dir: Option<PathBuf>,
    /// Package to build (repeatable)
    #[arg(short = 'p', long = "package", value_name = "SPEC")]
    pub package: Vec<String>,
    /// Build all workspace members
    #[arg(long)]
    pub workspace: bool,
    /// Build only this binary (repeatable)
    #[arg(long, value_name = "NAME")]
    pub bin: Vec<String>,
    /// Features to activate
    #[arg(short = 'F', long, value_name = "FEATURES")]
    pub features: Vec<String>,
    /// Activate all features
    #[arg(long)]
    pub all_features: bool,
    /// Do not activate the `default` feature
    #[arg(long)]
    pub no_default_features: bool,
    /// Path to Cargo.toml
    #[arg(long, value_name = "PATH")]
    pub manifest_path: Option<PathBuf>,
    /// Number of parallel jobs
    #[arg(short = 'j', long, value_name = "N")]
    pub jobs: Option<String>,
    /// Assert that Cargo.lock will remain unchanged
    #[arg(long)]
    pub locked: bool,
    /// Run without accessing the network
    #[arg(long)]
    pub offline: bool,
    /// Equivalent to --locked and --offline
    #[arg(long)]
    pub frozen: bool,
    /// Further arguments for `cargo build`
    #[arg(last = true, value_name = "CARGO_ARGS")]
    pub extra: Vec<OsString>,
}

impl CargoBuildFlags {
    /// These flags as cargo spells them (and `cargo assetota build`, which
    /// takes the same), `extra` aside: its place differs between the two.
    pub fn to_args(&self) -> Vec<OsString> {
        let mut args: Vec<OsString> = Vec::new();
        let mut with_value = |name: &str, value: &std::ffi::OsStr| {
            args.push(name.into());
            args.push(value.into());
        };
        if let Some(p) = &self.profile {
            with_value("--profile", p.as_ref());
        }
        if let Some(t) = &self.target {
            with_value("--target", t.as_ref());
        }
        for p in &self.package {
            with_value("--package", p.as_ref());
        }
        for b in &self.bin {
            with_value("--bin", b.as_ref());
        }
        for f in &self.features {
            with_value("--features", f.as_ref());
        }
        if let Some(j) = &self.jobs {
            with_value("--jobs", j.as_ref());
        }
        if let Some(d) = &self.target_dir {
            with_value("--target-dir", d.as_os_str());
        }
        if let Some(m) = &self.manifest_path {
            with_value("--manifest-path", m.as_os_str());
        }
        let switches = [
            (self.release, "--release"),
            (self.workspace, "--workspace"),
            (self.all_features, "--all-features"),
            (self.no_default_features, "--no-default-features"),
            (self.locked, "--locked"),
            (self.offline, "--offline"),
            (self.frozen, "--frozen"),
        ];
        args.extend(
            switches
                .into_iter()
                .filter(|(on, _)| *on)
                .map(|(_, name)| OsString::from(name)),
        );
        args
    }
}

#[derive(Debug, Args)]
pub struct SizeArgs {
    /// Budget against this platform instead of the configured one
    #[arg(long, value_name = "NAME", conflicts_with = "all_platforms")]
    pub platform: Option<String>,
    /// Show which platforms the assets fit
    #[arg(long)]
    pub all_platforms: bool,
    /// Print JSON on stdout
    #[arg(long)]
    pub json: bool,
    /// Also check this firmware image against a partition-table platform's app and OTA partitions
    #[arg(long, value_name = "FILE")]
    pub firmware: Option<PathBuf>,
    /// What to print on stdout: the table, JSON (`--json`), or GitHub-flavoured Markdown for CI summaries
    #[arg(long, value_enum, value_name = "FORMAT")]
    pub format: Option<OutputFormat>,
    /// Also write the budget as one self-contained HTML page: a treemap of the partition, the limits, a table
    #[arg(long, value_name = "FILE.html")]
    pub report: Option<PathBuf>,
    #[command(flatten)]
    pub packages: PackageArgs,
}

/// What `size` and `diff` print on stdout.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum OutputFormat {
    Human,
    Json,
    Markdown,
}

#[derive(Debug, Args)]
pub struct InspectArgs {
    /// An ELF, a flat image or a bundle
    pub file: PathBuf,
    /// Print JSON on stdout
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct VerifyArgs {
    /// The `.assetota.zip` bundle
    pub bundle: PathBuf,
    /// Check the limits of this built-in platform instead of the ones recorded in the bundle
    #[arg(long, value_name = "NAME")]
    pub platform: Option<String>,
    /// Print the result as JSON on stdout
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct DiffArgs {
    /// What the device runs now (bundle, ELF or flat image)
    pub old: PathBuf,
    /// What it should run (bundle, ELF or flat image)
    pub new: PathBuf,
    /// Print JSON on stdout
    #[arg(long)]
    pub json: bool,
    /// What to print on stdout: the table, JSON (`--json`), or GitHub-flavoured Markdown for CI summaries
    #[arg(long, value_enum, value_name = "FORMAT")]
    pub format: Option<OutputFormat>,
    /// Also write the plan as one self-contained HTML page: a treemap coloured by send, keep and remove
    #[arg(long, value_name = "FILE.html")]
    pub report: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct BundleArgs {
    /// The prebuilt firmware ELF, a Particle application module (.bin), or a W800 app binary (with a W800 `--platform`)
    pub firmware: PathBuf,
    /// The assets directory the firmware was built with (required except for W800 apps)
    // Empty when not given (not an `Option`: the Particle bundler reads it as a path).
    #[arg(
        long,
        value_name = "DIR",
        required = false,
        default_value = "",
        hide_default_value = true,
        value_parser = clap::builder::TypedValueParser::map(clap::builder::OsStringValueParser::new(), PathBuf::from)
    )]
    pub assets: PathBuf,
    /// Platform to budget against [default: the one recorded in the firmware]; a platform of the package's config whose partition table has `app` and `app_ota` makes W800 images
    #[arg(long, value_name = "NAME")]
    pub platform: Option<String>,
    /// Where to write the bundle [default: FIRMWARE.assetota.zip]; for W800, the PREFIX of PREFIX.img and PREFIX_ota.img [default: the app without its extension]
    #[arg(short = 'o', long = "out", value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// Firmware image in the bundle [default: bin for bare-metal ELFs, elf otherwise]
    #[arg(long, value_enum)]
    pub format: Option<ImageFormat>,
    /// Target triple recorded in the bundle
    #[arg(long, value_name = "TRIPLE")]
    pub target: Option<String>,
    /// Package name recorded in the bundle [default: the firmware's file name]
    #[arg(long, value_name = "NAME")]
    pub name: Option<String>,
    /// Package version recorded in the bundle [default: 0.0.0]; for W800, the images' version string (at most 15 bytes) [default: the package's version]
    #[arg(long = "package-version", value_name = "VERSION")]
    pub package_version: Option<String>,
    /// W800: the bootloader flags of the image header (log_level:3, skip_esc_check:1, skip_upgrade_check:1, skip_integrity_check:1), decimal or 0x hex
    #[arg(long, value_name = "N", value_parser = parse_u32)]
    pub bootloader_flags: Option<u32>,
    /// W800: print what was written as JSON on stdout
    #[arg(long)]
    pub json: bool,
    /// W800: the Cargo.toml whose config defines `--platform`
    #[arg(long, value_name = "PATH")]
    pub manifest_path: Option<PathBuf>,
    /// Also write each asset as the module a Particle device stores, to DIR/<name> (Particle applications only)
    #[arg(long, value_name = "DIR")]
    pub modules: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct ExportArgs {
    /// The `.assetota.zip` bundle (verified first)
    pub bundle: PathBuf,
    /// The directory to write; blobs already there are kept, never rewritten
    pub dir: PathBuf,
    /// Print what was added and kept as JSON on stdout
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// An `export` directory, or a bundle to export into a temporary one
    #[arg(value_name = "DIR|BUNDLE")]
    pub path: PathBuf,
    /// Address to listen on (port 0 picks a free one)
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:8080")]
    pub addr: std::net::SocketAddr,
}

/// The file format of `image`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum StoreImageFormat {
    /// The partition's bytes, exactly its size, 0xFF where erased
    Bin,
    /// Intel HEX at the partition's address
    Hex,
    /// UF2 blocks of 256 bytes at the partition's address
    Uf2,
}

#[derive(Debug, Args)]
pub struct ImageArgs {
    /// The `.assetota.zip` bundle (verified first)
    pub bundle: PathBuf,
    /// Build for this `assetota-store` platform of the package's config instead of the geometry the bundle records
    #[arg(long, value_name = "NAME")]
    pub platform: Option<String>,
    /// Where to write the image
    #[arg(short = 'o', long = "out", value_name = "FILE")]
    pub out: PathBuf,
    /// File format
    #[arg(long, value_enum, default_value = "bin")]
    pub format: StoreImageFormat,
    /// Merge the bundle's firmware at its load address (hex and uf2)
    #[arg(long)]
    pub firmware: bool,
    /// Address of the store partition in a hex or uf2 file [default: the platform's `partition-offset`]
    #[arg(long, value_name = "ADDR", value_parser = parse_address)]
    pub address: Option<u64>,
    /// UF2 family ID (sets the familyID flag, 0x2000)
    #[arg(long, value_name = "ID", value_parser = parse_family_id)]
    pub family_id: Option<u32>,
    /// Leave out erased (all-0xFF) records or blocks of a hex or uf2 file; only for a programmer that erases the whole range first
    #[arg(long)]
    pub skip_erased: bool,
    /// Print what was written as JSON on stdout
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub packages: PackageArgs,
}

/// A 32-bit number in decimal or `0x` hexadecimal.
fn parse_u32(text: &str) -> Result<u32, String> {
    let n = parse_address(text)?;
    u32::try_from(n).map_err(|_| format!("`{text}` does not fit in 32 bits"))
}

/// A number in decimal or `0x` hexadecimal.
fn parse_address(text: &str) -> Result<u64, String> {
    let t = text.trim().replace('_', "");
    let parsed = match t.strip_prefix("0x").or_else(|| t.strip_prefix("0X")) {
        Some(hex) => u64::from_str_radix(hex, 16),
        None => t.parse::<u64>(),
    };
    parsed.map_err(|_| format!("`{text}` is not a number (decimal, or hexadecimal with 0x)"))
}

/// A UF2 family ID: 32 bits, decimal or `0x` hexadecimal.
fn parse_family_id(text: &str) -> Result<u32, String> {
    let n = parse_address(text)?;
    u32::try_from(n).map_err(|_| format!("`{text}` is more than 32 bits"))
}

#[derive(Debug, Args)]
pub struct PlatformsArgs {
    /// Print JSON on stdout
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub packages: PackageArgs,
}

#[derive(Debug, Args)]
pub struct InitArgs {
    /// Assets directory, relative to the package
    #[arg(long, default_value = "assets")]
    pub dir: String,
    /// Platform to budget against
    #[arg(long, value_name = "NAME")]
    pub platform: Option<String>,
    /// Path to the package's Cargo.toml
    #[arg(long, value_name = "PATH")]
    pub manifest_path: Option<PathBuf>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Template {
    /// A program for the host (Linux, macOS, Windows)
    Host,
    /// Bare-metal Cortex-M firmware (thumbv7m-none-eabi) with a flat image
    CortexM,
}

#[derive(Debug, Args)]
pub struct NewArgs {
    /// Directory to create
    pub path: PathBuf,
    /// Which project to start from
    #[arg(long, value_enum, default_value = "host")]
    pub template: Template,
    /// Package name [default: the directory's name]
    #[arg(long)]
    pub name: Option<String>,
    /// Platform to budget against
    #[arg(long, value_name = "NAME")]
    pub platform: Option<String>,
}

/// Parses the process arguments whether run as `cargo assetota …` or as
/// `cargo-assetota …`.
pub fn parse_from(args: impl IntoIterator<Item = OsString>) -> Result<Cli, clap::Error> {
    let mut args: Vec<OsString> = args.into_iter().collect();
    if args.get(1).is_none_or(|a| a != "assetota") {
        args.insert(1.min(args.len()), OsString::from("assetota"));
    }
    CargoCli::try_parse_from(args).map(|CargoCli::Assetota(cli)| cli)
}

const fn clap_cargo_styles() -> clap::builder::Styles {
    use anstyle::{AnsiColor, Effects};
    clap::builder::Styles::styled()
        .header(AnsiColor::Green.on_default().effects(Effects::BOLD))
        .usage(AnsiColor::Green.on_default().effects(Effects::BOLD))
        .literal(AnsiColor::Cyan.on_default().effects(Effects::BOLD))
        .placeholder(AnsiColor::Cyan.on_default())
        .error(AnsiColor::Red.on_default().effects(Effects::BOLD))
        .valid(AnsiColor::Cyan.on_default().effects(Effects::BOLD))
        .invalid(AnsiColor::Yellow.on_default().effects(Effects::BOLD))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Cli {
        parse_from(args.iter().map(OsString::from)).unwrap()
    }

    #[test]
    fn runs_as_cargo_subcommand_and_directly() {
        let via_cargo = parse(&["cargo-assetota", "assetota", "size", "--json"]);
        let direct = parse(&["cargo-assetota", "size", "--json"]);
        assert!(matches!(
            via_cargo.command,
            Command::Size(SizeArgs { json: true, .. })
        ));
        assert!(matches!(
            direct.command,
            Command::Size(SizeArgs { json: true, .. })
        ));
    }

    #[test]
    fn cargo_flags_pass_through() {
        let cli = parse(&[
            "cargo-assetota",
            "build",
            "--release",
            "--target",
            "thumbv7m-none-eabi",
            "-p",
            "fw",
            "--bin",
            "a",
            "--",
            "--timings",
        ]);
        let Command::Build(b) = cli.command else {
            panic!()
        };
        assert!(b.cargo.release);
        assert_eq!(b.cargo.target.as_deref(), Some("thumbv7m-none-eabi"));
        assert_eq!(b.cargo.package, ["fw"]);
        assert_eq!(b.cargo.bin, ["a"]);
        assert_eq!(b.cargo.extra, [OsString::from("--timings")]);
    }

    #[test]
    fn every_cargo_flag_survives_being_passed_on() {
        let given = [
            "--release",
            "--profile",
            "p",
            "--target",
            "t",
            "--target-dir",
            "td",
            "-p",
            "a",
            "-p",
            "b",
            "--workspace",
            "--bin",
            "x",
            "--features",
            "f g",
            "--all-features",
            "--no-default-features",
            "--manifest-path",
            "m/Cargo.toml",
            "-j",
            "3",
            "--locked",
            "--offline",
            "--frozen",
        ];
        let flags = |argv: Vec<OsString>| {
            let cli = parse_from(argv).unwrap();
            let Command::Build(b) = cli.command else {
                panic!("not a build")
            };
            b.cargo
        };
        let first = flags(
            ["cargo-assetota", "build"]
                .iter()
                .chain(&given)
                .map(OsString::from)
                .collect(),
        );
        // clap reads back what `to_args` wrote: the same flags, every one.
        let again = flags(
            [OsString::from("cargo-assetota"), OsString::from("build")]
                .into_iter()
                .chain(first.to_args())
                .collect(),
        );
        assert_eq!(format!("{first:?}"), format!("{again:?}"));
        assert_eq!(first.to_args().len(), given.len());
    }

    #[test]
    fn platform_and_all_platforms_conflict() {
        let err =
            parse_from(["x", "size", "--platform", "p2", "--all-platforms"].map(OsString::from))
                .unwrap_err();
        assert_eq!(err.exit_code(), 2);
    }

    #[test]
    fn cli_is_consistent() {
        use clap::CommandFactory;
        CargoCli::command().debug_assert();
    }
}

/// `cargo assetota watch`.
#[derive(Debug, clap::Args)]
pub struct WatchArgs {
    /// Budget against this platform instead of the configured one
    #[arg(long, value_name = "NAME")]
    pub platform: Option<String>,
    /// After each change, rebuild and write the bundle again (`cargo assetota build`)
    #[arg(long)]
    pub build: bool,
    /// Quiet time after the last change before the report, in milliseconds
    #[arg(long, value_name = "MS", default_value_t = 100)]
    pub debounce: u64,
    /// Keep this HTML page of the budget current (rewritten atomically after every change; it reloads itself)
    #[arg(long, value_name = "FILE.html")]
    pub report: Option<PathBuf>,
    #[command(flatten)]
    pub cargo: CargoBuildFlags,
}
