//! The Particle code against the npm reference: binary-version-reader 3.1.3
//! (BVR, what particle-cli 3.43.1 bundles with) run through
//! `tests/oracle/oracle.js` on the same inputs. BVR's answer is the
//! expectation; nothing here re-derives it.

mod particle_support;

use particle_support::app::{self, App, AppError, Dependency};
use particle_support::asset::{self, AssetModule};
use particle_support::module::{self, Module, ext, flags, function};
use particle_support::{hex, noise, oracle, oracle1, path_str, read, sha256, text};
use serde_json::{Value, json};
use std::path::Path;

/// The platforms the issue names, one per family and placement, then the rest.
const PLATFORMS: &[(u16, &str, u32)] = &[
    (13, "boron", 0x000b_4000),
    (26, "tracker", 0x000b_4000),
    (32, "p2", 0x085f_e000),
    (35, "msom", 0x085f_e000),
    (12, "argon", 0x000b_4000),
    (15, "esomx", 0x000b_4000),
    (23, "bsom", 0x000b_4000),
    (25, "b5som", 0x000b_4000),
    (28, "trackerm", 0x085f_e000),
    (37, "electron2", 0x000b_4000),
    (38, "sulu", 0x085f_e000),
];

/// Asset files of several kinds and name shapes, written under `dir`.
fn assets(dir: &Path, seed: u64) -> Vec<(String, Vec<u8>)> {
    let list: Vec<(String, Vec<u8>)> = vec![
        ("a.txt".into(), b"hello\n".to_vec()),
        ("logo.bmp".into(), noise(3000 + seed as usize, seed)),
        ("config.json".into(), text(5000, seed + 1)),
        ("with space é.txt".into(), text(17, seed + 2)),
        ("empty".into(), Vec::new()),
        (format!("{}.bin", "n".repeat(200)), noise(64, seed + 3)),
    ];
    std::fs::create_dir_all(dir).unwrap();
    for (name, bytes) in &list {
        std::fs::write(dir.join(name), bytes).unwrap();
    }
    let mut sorted = list;
    sorted.sort_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
    sorted
}

fn oracle_assets(dir: &Path, list: &[(String, Vec<u8>)]) -> Value {
    Value::Array(
        list.iter()
            .map(|(n, _)| json!({"name": n, "path": path_str(&dir.join(n))}))
            .collect(),
    )
}

fn deps(list: &[(String, Vec<u8>)]) -> Vec<Dependency<'_>> {
    list.iter()
        .map(|(n, b)| Dependency {
            name: n,
            sha256: sha256(b),
        })
        .collect()
}

fn ours(bytes: &[u8], deps: &[Dependency<'_>]) -> Result<Vec<u8>, AppError> {
    let app = App::check(bytes)?;
    app::with_dependencies(bytes, &app, deps)
}

/// The worked example of docs/particle-platforms.md (`"hello\n"` as
/// `cat.txt`, a 139-byte module), byte for byte, and BVR's output for it.
#[test]
fn worked_example_cat_txt() {
    let expected = concat!(
        "00000000",
        "87000000",
        "00",
        "03",
        "0000",
        "0000",
        "09",
        "00",
        "00000000",
        "00000000",
        "0800",
        "00",
        "00",
        "06000000",
        "cb48cdc9c9e70200",
        "1000",
        "2600",
        "00",
        "20",
        "5891b5b522d5df086d0ff0b110fbd9d21bb4fc7163af34d08286a2e846f6be03",
        "1100",
        "0b00",
        "6361742e747874",
        "0100",
        "0a00",
        "ffffffffffff",
        "0000",
    );
    let module = asset::create(b"hello\n", "cat.txt").unwrap();
    assert_eq!(module.len(), 139);
    assert_eq!(hex(&module[..module.len() - 38]), expected);
    assert_eq!(
        hex(&module[module.len() - 6..]),
        "5f0096d50e33",
        "suffix size 95 and the CRC of docs/particle-platforms.md"
    );

    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("cat.txt"), b"hello\n").unwrap();
    let out = dir.path().join("cat.module");
    oracle1(
        json!({"op": "module", "path": path_str(&dir.path().join("cat.txt")), "name": "cat.txt", "out": path_str(&out)}),
    );
    assert_eq!(hex(&module), hex(&read(&out)), "BVR createAssetModule");
}

