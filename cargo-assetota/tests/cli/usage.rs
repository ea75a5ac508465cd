//! Argument handling, exit codes and the platform list.

use crate::support::*;

#[test]
fn runs_as_cargo_subcommand_and_directly() {
    let tmp = tempfile::tempdir().unwrap();
    let via_cargo = cli_in(tmp.path(), &["assetota", "--help"]).success();
    let direct = cli_in(tmp.path(), &["--help"]).success();
    assert_eq!(via_cargo.stdout, direct.stdout);
    assert!(
        direct.stdout.contains("Usage: cargo assetota"),
        "{}",
        direct.stdout
    );
    for sub in [
        "build",
        "size",
        "inspect",
        "verify",
        "diff",
        "bundle",
        "platforms",
        "init",
        "new",
    ] {
        assert!(direct.stdout.contains(sub), "help lacks {sub}");
    }
    let version = cli_in(tmp.path(), &["--version"]).success();
    assert_eq!(
        version.stdout.trim(),
        format!("cargo-assetota {}", env!("CARGO_PKG_VERSION"))
    );
}

#[test]
fn usage_errors_exit_2() {
    let tmp = tempfile::tempdir().unwrap();
    cli_in(tmp.path(), &["size", "--no-such-flag"]).failure(2);
    cli_in(tmp.path(), &["size", "--platform", "p2", "--all-platforms"]).failure(2);
    cli_in(tmp.path(), &["frobnicate"]).failure(2);
    cli_in(tmp.path(), &["--color", "sometimes", "platforms"]).failure(2);
    cli_cmd(
        tmp.path(),
        &["platforms"],
        &[("CARGO_TERM_COLOR", "sometimes")],
    )
    .failure(2);
}

#[test]
fn color_always_styles_status_and_never_does_not() {
    let p = Project::host("cli_color", META).with_assets();
    let never = p.cli(&["--color", "never", "size"]).success();
    assert!(!never.stdout.contains('\x1b') && !never.stderr.contains('\x1b'));
    let bad = p
        .cli(&["--color", "always", "inspect", "Cargo.toml"])
        .failure(1);
    assert!(
        bad.stderr.contains('\x1b'),
        "no ANSI escapes with --color always:\n{}",
        bad.stderr
    );
    let env = p
        .cli_env(
            &["inspect", "Cargo.toml"],
            &[("CARGO_TERM_COLOR", "always")],
        )
        .failure(1);
    assert!(
        env.stderr.contains('\x1b'),
        "CARGO_TERM_COLOR=always is ignored"
    );
}

#[test]
fn platforms_lists_builtins_and_the_packages_custom_ones() {
    let tmp = tempfile::tempdir().unwrap();
    let out = cli_in(tmp.path(), &["platforms"]).success();
    insta::assert_snapshot!("platforms", out.stdout);

    let json = cli_in(tmp.path(), &["platforms", "--json"])
        .success()
        .json();
    let list = json.as_array().unwrap();
    assert_eq!(list.len(), 11);
    let p2 = list.iter().find(|p| p["name"] == "p2").unwrap();
    assert_eq!(p2["limit_total"], 1_138_688);
    assert_eq!(p2["limit_single"], 1_114_112);
    assert_eq!(p2["aliases"][0], "photon2");

    let custom = "[package.metadata.assetota]\ndir = \"assets\"\nplatform = \"tiny\"\n\n\
                  [package.metadata.assetota.platforms.tiny]\ntotal = \"64 KiB\"\nmax-asset = \"16 KiB\"\nblock-size = 4096\ncodec = \"xz\"\n";
    let p = Project::host("cli_platforms_custom", custom).with_assets();
    let json = p.cli(&["platforms", "--json"]).success().json();
    let tiny = json
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "tiny")
        .expect("custom platform listed")
        .clone();
    assert_eq!(tiny["limit_total"], 65_536);
    assert_eq!(tiny["codec"]["kind"], "xz");
    assert_eq!(tiny["kind"], "generic");
    assert!(tiny.get("store").is_none());
    let p2 = json
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "p2")
        .unwrap();
    assert_eq!(p2["kind"], "particle");

    // A store platform shows its geometry and the numbers it gives.
    let p = Project::host("cli_platforms_store", crate::size::META_STORE);
    let json = p.cli(&["platforms", "--json"]).success().json();
    let store = json
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "virt-store")
        .expect("store platform listed")
        .clone();
    assert_eq!(store["kind"], "assetota-store");
    assert_eq!(
        store["store"],
        serde_json::json!({
            "write_size": 4,
            "erase_size": 262_144,
            "partition_size": 33_554_432,
            "partition_offset": 0x2200_0000u64,
        })
    );
    assert_eq!(store["limit_total"], 33_554_432);
    assert_eq!(store["block_size"], 262_144);
    assert_eq!(store["per_block_overhead"], 8);
    assert_eq!(store["per_asset_overhead"], 104);
    assert_eq!(store["name_in_container"], false);
    let human = p.cli(&["platforms"]).success();
    assert!(human.stdout.contains("virt-store"), "{}", human.stdout);
}
