//! The build.rs helper of cargo-assetota.
//!
//! ```text
//! // build.rs
//! fn main() {
//!     assetota_build::embed();
//! }
//! ```
//!
//! It reads `[package.metadata.assetota]`, scans and measures the assets,
//! checks the platform's flash budget (failing the build when over, warning
//! when near), writes `$OUT_DIR/assetota.manifest` for `assetota::manifest!()`,
//! and tells cargo to rerun when any asset or the config changes.

mod directives;

use assetota_core::cache::Cache;
use assetota_core::config::{Config, PLATFORM_ENV};
use assetota_core::{Budget, NoProgress, Verdict};
use directives::Directives;
use std::io::Write;
use std::path::{Path, PathBuf};

pub use assetota_core;

/// The file `assetota::manifest!()` includes from `OUT_DIR`.
pub const MANIFEST_FILE: &str = "assetota.manifest";

/// The factory image of the device store that [`Builder::store_image`] writes
/// to `OUT_DIR` (feature `store-image`): the platform's store partition with
/// every asset installed, byte-identical to `cargo assetota image`'s `bin`.
/// A firmware can place it in its own flash with
/// `include_bytes!(concat!(env!("OUT_DIR"), "/assetota.store"))` and mount it
/// read-only with `assetota_store::ReadOnlyFlash`.
#[cfg(feature = "store-image")]
pub const STORE_IMAGE_FILE: &str = "assetota.store";

/// Does the whole job with the settings cargo gives build scripts.
/// Problems are reported with `cargo::error`, which fails the build.
pub fn embed() {
    Builder::from_env().emit();
}

/// Options for the helper; [`embed`] is `Builder::from_env().emit()`.
#[derive(Debug, Clone)]
pub struct Builder {
    manifest_dir: PathBuf,
    out_dir: PathBuf,
    platform: Option<(String, String)>,
    store_image: bool,
}

/// What a successful run produced.
#[derive(Debug)]
pub struct Outcome {
    pub budget: Budget,
    pub manifest_path: PathBuf,
    /// Where the store image went, when [`Builder::store_image`] asked for one.
    pub store_image_path: Option<PathBuf>,
}