/// `updateModuleAssetDependencies` on BVR's own synthetic apps
/// (`firmwareTestHelper.createFirmwareBinary`), byte for byte, on every
/// platform with assets: suffix placement on nRF52840, prefix placement with
/// the 8-byte alignment on RTL872x.
#[test]
fn app_dependencies_match_bvr_byte_for_byte() {
    let dir = tempfile::tempdir().unwrap();
    let list = assets(&dir.path().join("assets"), 7);
    let mut ops = Vec::new();
    for (id, name, start) in PLATFORMS {
        for data_size in [1024, 4097] {
            let app = dir.path().join(format!("{name}-{data_size}.bin"));
            ops.push(json!({"op": "mkapp", "platformId": id, "moduleStartAddress": start, "dataSize": data_size, "out": path_str(&app)}));
            // Every prefix of the list, so the alignment padding takes several values.
            for k in 1..=list.len() {
                ops.push(json!({"op": "deps", "app": path_str(&app), "assets": oracle_assets(&dir.path().join("assets"), &list[..k]),
                    "out": path_str(&dir.path().join(format!("{name}-{data_size}.bvr{k}.bin")))}));
            }
        }
    }
    let results = oracle(ops);
    assert!(
        results.iter().all(|r| r.get("error").is_none()),
        "{results:?}"
    );
    let mut paddings = std::collections::BTreeSet::new();
    for (id, name, start) in PLATFORMS {
        for data_size in [1024, 4097] {
            let app_bytes = read(dir.path().join(format!("{name}-{data_size}.bin")));
            for k in 1..=list.len() {
                let subset = &list[..k];
                let bvr = read(dir.path().join(format!("{name}-{data_size}.bvr{k}.bin")));
                let mine = ours(&app_bytes, &deps(subset)).unwrap();
                assert_eq!(
                    hex(&mine),
                    hex(&bvr),
                    "{name} ({id}), {data_size}-byte payload, {} assets",
                    subset.len()
                );
                let m = Module::parse(&mine).unwrap();
                let grows_left = app::user_part(*id).unwrap().grows_left;
                assert_eq!(m.prefix.has(flags::PREFIX_EXTENSIONS), grows_left, "{name}");
                if grows_left {
                    assert_eq!(m.prefix.start % 8, 0);
                    assert!(m.prefix.start < *start);
                    paddings.insert(m.prefix_extensions.last().unwrap().bytes.len() - 4);
                } else {
                    assert_eq!(m.prefix.start, *start);
                }
                let names: Vec<String> = m
                    .asset_dependencies()
                    .iter()
                    .map(|d| d.name_lossy())
                    .collect();
                assert_eq!(
                    names,
                    subset.iter().map(|(n, _)| n.clone()).collect::<Vec<_>>()
                );
            }
        }
    }
    assert!(
        paddings.len() >= 3,
        "the END padding took several values: {paddings:?}"
    );
}

