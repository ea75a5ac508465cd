//! The plan's model: the assets of each side and what the OTA does with them.

use assetota_bundle::hex;
use assetota_bundle::input::{Kind, Loaded};
use semver::Version;
use serde::Serialize;

/// One asset of either side, as the plan lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DiffAsset {
    /// The asset's name.
    pub name: String,
    /// Bytes of the raw asset.
    pub size: u64,
    /// SHA-256 of the raw asset, lowercase hex.
    pub sha256: String,
    /// Bytes compressed (what an OTA transfers).
    pub compressed_size: u64,
}

/// The assets of one input file, and its package version when it is a bundle.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Side {
    /// The assets, in the manifest's order.
    pub assets: Vec<DiffAsset>,
    /// The package version (bundles only: an ELF or image does not carry one).
    pub version: Option<String>,
}

impl Side {
    /// The side of a loaded file: a bundle's manifest.json, else the manifest
    /// embedded in the firmware (a damaged one is an error).
    pub fn of(loaded: &Loaded) -> Result<Side, assetota_firmware::Error> {
        if loaded.kind == Kind::Bundle
            && let Some(contents) = &loaded.bundle
        {
            let b = &contents.manifest;
            return Ok(Side {
                assets: b
                    .assets
                    .iter()
                    .map(|a| DiffAsset {
                        name: a.name.clone(),
                        size: a.size,
                        sha256: a.sha256.clone(),
                        compressed_size: a.compressed_size,
                    })
                    .collect(),
                version: Some(b.package.version.clone()),
            });
        }
        let m = loaded.manifest()?;
        Ok(Side {
            assets: m
                .iter()
                .map(|a| DiffAsset {
                    name: a.name().to_owned(),
                    size: a.size(),
                    sha256: hex(a.sha256()),
                    compressed_size: a.compressed_size(),
                })
                .collect(),
            version: None,
        })
    }
}

/// The plan from OLD to NEW, serialized as `diff --json` prints it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Plan {
    /// The assets of NEW the device does not have.
    pub send: Vec<DiffAsset>,
    /// The assets of NEW the device has (same name and SHA-256).
    pub keep: Vec<DiffAsset>,
    /// The assets of OLD that NEW does not have.
    pub remove: Vec<DiffAsset>,
    /// Compressed bytes of `send`: what the OTA transfers.
    pub bytes_to_send: u64,
    /// OLD's package version.
    pub old_version: Option<String>,
    /// NEW's package version.
    pub new_version: Option<String>,
    /// Both versions are semver and NEW's is lower: devices that refuse
    /// downgrades reject the update.
    pub version_goes_down: bool,
}

impl Plan {
    /// The plan from `old` to `new`.
    pub fn new(old: &Side, new: &Side) -> Plan {
        let same = |a: &DiffAsset, b: &DiffAsset| a.name == b.name && a.sha256 == b.sha256;
        let (keep, send): (Vec<DiffAsset>, Vec<DiffAsset>) = new
            .assets
            .iter()
            .cloned()
            .partition(|n| old.assets.iter().any(|o| same(o, n)));
        let remove: Vec<DiffAsset> = old
            .assets
            .iter()
            .filter(|o| !new.assets.iter().any(|n| same(o, n)))
            .cloned()
            .collect();
        let bytes_to_send = send.iter().map(|a| a.compressed_size).sum();
        let version_goes_down = match (&old.version, &new.version) {
            (Some(o), Some(n)) => match (Version::parse(o), Version::parse(n)) {
                (Ok(o), Ok(n)) => n < o,
                _ => false,
            },
            _ => false,
        };
        Plan {
            send,
            keep,
            remove,
            bytes_to_send,
            old_version: old.version.clone(),
            new_version: new.version.clone(),
            version_goes_down,
        }
    }

    /// How many assets NEW has (each is sent or kept).
    pub fn new_count(&self) -> usize {
        self.send.len() + self.keep.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn asset(name: &str, sha: &str, compressed_size: u64) -> DiffAsset {
        DiffAsset {
            name: name.to_owned(),
            size: compressed_size * 2,
            sha256: sha.repeat(64),
            compressed_size,
        }
    }

    fn side(assets: Vec<DiffAsset>, version: Option<&str>) -> Side {
        Side {
            assets,
            version: version.map(str::to_owned),
        }
    }

    #[test]
    fn an_asset_is_kept_only_under_the_same_name_and_hash() {
        let old = side(
            vec![
                asset("a", "1", 10),
                asset("b", "2", 20),
                asset("c", "3", 30),
            ],
            None,
        );
        let new = side(
            vec![
                asset("a", "1", 10),
                asset("b", "9", 25),
                asset("d", "3", 30),
            ],
            None,
        );
        let plan = Plan::new(&old, &new);
        let names = |l: &[DiffAsset]| l.iter().map(|a| a.name.clone()).collect::<Vec<_>>();
        assert_eq!(names(&plan.keep), ["a"]);
        assert_eq!(names(&plan.send), ["b", "d"]);
        assert_eq!(names(&plan.remove), ["b", "c"]);
        assert_eq!(plan.bytes_to_send, 55);
        assert_eq!(plan.new_count(), 3);
    }

    #[test]
    fn the_version_goes_down_only_between_two_semver_versions() {
        let down = |o: Option<&str>, n: Option<&str>| {
            Plan::new(&side(vec![], o), &side(vec![], n)).version_goes_down
        };
        assert!(down(Some("1.2.0"), Some("1.1.9")));
        assert!(!down(Some("1.2.0"), Some("1.2.1")));
        assert!(!down(Some("1.2.0"), Some("not semver")));
        assert!(!down(None, Some("0.1.0")));
    }
}
