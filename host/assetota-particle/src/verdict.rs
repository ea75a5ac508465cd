//! The whole of `verify` for one Particle file: every problem [`crate::verify`]
//! finds, the budget of a bundle's assets, and the one-line summary of a
//! file that passes.

use std::path::{Path, PathBuf};

use assetota_core::Budget;
use assetota_core::bytesize::Bytes;
use serde::Serialize;

use crate::error::Error;
use crate::file::{self, ParticleFile};
use crate::{measure, platform, text, verify as check};

/// What `verify` found in a Particle file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verdict {
    /// [`ParticleFile::kind`].
    pub kind: &'static str,
    /// The platform it was checked against (an application's or a bundle's).
    pub platform: Option<String>,
    /// Everything wrong, the format's problems before the budget's.
    pub problems: Vec<String>,
    /// The file is intact and only over budget (exit 3 rather than 4).
    pub over_budget_only: bool,
    /// What the file is, for the line that says it verified.
    pub summary: String,
    /// The name the device stores an asset module as, when the file is named otherwise.
    pub stored_as: Option<String>,
    /// The limits a bundle's assets come near.
    pub near: Vec<String>,
}

/// `verify --json` of a Particle file.
#[derive(Debug, Serialize)]
pub struct VerifyJson<'a> {
    /// The file, as the user named it.
    pub bundle: String,
    /// No problems.
    pub ok: bool,
    /// [`ParticleFile::kind`].
    pub kind: &'static str,
    /// [`Verdict::platform`].
    pub platform: Option<&'a str>,
    /// [`Verdict::problems`].
    pub problems: &'a [String],
}

/// Why a file could not be verified at all (as opposed to a [`Verdict`] with problems).
#[derive(Debug, thiserror::Error)]
pub enum VerdictError {
    /// The file is no Particle file that can be checked, or `--platform` does not fit it.
    #[error(transparent)]
    Particle(#[from] Error),
    /// A bundle's assets could not be measured.
    #[error("cannot read `{}`: {source}", path.display())]
    Measure {
        /// The bundle.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
}

impl Verdict {
    /// Verifies the file at `path`, read into `bytes` and classified as
    /// `kind`; a bundle's budget is taken on `platform` (`--platform`), else
    /// its application's. `shown` is the path as the user reads it.
    pub fn of(
        path: &Path,
        shown: &str,
        bytes: &[u8],
        kind: &ParticleFile,
        platform: Option<&str>,
    ) -> Result<Verdict, VerdictError> {
        let mut problems = Vec::new();
        let mut budget_problems = Vec::new();
        let mut platform_name = None;
        let mut stored_as = None;
        let mut near = Vec::new();
        let summary = match kind {
            ParticleFile::Asset(_) => {
                let (module, p) = check::asset_module(bytes);
                problems.extend(p);
                let name = module.as_ref().map(|a| a.name_lossy()).unwrap_or_default();
                if module.is_some()
                    && let Some(file) = path.file_name().and_then(|f| f.to_str())
                    && file != name
                {
                    stored_as = Some(name.clone());
                }
                format!(
                    "Particle asset module `{name}`, {}",
                    Bytes(bytes.len() as u64)
                )
            }
            ParticleFile::App(_) => {
                let (app, p) = check::app(shown, bytes);
                problems.extend(p);
                let deps = app
                    .as_ref()
                    .map_or(0, |a| a.module.asset_dependencies().len());
                platform_name = app.as_ref().map(|a| a.user_part.name.to_owned());
                format!(
                    "Particle application for `{}`, {}; its {} can only be checked in a bundle",
                    platform_name.as_deref().unwrap_or("?"),
                    Bytes(bytes.len() as u64),
                    text::dependencies(deps)
                )
            }
            ParticleFile::Bundle => {
                let b = file::read_bundle(path, bytes)?;
                let (app, p) = check::app(&b.app_name, &b.app);
                problems.extend(p);
                problems.extend(check::bundle(&b));
                // The budget, from the bytes.
                if let Some(app) = &app {
                    let platform = platform::choose(path, app, platform)?;
                    platform_name = Some(platform.name.clone());
                    let measured = measure::measure_bundle_assets(platform.codec, &b.assets)
                        .map_err(|source| VerdictError::Measure {
                            path: path.to_owned(),
                            source,
                        })?;
                    let findings =
                        assetota_bundle::budget::findings(&Budget::new(&platform, measured));
                    near = findings.near;
                    budget_problems = findings.over;
                }
                format!(
                    "Particle bundle: `{}` and {}, all matching{}",
                    b.app_name,
                    text::assets(b.assets.len()),
                    platform_name
                        .as_ref()
                        .map(|p| format!(", fits `{p}`"))
                        .unwrap_or_default()
                )
            }
        };
        let mut problems: Vec<String> = problems.iter().map(ToString::to_string).collect();
        let over_budget_only = problems.is_empty() && !budget_problems.is_empty();
        problems.extend(budget_problems);
        Ok(Verdict {
            kind: kind.kind(),
            platform: platform_name,
            problems,
            over_budget_only,
            summary,
            stored_as,
            near,
        })
    }

    /// The JSON of this verdict about `bundle` (the path as the user reads it).
    pub fn json(&self, bundle: String) -> VerifyJson<'_> {
        VerifyJson {
            bundle,
            ok: self.problems.is_empty(),
            kind: self.kind,
            platform: self.platform.as_deref(),
            problems: &self.problems,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::asset;

    #[test]
    fn an_asset_module_stored_under_another_name() {
        let m = asset::create(b"hello", "a.txt").unwrap();
        let kind = file::classify(&m).unwrap();
        let v = Verdict::of(Path::new("b.bin"), "b.bin", &m, &kind, None).unwrap();
        assert!(v.problems.is_empty() && !v.over_budget_only);
        assert_eq!(v.stored_as.as_deref(), Some("a.txt"));
        assert_eq!(
            v.summary,
            format!("Particle asset module `a.txt`, {}", Bytes(m.len() as u64))
        );
        let json = v.json("b.bin".into());
        assert!(json.ok && json.platform.is_none());
    }
}
