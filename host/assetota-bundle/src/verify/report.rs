//! What `cargo assetota verify` reports about a bundle: the JSON of
//! `--json` and the summary of the status line of a bundle that passed.

use assetota_core::bytesize::Bytes;
use serde::Serialize;

use crate::manifest::{BundleManifest, PackageJson};

/// The JSON of `verify --json`.
#[derive(Debug, Serialize)]
pub struct VerifyJson<'a> {
    /// The bundle, as displayed.
    pub bundle: String,
    /// Whether it passed: no problems.
    pub ok: bool,
    /// Its package.
    pub package: &'a PackageJson,
    /// The platform it records.
    pub platform: Option<String>,
    /// Everything wrong with it, one line each.
    pub problems: &'a [String],
}

impl<'a> VerifyJson<'a> {
    /// The report of the bundle displayed as `bundle`, with manifest `m`
    /// and `problems` found.
    pub fn new(bundle: String, m: &'a BundleManifest, problems: &'a [String]) -> VerifyJson<'a> {
        VerifyJson {
            bundle,
            ok: problems.is_empty(),
            package: &m.package,
            platform: m.platform.clone(),
            problems,
        }
    }
}

/// The status line's text for a bundle (displayed as `bundle`) that passed:
/// its package, firmware, assets and platform.
pub fn summary(bundle: &str, m: &BundleManifest) -> String {
    let fw = &m.firmware;
    format!(
        "{bundle} ({} {}, firmware `{}` {}, {} asset{}{})",
        m.package.name,
        m.package.version,
        fw.file,
        Bytes(fw.size),
        m.assets.len(),
        if m.assets.len() == 1 { "" } else { "s" },
        m.platform
            .as_ref()
            .map(|p| format!(", fits `{p}`"))
            .unwrap_or_default()
    )
}
