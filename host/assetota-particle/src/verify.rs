//! What `verify` finds wrong in an application, an asset module or a
//! bundle: every problem, not only the first (the budget is checked apart,
//! with [`crate::measure`]).

use std::collections::{BTreeMap, BTreeSet};

use assetota_core::bytesize::Bytes;
use sha2::{Digest, Sha256};

use crate::app::{App, AppError};
use crate::asset::{AssetModule, AssetModuleError};
use crate::module::{self, Module, hex};
use crate::zip::{self as pzip, Bundle};

/// One thing wrong with a Particle file; its message names what it is about.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Problem {
    /// The application fails a check `particle bundle` makes.
    #[error("`{name}` {cause}")]
    App {
        /// The application's file name.
        name: String,
        /// The check it fails.
        cause: AppError,
    },
    /// The module's SHA-256 does not match its bytes.
    #[error("`{name}` fails its SHA-256 check (stored {}, computed {})", hex(.stored), hex(.computed))]
    Sha256 {
        /// The application's file name.
        name: String,
        /// The SHA-256 the module holds.
        stored: [u8; 32],
        /// The SHA-256 of its bytes.
        computed: [u8; 32],
    },
    /// The application is larger than its platform's user part.
    #[error("`{name}` is {}, over the {} user part of `{platform}`", Bytes(*.size), Bytes(*.max))]
    OverUserPart {
        /// The application's file name.
        name: String,
        /// Its length, in bytes.
        size: u64,
        /// The user part's size, in bytes.
        max: u64,
        /// The platform's name.
        platform: &'static str,
    },
    /// The device would delete the asset module: it fails `AssetReader::validate`.
    #[error("the device would delete it: it {0}")]
    AssetModule(AssetModuleError),
    /// The asset module's payload does not give the asset it describes.
    #[error("asset `{name}` {cause}")]
    AssetPayload {
        /// The asset's name.
        name: String,
        /// How the payload disagrees.
        cause: AssetModuleError,
    },
    /// The application depends on one name twice.
    #[error("`{app}` depends on `{name}` twice; the device stores one file per name")]
    DuplicateDependency {
        /// The application's entry name.
        app: String,
        /// The asset's name.
        name: String,
    },
    /// A dependency whose hash the device cannot check.
    #[error("`{name}`: the dependency's hash is not a SHA-256 (type {hash_type}, {})", Bytes(*.len))]
    NotSha256 {
        /// The asset's name.
        name: String,
        /// The hash type.
        hash_type: u8,
        /// The hash's length, in bytes.
        len: u64,
    },
    /// A dependency the bundle has no asset for.
    #[error("`{name}`: the application depends on it, but the bundle has no `assets/{name}`")]
    Missing {
        /// The asset's name.
        name: String,
    },
    /// An asset whose bytes are not the ones the application depends on.
    #[error("`assets/{name}`: sha256 {}, but the application depends on {}", hex(.actual), hex(.expected))]
    HashMismatch {
        /// The asset's name.
        name: String,
        /// The SHA-256 of the bundle's asset.
        actual: [u8; 32],
        /// The SHA-256 the application depends on.
        expected: [u8; 32],
    },
    /// An asset the application does not depend on.
    #[error("`assets/{name}` is in the bundle, but the application does not depend on it")]
    Unused {
        /// The asset's name.
        name: String,
    },
    /// An entry Particle's tools skip.
    #[error(
        "`{entry}` is neither the application nor `assets/<name>`; Particle's tools would skip it"
    )]
    Ignored {
        /// The entry's name.
        entry: String,
    },
}

/// Every check of an application named `name`: what `particle bundle`
/// requires, an intact SHA-256, and a size within its user part. The
/// application, when it passed `particle bundle`'s checks.
pub fn app(name: &str, bytes: &[u8]) -> (Option<App>, Vec<Problem>) {
    let mut problems = Vec::new();
    let app = match App::check(bytes) {
        Ok(app) => Some(app),
        Err(cause) => {
            problems.push(Problem::App {
                name: name.to_owned(),
                cause,
            });
            None
        }
    };
    if let Some((stored, computed)) = module::sha256(bytes)
        && stored != computed
        && app.is_some()
    {
        problems.push(Problem::Sha256 {
            name: name.to_owned(),
            stored,
            computed,
        });
    }
    if let Some(app) = &app
        && bytes.len() as u64 > app.user_part.max_size
    {
        problems.push(Problem::OverUserPart {
            name: name.to_owned(),
            size: bytes.len() as u64,
            max: app.user_part.max_size,
            platform: app.user_part.name,
        });
    }
    (app, problems)
}