/// Apps laid out like real Device OS apps: suffix DYNAMIC_LOCATION and
/// PRODUCT_DATA (which BVR keeps after the dependencies, rewriting
/// DYNAMIC_LOCATION when the start moves), a product id, existing prefix
/// extensions.
#[test]
fn apps_with_extensions_match_bvr() {
    let dir = tempfile::tempdir().unwrap();
    let list = assets(&dir.path().join("assets"), 11);
    let cases = [
        (
            "boron-dyn",
            json!({"platformId": 13, "start": 0xb4000, "suffixExts": [{"type": "DYNAMIC_LOCATION"}, {"type": "PRODUCT_DATA", "productId": 4242, "productVersion": 7}]}),
        ),
        (
            "tracker-pd",
            json!({"platformId": 26, "start": 0xb4000, "suffixExts": [{"type": "PRODUCT_DATA"}]}),
        ),
        (
            "tracker-end",
            json!({"platformId": 26, "start": 0xb4000, "suffixExts": [{"type": "DYNAMIC_LOCATION"}, {"type": "END"}]}),
        ),
        (
            "p2-dyn",
            json!({"platformId": 32, "start": 0x85fe000, "suffixExts": [{"type": "DYNAMIC_LOCATION"}, {"type": "PRODUCT_DATA"}]}),
        ),
        (
            "msom-dyn",
            json!({"platformId": 35, "start": 0x85fe000, "dataSize": 3001, "suffixExts": [{"type": "DYNAMIC_LOCATION"}, {"type": "PRODUCT_DATA", "productId": 12, "productVersion": 3}]}),
        ),
    ];
    let mut ops = Vec::new();
    for (name, spec) in &cases {
        let mut op = spec.clone();
        op["op"] = json!("mkapp_ext");
        op["out"] = json!(path_str(&dir.path().join(format!("{name}.bin"))));
        ops.push(op);
        ops.push(json!({"op": "deps", "app": path_str(&dir.path().join(format!("{name}.bin"))),
            "assets": oracle_assets(&dir.path().join("assets"), &list), "out": path_str(&dir.path().join(format!("{name}.bvr.bin")))}));
        ops.push(
            json!({"op": "parse", "path": path_str(&dir.path().join(format!("{name}.bvr.bin")))}),
        );
    }
    let results = oracle(ops);
    for (i, (name, _)) in cases.iter().enumerate() {
        assert!(
            results[3 * i + 1].get("error").is_none(),
            "{name}: {}",
            results[3 * i + 1]
        );
        let app_bytes = read(dir.path().join(format!("{name}.bin")));
        let bvr = read(dir.path().join(format!("{name}.bvr.bin")));
        let mine = ours(&app_bytes, &deps(&list)).unwrap();
        assert_eq!(hex(&mine), hex(&bvr), "{name}");
        // BVR's parser reads back what it wrote: same start in DYNAMIC_LOCATION.
        let parsed = &results[3 * i + 2];
        let m = Module::parse(&mine).unwrap();
        if let Some(dyn_loc) = m.suffix_extension(ext::DYNAMIC_LOCATION) {
            assert_eq!(
                dyn_loc.dynamic_location_start(),
                Some(m.prefix.start),
                "{name}"
            );
            assert_eq!(
                parsed["prefix"]["moduleStartAddy"],
                json!(format!("{:x}", m.prefix.start))
            );
        }
        assert_eq!(
            parsed["assets"].as_array().unwrap().len(),
            list.len(),
            "{name}"
        );
    }
}

