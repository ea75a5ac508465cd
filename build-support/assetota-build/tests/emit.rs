//! The helper's directives, captured through `emit_to`.

use assetota_build::{BuildError, Builder};
use std::fs;
use std::path::Path;

fn package(dir: &Path, metadata: &str) {
    fs::write(
        dir.join("Cargo.toml"),
        format!("[package]\nname = \"fw\"\nversion = \"0.1.0\"\nedition = \"2024\"\n\n{metadata}"),
    )
    .unwrap();
}

fn run(dir: &Path, builder: Builder) -> (Result<assetota_build::Outcome, BuildError>, String) {
    let _ = dir;
    let mut out = Vec::new();
    let result = builder.emit_to(&mut out);
    (result, String::from_utf8(out).unwrap())
}

#[test]
fn writes_the_manifest_and_asks_cargo_to_rerun_on_every_input() {
    let t = tempfile::tempdir().unwrap();
    let out_dir = tempfile::tempdir().unwrap();
    package(
        t.path(),
        "[package.metadata.assetota]\ndir = \"assets\"\nplatform = \"argon\"\n",
    );
    // Particle platforms store assets flat, so no sub-directory here.
    fs::create_dir_all(t.path().join("assets")).unwrap();
    fs::write(t.path().join("assets/cat.txt"), "hello\n").unwrap();
    let (result, text) = run(t.path(), Builder::new(t.path(), out_dir.path()));
    let outcome = result.unwrap();
    let expected = format!(
        "cargo::rerun-if-env-changed=ASSETOTA_PLATFORM\ncargo::rerun-if-changed={}\ncargo::rerun-if-changed={}\n",
        t.path().join("Cargo.toml").display(),
        t.path().join("assets").display()
    );
    assert_eq!(text, expected);
    let bytes = fs::read(out_dir.path().join("assetota.manifest")).unwrap();
    let manifest = assetota::Manifest::parse(&bytes).unwrap();
    assert_eq!(manifest.platform(), Some("argon"));
    let asset = manifest.get("cat.txt").unwrap();
    // docs/particle-platforms.md, Particle's worked example: sha256("hello\n"), an 8-byte
    // deflate payload, and a 139-byte module for the name `cat.txt`.
    assert_eq!(
        asset.sha256_hex().to_string(),
        "5891b5b522d5df086d0ff0b110fbd9d21bb4fc7163af34d08286a2e846f6be03"
    );
    assert_eq!(
        (asset.size(), asset.compressed_size(), asset.stored_size()),
        (6, 8, 139)
    );
    assert_eq!(outcome.budget.assets[0].storage_size, 4096);
    assert!(
        !out_dir.path().join("assetota.manifest.tmp").exists(),
        "temporary file left behind"
    );
}

#[test]
fn near_the_limit_warns_and_over_it_errors_once_per_problem() {
    let t = tempfile::tempdir().unwrap();
    let out_dir = tempfile::tempdir().unwrap();
    package(
        t.path(),
        "[package.metadata.assetota]\ndir = \"a\"\nplatform = \"t\"\n[package.metadata.assetota.platforms.t]\ntotal = 1000\nmax-asset = 100\ncodec = \"none\"\n",
    );
    fs::create_dir(t.path().join("a")).unwrap();
    fs::write(t.path().join("a/near.bin"), [0u8; 95]).unwrap();
    let (result, text) = run(t.path(), Builder::new(t.path(), out_dir.path()));
    assert!(result.is_ok());
    assert!(text.contains("cargo::warning=asset `near.bin` is stored as 95 B, 95% of the single-asset limit of 100 B on platform `t`\n"), "{text}");

    fs::write(t.path().join("a/over.bin"), [0u8; 150]).unwrap();
    let (result, text) = run(t.path(), Builder::new(t.path(), out_dir.path()));
    assert!(matches!(
        result,
        Err(BuildError::OverBudget { count: 1, .. })
    ));
    let errors: Vec<&str> = text
        .lines()
        .filter(|l| l.starts_with("cargo::error="))
        .collect();
    assert_eq!(errors.len(), 1, "{text}");
    assert!(
        errors[0].contains("asset `over.bin`")
            && errors[0].contains("150 B")
            && errors[0].contains("by 50 B"),
        "{text}"
    );
    // Rerun directives come first, so fixing the asset reruns the script.
    assert!(text.find("rerun-if-changed").unwrap() < text.find("cargo::error").unwrap());
}

#[test]
fn the_builder_platform_wins_over_config() {
    let t = tempfile::tempdir().unwrap();
    let out_dir = tempfile::tempdir().unwrap();
    package(
        t.path(),
        "[package.metadata.assetota]\ndir = \"a\"\nplatform = \"argon\"\n",
    );
    fs::create_dir(t.path().join("a")).unwrap();
    let (result, _) = run(
        t.path(),
        Builder::new(t.path(), out_dir.path()).platform("tracker"),
    );
    assert_eq!(result.unwrap().budget.limit_total, Some(2_056_192));
}

#[test]
fn errors_become_one_cargo_error_line() {
    let t = tempfile::tempdir().unwrap();
    let out_dir = tempfile::tempdir().unwrap();
    package(t.path(), "");
    let (result, text) = run(t.path(), Builder::new(t.path(), out_dir.path()));
    assert!(matches!(result, Err(BuildError::NotOptedIn(_))));
    let last = text.lines().last().unwrap();
    assert!(
        last.starts_with("cargo::error=")
            && last.contains("opt in by adding `[package.metadata.assetota]`"),
        "{text}"
    );
    assert!(!out_dir.path().join("assetota.manifest").exists());
}
