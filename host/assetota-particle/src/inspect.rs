//! What `inspect` reports about a Particle module or bundle: the JSON model,
//! which the text report is rendered from too.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use serde::Serialize;

use crate::error::Error;
use crate::file::{self, ParticleFile};
use crate::json::{self, AssetModuleJson, DependencyJson, ModuleJson};
use crate::module::Module;

/// `inspect --json` of a Particle file; field order is the JSON's.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct InspectJson {
    /// The file, as the user named it.
    pub file: String,
    /// [`ParticleFile::kind`].
    pub kind: &'static str,
    /// A bundle's application entry.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub application: Option<String>,
    /// The module (a bundle's application).
    pub module: ModuleJson,
    /// The application's asset dependencies, checked against a bundle's assets.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub dependencies: Vec<DependencyJson>,
    /// An asset module's asset.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub asset: Option<AssetModuleJson>,
    /// Assets in the bundle the application does not depend on.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub unused_assets: Vec<String>,
    /// Entries Particle's tools skip.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub ignored_entries: Vec<String>,
}

impl InspectJson {
    /// The report of the file at `path` (shown as `file`), read into
    /// `bytes` and classified as `kind`; a bundle is read here.
    pub fn new(
        file: String,
        path: &Path,
        bytes: &[u8],
        kind: &ParticleFile,
    ) -> Result<InspectJson, Error> {
        let empty = |module| InspectJson {
            file: file.clone(),
            kind: kind.kind(),
            application: None,
            module,
            dependencies: Vec::new(),
            asset: None,
            unused_assets: Vec::new(),
            ignored_entries: Vec::new(),
        };
        Ok(match kind {
            ParticleFile::Asset(m) => InspectJson {
                asset: AssetModuleJson::new(bytes),
                ..empty(ModuleJson::new(m, bytes))
            },
            ParticleFile::App(m) => InspectJson {
                dependencies: json::dependencies(m, None),
                ..empty(ModuleJson::new(m, bytes))
            },
            ParticleFile::Bundle => {
                let b = file::read_bundle(path, bytes)?;
                let m = Module::parse(&b.app).map_err(|cause| Error::NotFirmware {
                    path: path.join(&b.app_name),
                    cause,
                })?;
                let assets: BTreeMap<String, Vec<u8>> = b.assets.iter().cloned().collect();
                let dependencies = json::dependencies(&m, Some(&assets));
                let wanted: BTreeSet<&str> = dependencies.iter().map(|d| d.name.as_str()).collect();
                InspectJson {
                    application: Some(b.app_name.clone()),
                    unused_assets: assets
                        .keys()
                        .filter(|n| !wanted.contains(n.as_str()))
                        .cloned()
                        .collect(),
                    ignored_entries: b.ignored,
                    dependencies,
                    ..empty(ModuleJson::new(&m, &b.app))
                }
            }
        })
    }

    /// Whether it is about a bundle (whose dependencies have a status).
    pub fn is_bundle(&self) -> bool {
        self.kind == ParticleFile::Bundle.kind()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::asset;

    #[test]
    fn an_asset_module_reports_its_asset() {
        let m = asset::create(b"hello", "a.txt").unwrap();
        let kind = file::classify(&m).unwrap();
        let report = InspectJson::new("a.txt".into(), Path::new("a.txt"), &m, &kind).unwrap();
        assert_eq!(report.kind, "particle-asset-module");
        assert!(!report.is_bundle());
        assert_eq!(report.asset.unwrap().name, "a.txt");
        assert!(report.dependencies.is_empty() && report.application.is_none());
    }
}