/// Re-bundling replaces the dependencies. On suffix platforms BVR does it
/// right, and so do we; on prefix platforms BVR leaves its old END in front
/// of the new dependencies, where neither the device nor BVR's parser sees
/// them. Ours re-bundles to what a fresh bundle would be.
#[test]
fn rebundling_replaces_dependencies_where_bvr_loses_them() {
    let dir = tempfile::tempdir().unwrap();
    let first = assets(&dir.path().join("first"), 1);
    let second = assets(&dir.path().join("second"), 2)[1..3].to_vec();
    let mut ops = Vec::new();
    for (id, name, start) in &PLATFORMS[..4] {
        let app = path_str(&dir.path().join(format!("{name}.bin")));
        let once = path_str(&dir.path().join(format!("{name}.once.bin")));
        let twice = path_str(&dir.path().join(format!("{name}.twice.bin")));
        let fresh = path_str(&dir.path().join(format!("{name}.fresh.bin")));
        let stripped = path_str(&dir.path().join(format!("{name}.stripped.bin")));
        ops.push(json!({"op": "mkapp", "platformId": id, "moduleStartAddress": start, "out": app}));
        ops.push(json!({"op": "deps", "app": app, "assets": oracle_assets(&dir.path().join("first"), &first), "out": once}));
        ops.push(json!({"op": "deps", "app": once, "assets": oracle_assets(&dir.path().join("second"), &second), "out": twice}));
        ops.push(json!({"op": "deps", "app": app, "assets": oracle_assets(&dir.path().join("second"), &second), "out": fresh}));
        ops.push(json!({"op": "parse", "path": twice}));
        ops.push(json!({"op": "strip", "app": once, "out": stripped}));
    }
    let results = oracle(ops);
    assert!(
        results.iter().all(|r| r.get("error").is_none()),
        "{results:?}"
    );
    for (i, (id, name, _)) in PLATFORMS[..4].iter().enumerate() {
        let app_bytes = read(dir.path().join(format!("{name}.bin")));
        let once = ours(&app_bytes, &deps(&first)).unwrap();
        assert_eq!(
            once,
            read(dir.path().join(format!("{name}.once.bin"))),
            "{name}: first bundle"
        );
        let twice = ours(&once, &deps(&second)).unwrap();
        let fresh = read(dir.path().join(format!("{name}.fresh.bin")));
        assert_eq!(
            hex(&twice),
            hex(&fresh),
            "{name}: re-bundled = bundled fresh"
        );
        assert_eq!(
            ours(&twice, &deps(&second)).unwrap(),
            twice,
            "{name}: idempotent"
        );

        let bvr_twice = read(dir.path().join(format!("{name}.twice.bin")));
        let bvr_sees = results[6 * i + 4]["assets"].as_array().unwrap().len();
        if app::user_part(*id).unwrap().grows_left {
            assert_ne!(
                bvr_twice, fresh,
                "{name}: BVR's re-bundle differs from its fresh bundle"
            );
            assert_eq!(
                bvr_sees, 0,
                "{name}: BVR's own parser finds none of the re-bundled dependencies"
            );
            assert!(
                module::Module::parse(&bvr_twice)
                    .unwrap()
                    .asset_dependencies()
                    .is_empty()
            );
        } else {
            assert_eq!(
                bvr_twice, fresh,
                "{name}: BVR re-bundles suffix apps correctly"
            );
            assert_eq!(bvr_sees, second.len());
        }

        // No assets: the dependencies are removed as `particle binary strip-assets` does.
        let stripped = ours(&once, &[]).unwrap();
        assert_eq!(
            hex(&stripped),
            hex(&read(dir.path().join(format!("{name}.stripped.bin")))),
            "{name}: strip"
        );
        // And an app that never had any is left as it is.
        assert_eq!(ours(&app_bytes, &[]).unwrap(), app_bytes);
    }
}

/// The checks particle-cli and BVR make before touching an app, and ours.
#[test]
fn app_checks() {
    let dir = tempfile::tempdir().unwrap();
    let mk = |name: &str, id: u16, version: u16| {
        let out = dir.path().join(name);
        oracle1(
            json!({"op": "mkapp", "platformId": id, "depVersion": version, "out": path_str(&out)}),
        );
        read(out)
    };
    assert!(matches!(
        App::check(&mk("old.bin", 13, 5400)),
        Err(AppError::DeviceOsTooOld(5400))
    ));
    assert!(App::check(&mk("ok.bin", 13, 5500)).is_ok());
    assert!(matches!(
        App::check(&mk("photon.bin", 6, 5800)),
        Err(AppError::NoAssetSupport {
            id: 6,
            name: "photon"
        })
    ));
    assert!(matches!(
        App::check(&mk("unknown.bin", 99, 5800)),
        Err(AppError::UnknownPlatform(99))
    ));

    let mut damaged = mk("crc.bin", 32, 5800);
    damaged[100] ^= 1;
    assert!(matches!(App::check(&damaged), Err(AppError::BadCrc { .. })));
    assert!(matches!(
        App::check(&damaged[..damaged.len() - 1]),
        Err(AppError::Format(_))
    ));
    assert!(matches!(
        App::check(b"not a module at all, just some text that is long enough to parse"),
        Err(AppError::Format(_))
    ));

    let mut compressed = mk("c.bin", 13, 5800);
    compressed[9] |= flags::COMPRESSED;
    module::seal(&mut compressed);
    assert!(matches!(App::check(&compressed), Err(AppError::Compressed)));

    // An asset module is not an app.
    let a = asset::create(b"x", "x").unwrap();
    assert!(matches!(
        App::check(&a),
        Err(AppError::NotUserPart(function::ASSET))
    ));

    // BVR refuses the same unknown platform and the photon.
    let ops = vec![
        json!({"op": "limits", "app": path_str(&dir.path().join("photon.bin")), "assets": [{"name": "x", "path": path_str(&dir.path().join("ok.bin"))}]}),
        json!({"op": "limits", "app": path_str(&dir.path().join("unknown.bin")), "assets": [{"name": "x", "path": path_str(&dir.path().join("ok.bin"))}]}),
    ];
    let r = oracle(ops);
    assert_eq!(r[0]["error"], "This platform does not support assets");
    assert_eq!(r[1]["error"], "Unknown platform ID: 99");
}

