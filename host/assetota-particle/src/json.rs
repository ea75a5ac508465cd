//! The JSON models `inspect --json` prints for modules: stable field names
//! and order, built from the bytes.

use std::collections::BTreeMap;

use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::app;
use crate::asset::AssetModule;
use crate::module::{self, Module, flags, function, hex};
use crate::zip as pzip;

/// A module's prefix and checksums.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ModuleJson {
    /// The function's name ([`function::name`]).
    pub function: &'static str,
    /// The function's number.
    pub function_id: u8,
    /// Particle's platform id.
    pub platform_id: u16,
    /// The platform's name, when it has asset OTA.
    pub platform: Option<String>,
    /// The module's version.
    pub module_version: u16,
    /// The start address, as `0x…` (8 digits).
    pub start_address: String,
    /// The end address (exclusive), as `0x…` (8 digits).
    pub end_address: String,
    /// The flags byte.
    pub flags: u8,
    /// The file's length, in bytes.
    pub size: usize,
    /// The module version of the Device OS it depends on (its first dependency).
    pub device_os_dependency: u16,
    /// Whether the CRC-32 matches.
    pub crc_ok: bool,
    /// Whether the SHA-256 matches.
    pub sha256_ok: bool,
}

impl ModuleJson {
    /// The model of module `m`, parsed from `bytes`.
    pub fn new(m: &Module, bytes: &[u8]) -> ModuleJson {
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
}

/// What a bundle's asset is to one of the application's dependencies.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// The asset is there with the SHA-256 depended on.
    Valid,
    /// The asset is there with other bytes.
    Mismatch,
    /// The bundle has no such asset.
    Missing,
}

impl Status {
    /// `valid`, `mismatch` or `missing`, as the JSON says it.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Valid => "valid",
            Status::Mismatch => "mismatch",
            Status::Missing => "missing",
        }
    }
}

/// One ASSET_DEPENDENCY of an application.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DependencyJson {
    /// The asset's name.
    pub name: String,
    /// The hash depended on, in hex.
    pub sha256: String,
    /// `valid`, `mismatch` or `missing` for a bundle; absent for a bare `.bin`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<Status>,
    /// The SHA-256 of the bundle's asset, on a mismatch.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub actual_sha256: Option<String>,
}

/// The dependencies of application `m`, each checked against `assets`
/// (a bundle's, by name) when given.
pub fn dependencies(m: &Module, assets: Option<&BTreeMap<String, Vec<u8>>>) -> Vec<DependencyJson> {
    m.asset_dependencies()
        .iter()
        .map(|d| {
            let name = d.name_lossy();
            let (status, actual) = match assets.map(|a| a.get(&name)) {
                None => (None, None),
                Some(None) => (Some(Status::Missing), None),
                Some(Some(bytes)) => {
                    let actual: [u8; 32] = Sha256::digest(bytes).into();
                    if d.sha256() == Some(actual) {
                        (Some(Status::Valid), None)
                    } else {
                        (Some(Status::Mismatch), Some(hex(&actual)))
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

/// An asset module's asset.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AssetModuleJson {
    /// The NAME extension (empty without one).
    pub name: String,
    /// The HASH extension's SHA-256, in hex (empty when the device refuses the module).
    pub sha256: String,
    /// The raw asset's length, in bytes (0 when the device refuses the module).
    pub original_size: u64,
    /// The module's length, in bytes.
    pub module_size: usize,
    /// Whether the COMPRESSED flag is set.
    pub compressed: bool,
    /// Why the device would delete it, if it would.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub problem: Option<String>,
}

impl AssetModuleJson {
    /// The model of the asset module in `bytes`; `None` when they are not a module.
    pub fn new(bytes: &[u8]) -> Option<AssetModuleJson> {
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
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::asset;

    #[test]
    fn an_asset_module_as_json() {
        let m = asset::create(b"hello", "a.txt").unwrap();
        let j = AssetModuleJson::new(&m).unwrap();
        assert_eq!(j.name, "a.txt");
        assert_eq!(j.original_size, 5);
        assert!(j.compressed && j.problem.is_none());
        let module = ModuleJson::new(&Module::parse(&m).unwrap(), &m);
        assert_eq!(module.function, "asset");
        assert!(module.crc_ok && module.sha256_ok);
        assert_eq!(module.start_address, "0x00000000");
        let text = serde_json::to_string(&DependencyJson {
            name: "a".into(),
            sha256: "00".into(),
            status: Some(Status::Mismatch),
            actual_sha256: None,
        })
        .unwrap();
        assert_eq!(text, r#"{"name":"a","sha256":"00","status":"mismatch"}"#);
    }
}
