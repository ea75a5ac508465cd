//! Issue 14, item 1 (after issue 6, item 5): the asset modules' deflate
//! stream (`particle::asset::deflate`, the project's codec with Particle's
//! settings: level 6, window 15, memLevel 8, which is assetota-core's
//! pure-Rust `zlib_deflate`) is byte for byte Node's `zlib.deflateRawSync`,
//! what binary-version-reader compresses asset modules with and what
//! Particle's cloud measures them by.
//!
//! Node 20 bundles Chromium's fork of zlib (`process.versions.zlib` is
//! `1.3.1-<chromium commit>`), whose match finder hashes 4 bytes ("ANZAC"
//! hash) where canonical zlib rolls a 3-byte hash; canonical zlib's streams
//! are equally valid but of other lengths, which moved Particle budgets
//! across limits. Each stream is also inflated by the other side (Node
//! inflates ours, flate2's C zlib inflates Node's).
//!
//! The npm oracle is required: without Node or `tests/oracle/node_modules`
//! the test fails with the reason, unless ASSETOTA_SKIP_NODE=1.
//!
//! Run with `--nocapture` to see the table. `ASSETOTA_DEFLATE_CORPUS=DIR`
//! adds every file under DIR to the corpus; `ASSETOTA_DEFLATE_DUMP=DIR`
//! writes the corpus there (to measure other backends on the same bytes).

mod particle_support;

use assetota_core::codec::PARTICLE_DEFLATE;
use assetota_test_oracles::node;
use particle_support::{asset, noise, oracle, path_str, read, text};
use serde_json::json;
use std::io::Read;
use std::path::{Path, PathBuf};

fn corpus() -> Vec<(String, Vec<u8>)> {
    let mut c: Vec<(String, Vec<u8>)> = vec![
        ("empty".into(), Vec::new()),
        ("one byte".into(), vec![b'x']),
        ("hello\\n".into(), b"hello\n".to_vec()),
    ];
    for n in [100, 1_000, 10_000, 100_000, 590_000, 1_000_000] {
        c.push((format!("random {n}"), noise(n, n as u64)));
    }
    for n in [1_000, 100_000, 3 << 20] {
        c.push((format!("zeros {n}"), vec![0; n]));
    }
    for n in [1_000, 20_000, 200_000, 1_000_000] {
        c.push((format!("word text {n}"), text(n, n as u64)));
    }
    c.push((
        "json lines 800K".into(),
        (0..20_000)
            .flat_map(|i| {
                format!(
                    "{{\"id\":{i},\"name\":\"sensor-{}\",\"v\":{}}},\n",
                    i % 97,
                    i * 7919 % 1000
                )
                .into_bytes()
            })
            .collect(),
    ));
    c.push((
        "rgb565 ramp 320x240".into(),
        (0..320u32 * 240)
            .flat_map(|p| {
                ((p % 320 * 31 / 320) as u16 | ((p / 320 * 63 / 240) as u16) << 5).to_le_bytes()
            })
            .collect(),
    ));
    c.push((
        "period-7 pattern 100K".into(),
        (0..100_000).map(|i| (i % 7) as u8 * 37).collect(),
    ));
    c.push((
        "sparse 200K".into(),
        noise(200_000, 3)
            .iter()
            .map(|&b| if b < 16 { b } else { 0 })
            .collect(),
    ));
    // Firmware-like: chunks drawn from a small dictionary of random blocks.
    let dict: Vec<Vec<u8>> = (0..64)
        .map(|i| noise(48 + i * 3, 1000 + i as u64))
        .collect();
    let picks = noise(20_000, 77);
    c.push((
        "dictionary chunks".into(),
        picks
            .iter()
            .flat_map(|&p| dict[p as usize % 64].clone())
            .take(600_000)
            .collect(),
    ));
    // Real files: this repository's sources and lock files, the oracle's
    // JavaScript, and this test's own executable (an ELF of several MiB).
    let root = Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_owned();
    let mut real: Vec<PathBuf> = [
        "Cargo.lock",
        "README.md",
        "tests/oracle/package-lock.json",
        "tests/oracle/oracle.js",
    ]
    .iter()
    .map(|p| root.join(p))
    .collect();
    real.push(root.join("tests/oracle/node_modules/binary-version-reader/lib/moduleEncoding.js"));
    real.push(root.join("tests/oracle/node_modules/binary-version-reader/lib/HalModuleParser.js"));
    real.push(root.join("host/assetota-particle/src/app.rs"));
    // Particle's own test assets: a firmware image, an archive, a JPEG.
    for f in ["km4_image2_all.bin", "btgap.a", "cat.jpg"] {
        real.push(
            root.join("tests/oracle/node_modules/binary-version-reader/specs/assets")
                .join(f),
        );
    }
    real.push(std::env::current_exe().unwrap());
    if let Some(extra) = std::env::var_os("ASSETOTA_DEFLATE_CORPUS") {
        let mut stack = vec![PathBuf::from(extra)];
        while let Some(p) = stack.pop() {
            if p.is_dir() {
                let mut entries: Vec<_> = std::fs::read_dir(&p)
                    .unwrap()
                    .map(|e| e.unwrap().path())
                    .collect();
                entries.sort();
                stack.extend(entries.into_iter().rev());
            } else if p.is_file() {
                real.push(p);
            }
        }
    }
    for p in real {
        let label = p.strip_prefix(&root).unwrap_or(&p).display().to_string();
        let label = if p == std::env::current_exe().unwrap() {
            "this test's ELF executable".into()
        } else {
            label
        };
        c.push((label, read(&p)));
    }
    c
}