/// The user part limit: 256 KiB on nRF52840, 1.5 MiB on RTL872x; BVR throws
/// `Resulting module exceeds platform size limits` at the same byte.
#[test]
fn user_part_size_limit_matches_bvr() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("a"), b"a").unwrap();
    let one = [("a".to_owned(), b"a".to_vec())];
    // One 1-byte name adds 43 bytes (+ up to 7 of padding in the prefix): "fits" ends at or
    // below the limit, "over" 3 or more bytes above it.
    let mut ops = Vec::new();
    for (id, name, size) in [(13u16, "boron", 262_144usize), (32, "p2", 1_572_864)] {
        for (tag, total) in [("fits", size - 43 - 8), ("over", size - 40)] {
            let data = total - 24 - 40 - 4;
            let app = dir.path().join(format!("{name}-{tag}.bin"));
            ops.push(json!({"op": "mkapp", "platformId": id, "dataSize": data, "moduleStartAddress": 0x85fe000, "out": path_str(&app)}));
            ops.push(json!({"op": "deps", "app": path_str(&app), "assets": [{"name": "a", "path": path_str(&dir.path().join("a"))}],
                "out": path_str(&dir.path().join(format!("{name}-{tag}.bvr.bin")))}));
        }
    }
    let r = oracle(ops);
    for (i, (name, tag)) in [
        ("boron", "fits"),
        ("boron", "over"),
        ("p2", "fits"),
        ("p2", "over"),
    ]
    .iter()
    .enumerate()
    {
        let app_bytes = read(dir.path().join(format!("{name}-{tag}.bin")));
        let mine = ours(&app_bytes, &deps(&one));
        match *tag {
            "fits" => assert_eq!(
                mine.unwrap(),
                read(dir.path().join(format!("{name}-{tag}.bvr.bin")))
            ),
            _ => {
                assert!(
                    matches!(mine, Err(AppError::TooBig { .. })),
                    "{name}: {mine:?}"
                );
                assert_eq!(
                    r[2 * i + 1]["error"],
                    "Resulting module exceeds platform size limits"
                );
            }
        }
    }
}

