//! `cargo build` of real projects using the build.rs helper and the runtime:
//! the embedded listing matches sha256sum and stat, follows every asset
//! change without `cargo clean`, and the budget fails the build.

use assetota_tests::{Project, expected_listing};

const META: &str = "[package.metadata.assetota]\ndir = \"assets\"\n";

#[test]
fn hello_example_prints_what_sha256sum_and_stat_say() {
    let root = assetota_tests::repo_root();
    let out = assetota_tests::cargo()
        .args(["run", "--quiet", "-p", "hello"])
        .current_dir(&root)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let listing = String::from_utf8(out.stdout).unwrap();
    assert_eq!(
        listing,
        expected_listing(&root.join("examples/hello/assets"))
    );
    assert_eq!(
        listing.lines().count(),
        3,
        "png, json and the nested file:\n{listing}"
    );
}

#[test]
fn hello_verifies_its_assets_and_reports_a_corrupt_one() {
    let root = assetota_tests::repo_root();
    let hello = |dir: &std::path::Path| {
        assetota_tests::cargo()
            .args(["run", "--quiet", "-p", "hello", "--", "--verify"])
            .arg(dir)
            .current_dir(&root)
            .output()
            .unwrap()
    };
    let good = hello(&root.join("examples/hello/assets"));
    assert!(
        good.status.success(),
        "{}",
        String::from_utf8_lossy(&good.stderr)
    );
    assert!(String::from_utf8_lossy(&good.stderr).contains("nothing to fetch"));

    let copy = tempfile::tempdir().unwrap();
    let status = std::process::Command::new("cp")
        .arg("-r")
        .arg(root.join("examples/hello/assets/."))
        .arg(copy.path())
        .status()
        .unwrap();
    assert!(status.success());
    let png = copy.path().join("logo.png");
    let mut bytes = std::fs::read(&png).unwrap();
    bytes[20] ^= 0x01;
    std::fs::write(&png, bytes).unwrap();
    let bad = hello(copy.path());
    let stderr = String::from_utf8_lossy(&bad.stderr);
    assert!(!bad.status.success());
    assert!(
        stderr.contains("mismatch logo.png") && stderr.contains("to fetch: logo.png"),
        "{stderr}"
    );
}

#[test]
fn every_asset_change_reaches_the_binary_without_cargo_clean() {
    let p = Project::new("e2e_rerun", META);
    p.write("assets/a.txt", "first\n");
    p.write("assets/sub/b.bin", [0u8, 1, 2, 3]);
    let assets = p.path().join("assets");
    let check = |what: &str| {
        p.build();
        assert_eq!(p.run(), expected_listing(&assets), "after: {what}");
    };
    check("first build");

    // Nothing changed: the build script does not run again.
    let stderr = p.build();
    assert!(
        !stderr.contains("Compiling e2e_rerun"),
        "a no-op build recompiled:\n{stderr}"
    );

    p.write("assets/a.txt", "edited, and longer\n");
    check("editing a top-level asset");
    p.write("assets/sub/b.bin", [9u8, 9, 9, 9]);
    check("editing a nested asset at the same size");
    p.write("assets/sub/deeper/new.json", "{}\n");
    check("adding an asset in a new sub-directory");
    std::fs::remove_file(assets.join("sub/b.bin")).unwrap();
    check("deleting a nested asset");
    std::fs::rename(assets.join("a.txt"), assets.join("renamed.txt")).unwrap();
    check("renaming an asset");
    p.write("assets/.assetotaignore", "*.json\n");
    p.build();
    let without_json: String = expected_listing(&assets)
        .lines()
        .filter(|l| !l.ends_with(".json"))
        .map(|l| format!("{l}\n"))
        .collect();
    assert_eq!(p.run(), without_json, "after: adding an ignore file");
    assert!(
        expected_listing(&assets).contains("new.json"),
        "the ignored file is still on disk"
    );
    std::fs::remove_file(assets.join("sub/deeper/new.json")).unwrap();
    std::fs::remove_dir_all(assets.join("sub")).unwrap();
    check("removing a whole sub-directory");
}

#[test]
fn empty_assets_dir_gives_an_empty_manifest() {
    let p = Project::new("e2e_empty", META);
    std::fs::create_dir_all(p.path().join("assets")).unwrap();
    p.build();
    assert_eq!(p.run(), "");
}

const TINY: &str = "[package.metadata.assetota]\ndir = \"assets\"\nplatform = \"tiny\"\n\
    [package.metadata.assetota.platforms.tiny]\ntotal = 16384\nmax-asset = 1000\nblock-size = 4096\ncodec = \"none\"\n";

fn failing_build(p: &Project) -> String {
    let out = p.cargo(&["build"]);
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(!out.status.success(), "build should fail:\n{stderr}");
    stderr
}