/// The checks of an asset module: the device's, then its payload against
/// its header and hash (inflating at most [`pzip::MAX_ENTRY`]). The module,
/// when the device would keep it.
pub fn asset_module(bytes: &[u8]) -> (Option<AssetModule>, Vec<Problem>) {
    match AssetModule::parse(bytes) {
        Err(e) => (None, vec![Problem::AssetModule(e)]),
        Ok(a) => {
            let problems = match a.raw(bytes, pzip::MAX_ENTRY) {
                Err(cause) => vec![Problem::AssetPayload {
                    name: a.name_lossy(),
                    cause,
                }],
                Ok(_) => Vec::new(),
            };
            (Some(a), problems)
        }
    }
}

/// The bundle's own problems besides its application's ([`app`]): each
/// dependency has its asset with its SHA-256, no name twice, no asset or
/// entry the device would not get.
pub fn bundle(b: &Bundle) -> Vec<Problem> {
    let mut problems = Vec::new();
    let assets: BTreeMap<&str, &[u8]> = b
        .assets
        .iter()
        .map(|(n, raw)| (n.as_str(), raw.as_slice()))
        .collect();
    let mut wanted = BTreeSet::new();
    if let Ok(m) = Module::parse(&b.app) {
        for d in m.asset_dependencies() {
            let name = d.name_lossy();
            if !wanted.insert(name.clone()) {
                problems.push(Problem::DuplicateDependency {
                    app: b.app_name.clone(),
                    name: name.clone(),
                });
            }
            let Some(expected) = d.sha256() else {
                problems.push(Problem::NotSha256 {
                    name,
                    hash_type: d.hash_type,
                    len: d.hash.len() as u64,
                });
                continue;
            };
            match assets.get(name.as_str()) {
                None => problems.push(Problem::Missing { name }),
                Some(raw) => {
                    let actual: [u8; 32] = Sha256::digest(raw).into();
                    if actual != expected {
                        problems.push(Problem::HashMismatch {
                            name,
                            actual,
                            expected,
                        });
                    }
                }
            }
        }
    }
    for name in assets.keys().filter(|n| !wanted.contains(**n)) {
        problems.push(Problem::Unused {
            name: (*name).to_owned(),
        });
    }
    for entry in &b.ignored {
        problems.push(Problem::Ignored {
            entry: entry.clone(),
        });
    }
    problems
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::asset;

    #[test]
    fn an_intact_asset_module_has_no_problem_and_a_damaged_one_has_one() {
        let m = asset::create(b"hello, world", "a.txt").unwrap();
        let (a, p) = asset_module(&m);
        assert_eq!(a.unwrap().name_lossy(), "a.txt");
        assert!(p.is_empty(), "{p:?}");
        let mut bad = m.clone();
        let at = bad.len() - 1;
        bad[at] ^= 1;
        let (a, p) = asset_module(&bad);
        assert!(a.is_none());
        assert_eq!(p.len(), 1);
        assert!(
            p[0].to_string()
                .starts_with("the device would delete it: it fails its CRC-32 check"),
            "{}",
            p[0]
        );
    }

    #[test]
    fn a_bundle_without_a_module_app_lists_its_assets_and_entries() {
        let b = Bundle {
            app_name: "app.bin".into(),
            app: b"not a module".to_vec(),
            assets: vec![("a.txt".into(), b"a".to_vec())],
            ignored: vec!["env.json".into()],
        };
        let p: Vec<String> = bundle(&b).iter().map(ToString::to_string).collect();
        assert_eq!(
            p,
            [
                "`assets/a.txt` is in the bundle, but the application does not depend on it",
                "`env.json` is neither the application nor `assets/<name>`; Particle's tools would skip it",
            ]
        );
        let (app, p) = app("app.bin", &b.app);
        assert!(app.is_none());
        assert_eq!(
            p[0].to_string(),
            "`app.bin` is not a Particle module: it is 12 B, too short for a Particle module (at least 64 B)"
        );
    }

    #[test]
    fn sizes_are_formatted() {
        let p = Problem::OverUserPart {
            name: "a.bin".into(),
            size: 262_145,
            max: 262_144,
            platform: "argon",
        };
        assert_eq!(
            p.to_string(),
            "`a.bin` is 262,145 B, over the 262,144 B user part of `argon`"
        );
        let p = Problem::NotSha256 {
            name: "x".into(),
            hash_type: 1,
            len: 20,
        };
        assert_eq!(
            p.to_string(),
            "`x`: the dependency's hash is not a SHA-256 (type 1, 20 B)"
        );
    }
}