/// Asset modules field by field against `createAssetModule`, and the payload
/// inflated by Node's zlib (`inflateRawSync`) and by BVR's
/// `unwrapAssetModule`. Where Node's deflate and ours emit the same bytes
/// the modules are identical; where not, all of the difference is the
/// deflate stream.
#[test]
fn asset_modules_match_bvr_field_by_field() {
    let dir = tempfile::tempdir().unwrap();
    let mut corpus: Vec<(String, Vec<u8>)> = vec![
        ("cat.txt".into(), b"hello\n".to_vec()),
        ("empty".into(), Vec::new()),
        ("one".into(), vec![7]),
        ("random.bin".into(), noise(100_000, 5)),
        ("zeros.raw".into(), vec![0; 300_000]),
        ("text.json".into(), text(200_000, 9)),
        ("é ü.txt".into(), text(999, 4)),
        (format!("{}.png", "x".repeat(240)), noise(70_000, 77)),
    ];
    corpus.push((
        "ramp565.raw".into(),
        (0..240u32 * 320)
            .flat_map(|p| {
                ((p % 320 * 31 / 320) as u16 | ((p / 320 * 63 / 240) as u16) << 5).to_le_bytes()
            })
            .collect(),
    ));
    let mut ops = Vec::new();
    for (i, (name, bytes)) in corpus.iter().enumerate() {
        let raw = dir.path().join(format!("{i}.raw"));
        std::fs::write(&raw, bytes).unwrap();
        let ours_path = dir.path().join(format!("{i}.ours"));
        std::fs::write(&ours_path, asset::create(bytes, name).unwrap()).unwrap();
        let payload_path = dir.path().join(format!("{i}.payload"));
        let m = asset::create(bytes, name).unwrap();
        let a = AssetModule::parse(&m).unwrap();
        std::fs::write(&payload_path, &m[a.payload.clone()]).unwrap();
        ops.push(json!({"op": "module", "path": path_str(&raw), "name": name, "out": path_str(&dir.path().join(format!("{i}.bvr")))}));
        ops.push(json!({"op": "module", "path": path_str(&raw), "name": name, "compress": false, "out": path_str(&dir.path().join(format!("{i}.bvr-plain")))}));
        ops.push(json!({"op": "inflate", "path": path_str(&payload_path), "out": path_str(&dir.path().join(format!("{i}.inflated")))}));
        ops.push(json!({"op": "unwrap", "path": path_str(&ours_path), "out": path_str(&dir.path().join(format!("{i}.unwrapped")))}));
        ops.push(json!({"op": "parse", "path": path_str(&ours_path)}));
        ops.push(json!({"op": "deflate", "paths": [path_str(&raw)]}));
    }
    let r = oracle(ops);
    assert!(r.iter().all(|x| x.get("error").is_none()), "{r:?}");
    let mut identical = 0;
    for (i, (name, bytes)) in corpus.iter().enumerate() {
        let mine = read(dir.path().join(format!("{i}.ours")));
        let bvr = read(dir.path().join(format!("{i}.bvr")));
        let (a, b) = (
            AssetModule::parse(&mine).unwrap(),
            AssetModule::parse(&bvr).unwrap(),
        );
        // Prefix: all fields but the end address (which follows the length).
        assert_eq!(a.module.prefix.start, 0);
        assert_eq!(a.module.prefix.end as usize, mine.len() - 4);
        assert_eq!(b.module.prefix.end as usize, bvr.len() - 4);
        let (mut pa, mut pb) = (a.module.prefix.clone(), b.module.prefix.clone());
        (pa.end, pb.end) = (0, 0);
        assert_eq!(pa, pb, "{name}: prefix");
        assert_eq!(pa.flags, flags::DROP_MODULE_INFO | flags::COMPRESSED);
        assert_eq!(pa.function, function::ASSET);
        // Compression header.
        assert_eq!(
            (a.header_size, a.method, a.window_bits, a.original_size),
            (b.header_size, b.method, b.window_bits, b.original_size),
            "{name}: header"
        );
        assert_eq!(a.original_size, bytes.len() as u64);
        // Suffix: HASH, NAME, PRODUCT_DATA, reserved and size the same; only the module SHA differs.
        assert_eq!(
            a.module.suffix_extensions, b.module.suffix_extensions,
            "{name}: suffix extensions"
        );
        assert_eq!(a.module.suffix_size, 88 + name.len());
        assert_eq!(a.module.suffix_size, b.module.suffix_size);
        assert_eq!(
            mine[mine.len() - 40..mine.len() - 38],
            bvr[bvr.len() - 40..bvr.len() - 38],
            "reserved"
        );
        assert_eq!(
            (a.name.as_slice(), a.sha256),
            (name.as_bytes(), sha256(bytes))
        );
        // Checksums valid on ours, by our reading and BVR's.
        let (stored, computed) = module::crc32(&mine).unwrap();
        assert_eq!(stored, computed);
        let (stored, computed) = module::sha256(&mine).unwrap();
        assert_eq!(stored, computed);
        assert_eq!(
            r[6 * i + 4]["crc"]["ok"],
            true,
            "{name}: BVR's CRC check of our module"
        );
        // The payload inflates to the raw bytes with Node's zlib and through BVR's unwrap.
        assert_eq!(
            read(dir.path().join(format!("{i}.inflated"))),
            *bytes,
            "{name}: inflateRawSync(payload)"
        );
        assert_eq!(
            read(dir.path().join(format!("{i}.unwrapped"))),
            *bytes,
            "{name}: unwrapAssetModule"
        );
        assert_eq!(a.raw(&mine, u64::MAX).unwrap(), *bytes);
        // All of the size difference is the deflate stream's.
        let node_deflate = r[6 * i + 5][0]["compressed"].as_u64().unwrap();
        let our_deflate = a.payload.len() as u64;
        assert_eq!(
            mine.len() as i64 - bvr.len() as i64,
            our_deflate as i64 - node_deflate as i64,
            "{name}"
        );
        assert_eq!(
            mine.len() as u64,
            asset::CONTAINER_OVERHEAD + name.len() as u64 + our_deflate
        );
        if mine == bvr {
            identical += 1;
        } else {
            assert_ne!(
                mine[a.payload.clone()],
                bvr[b.payload.clone()],
                "{name}: only the deflate stream may differ"
            );
        }
        // Uncompressed modules have no deflate in them: byte for byte.
        assert_eq!(
            hex(&asset::create_uncompressed(bytes, name)),
            hex(&read(dir.path().join(format!("{i}.bvr-plain")))),
            "{name}: uncompressed"
        );
    }
    assert!(
        identical >= 4,
        "small, empty, incompressible and zero inputs deflate identically ({identical} did)"
    );
}

