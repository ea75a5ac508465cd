//! Shared by the `particle*` tests: the Particle formats (`assetota-particle`),
//! and the npm oracle in `tests/oracle` (binary-version-reader 3.1.3
//! and particle-cli 3.43.1, installed by `scripts/test.sh`).
#![allow(dead_code)]

#[allow(unused_imports)] // each particle test binary uses some of them
pub use assetota_particle::{app, asset, module, zip};

use std::path::{Path, PathBuf};
use std::process::Command;

pub use assetota_test_oracles::inputs::noise;
use assetota_test_oracles::node;

use serde_json::{Value, json};

/// `tests/oracle` at the repository root.
pub fn oracle_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .join("tests")
        .join("oracle")
}

fn check_installed() {
    let dir = oracle_dir();
    for package in [
        "binary-version-reader",
        "particle-cli",
        "@particle/device-constants",
    ] {
        assert!(
            dir.join("node_modules")
                .join(package)
                .join("package.json")
                .is_file(),
            "the npm oracle is not installed ({package} missing in {}); run scripts/test.sh, or `npm ci` in tests/oracle",
            dir.display()
        );
    }
}

/// Runs `tests/oracle/oracle.js` on a batch of operations and returns one
/// result per operation (an object with `error` when BVR threw).
pub fn oracle(ops: Vec<Value>) -> Vec<Value> {
    check_installed();
    let request = serde_json::to_vec(&json!({ "ops": ops })).unwrap();
    let out = node::run("oracle.js", &["oracle.js"], Some(&oracle_dir()), &request);
    let response: Value = serde_json::from_slice(&out).expect("oracle.js printed JSON");
    let versions = &response["versions"];
    assert_eq!(
        versions["binary-version-reader"], "3.1.3",
        "tests/oracle must hold binary-version-reader 3.1.3"
    );
    response["results"].as_array().unwrap().clone()
}

/// One operation, which must succeed.
pub fn oracle1(op: Value) -> Value {
    let r = oracle(vec![op]).remove(0);
    assert!(r.get("error").is_none(), "oracle op failed: {r}");
    r
}

/// Runs particle-cli 3.43.1 (offline, with a throwaway home) and returns
/// (exit code, stdout, stderr).
pub fn particle_cli(args: &[&str], cwd: &Path) -> (i32, String, String) {
    check_installed();
    let home = tempfile::tempdir().unwrap();
    let bin = oracle_dir()
        .join("node_modules")
        .join("particle-cli")
        .join("src")
        .join("index.js");
    let out = Command::new("node")
        .arg(&bin)
        .args(args)
        .current_dir(cwd)
        .env("HOME", home.path())
        .env("PARTICLE_DISABLE_UPDATE", "true")
        .env("NO_COLOR", "1")
        .env("FORCE_COLOR", "0")
        .output()
        .expect("cannot run node");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// A platform's asset storage constants exactly as binary-version-reader
/// reads them (`platformsById[id].assets` of the `@particle/device-constants`
/// that BVR itself requires), so a test can apply BVR's formula to a module
/// length of its choosing. See `docs/particle-platforms.md`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AssetConstants {
    pub block_size: u64,
    pub per_block_overhead: u64,
    pub asset_overhead: u64,
    pub storage_total_blocks: u64,
    pub reserved_blocks: u64,
    pub max_single_asset_size: u64,
}

impl AssetConstants {
    /// The flash an asset module of `module_len` bytes occupies, by BVR's
    /// formula (`validateAssetLimits` in `binary-version-reader/lib/moduleEncoding.js`:
    /// `assetOverhead + ceil(module.length / (blockSize - assetPerBlockOverhead)) * blockSize`),
    /// transcribed here; the tests check the transcription against BVR's own
    /// `storageSize` before relying on it.
    pub fn storage_size(&self, module_len: u64) -> u64 {
        self.asset_overhead
            + module_len.div_ceil(self.block_size - self.per_block_overhead) * self.block_size
    }
}

/// [`AssetConstants`] of the platform with Particle id `platform_id`.
pub fn asset_constants(platform_id: u16) -> AssetConstants {
    check_installed();
    let script = r#"
const bvr = require.resolve('binary-version-reader');
const dc = require(require.resolve('@particle/device-constants', { paths: [bvr] }));
const a = dc.platformsById[Number(process.argv[1])].assets;
process.stdout.write(JSON.stringify(a));
"#;
    let out = node::run(
        &format!("device-constants of platform {platform_id}"),
        &["-e", script, &platform_id.to_string()],
        Some(&oracle_dir()),
        &[],
    );
    let a: Value = serde_json::from_slice(&out).expect("device-constants as JSON");
    let get = |k: &str| {
        a[k].as_u64()
            .unwrap_or_else(|| panic!("platform {platform_id}: no assets.{k} in {a}"))
    };
    AssetConstants {
        block_size: get("blockSize"),
        per_block_overhead: get("assetPerBlockOverhead"),
        asset_overhead: get("assetOverhead"),
        storage_total_blocks: get("storageTotalBlocks"),
        reserved_blocks: get("reservedBlocks"),
        max_single_asset_size: get("maxSingleAssetSize"),
    }
}

/// Text-like bytes that compress well.
pub fn text(len: usize, seed: u64) -> Vec<u8> {
    let words = [
        "sensor", "value", "frame", "pixel", "asset", "boron", "photon", "temp", "{\"id\":",
        "},\n", "0.125", "true",
    ];
    let mut out = Vec::with_capacity(len + 16);
    let n = noise(len, seed);
    let mut i = 0;
    while out.len() < len {
        out.extend_from_slice(words[n[i % n.len()] as usize % words.len()].as_bytes());
        out.push(b' ');
        i += 1;
    }
    out.truncate(len);
    out
}

pub fn sha256(bytes: &[u8]) -> [u8; 32] {
    use sha2::Digest;
    sha2::Sha256::digest(bytes).into()
}

pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

pub fn read(path: impl AsRef<Path>) -> Vec<u8> {
    std::fs::read(path.as_ref()).unwrap_or_else(|e| panic!("{}: {e}", path.as_ref().display()))
}

pub fn path_str(p: &Path) -> String {
    p.to_str().unwrap().to_owned()
}
