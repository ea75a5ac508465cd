//! `init` on existing packages and `new` from the templates, each followed by
//! a real `cargo assetota build`.

use std::path::Path;

use crate::support::*;

fn crates_path() -> String {
    repo_root().join("build-support").display().to_string()
}

fn run(dir: &Path, args: &[&str]) -> Run {
    let path = crates_path();
    cli_cmd(dir, args, &[("ASSETOTA_CRATES_PATH", &path)])
}

const PLAIN_MANIFEST: &str = r#"# My firmware. Comments and layout must survive `init`.
[package]
name = "NAME"
version = "0.3.0"   # bumped by CI
edition = "2024"

[dependencies]
# nothing yet

[workspace]
"#;

fn plain_package(name: &str) -> tempfile::TempDir {
    let dir = tempfile::Builder::new()
        .prefix("assetota-init")
        .tempdir()
        .unwrap();
    std::fs::write(
        dir.path().join("Cargo.toml"),
        PLAIN_MANIFEST.replace("NAME", name),
    )
    .unwrap();
    std::fs::create_dir_all(dir.path().join("src")).unwrap();
    std::fs::write(
        dir.path().join("src/main.rs"),
        "//! The firmware.\n#![forbid(unsafe_code)]\n\nfn main() {\n    println!(\"hi\");\n}\n",
    )
    .unwrap();
    std::fs::copy(
        repo_root().join("Cargo.lock"),
        dir.path().join("Cargo.lock"),
    )
    .unwrap();
    dir
}

#[test]
fn init_sets_up_a_package_keeping_its_formatting_and_it_builds() {
    let dir = plain_package("cli_init");
    let out = run(dir.path(), &["init", "--platform", "p2"]).success();
    assert!(out.stderr.contains("Updated Cargo.toml"), "{}", out.stderr);
    assert!(out.stderr.contains("Created build.rs"), "{}", out.stderr);

    let manifest = std::fs::read_to_string(dir.path().join("Cargo.toml")).unwrap();
    for kept in [
        "# My firmware. Comments and layout must survive `init`.",
        "version = \"0.3.0\"   # bumped by CI",
        "# nothing yet",
    ] {
        assert!(manifest.contains(kept), "lost {kept:?}:\n{manifest}");
    }
    assert!(
        manifest.contains("[package.metadata.assetota]\ndir = \"assets\"\nplatform = \"p2\"\n"),
        "{manifest}"
    );
    assert!(
        !manifest.contains("[package.metadata]\n"),
        "the parent table stays implicit:\n{manifest}"
    );
    assert!(manifest.contains("assetota = { path = "), "{manifest}");
    assert!(
        manifest.contains("[build-dependencies]\nassetota-build = { path = "),
        "{manifest}"
    );
    assert_eq!(
        std::fs::read_to_string(dir.path().join("build.rs")).unwrap(),
        "fn main() {\n    assetota_build::embed();\n}\n"
    );
    let main = std::fs::read_to_string(dir.path().join("src/main.rs")).unwrap();
    assert!(
        main.starts_with("//! The firmware.\n#![forbid(unsafe_code)]\n\n// Embeds"),
        "{main}"
    );
    assert!(main.contains("assetota::manifest!();"));
    assert!(dir.path().join("assets/.gitkeep").exists());

    // Idempotent: a second run changes nothing.
    let before = std::fs::read_to_string(dir.path().join("Cargo.toml")).unwrap();
    run(dir.path(), &["init"])
        .success()
        .stderr_has("already has [package.metadata.assetota]");
    assert_eq!(
        std::fs::read_to_string(dir.path().join("Cargo.toml")).unwrap(),
        before
    );
    assert_eq!(
        std::fs::read_to_string(dir.path().join("src/main.rs")).unwrap(),
        main
    );

    std::fs::write(dir.path().join("assets/a.txt"), "asset\n").unwrap();
    remove_stale_outputs("cli_init");
    let build = cli_in(dir.path(), &["build"]).success();
    assert!(
        build
            .stderr
            .contains("1 asset of `cli_init` matches the manifest"),
        "{}",
        build.stderr
    );
    let bundle = target_dir().join("debug/cli_init.assetota.zip");
    cli_in(dir.path(), &["verify", bundle.to_str().unwrap()]).success();
}