/// Our bundle zip against particle-cli's reading of it: `particle binary
/// inspect` reports every dependency valid, BVR's unpack finds the same
/// application and assets as in the zip `createApplicationAndAssetBundle`
/// writes, and two writes are byte-identical.
#[test]
fn bundle_zip_reads_back_in_particle_cli() {
    let dir = tempfile::tempdir().unwrap();
    let list = assets(&dir.path().join("assets"), 21);
    for (id, name, start) in &PLATFORMS[..4] {
        let app_path = dir.path().join(format!("{name}.bin"));
        oracle1(
            json!({"op": "mkapp", "platformId": id, "moduleStartAddress": start, "out": path_str(&app_path)}),
        );
        let app_bytes = read(&app_path);
        let updated = ours(&app_bytes, &deps(&list)).unwrap();
        let zip_path = dir.path().join(format!("{name}.zip"));
        let entries: Vec<(&str, &[u8])> = list
            .iter()
            .map(|(n, b)| (n.as_str(), b.as_slice()))
            .collect();
        let time = zip::DateTime::from_date_and_time(2024, 1, 2, 3, 4, 5).unwrap();
        particle_support::zip::write(&zip_path, &format!("{name}.bin"), &updated, &entries, time)
            .unwrap();
        let again = dir.path().join(format!("{name}-again.zip"));
        particle_support::zip::write(&again, &format!("{name}.bin"), &updated, &entries, time)
            .unwrap();
        assert_eq!(read(&zip_path), read(&again), "{name}: reproducible");

        // particle binary inspect: one valid line per dependency, no failure.
        let (code, stdout, stderr) = particle_support::particle_cli(
            &["binary", "inspect", zip_path.to_str().unwrap()],
            dir.path(),
        );
        assert_eq!(code, 0, "{stdout}{stderr}");
        assert!(stdout.contains("CRC is ok"), "{stdout}");
        assert!(stdout.contains("It depends on assets:"), "{stdout}");
        assert!(!stdout.contains("failed"), "{stdout}");
        for (n, b) in &list {
            assert!(
                stdout.contains(&format!(" {n} (hash {})", hex(&sha256(b)))),
                "{name}: {n} not reported valid:\n{stdout}"
            );
        }

        // BVR's own bundle of the same inputs, and BVR's unpack of both.
        let bvr_zip = dir.path().join(format!("{name}.bvr.zip"));
        let assets_json = oracle_assets(&dir.path().join("assets"), &list);
        let r = oracle(vec![
            json!({"op": "bundle", "app": path_str(&app_path), "assets": assets_json, "out": path_str(&bvr_zip)}),
            json!({"op": "unpack", "path": path_str(&bvr_zip)}),
            json!({"op": "unpack", "path": path_str(&zip_path)}),
        ]);
        assert!(r.iter().all(|x| x.get("error").is_none()), "{r:?}");
        assert_eq!(
            r[1], r[2],
            "{name}: BVR unpacks the same application and assets from both zips"
        );
        assert_eq!(r[2]["application"]["sha256"], hex(&sha256(&updated)));
        assert_eq!(r[2]["application"]["name"], format!("{name}.bin"));
        assert_eq!(r[2]["assets"].as_array().unwrap().len(), list.len());

        // And our reader gets back what was written.
        let b = particle_support::zip::read(&read(&zip_path)).unwrap();
        assert_eq!(
            (b.app_name.as_str(), b.app.as_slice()),
            (format!("{name}.bin").as_str(), updated.as_slice())
        );
        assert_eq!(b.assets, list);
        assert!(b.ignored.is_empty());
        // BVR's zip reads with our reader too.
        let theirs = particle_support::zip::read(&read(&bvr_zip)).unwrap();
        assert_eq!(theirs.app, updated);
    }
}

