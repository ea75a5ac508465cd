//! The golden vectors of docs/manifest-format.md: decoded field by field against the
//! documented values, and the doc's hex dumps compared with the .bin files.

mod common;

use assetota::{Codec, Manifest};
use common::{golden, hex32};

struct Expect {
    name: &'static str,
    file: &'static str,
    size: u64,
    compressed: u64,
    stored: u64,
    codec: Codec,
    sha256: &'static str,
}

// SHA-256s from `sha256sum tests/golden/assets/*`; sizes from `ls -l` and gen.py.
const HELLO: Expect = Expect {
    name: "hello.txt",
    file: "hello.txt",
    size: 6,
    compressed: 8,
    stored: 141,
    codec: Codec::Deflate { window_bits: 15 },
    sha256: "5891b5b522d5df086d0ff0b110fbd9d21bb4fc7163af34d08286a2e846f6be03",
};
const THREE: [Expect; 3] = [
    Expect {
        name: "config.json",
        file: "config.json",
        size: 32,
        compressed: 32,
        stored: 32,
        codec: Codec::None,
        sha256: "fe74d2c98d53a893cce51f9dffead8025baf7c1c2211c905ed2b4d8d1287544d",
    },
    Expect {
        name: "fonts/small.bin",
        file: "small.bin",
        size: 512,
        compressed: 304,
        stored: 304,
        codec: Codec::Xz { dict_log2: 23 },
        sha256: "110009dcee21620b166f3abfecb5eff7a873be729d1c2d53822e7acc5f34eb9b",
    },
    Expect {
        name: "sounds/caf\u{e9}.wav",
        file: "cafe.wav",
        size: 100,
        compressed: 105,
        stored: 105,
        codec: Codec::Deflate { window_bits: 15 },
        sha256: "2b4c818d9ad41a3c1d116803699206cfb7688fbb96a7a7b9601b2aef659af7e7",
    },
];

fn check(m: &Manifest<'_>, expected: &[Expect]) {
    assert_eq!(m.len(), expected.len());
    assert_eq!(m.iter().len(), expected.len());
    for (a, e) in m.iter().zip(expected) {
        assert_eq!(a.name(), e.name);
        assert_eq!(a.size(), e.size, "{}", e.name);
        assert_eq!(a.compressed_size(), e.compressed, "{}", e.name);
        assert_eq!(a.stored_size(), e.stored, "{}", e.name);
        assert_eq!(a.codec(), e.codec, "{}", e.name);
        assert_eq!(a.sha256(), &hex32(e.sha256), "{}", e.name);
        assert_eq!(a.sha256_hex().to_string(), e.sha256);
        assert_eq!(m.get(e.name), Some(a));
        // The payload the digest was taken from verifies against the manifest entry.
        let payload = golden(&format!("assets/{}", e.file));
        let mut v = a.verifier();
        v.update(&payload);
        assert_eq!(v.finish(), Ok(()), "{}", e.name);
    }
}

#[test]
fn empty() {
    let b = golden("empty.bin");
    assert_eq!(b.len(), 36);
    let m = Manifest::parse(&b).unwrap();
    assert!(m.is_empty());
    assert_eq!(m.platform(), None);
    assert_eq!(m.byte_len(), 36);
    assert_eq!(m.iter().next(), None);
    assert_eq!(m.get("anything"), None);
    check(&m, &[]);
}

#[test]
fn one_asset_p2() {
    let b = golden("one-asset-p2.bin");
    assert_eq!(b.len(), 112);
    let m = Manifest::parse(&b).unwrap();
    assert_eq!(m.platform(), Some("p2"));
    check(&m, &[HELLO]);
    assert_eq!(
        HELLO.stored,
        HELLO.compressed + 124 + HELLO.name.len() as u64
    );
}

#[test]
fn three_assets() {
    let b = golden("three-assets.bin");
    assert_eq!(b.len(), 272);
    let m = Manifest::parse(&b).unwrap();
    assert_eq!(m.platform(), None);
    check(&m, &THREE);
    // NFC only: the decomposed spelling (e + U+0301) is a different name.
    assert_eq!(m.get("sounds/cafe\u{301}.wav"), None);
    assert_eq!(THREE[2].name.as_bytes()[10..12], [0xc3, 0xa9]);
    let names: Vec<_> = m.iter().rev().map(|a| a.name()).collect();
    assert_eq!(names, ["sounds/café.wav", "fonts/small.bin", "config.json"]);
}

#[test]
fn golden_inside_flat_image() {
    // A fake flat image: code bytes with decoy magics, the manifest, then erased flash.
    let three = golden("three-assets.bin");
    let mut image = b"\x00\x01AOTA\x01\x00junkAOTA".to_vec();
    image.extend_from_slice(&golden("one-asset-p2.bin")[..50]); // a torn earlier copy
    let at = image.len();
    image.extend_from_slice(&three);
    image.extend_from_slice(&[0xff; 64]);
    let (off, m) = Manifest::find_in(&image).unwrap();
    assert_eq!(off, at);
    assert_eq!(m.as_bytes(), &three[..]);
    check(&m, &THREE);
}

/// The hex dumps in docs/manifest-format.md, by file name.
fn doc_dumps() -> Vec<(String, Vec<u8>)> {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/manifest-format.md");
    let doc = std::fs::read_to_string(path).expect("docs/manifest-format.md");
    let mut dumps = Vec::new();
    let mut lines = doc.lines();
    while let Some(line) = lines.next() {
        let Some(file) = line.strip_prefix("```hex golden/") else {
            continue;
        };
        let mut bytes = Vec::new();
        for row in lines.by_ref() {
            if row.starts_with("```") {
                break;
            }
            let data = row.split('|').next().unwrap();
            let mut tokens = data.split_whitespace();
            let offset = usize::from_str_radix(tokens.next().unwrap(), 16).unwrap();
            assert_eq!(
                offset,
                bytes.len(),
                "{file}: offset column drifted at {row:?}"
            );
            for t in tokens {
                assert_eq!(t.len(), 2, "{file}: {row:?}");
                bytes.push(u8::from_str_radix(t, 16).unwrap());
            }
        }
        dumps.push((file.trim().to_string(), bytes));
    }
    dumps
}

#[test]
fn doc_hex_dumps_match_golden_files() {
    let dumps = doc_dumps();
    let names: Vec<_> = dumps.iter().map(|(f, _)| f.as_str()).collect();
    assert_eq!(names, ["empty.bin", "one-asset-p2.bin", "three-assets.bin"]);
    for (file, bytes) in dumps {
        assert_eq!(
            bytes,
            golden(&file),
            "docs/manifest-format.md dump of {file}"
        );
    }
}