#[test]
fn an_over_budget_asset_fails_cargo_build_with_name_size_limit_and_overshoot() {
    let p = Project::new("e2e_over", TINY);
    p.write("assets/ok.bin", vec![1u8; 10]);
    p.write("assets/big.bin", vec![7u8; 1234]);
    let stderr = failing_build(&p);
    assert!(
        stderr.contains("asset `big.bin`")
            && stderr.contains("stored as 1,234 B")
            && stderr.contains("single-asset limit of 1,000 B on platform `tiny` by 234 B"),
        "{stderr}"
    );
    // Fixing the asset is enough: the next plain build passes.
    p.write("assets/big.bin", vec![7u8; 999]);
    let stderr = p.build();
    assert!(
        stderr.contains("warning") && stderr.contains("99% of the single-asset limit"),
        "near-limit warning:\n{stderr}"
    );
    // Going over the total: 5 files of one block each against 4 blocks.
    for i in 0..4 {
        p.write(&format!("assets/f{i}.bin"), [i as u8]);
    }
    let stderr = failing_build(&p);
    assert!(
        stderr.contains("total limit of 16,384 B on platform `tiny` by 8,192 B"),
        "{stderr}"
    );
}

#[test]
fn assetota_platform_env_switches_the_budget_and_reruns() {
    let p = Project::new(
        "e2e_env",
        &format!(
            "{TINY}[package.metadata.assetota.platforms.roomy]\ntotal = \"1 MiB\"\ncodec = \"none\"\n"
        ),
    );
    p.write("assets/big.bin", vec![7u8; 5000]);
    failing_build(&p);
    let out = p.cargo_env(&["build"], "roomy");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = p.cargo_env(&["build"], "nope");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success()
            && stderr.contains(
                "unknown platform `nope` (from the ASSETOTA_PLATFORM environment variable)"
            ),
        "{stderr}"
    );
    assert!(
        stderr.contains("argon") && stderr.contains("roomy"),
        "{stderr}"
    );
}

#[test]
fn bad_input_fails_the_build_with_a_clear_message() {
    /// (package name, metadata, setup, expected message)
    type Case<'a> = (&'a str, &'a str, &'a dyn Fn(&Project), &'a str);
    let cases: &[Case] = &[
        (
            "e2e_bad_missing",
            META,
            &|_| {},
            "does not exist; create it",
        ),
        (
            "e2e_bad_file",
            META,
            &|p| p.write("assets", "not a dir"),
            "is not a directory",
        ),
        (
            "e2e_bad_key",
            "[package.metadata.assetota]\ndir = \"assets\"\nplatfrom = \"p2\"\n",
            &|p| p.write("assets/a", "a"),
            "`package.metadata.assetota.platfrom` is not a known key",
        ),
        (
            "e2e_bad_optin",
            "",
            &|p| p.write("assets/a", "a"),
            "has no [package.metadata.assetota] table; opt in",
        ),
        (
            "e2e_bad_name",
            META,
            &|p| p.write("assets/CON.txt", "a"),
            "reserved device name on Windows",
        ),
        (
            "e2e_bad_case",
            META,
            &|p| {
                p.write("assets/A.txt", "a");
                p.write("assets/a.txt", "b");
            },
            "when letter case is ignored",
        ),
    ];
    for (name, meta, setup, expected) in cases {
        let p = Project::new(name, meta);
        setup(&p);
        let stderr = failing_build(&p);
        assert!(
            stderr.contains(expected),
            "{name}: expected `{expected}` in:\n{stderr}"
        );
        assert!(!stderr.contains("panicked"), "{name}: panic:\n{stderr}");
    }
}

#[test]
fn an_xz_platform_needs_the_helpers_xz_feature_and_says_so() {
    let meta = "[package.metadata.assetota]\ndir = \"assets\"\nplatform = \"packed\"\n\
        [package.metadata.assetota.platforms.packed]\ntotal = \"1 MiB\"\ncodec = \"xz\"\n";
    let p = Project::new("e2e_xz_feature", meta);
    p.write("assets/text.txt", "xz or nothing\n".repeat(100));
    // The helper's `xz` feature is off by default (liblzma is C to compile).
    let stderr = failing_build(&p);
    assert!(
        stderr.contains("platform `packed` stores assets with xz")
            && stderr.contains("Cargo.toml")
            && stderr.contains("features = [\"xz\"]"),
        "{stderr}"
    );
    // Doing what the message says is enough.
    let manifest = std::fs::read_to_string(p.path().join("Cargo.toml")).unwrap();
    let fixed = manifest.replacen(
        "assetota-build = { path = ",
        "assetota-build = { features = [\"xz\"], path = ",
        1,
    );
    assert_ne!(manifest, fixed);
    std::fs::write(p.path().join("Cargo.toml"), fixed).unwrap();
    p.build();
    assert_eq!(p.run(), expected_listing(&p.path().join("assets")));
}