/// Hostile and malformed zips are refused before anything is decompressed.
#[test]
fn hostile_bundles_are_refused() {
    use std::io::Write;
    let mk = |entries: &[(&str, &[u8])]| {
        let mut buf = std::io::Cursor::new(Vec::new());
        {
            let mut z = zip::ZipWriter::new(&mut buf);
            for (name, bytes) in entries {
                z.start_file(*name, zip::write::SimpleFileOptions::default())
                    .unwrap();
                z.write_all(bytes).unwrap();
            }
            z.finish().unwrap();
        }
        buf.into_inner()
    };
    use particle_support::zip::{BundleError, read as read_zip};
    for name in ["../evil.bin", "/abs.bin", "a\\b.bin", "assets/../../x"] {
        let z = mk(&[("app.bin", b"x"), (name, b"y")]);
        assert!(
            matches!(read_zip(&z), Err(BundleError::Hostile { .. })),
            "{name}"
        );
    }
    assert!(matches!(
        read_zip(&mk(&[("assets/a", b"x")])),
        Err(BundleError::NoApp)
    ));
    assert!(matches!(
        read_zip(&mk(&[("a.bin", b"x"), ("b.bin", b"y")])),
        Err(BundleError::SeveralApps(_))
    ));
    assert!(matches!(
        read_zip(b"not a zip"),
        Err(BundleError::NotZip(_))
    ));
    // Duplicate names: the zip crate keeps one; the central directory has both.
    let mut z = mk(&[("app.bin", b"x"), ("assets/a", b"1"), ("assets/b", b"2")]);
    let at = z.windows(8).rposition(|w| w == b"assets/b").unwrap();
    z[at + 7] = b'a';
    assert!(matches!(read_zip(&z), Err(BundleError::Hostile { .. })));
    // Nested and other entries are reported as ignored, as Particle's reader skips them.
    let b = read_zip(&mk(&[
        ("app.bin", b"x"),
        ("assets/sub/x", b"1"),
        ("env/env-vars.json", b"{}"),
    ]))
    .unwrap();
    assert_eq!(b.ignored, ["assets/sub/x", "env/env-vars.json"]);
}
