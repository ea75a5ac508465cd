//! The pure-Rust deflate (`assetota_core::zlib_deflate`) against independent
//! oracles: Node's `zlib.deflateRawSync` (Chromium's zlib, what Particle's
//! cloud measures asset modules with) byte for byte, canonical C zlib
//! (flate2 over libz-sys) byte for byte with the rolling hash, and two other
//! decoders (miniz_oxide, flate2's zlib inflate) that must give the input back.
//!
//! Node is required: without `node` on PATH these tests fail with the reason,
//! unless `ASSETOTA_SKIP_NODE=1` asks to skip the Node comparisons.

use assetota_core::zlib_deflate::{Deflater, Params, deflate_raw};
use proptest::prelude::*;
use proptest::strategy::ValueTree;
use proptest::test_runner::{Config as PtConfig, TestRunner};
use std::io::Read;
use std::path::{Path, PathBuf};

use assetota_test_oracles::inputs::noise;
use assetota_test_oracles::node;

/// Word-like text from a small vocabulary.
fn text(len: usize, seed: u64) -> Vec<u8> {
    const WORDS: [&str; 24] = [
        "the", "asset", "firmware", "flash", "block", "module", "device", "over", "air", "update",
        "of", "and", "a", "to", "in", "size", "limit", "deflate", "window", "hash", "Particle",
        "zlib", "node", "match",
    ];
    let r = noise(len, seed);
    let mut out = Vec::with_capacity(len + 16);
    let mut i = 0;
    while out.len() < len {
        out.extend_from_slice(WORDS[r[i % r.len()] as usize % WORDS.len()].as_bytes());
        out.push(if r[(i + 7) % r.len()].is_multiple_of(11) {
            b'\n'
        } else {
            b' '
        });
        i += 1;
    }
    out.truncate(len);
    out
}

/// A BMP-like image: header, then rows of a gradient with some noise.
fn bmp(w: usize, h: usize, seed: u64) -> Vec<u8> {
    let mut out = b"BM".to_vec();
    out.extend_from_slice(&((54 + w * h * 3) as u32).to_le_bytes());
    out.extend_from_slice(&[0; 48]);
    let r = noise(w * h, seed);
    for y in 0..h {
        for x in 0..w {
            let n = r[y * w + x] % 4;
            out.extend_from_slice(&[
                ((x * 255 / w) as u8).wrapping_add(n),
                (y * 255 / h) as u8,
                128 + n,
            ]);
        }
    }
    out
}

