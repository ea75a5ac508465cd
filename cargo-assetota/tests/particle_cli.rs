//! `cargo assetota bundle | inspect | verify` on Particle files, end to end:
//! the real binary on synthetic apps from BVR's `createFirmwareBinary`,
//! checked against the real particle-cli 3.43.1 (`particle bundle`,
//! `particle binary inspect`) and binary-version-reader 3.1.3.

mod particle_support;

use std::path::{Path, PathBuf};
use std::process::Command;

use particle_support::asset::{self, AssetModule};
use particle_support::{hex, noise, oracle, oracle1, particle_cli, path_str, read, sha256, text};
use serde_json::{Value, json};

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

fn assetota(args: &[&str], cwd: &Path) -> Run {
    let out = Command::new(env!("CARGO_BIN_EXE_cargo-assetota"))
        .args(args)
        .current_dir(cwd)
        .env("CARGO_TERM_COLOR", "never")
        .env("SOURCE_DATE_EPOCH", "1700000000")
        .env_remove("ASSETOTA_PLATFORM")
        .output()
        .unwrap();
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

const APPS: &[(u16, &str, u32)] = &[
    (13, "boron", 0xb4000),
    (26, "tracker", 0xb4000),
    (32, "p2", 0x85fe000),
    (35, "msom", 0x85fe000),
];

fn write_assets(dir: &Path, files: &[(&str, Vec<u8>)]) {
    std::fs::create_dir_all(dir).unwrap();
    for (name, bytes) in files {
        std::fs::write(dir.join(name), bytes).unwrap();
    }
}

fn sample_assets() -> Vec<(&'static str, Vec<u8>)> {
    vec![
        ("logo.bmp", noise(20_000, 1)),
        ("config.json", text(3_000, 2)),
        ("font.bin", noise(700, 3)),
        ("hello.txt", b"hello\n".to_vec()),
    ]
}

fn mkapp(dir: &Path, name: &str, id: u16, start: u32) -> PathBuf {
    let app = dir.join(format!("{name}.bin"));
    oracle1(
        json!({"op": "mkapp", "platformId": id, "moduleStartAddress": start, "out": path_str(&app)}),
    );
    app
}

/// The zip entries (name → bytes), in order.
fn entries(zip_path: &Path) -> Vec<(String, Vec<u8>)> {
    use std::io::Read;
    let mut z = zip::ZipArchive::new(std::fs::File::open(zip_path).unwrap()).unwrap();
    (0..z.len())
        .map(|i| {
            let mut f = z.by_index(i).unwrap();
            let mut v = Vec::new();
            f.read_to_end(&mut v).unwrap();
            (String::from_utf8(f.name_raw().to_vec()).unwrap(), v)
        })
        .collect()
}

/// `cargo assetota bundle` against `particle bundle` on the same app and
/// assets: the same application bytes, the same assets; particle-cli's
/// `binary inspect` finds every asset of ours valid.
#[test]
fn bundle_matches_particle_bundle() {
    let dir = tempfile::tempdir().unwrap();
    let assets = dir.path().join("assets");
    write_assets(&assets, &sample_assets());
    for (id, name, start) in APPS {
        let app = mkapp(dir.path(), name, *id, *start);
        let ours = dir.path().join(format!("{name}.ours.zip"));
        let r = assetota(
            &[
                "bundle",
                app.to_str().unwrap(),
                "--assets",
                assets.to_str().unwrap(),
                "-o",
                ours.to_str().unwrap(),
            ],
            dir.path(),
        );
        assert_eq!(r.code, 0, "{name}: {}{}", r.stdout, r.stderr);
        assert!(r.stderr.contains("Bundled"), "{}", r.stderr);

        let theirs = dir.path().join(format!("{name}.particle.zip"));
        let (code, out, err) = particle_cli(
            &[
                "bundle",
                app.to_str().unwrap(),
                "--assets",
                assets.to_str().unwrap(),
                "--saveTo",
                theirs.to_str().unwrap(),
            ],
            dir.path(),
        );
        assert_eq!(code, 0, "particle bundle: {out}{err}");
        assert!(out.contains("Bundling successful."), "{out}");

        let (mine, particle) = (entries(&ours), entries(&theirs));
        assert_eq!(mine[0].0, format!("{name}.bin"));
        assert_eq!(particle[0].0, format!("{name}.bin"));
        assert_eq!(
            hex(&mine[0].1),
            hex(&particle[0].1),
            "{name}: application bytes"
        );
        let sorted = |mut v: Vec<(String, Vec<u8>)>| {
            v.sort();
            v
        };
        assert_eq!(
            sorted(mine[1..].to_vec()),
            sorted(particle[1..].to_vec()),
            "{name}: assets"
        );
        assert_eq!(
            mine.len(),
            sample_assets().len() + 1,
            "nothing but the app and the assets"
        );

        let (code, out, err) =
            particle_cli(&["binary", "inspect", ours.to_str().unwrap()], dir.path());
        assert_eq!(code, 0, "{out}{err}");
        assert!(
            out.contains("CRC is ok") && !out.contains("failed"),
            "{out}"
        );
        for (n, b) in sample_assets() {
            assert!(
                out.contains(&format!(" {n} (hash {})", hex(&sha256(&b)))),
                "{name}: {n}\n{out}"
            );
        }
    }
}

/// Two runs give the same zip, byte for byte.
#[test]
fn bundle_is_reproducible() {
    let dir = tempfile::tempdir().unwrap();
    let assets = dir.path().join("assets");
    write_assets(&assets, &sample_assets());
    let app = mkapp(dir.path(), "p2", 32, 0x85fe000);
    let mut zips = Vec::new();
    for i in 0..2 {
        let out = dir.path().join(format!("{i}.zip"));
        let r = assetota(
            &[
                "bundle",
                "p2.bin",
                "--assets",
                "assets",
                "-o",
                out.to_str().unwrap(),
            ],
            dir.path(),
        );
        assert_eq!(r.code, 0, "{}", r.stderr);
        zips.push(read(&out));
    }
    assert_eq!(zips[0], zips[1]);
    // The default output name sits beside the app.
    let r = assetota(
        &["bundle", app.to_str().unwrap(), "--assets", "assets"],
        dir.path(),
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(read(dir.path().join("p2.assetota.zip")), zips[0]);
}

/// `--modules DIR`: each asset as the module the device stores; BVR unwraps
/// them to the raw bytes, and `verify`/`inspect` accept them.
#[test]
fn modules_are_what_the_device_stores() {
    let dir = tempfile::tempdir().unwrap();
    let assets = dir.path().join("assets");
    write_assets(&assets, &sample_assets());
    mkapp(dir.path(), "boron", 13, 0xb4000);
    let r = assetota(
        &[
            "bundle",
            "boron.bin",
            "--assets",
            "assets",
            "-o",
            "out.zip",
            "--modules",
            "modules",
        ],
        dir.path(),
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    let mut ops = Vec::new();
    for (name, raw) in sample_assets() {
        let m = read(dir.path().join("modules").join(name));
        assert_eq!(m, asset::create(&raw, name).unwrap());
        let a = AssetModule::parse(&m).unwrap();
        assert_eq!(a.raw(&m, u64::MAX).unwrap(), raw);
        ops.push(json!({"op": "unwrap", "path": path_str(&dir.path().join("modules").join(name)), "out": path_str(&dir.path().join("unwrapped").join(name))}));
        let v = assetota(&["verify", &format!("modules/{name}")], dir.path());
        assert_eq!(v.code, 0, "{name}: {}", v.stderr);
        let i = assetota(
            &["inspect", &format!("modules/{name}"), "--json"],
            dir.path(),
        );
        assert_eq!(i.code, 0, "{}", i.stderr);
        let j: Value = serde_json::from_str(&i.stdout).unwrap();
        assert_eq!(j["kind"], "particle-asset-module");
        assert_eq!(j["asset"]["name"], name);
        assert_eq!(j["asset"]["sha256"], hex(&sha256(&raw)));
        assert!(j["asset"].get("problem").is_none());
    }
    assert!(oracle(ops).iter().all(|r| r.get("error").is_none()));
    for (name, raw) in sample_assets() {
        assert_eq!(
            read(dir.path().join("unwrapped").join(name)),
            raw,
            "BVR unwrapAssetModule({name})"
        );
    }
    // A damaged module is refused by verify, as the device would delete it.
    let mut m = read(dir.path().join("modules/logo.bmp"));
    m[40] ^= 0x55;
    std::fs::write(dir.path().join("bad.bmp"), &m).unwrap();
    let v = assetota(&["verify", "bad.bmp"], dir.path());
    assert_eq!(v.code, 4, "{}", v.stderr);
    assert!(v.stderr.contains("CRC-32"), "{}", v.stderr);
}

/// `inspect` lists the dependencies and checks each asset in the bundle;
/// `verify` exits 0 on a good bundle and 4 on a mismatch, where particle-cli
/// prints `failed` and exits 0.
#[test]
fn inspect_and_verify_check_the_hashes() {
    let dir = tempfile::tempdir().unwrap();
    let assets = dir.path().join("assets");
    write_assets(&assets, &sample_assets());
    mkapp(dir.path(), "msom", 35, 0x85fe000);
    let r = assetota(
        &["bundle", "msom.bin", "--assets", "assets", "-o", "good.zip"],
        dir.path(),
    );
    assert_eq!(r.code, 0, "{}", r.stderr);

    let i = assetota(&["inspect", "good.zip"], dir.path());
    assert_eq!(i.code, 0, "{}", i.stderr);
    assert!(
        i.stdout.contains("Particle bundle") && i.stdout.contains("depends on:  4 assets"),
        "{}",
        i.stdout
    );
    for (n, b) in sample_assets() {
        assert!(
            i.stdout
                .lines()
                .any(|l| l.contains(n) && l.contains(&hex(&sha256(&b))) && l.contains("valid")),
            "{n}: {}",
            i.stdout
        );
    }
    let j: Value =
        serde_json::from_str(&assetota(&["inspect", "good.zip", "--json"], dir.path()).stdout)
            .unwrap();
    assert_eq!(j["kind"], "particle-bundle");
    assert_eq!(j["module"]["platform"], "msom");
    assert_eq!(j["module"]["crc_ok"], true);
    assert_eq!(j["dependencies"].as_array().unwrap().len(), 4);
    assert!(
        j["dependencies"]
            .as_array()
            .unwrap()
            .iter()
            .all(|d| d["status"] == "valid")
    );

    let v = assetota(&["verify", "good.zip"], dir.path());
    assert_eq!(v.code, 0, "{}", v.stderr);
    assert!(v.stderr.contains("Verified"), "{}", v.stderr);

    // The application alone: its dependencies listed, nothing to check them against.
    let e = entries(&dir.path().join("good.zip"));
    std::fs::write(dir.path().join("bundled.bin"), &e[0].1).unwrap();
    let i = assetota(&["inspect", "bundled.bin", "--json"], dir.path());
    let j: Value = serde_json::from_str(&i.stdout).unwrap();
    assert_eq!(j["kind"], "particle-application");
    assert_eq!(j["dependencies"].as_array().unwrap().len(), 4);
    assert_eq!(assetota(&["verify", "bundled.bin"], dir.path()).code, 0);

    // Tampered bundles, rewritten with the assets changed.
    type Entries = Vec<(String, Vec<u8>)>;
    let rewrite = |name: &str, f: &dyn Fn(&mut Entries)| {
        let mut e = entries(&dir.path().join("good.zip"));
        f(&mut e);
        let app = e.remove(0);
        let list: Vec<(&str, &[u8])> = e
            .iter()
            .map(|(n, b)| (n.strip_prefix("assets/").unwrap(), b.as_slice()))
            .collect();
        particle_support::zip::write(
            &dir.path().join(name),
            &app.0,
            &app.1,
            &list,
            zip::DateTime::default(),
        )
        .unwrap();
    };
    rewrite("changed.zip", &|e| e[1].1.push(b'!'));
    rewrite("missing.zip", &|e| {
        e.remove(2);
    });
    rewrite("extra.zip", &|e| {
        e.push(("assets/unused.txt".into(), b"x".to_vec()))
    });
    for (zip_name, what) in [
        ("changed.zip", "but the application depends on"),
        ("missing.zip", "has no `assets/"),
        ("extra.zip", "does not depend on it"),
    ] {
        let v = assetota(&["verify", zip_name], dir.path());
        assert_eq!(v.code, 4, "{zip_name}: {}", v.stderr);
        assert!(v.stderr.contains(what), "{zip_name}: {}", v.stderr);
        let j = assetota(&["verify", zip_name, "--json"], dir.path());
        let j: Value = serde_json::from_str(&j.stdout).unwrap();
        assert_eq!(j["ok"], false);
        assert_eq!(j["problems"].as_array().unwrap().len(), 1, "{j}");
    }
    let (code, out, _) = particle_cli(&["binary", "inspect", "changed.zip"], dir.path());
    assert_eq!(code, 0, "particle-cli exits 0 even on a mismatch");
    assert!(out.contains("failed (hash should be"), "{out}");
    let i = assetota(&["inspect", "changed.zip"], dir.path());
    assert_eq!(i.code, 0);
    assert!(i.stdout.contains("MISMATCH"), "{}", i.stdout);
}

/// Over budget: exit 3 with BVR's numbers (300 one-byte files are 90,112 B
/// over on argon: a block each, docs/particle-platforms.md), for bundle and
/// for verify.
#[test]
fn over_budget_exits_3() {
    let dir = tempfile::tempdir().unwrap();
    let assets = dir.path().join("assets");
    std::fs::create_dir_all(&assets).unwrap();
    for i in 0..300 {
        std::fs::write(assets.join(format!("f{i:03}")), [i as u8]).unwrap();
    }
    mkapp(dir.path(), "argon", 12, 0xb4000);
    let r = assetota(
        &["bundle", "argon.bin", "--assets", "assets", "-o", "x.zip"],
        dir.path(),
    );
    assert_eq!(r.code, 3, "{}", r.stderr);
    assert!(r.stderr.contains("by 90,112 B"), "{}", r.stderr);
    assert!(!dir.path().join("x.zip").exists());
    let (code, out, _) = particle_cli(
        &[
            "bundle",
            "argon.bin",
            "--assets",
            "assets",
            "--saveTo",
            "p.zip",
        ],
        dir.path(),
    );
    assert_eq!(code, 1);
    assert!(
        out.contains("Total size of assets exceeds platform limits by 90112 bytes"),
        "{out}"
    );

    // A bundle made anyway (the tracker has room) fails verify against argon's limits.
    mkapp(dir.path(), "tracker", 26, 0xb4000);
    let r = assetota(
        &["bundle", "tracker.bin", "--assets", "assets", "-o", "t.zip"],
        dir.path(),
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(assetota(&["verify", "t.zip"], dir.path()).code, 0);
    let v = assetota(&["verify", "t.zip", "--platform", "argon"], dir.path());
    assert_eq!(
        v.code, 1,
        "a tracker app checked as argon is a platform mismatch: {}",
        v.stderr
    );
    assert!(v.stderr.contains("--platform"), "{}", v.stderr);
}

/// The checks particle-cli makes, and the ones it does not.
#[test]
fn bundle_refuses_what_cannot_work() {
    let dir = tempfile::tempdir().unwrap();
    let assets = dir.path().join("assets");
    write_assets(&assets, &[("a.txt", b"a".to_vec())]);
    let mk = |name: &str, id: u16, version: u16| {
        let p = dir.path().join(name);
        oracle1(
            json!({"op": "mkapp", "platformId": id, "depVersion": version, "out": path_str(&p)}),
        );
    };
    mk("old.bin", 13, 5400);
    mk("photon.bin", 6, 5800);
    mk("unknown.bin", 99, 5800);
    mk("boron.bin", 13, 5800);
    let cases: &[(&[&str], i32, &str)] = &[
        (
            &["bundle", "old.bin", "--assets", "assets"],
            1,
            "Device OS 5.5.0",
        ),
        (
            &["bundle", "photon.bin", "--assets", "assets"],
            1,
            "does not support assets",
        ),
        (
            &["bundle", "unknown.bin", "--assets", "assets"],
            1,
            "unknown Particle platform id 99",
        ),
        (
            &["bundle", "boron.bin", "--assets", "assets", "-o", "out.txt"],
            1,
            "must be a `.zip`",
        ),
        (
            &[
                "bundle",
                "boron.bin",
                "--assets",
                "assets",
                "--platform",
                "p2",
            ],
            1,
            "--platform says `p2`",
        ),
        (
            &["bundle", "boron.bin", "--assets", "nowhere"],
            1,
            "does not exist",
        ),
    ];
    for (args, code, message) in cases {
        let r = assetota(args, dir.path());
        assert_eq!(r.code, *code, "{args:?}: {}", r.stderr);
        assert!(r.stderr.contains(message), "{args:?}: {}", r.stderr);
    }
    // particle-cli refuses the same old and photon apps.
    let (code, out, _) = particle_cli(&["bundle", "old.bin", "--assets", "assets"], dir.path());
    assert_eq!(code, 1);
    assert!(
        out.contains("Asset support only available for device OS 5.5.0 and above"),
        "{out}"
    );

    // A damaged app, a non-module `.bin`, an ELF with --modules.
    let mut bytes = read(dir.path().join("boron.bin"));
    bytes[300] ^= 1;
    std::fs::write(dir.path().join("damaged.bin"), &bytes).unwrap();
    let r = assetota(&["bundle", "damaged.bin", "--assets", "assets"], dir.path());
    assert!(r.code == 1 && r.stderr.contains("CRC-32"), "{}", r.stderr);
    std::fs::write(dir.path().join("random.bin"), noise(5000, 9)).unwrap();
    let r = assetota(&["bundle", "random.bin", "--assets", "assets"], dir.path());
    assert!(
        r.code == 1
            && r.stderr
                .contains("neither an ELF file nor a Particle module"),
        "{}",
        r.stderr
    );
    let elf = std::env::current_exe().unwrap();
    let r = assetota(
        &[
            "bundle",
            elf.to_str().unwrap(),
            "--assets",
            "assets",
            "--modules",
            "m",
        ],
        dir.path(),
    );
    assert!(
        r.code == 1 && r.stderr.contains("--modules"),
        "{}",
        r.stderr
    );

    // Nested assets: Particle drops them silently; we refuse them.
    write_assets(&assets.join("img"), &[("logo.png", b"png".to_vec())]);
    let r = assetota(
        &["bundle", "boron.bin", "--assets", "assets", "-o", "n.zip"],
        dir.path(),
    );
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(
        r.stderr.contains("img/logo.png") && r.stderr.contains("sub-directory"),
        "{}",
        r.stderr
    );
    let (code, out, _) = particle_cli(
        &[
            "bundle",
            "boron.bin",
            "--assets",
            "assets",
            "--saveTo",
            "p.zip",
        ],
        dir.path(),
    );
    assert_eq!(
        code, 0,
        "particle-cli bundles, dropping the nested asset: {out}"
    );
    assert!(!out.contains("logo.png"));
}

/// Re-bundling a bundled application replaces its dependencies: the same
/// bytes as bundling the fresh one (particle-cli gets this wrong on prefix
/// platforms; see particle_oracle.rs). No assets: the app as it was.
#[test]
fn rebundle_and_empty() {
    let dir = tempfile::tempdir().unwrap();
    write_assets(&dir.path().join("one"), &sample_assets()[..2]);
    write_assets(&dir.path().join("two"), &sample_assets()[2..]);
    std::fs::create_dir_all(dir.path().join("none")).unwrap();
    for (id, name, start) in APPS {
        let app = mkapp(dir.path(), name, *id, *start);
        let run = |app: &str, assets: &str, out: &str| {
            let r = assetota(&["bundle", app, "--assets", assets, "-o", out], dir.path());
            assert_eq!(r.code, 0, "{}", r.stderr);
            entries(&dir.path().join(out)).remove(0).1
        };
        let first = run(app.to_str().unwrap(), "one", "1.zip");
        std::fs::write(dir.path().join(format!("{name}-bundled.bin")), &first).unwrap();
        let again = run(&format!("{name}-bundled.bin"), "two", "2.zip");
        let fresh = run(app.to_str().unwrap(), "two", "3.zip");
        assert_eq!(hex(&again), hex(&fresh), "{name}");
        assert_eq!(
            run(app.to_str().unwrap(), "none", "4.zip"),
            read(&app),
            "{name}: no assets, app unchanged"
        );
        assert_eq!(entries(&dir.path().join("4.zip")).len(), 1);
        // And a bundled app with the assets taken away loses its dependencies.
        let stripped = run(&format!("{name}-bundled.bin"), "none", "5.zip");
        let m = particle_support::module::Module::parse(&stripped).unwrap();
        assert!(m.asset_dependencies().is_empty(), "{name}");
    }
}

/// A Particle error says its cause once (the message has it; no source chain
/// or help repeats it), and its byte counts read as every other size does.
#[test]
fn a_particle_error_says_its_cause_once() {
    let dir = tempfile::tempdir().unwrap();
    write_assets(
        &dir.path().join("assets"),
        &[("a.txt", b"a".to_vec()), ("b.json", b"{}".to_vec())],
    );
    let mk = |name: &str, op: Value| {
        let mut op = op;
        op["op"] = json!("mkapp");
        op["out"] = json!(path_str(&dir.path().join(name)));
        oracle1(op);
    };
    mk("old.bin", json!({"platformId": 13, "depVersion": 5400}));
    // 262,068 B: too little room left in the 262,144 B user part for two
    // dependencies (38 B plus the name each, and an END).
    mk("big.bin", json!({"platformId": 13, "dataSize": 262_000}));
    std::fs::write(dir.path().join("tiny.bin"), b"abc").unwrap();
    let cases: &[(&str, &str, &[&str])] = &[
        (
            "old.bin",
            "depends on Device OS module version 5400",
            &["asset OTA needs"],
        ),
        (
            "big.bin",
            "would be 262,159 B with the asset dependencies, over the 262,144 B user part of platform `boron` by 15 B",
            &[],
        ),
        (
            "tiny.bin",
            "it is 3 B, too short for a Particle module (at least 64 B)",
            &[],
        ),
    ];
    for (app, cause, once) in cases {
        let r = assetota(&["bundle", app, "--assets", "assets"], dir.path());
        assert_eq!(r.code, 1, "{app}: {}", r.stderr);
        assert_eq!(
            r.stderr.matches(cause).count(),
            1,
            "{app}: the cause must appear exactly once:\n{}",
            r.stderr
        );
        for part in *once {
            assert_eq!(r.stderr.matches(part).count(), 1, "{app}: {}", r.stderr);
        }
        assert!(!r.stderr.contains("╰─▶"), "{app}: {}", r.stderr);
        assert!(
            !r.stderr.contains(" bytes") && !r.stderr.contains("-byte"),
            "{app}: byte counts are formatted: {}",
            r.stderr
        );
    }
    // A bundle that is not one: once too.
    let mut zip = zip::ZipWriter::new(std::fs::File::create(dir.path().join("two.zip")).unwrap());
    for name in ["a.bin", "b.bin"] {
        zip.start_file(name, zip::write::SimpleFileOptions::default())
            .unwrap();
        std::io::Write::write_all(&mut zip, b"x").unwrap();
    }
    zip.finish().unwrap();
    let r = assetota(&["verify", "two.zip"], dir.path());
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert_eq!(
        r.stderr
            .matches("has more than one file at the root of the zip (a.bin, b.bin)")
            .count(),
        1,
        "{}",
        r.stderr
    );
}