#[test]
fn init_extends_an_existing_build_script_and_never_overwrites_one() {
    let dir = plain_package("cli_init_buildrs");
    let original = "// Generated version info.\nfn main() {\n    println!(\"cargo::rustc-env=GIT_HASH=abc\");\n}\n";
    std::fs::write(dir.path().join("build.rs"), original).unwrap();
    run(dir.path(), &["init", "--dir", "res"])
        .success()
        .stderr_has("Extended build.rs");
    let extended = std::fs::read_to_string(dir.path().join("build.rs")).unwrap();
    assert_eq!(
        extended,
        "// Generated version info.\nfn main() {\n    assetota_build::embed();\n    println!(\"cargo::rustc-env=GIT_HASH=abc\");\n}\n"
    );
    assert!(dir.path().join("res").is_dir());
    std::fs::write(dir.path().join("res/x.bin"), [1u8, 2, 3]).unwrap();
    cli_in(dir.path(), &["build"]).success();

    // A build script init cannot understand is left alone, with instructions.
    let dir = plain_package("cli_init_weird");
    let weird =
        "mod gen;\nfn main() { gen::run() }\nfn main_helper() {}\n#[cfg(any())]\nfn main() {}\n";
    std::fs::write(dir.path().join("build.rs"), weird).unwrap();
    run(dir.path(), &["init"])
        .success()
        .stderr_has("was not changed. Add this line")
        .stderr_has("assetota_build::embed();");
    assert_eq!(
        std::fs::read_to_string(dir.path().join("build.rs")).unwrap(),
        weird
    );
}

#[test]
fn init_outside_a_package_fails_clearly() {
    let tmp = tempfile::tempdir().unwrap();
    run(tmp.path(), &["init"])
        .failure(1)
        .stderr_has("is not inside a cargo project");
}

#[test]
fn new_host_and_cortex_m_projects_build_straight_away() {
    let parent = tempfile::Builder::new()
        .prefix("assetota-new")
        .tempdir()
        .unwrap();
    run(parent.path(), &["new", "cli_new_host"])
        .success()
        .stderr_has("from the host template");
    let host = parent.path().join("cli_new_host");
    std::fs::copy(repo_root().join("Cargo.lock"), host.join("Cargo.lock")).unwrap();
    assert!(host.join(".gitignore").exists());
    remove_stale_outputs("cli_new_host");
    cli_in(&host, &["build"]).success();
    cli_in(
        &host,
        &[
            "verify",
            target_dir()
                .join("debug/cli_new_host.assetota.zip")
                .to_str()
                .unwrap(),
        ],
    )
    .success();

    run(
        parent.path(),
        &[
            "new",
            "fw",
            "--name",
            "cli_new_thumb",
            "--template",
            "cortex-m",
            "--platform",
            "p2",
        ],
    )
    .success();
    let fw = parent.path().join("fw");
    std::fs::copy(repo_root().join("Cargo.lock"), fw.join("Cargo.lock")).unwrap();
    remove_stale_outputs("cli_new_thumb");
    let build = cli_in(&fw, &["build"]).success();
    assert!(
        build.stderr.contains("thumbv7m-none-eabi bin firmware"),
        "{}",
        build.stderr
    );
    let bundle = target_dir()
        .join(THUMB)
        .join("debug/cli_new_thumb.assetota.zip");
    let manifest: serde_json::Value = serde_json::from_slice(&zip_entries(&bundle)[0].1).unwrap();
    assert_eq!(manifest["platform"], "p2");
    assert_eq!(manifest["firmware"]["file"], "cli_new_thumb.bin");

    // Never into a non-empty directory.
    run(parent.path(), &["new", "fw"])
        .failure(1)
        .stderr_has("already exists and is not empty");
    run(parent.path(), &["new", "9lives"])
        .failure(1)
        .stderr_has("not a valid package name");
}