fn ours(data: &[u8]) -> Vec<u8> {
    asset::deflate(PARTICLE_DEFLATE, data).unwrap()
}

fn inflate(stream: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    flate2::read::DeflateDecoder::new(stream)
        .read_to_end(&mut out)
        .unwrap();
    out
}

#[test]
fn deflate_against_node_zlib() {
    if !node::available() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let corpus = corpus();
    let dump = std::env::var_os("ASSETOTA_DEFLATE_DUMP").map(PathBuf::from);
    let mut paths = Vec::new();
    for (i, (_, bytes)) in corpus.iter().enumerate() {
        let p = dir.path().join(format!("{i:03}"));
        std::fs::write(&p, bytes).unwrap();
        if let Some(d) = &dump {
            std::fs::create_dir_all(d).unwrap();
            std::fs::write(d.join(format!("{i:03}")), bytes).unwrap();
        }
        paths.push(path_str(&p));
    }
    let node_out = dir.path().join("node");
    // Node's streams, and ours inflated by Node, in one batch.
    let mut ops = vec![json!({"op": "deflate", "paths": paths, "outDir": path_str(&node_out)})];
    let mut mine = Vec::new();
    for (i, (_, bytes)) in corpus.iter().enumerate() {
        let p = dir.path().join(format!("{i:03}.ours"));
        let stream = ours(bytes);
        std::fs::write(&p, &stream).unwrap();
        mine.push(stream);
        ops.push(json!({"op": "inflate", "path": path_str(&p), "out": path_str(&dir.path().join(format!("{i:03}.back")))}));
    }
    let r = oracle(ops);
    let node = r[0].as_array().unwrap();
    assert!(
        r[1..].iter().all(|b| b.get("error").is_none()),
        "Node inflates every stream of ours"
    );

    println!(
        "\n{:<52} {:>10} {:>10} {:>10} {:>9}",
        "input", "size", "ours", "node", "identical"
    );
    let mut differ = Vec::new();
    let (mut total_in, mut total_out) = (0u64, 0u64);
    for (i, (label, bytes)) in corpus.iter().enumerate() {
        let mine = &mine[i];
        let theirs = read(node_out.join(i.to_string()));
        assert_eq!(theirs.len() as u64, node[i]["compressed"].as_u64().unwrap());
        assert_eq!(
            inflate(&theirs),
            *bytes,
            "{label}: flate2 inflates Node's stream"
        );
        assert_eq!(
            read(dir.path().join(format!("{i:03}.back"))),
            *bytes,
            "{label}: Node inflates ours"
        );
        if *mine != theirs {
            differ.push(format!(
                "{label}: ours {} B, Node {} B",
                mine.len(),
                theirs.len()
            ));
        }
        total_in += bytes.len() as u64;
        total_out += theirs.len() as u64;
        let short: String = label
            .chars()
            .rev()
            .take(52)
            .collect::<Vec<_>>()
            .into_iter()
            .rev()
            .collect();
        println!(
            "{short:<52} {:>10} {:>10} {:>10} {:>9}",
            bytes.len(),
            mine.len(),
            theirs.len(),
            *mine == theirs
        );
    }
    println!(
        "\n{} inputs, {total_in} bytes, {total_out} deflated; byte-identical to Node: {}",
        corpus.len(),
        corpus.len() - differ.len()
    );
    assert!(
        differ.is_empty(),
        "{} of {} streams differ from Node's zlib.deflateRawSync:\n{}",
        differ.len(),
        corpus.len(),
        differ.join("\n")
    );
}