/// A PNG-like file: a real PNG's worth of filtered scanlines (filter byte,
/// then RGBA) wrapped in chunk framing; the pixel data is not compressed,
/// so it has the repetitiveness of decoded image data.
fn png_like(w: usize, h: usize, seed: u64) -> Vec<u8> {
    let mut out = b"\x89PNG\r\n\x1a\n".to_vec();
    let r = noise(w * h, seed);
    for y in 0..h {
        out.push((y % 5) as u8);
        for x in 0..w {
            let v = if (x / 16 + y / 16) % 2 == 0 {
                0x20
            } else {
                0xe0
            };
            out.extend_from_slice(&[v, v ^ (r[y * w + x] & 1), (x % 256) as u8, 0xff]);
        }
    }
    out
}

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn read(p: &Path) -> Vec<u8> {
    std::fs::read(p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

/// Inputs of every kind the tests use, with labels.
fn corpus() -> Vec<(String, Vec<u8>)> {
    let mut c: Vec<(String, Vec<u8>)> = Vec::new();
    for n in [0usize, 1, 2, 3, 4, 5, 257, 258, 259] {
        c.push((format!("text {n}"), text(n, 7)));
        c.push((format!("zeros {n}"), vec![0; n]));
        c.push((format!("random {n}"), noise(n, n as u64 + 1)));
    }
    for n in [
        32 * 1024 - 1,
        32 * 1024,
        32 * 1024 + 1,
        64 * 1024 - 1,
        64 * 1024,
        64 * 1024 + 1,
    ] {
        c.push((format!("text {n}"), text(n, n as u64)));
        c.push((format!("random {n}"), noise(n, n as u64)));
        c.push((format!("zeros {n}"), vec![0; n]));
    }
    c.push(("text 1 MiB".into(), text(1 << 20, 11)));
    c.push(("random 1 MiB".into(), noise(1 << 20, 12)));
    c.push(("zeros 4 MiB".into(), vec![0; 4 << 20]));
    c.push(("bmp 320x240".into(), bmp(320, 240, 3)));
    c.push(("png-like 256x256".into(), png_like(256, 256, 4)));
    c.push((
        "period-7 100K".into(),
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
    c.push((
        "dictionary chunks 600K".into(),
        noise(20_000, 77)
            .iter()
            .flat_map(|&p| dict[p as usize % 64].clone())
            .take(600_000)
            .collect(),
    ));
    // Real files: Particle's own test assets (firmware image, archive, JPEG),
    // sources, and this test's own ELF executable.
    let assets = root().join("tests/oracle/node_modules/binary-version-reader/specs/assets");
    for f in ["km4_image2_all.bin", "btgap.a", "cat.jpg"] {
        let p = assets.join(f);
        assert!(
            p.is_file(),
            "{} is missing: run `npm ci` in tests/oracle (scripts/test.sh does)",
            p.display()
        );
        c.push((f.into(), read(&p)));
    }
    for f in ["Cargo.lock", "README.md", "tests/oracle/oracle.js"] {
        c.push((f.into(), read(&root().join(f))));
    }
    let exe = std::env::current_exe().unwrap();
    let elf = read(&exe);
    c.push((
        "ELF head 4 MiB".into(),
        elf[..elf.len().min(4 << 20)].to_vec(),
    ));
    c
}

/// Node's `zlib.deflateRawSync(input, {level, windowBits})` for every job,
/// in one node process.
fn node_deflate(jobs: &[(&[u8], u32, u8)]) -> Vec<Vec<u8>> {
    let dir = tempfile::tempdir().unwrap();
    let mut req = Vec::new();
    for (i, (data, level, wbits)) in jobs.iter().enumerate() {
        let p = dir.path().join(format!("{i}.in"));
        std::fs::write(&p, data).unwrap();
        req.push(format!(
            "[{:?},{level},{wbits},{:?}]",
            p.to_str().unwrap(),
            dir.path().join(format!("{i}.out")).to_str().unwrap()
        ));
    }
    let req_path = dir.path().join("req.json");
    std::fs::write(&req_path, format!("[{}]", req.join(","))).unwrap();
    let script = "const fs=require('fs'),zlib=require('zlib');\
        for (const [p,level,windowBits,out] of JSON.parse(fs.readFileSync(process.argv[1]))) \
        fs.writeFileSync(out, zlib.deflateRawSync(fs.readFileSync(p), {level, windowBits}));";
    node::run(
        "node",
        &["-e", script, req_path.to_str().unwrap()],
        None,
        &[],
    );
    (0..jobs.len())
        .map(|i| read(&dir.path().join(format!("{i}.out"))))
        .collect()
}

fn miniz_inflate(stream: &[u8]) -> Vec<u8> {
    miniz_oxide::inflate::decompress_to_vec(stream).expect("miniz_oxide inflates it")
}

fn flate2_inflate(stream: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    flate2::read::DeflateDecoder::new(stream)
        .read_to_end(&mut out)
        .expect("zlib inflates it");
    out
}

/// Canonical C zlib (libz-sys, through flate2), the whole input in one call.
fn c_zlib(data: &[u8], level: u32, wbits: u8) -> Vec<u8> {
    let mut c =
        flate2::Compress::new_with_window_bits(flate2::Compression::new(level), false, wbits);
    let mut out = Vec::with_capacity(data.len() + data.len() / 100 + 1024);
    let st = c
        .compress_vec(data, &mut out, flate2::FlushCompress::Finish)
        .unwrap();
    assert_eq!(st, flate2::Status::StreamEnd);
    out
}

fn first_difference(a: &[u8], b: &[u8]) -> usize {
    a.iter()
        .zip(b)
        .position(|(x, y)| x != y)
        .unwrap_or(a.len().min(b.len()))
}

/// Compares every (input, level, window bits) with Node; returns the failures.
fn against_node(cases: &[(String, &[u8], u32, u8)]) -> Vec<String> {
    let jobs: Vec<(&[u8], u32, u8)> = cases.iter().map(|(_, d, l, w)| (*d, *l, *w)).collect();
    let theirs = node_deflate(&jobs);
    let mut failures = Vec::new();
    for ((label, data, level, wbits), node) in cases.iter().zip(theirs) {
        let ours = deflate_raw(data, Params::node(*level, *wbits));
        if ours != node {
            failures.push(format!(
                "{label} (level {level}, window {wbits}, {} B): ours {} B, Node {} B, first difference at byte {}",
                data.len(),
                ours.len(),
                node.len(),
                first_difference(&ours, &node)
            ));
        }
    }
    failures
}

#[test]
fn level_6_window_15_equals_node_on_the_corpus() {
    if !node::available() {
        return;
    }
    let corpus = corpus();
    let cases: Vec<_> = corpus
        .iter()
        .map(|(l, d)| (l.clone(), d.as_slice(), 6, 15))
        .collect();
    let failures = against_node(&cases);
    assert!(
        failures.is_empty(),
        "{} of {} differ from Node:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
}

#[test]
fn every_level_and_window_equals_node() {
    if !node::available() {
        return;
    }
    let corpus = corpus();
    // Everything at every level with window 15; every window on a subset.
    let small: Vec<_> = corpus.iter().filter(|(_, d)| d.len() <= 700_000).collect();
    let mut cases = Vec::new();
    for level in 0..=9 {
        for (l, d) in &small {
            cases.push((l.clone(), d.as_slice(), level, 15u8));
        }
    }
    for wbits in 9..=14u8 {
        for level in [0, 1, 4, 6, 9] {
            for (l, d) in small.iter().filter(|(_, d)| d.len() <= 200_000) {
                cases.push((l.clone(), d.as_slice(), level, wbits));
            }
        }
    }
    let failures = against_node(&cases);
    assert!(
        failures.is_empty(),
        "{} of {} differ from Node:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
}

#[test]
fn rolling_hash_equals_canonical_c_zlib() {
    let corpus = corpus();
    let mut failures = Vec::new();
    let mut n = 0;
    for level in 1..=9 {
        for wbits in [9u8, 12, 15] {
            for (label, data) in &corpus {
                if wbits != 15 && data.len() > 200_000 {
                    continue;
                }
                n += 1;
                let ours = deflate_raw(data, Params::canonical(level, wbits));
                let theirs = c_zlib(data, level, wbits);
                if ours != theirs {
                    failures.push(format!(
                        "{label} (level {level}, window {wbits}): ours {} B, C zlib {} B, first difference at {}",
                        ours.len(),
                        theirs.len(),
                        first_difference(&ours, &theirs)
                    ));
                }
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {n} differ from C zlib:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn two_other_decoders_give_the_input_back() {
    for (label, data) in corpus() {
        for level in [0, 1, 6, 9] {
            let s = deflate_raw(&data, Params::node(level, 15));
            assert!(
                miniz_inflate(&s) == data,
                "{label} level {level}: miniz_oxide"
            );
            assert!(
                flate2_inflate(&s) == data,
                "{label} level {level}: zlib inflate"
            );
        }
    }
}

#[test]
fn streaming_in_pieces_gives_the_same_bytes() {
    let corpus = corpus();
    for (label, data) in corpus.iter().filter(|(_, d)| d.len() <= 1 << 20) {
        for level in [0, 1, 6, 9] {
            let whole = deflate_raw(data, Params::node(level, 15));
            for piece in [1usize, 7, 4096, 65_537, 300_000] {
                if piece < 4096 && data.len() > 70_000 {
                    continue;
                }
                let mut d = Deflater::new(Params::node(level, 15));
                let mut out = Vec::new();
                for p in data.chunks(piece) {
                    d.write(p);
                    d.drain_into(&mut out).unwrap();
                }
                out.extend_from_slice(&d.finish());
                assert!(out == whole, "{label}, level {level}, pieces of {piece}");
            }
        }
    }
}

/// Inputs proptest draws: runs, repeats of earlier bytes at random
/// distances, random bytes and text, so every kind of match and block occurs.
fn input() -> impl Strategy<Value = Vec<u8>> {
    let piece = prop_oneof![
        (any::<u8>(), 1usize..600).prop_map(|(b, n)| vec![b; n]),
        prop::collection::vec(any::<u8>(), 0..300),
        prop::collection::vec(prop::sample::select(b"abcde \n".to_vec()), 0..2000),
        (1usize..40_000, 3usize..300).prop_map(|(d, n)| {
            // A marker: copy `n` bytes from `d` back (resolved below).
            let mut m = vec![0xff, 0xfe, 0xfd];
            m.extend_from_slice(&(d as u32).to_le_bytes());
            m.extend_from_slice(&(n as u32).to_le_bytes());
            m
        }),
    ];
    prop::collection::vec(piece, 0..60).prop_map(|pieces| {
        let mut out: Vec<u8> = Vec::new();
        for p in pieces {
            if p.len() == 11 && p[..3] == [0xff, 0xfe, 0xfd] && !out.is_empty() {
                let d = (u32::from_le_bytes(p[3..7].try_into().unwrap()) as usize).min(out.len());
                let n = u32::from_le_bytes(p[7..11].try_into().unwrap()) as usize;
                let start = out.len() - d;
                for i in 0..n {
                    out.push(out[start + i]);
                }
            } else {
                out.extend_from_slice(&p);
            }
        }
        out
    })
}

#[test]
fn proptest_against_node_in_batches() {
    if !node::available() {
        return;
    }
    let batches: u32 = std::env::var("ASSETOTA_DEFLATE_PROPTEST_BATCHES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(4);
    let mut runner = TestRunner::new(PtConfig::default());
    let strategy = (
        input(),
        prop::sample::select(vec![1u32, 3, 4, 6, 9]),
        9u8..=15,
    );
    for batch in 0..batches {
        let cases: Vec<(Vec<u8>, u32, u8)> = (0..64)
            .map(|_| strategy.new_tree(&mut runner).unwrap().current())
            .collect();
        let labelled: Vec<_> = cases
            .iter()
            .enumerate()
            .map(|(i, (d, l, w))| (format!("batch {batch} case {i}"), d.as_slice(), *l, *w))
            .collect();
        let failures = against_node(&labelled);
        if let Some(f) = failures.first() {
            let i: usize = f.split_whitespace().nth(3).unwrap().parse().unwrap();
            let dump = std::env::temp_dir().join(format!("assetota-deflate-failure-{batch}-{i}"));
            std::fs::write(&dump, &cases[i].0).unwrap();
            panic!(
                "{} of 64 differ from Node; first input written to {}:\n{}",
                failures.len(),
                dump.display(),
                failures.join("\n")
            );
        }
        for (d, l, w) in &cases {
            assert!(miniz_inflate(&deflate_raw(d, Params::node(*l, *w))) == *d);
        }
    }
}