/// Why the helper failed; the same text went out as `cargo::error`.
#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    #[error("`{}` has no [package.metadata.assetota] table; opt in by adding `[package.metadata.assetota]` with `dir = \"assets\"`", .0.display())]
    NotOptedIn(PathBuf),
    #[error(transparent)]
    Core(#[from] assetota_core::Error),
    #[error("{from} stores assets with xz, but assetota-build was compiled without its `xz` feature; in `{}`, add `features = [\"xz\"]` to the assetota-build dependency under [build-dependencies]", manifest.display())]
    XzDisabled {
        /// Where xz came from: the platform, or the package's `codec` key.
        from: String,
        manifest: PathBuf,
    },
    #[error("cannot encode the manifest: {0}")]
    Encode(#[from] assetota_core::manifest::EncodeError),
    #[error("over budget on platform `{platform}` ({count} problem(s) reported above)")]
    OverBudget { platform: String, count: usize },
    #[error("cannot write `{}`: {source}", path.display())]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
    /// `store_image()` on a platform that is not a device store.
    #[error("the build script asks for a store image, but platform `{platform}` is not of kind \"assetota-store\"; in `{}`, give the platform `kind = \"assetota-store\"` with its erase-size and write-size, or drop `.store_image()`", manifest.display())]
    NotAStorePlatform { platform: String, manifest: PathBuf },
    #[error("cannot read asset `{name}` (`{}`) for the store image: {source}", path.display())]
    Read {
        name: String,
        path: PathBuf,
        source: std::io::Error,
    },
    #[cfg(feature = "store-image")]
    #[error(transparent)]
    StoreImage(#[from] assetota_core::store_image::ImageError),
}

impl Builder {
    /// Settings from cargo's build-script environment: `CARGO_MANIFEST_DIR`,
    /// `OUT_DIR`, and `ASSETOTA_PLATFORM` when set.
    pub fn from_env() -> Builder {
        let var = |name: &str| std::env::var_os(name).map(PathBuf::from);
        let mut builder = Builder::new(
            var("CARGO_MANIFEST_DIR").unwrap_or_else(|| PathBuf::from(".")),
            var("OUT_DIR").unwrap_or_else(|| PathBuf::from(".")),
        );
        if let Ok(name) = std::env::var(PLATFORM_ENV)
            && !name.is_empty()
        {
            builder.platform = Some((name, format!("the {PLATFORM_ENV} environment variable")));
        }
        builder
    }

    pub fn new(manifest_dir: impl Into<PathBuf>, out_dir: impl Into<PathBuf>) -> Builder {
        Builder {
            manifest_dir: manifest_dir.into(),
            out_dir: out_dir.into(),
            platform: None,
            store_image: false,
        }
    }

    /// Budget against this platform, whatever the config or environment says.
    pub fn platform(mut self, name: impl Into<String>) -> Builder {
        self.platform = Some((name.into(), "the build script".to_owned()));
        self
    }

    /// Also writes [`STORE_IMAGE_FILE`]: the store partition of the
    /// platform (which must be of kind `assetota-store`) with every asset
    /// installed by the device store's own code. Every asset is read into
    /// memory once to build it.
    #[cfg(feature = "store-image")]
    pub fn store_image(mut self) -> Builder {
        self.store_image = true;
        self
    }

    /// Runs and prints cargo directives on stdout.
    pub fn emit(self) {
        let stdout = std::io::stdout();
        let _ = self.emit_to(&mut stdout.lock());
    }

    /// Runs and writes cargo directives to `out`. Every error is also written
    /// as a `cargo::error` line, so cargo fails the build with that message.
    pub fn emit_to(&self, out: &mut impl Write) -> Result<Outcome, BuildError> {
        let mut directives = Directives::new(out);
        let result = self.run(&mut directives);
        if let Err(error) = &result
            && !matches!(error, BuildError::OverBudget { .. })
        {
            directives.error(&error.to_string());
        }
        result
    }

    fn run<W: Write>(&self, out: &mut Directives<W>) -> Result<Outcome, BuildError> {
        let manifest_path = self.manifest_dir.join("Cargo.toml");
        out.rerun_if_env_changed(PLATFORM_ENV);
        out.rerun_if_changed(&manifest_path);
        let config = Config::load(&manifest_path)
            .map_err(assetota_core::Error::from)?
            .ok_or_else(|| BuildError::NotOptedIn(manifest_path.clone()))?;
        for input in config.inputs.iter().skip(1) {
            out.rerun_if_changed(input);
        }
        // Cargo rescans a directory recursively (by mtime, directories
        // included), so adding, removing, renaming or editing any asset in
        // any sub-directory reruns this script.
        out.rerun_if_changed(&config.dir);

        let override_name = self
            .platform
            .as_ref()
            .map(|(n, from)| (n.as_str(), from.as_str()));
        let platform = config
            .resolve_platform(override_name)
            .map_err(assetota_core::Error::from)?;
        // Checked before any asset is read, so the build fails the same way
        // whether or not the directory holds assets yet.
        if matches!(platform.codec, assetota_core::Codec::Xz { .. })
            && !assetota_core::codec::XZ_SUPPORTED
        {
            let from = if config.codec.is_some() {
                "`codec` in [package.metadata.assetota]".to_owned()
            } else {
                format!("platform `{}`", platform.name)
            };
            return Err(BuildError::XzDisabled {
                from,
                manifest: manifest_path,
            });
        }
        // Shares the CLI's cache in the target dir, so a rebuild after one
        // change measures one asset.
        let mut cache = assetota_core::cache::target_dir_of(&self.out_dir)
            .map(|dir| Cache::for_target_dir(&dir))
            .unwrap_or_else(Cache::in_memory);
        let budget = assetota_core::analyze_cached(&config, &platform, &NoProgress, &mut cache)?;

        let findings = budget.findings();
        for finding in &findings {
            let message = finding.message(&platform.name);
            match finding.verdict() {
                Verdict::Over => out.error(&message),
                _ => out.warning(&message),
            }
        }
        let over = findings
            .iter()
            .filter(|f| f.verdict() == Verdict::Over)
            .count();
        if over > 0 {
            return Err(BuildError::OverBudget {
                platform: platform.name.clone(),
                count: over,
            });
        }

        let bytes = assetota_core::manifest_bytes(&budget)?;
        let manifest_path = self.out_dir.join(MANIFEST_FILE);
        write_atomically(&manifest_path, &bytes)?;
        let store_image_path = if self.store_image {
            Some(self.write_store_image(&budget, &manifest_path)?)
        } else {
            None
        };
        Ok(Outcome {
            budget,
            manifest_path,
            store_image_path,
        })
    }
}

impl Builder {
    #[cfg(feature = "store-image")]
    fn write_store_image(
        &self,
        budget: &Budget,
        manifest_path: &Path,
    ) -> Result<PathBuf, BuildError> {
        use assetota_core::store_image::{self, ImageAsset};
        let Some(geometry) = budget.platform.store.as_ref() else {
            return Err(BuildError::NotAStorePlatform {
                platform: budget.platform.name.clone(),
                manifest: self.manifest_dir.join("Cargo.toml"),
            });
        };
        let mut contents = Vec::with_capacity(budget.assets.len());
        for asset in &budget.assets {
            let path = &asset.measured.path;
            let bytes = std::fs::read(path).map_err(|source| BuildError::Read {
                name: asset.name().to_owned(),
                path: path.clone(),
                source,
            })?;
            contents.push(bytes);
        }
        let assets: Vec<ImageAsset<'_>> = budget
            .assets
            .iter()
            .zip(&contents)
            .map(|(a, bytes)| ImageAsset {
                name: a.name(),
                bytes,
                codec: a.codec,
            })
            .collect();
        let image = store_image::build(geometry, &assets)?;
        let path = manifest_path.with_file_name(STORE_IMAGE_FILE);
        write_atomically(&path, &image.bytes)?;
        Ok(path)
    }

    #[cfg(not(feature = "store-image"))]
    fn write_store_image(&self, _: &Budget, _: &Path) -> Result<PathBuf, BuildError> {
        unreachable!("store_image() exists only with the store-image feature")
    }
}

/// Writes `path` atomically (`assetota_core::atomic`, the one writer of every
/// host output): a reader, or a build killed meanwhile, never leaves half a file.
fn write_atomically(path: &Path, bytes: &[u8]) -> Result<(), BuildError> {
    assetota_core::atomic::write_bytes(path, bytes).map_err(|source| BuildError::Write {
        path: path.to_owned(),
        source,
    })
}
