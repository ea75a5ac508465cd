//! Hostile bundles through every command that reads one (`verify`, `inspect`,
//! `diff`): refused before anything is decompressed where the structure gives
//! it away, through a size-limited reader otherwise; nothing written anywhere.
//! `tests/cli/verify.rs` checks the common cases through `verify`; this table
//! adds `inspect` and `diff`, the no-panic check, and the cases it lacks (ratio
//! and total caps, a bomb that lies about its size, truncations, overlapping
//! entries, odd names, methods and flags).

use std::io::Write;
use std::path::Path;

use crate::harness::*;
use crate::support::*;

// The writer of hostile zips is the shared one (the `assetota-raw-zip` crate).
use crate::support::{RawZip as Zip, ZipEntry as E};

fn deflate(data: &[u8]) -> Vec<u8> {
    let mut enc = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::new(6));
    enc.write_all(data).unwrap();
    enc.finish().unwrap()
}

/// A real bundle to make hostile ones from.
struct Base {
    p: Project,
    entries: Vec<(String, Vec<u8>)>,
    good: std::path::PathBuf,
    /// The good bundle's bytes when it was built.
    good_bytes: Vec<u8>,
}

impl Base {
    fn new(name: &str) -> Base {
        let p = Project::thumb(name, META_P2).with_assets();
        let good = p.bundle(Some(THUMB), "debug");
        ok(cli(p.path(), &["build"]));
        // The good bundle verifies before any hostile one is made from it.
        ok(cli(p.path(), &["verify", good.to_str().unwrap()]));
        Base {
            entries: zip_entries(&good),
            good_bytes: std::fs::read(&good).unwrap(),
            good,
            p,
        }
    }

    fn manifest(&self) -> serde_json::Value {
        serde_json::from_slice(&self.entries[0].1).unwrap()
    }

    /// The real entries, stored, plus `extra`, with `manifest.json` replaced
    /// by `manifest` when given.
    fn with(&self, manifest: Option<&serde_json::Value>, extra: &[E<'_>]) -> Vec<u8> {
        let json = manifest.map(|m| serde_json::to_vec(m).unwrap());
        let mut zip = Zip::new();
        for (name, data) in &self.entries {
            let data = match (&json, name.as_str()) {
                (Some(j), "manifest.json") => j.as_slice(),
                _ => data.as_slice(),
            };
            zip.add_entry(&E::stored(name.as_bytes(), data));
        }
        for e in extra {
            zip.add_entry(e);
        }
        zip.finish()
    }

    /// The manifest with one more asset listed.
    fn listing(&self, name: &str, size: u64) -> serde_json::Value {
        let mut m = self.manifest();
        m["assets"].as_array_mut().unwrap().push(serde_json::json!({
            "name": name, "file": format!("assets/{name}"), "size": size,
            "sha256": "00", "compressed_size": 1, "stored_size": 1, "storage_size": 1
        }));
        m
    }
}

/// Runs the hostile `bytes` through verify, inspect and diff: each exits
/// `code` with `needles` in stderr, and nothing changes in the working
/// directory (a fresh one) or beside it.
fn refuse(base: &Base, label: &str, bytes: &[u8], code: i32, needles: &[&str]) {
    let work = tempfile::tempdir().unwrap();
    let file = work.path().join("hostile.assetota.zip");
    std::fs::write(&file, bytes).unwrap();
    let good = work.path().join("good.assetota.zip");
    std::fs::copy(&base.good, &good).unwrap();
    let before = tree(work.path());
    let parent = work.path().parent().unwrap();
    for args in [
        &["verify", "hostile.assetota.zip"][..],
        &["inspect", "hostile.assetota.zip"],
        &["inspect", "--json", "hostile.assetota.zip"],
        &["diff", "good.assetota.zip", "hostile.assetota.zip"],
    ] {
        let run = cli(work.path(), args);
        eprintln!("{label}: {}: exit {}", args[0], run.code);
        refused(&run, code, needles);
        assert!(run.stdout.trim().is_empty(), "{label}: {}", run.stdout);
    }
    unchanged(label, &before, &tree(work.path()));
    for evil in ["evil.txt", "evil"] {
        assert!(!parent.join(evil).exists(), "{label}: wrote {evil} beside");
    }
    assert!(!Path::new("/tmp/evil.txt").exists());
    // The bundle it was made from is untouched, byte for byte, and still
    // verifies: nothing was disturbed.
    assert_eq!(
        std::fs::read(&base.good).unwrap(),
        base.good_bytes,
        "{label}: the good bundle changed"
    );
    let run = cli(base.p.path(), &["verify", base.good.to_str().unwrap()]);
    assert_eq!(
        run.code, 0,
        "{label}: the good bundle no longer verifies:\n{}",
        run.stderr
    );
}

#[test]
fn hostile_names_links_duplicates_and_unlisted_entries() {
    let base = Base::new("adv_zip_names");
    let x = E::stored(b"x", b"x");
    let named = |name: &'static [u8]| E { name, ..x.clone() };
    for (label, entry, needle) in [
        (
            "dot-dot",
            named(b"../evil.txt"),
            "has a `..` component (path traversal)",
        ),
        (
            "dot-dot inside",
            named(b"assets/../../evil.txt"),
            "has a `..` component (path traversal)",
        ),
        ("absolute", named(b"/tmp/evil.txt"), "has an absolute path"),
        (
            "backslash",
            named(b"assets\\..\\..\\evil.txt"),
            "has a backslash in its name",
        ),
        ("drive letter", named(b"C:/evil.txt"), "has a drive letter"),
        (
            "control character",
            named(b"assets/a\x1b[2Jb"),
            "has control characters",
        ),
        (
            "dot component",
            named(b"./assets/x"),
            "empty or `.` path component",
        ),
        (
            "directory entry",
            named(b"assets/dir/"),
            "empty or `.` path component",
        ),
        (
            "not UTF-8",
            named(b"assets/\xff.bin"),
            "has a name that is not UTF-8",
        ),
        (
            "unlisted",
            named(b"extra.txt"),
            "is not listed in manifest.json",
        ),
    ] {
        let bytes = base.with(None, &[entry]);
        // Shown with control characters escaped: a name cannot clear or
        // rewrite the terminal the error is printed on.
        let shown: String = String::from_utf8_lossy(&named_of(&bytes))
            .chars()
            .map(|c| {
                if c.is_control() {
                    c.escape_default().to_string()
                } else {
                    c.to_string()
                }
            })
            .collect();
        refuse(
            &base,
            label,
            &bytes,
            4,
            &[&format!("entry `{shown}`"), needle],
        );
    }
    // The same name listed in manifest.json (no such entry needed).
    let mut m = base.listing("a\u{1b}[2Jb", 1);
    m["assets"].as_array_mut().unwrap().last_mut().unwrap()["file"] = "assets/ok".into();
    refuse(
        &base,
        "control character in manifest.json",
        &base.with(Some(&m), &[]),
        1,
        &["lists `a\\u{1b}[2Jb`, which has control characters in its name"],
    );

    // A symlink in place of an asset, pointing out of any extraction dir.
    let mut zip = Zip::new();
    for (name, data) in &base.entries {
        let mut e = E::stored(name.as_bytes(), data);
        if name == "assets/config.json" {
            e.stored = b"/etc/passwd";
            e.crc = crc32(e.stored);
            e.size = e.stored.len() as u32;
            e.mode = 0o120777;
        }
        zip.add_entry(&e);
    }
    refuse(
        &base,
        "symlink",
        &zip.finish(),
        4,
        &["entry `assets/config.json`", "is a symbolic link"],
    );

    // The same name twice: the zip crate's index would keep only one.
    let second = E::stored(b"assets/text.txt", b"second copy");
    refuse(
        &base,
        "duplicate",
        &base.with(None, &[second]),
        4,
        &["entry `assets/text.txt`", "appears more than once"],
    );

    // An asset the firmware does not know, listed in manifest.json: the
    // container is fine, verification is not.
    let listed = base.listing("extra.bin", 1);
    let bytes = base.with(Some(&listed), &[E::stored(b"assets/extra.bin", b"x")]);
    let work = tempfile::tempdir().unwrap();
    std::fs::write(work.path().join("b.zip"), &bytes).unwrap();
    refused(
        &cli(work.path(), &["verify", "b.zip"]),
        4,
        &["`extra.bin`: listed in manifest.json but not in the manifest embedded in"],
    );

    // manifest.json lists one entry twice.
    let mut twice = base.manifest();
    let first = twice["assets"][0].clone();
    twice["assets"].as_array_mut().unwrap().push(first);
    refuse(
        &base,
        "listed twice",
        &base.with(Some(&twice), &[]),
        1,
        &["lists the entry `assets/config.json` more than once"],
    );

    // Encrypted, and a compression method the reader does not take.
    let mut zip = Zip::new();
    for (name, data) in &base.entries {
        let mut e = E::stored(name.as_bytes(), data);
        if name == "assets/text.txt" {
            e.flags = 1;
        }
        zip.add_entry(&e);
    }
    refuse(
        &base,
        "encrypted",
        &zip.finish(),
        4,
        &["entry `assets/text.txt`", "is encrypted"],
    );
    let mut zip = Zip::new();
    for (name, data) in &base.entries {
        let mut e = E::stored(name.as_bytes(), data);
        if name == "assets/text.txt" {
            e.method = 12; // bzip2
        }
        zip.add_entry(&e);
    }
    refuse(
        &base,
        "bzip2",
        &zip.finish(),
        4,
        &[
            "entry `assets/text.txt`",
            "compression method other than stored or deflate",
        ],
    );

    // A load address at the top of the address space: the manifest's address
    // (load address + offset) would overflow. inspect shows the bundle
    // without an address instead of panicking.
    let mut m = base.manifest();
    m["firmware"]["load_address"] = serde_json::json!(u64::MAX);
    let work = tempfile::tempdir().unwrap();
    std::fs::write(
        work.path().join("high.assetota.zip"),
        base.with(Some(&m), &[]),
    )
    .unwrap();
    let run = cli(work.path(), &["inspect", "--json", "high.assetota.zip"]);
    assert_eq!(
        run.code, 0,
        "inspect of a top-of-memory load address:\n{}",
        run.stderr
    );
    let json: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    assert!(
        json["manifest"].get("load_address").is_none(),
        "{}",
        run.stdout
    );
}

/// The name of the last entry of a zip written by `Zip`.
fn named_of(zip: &[u8]) -> Vec<u8> {
    let eocd = zip.len() - 22;
    let cd = u32::from_le_bytes(zip[eocd + 16..eocd + 20].try_into().unwrap()) as usize;
    let mut at = cd;
    let mut last = Vec::new();
    while at < eocd {
        let n = u16::from_le_bytes([zip[at + 28], zip[at + 29]]) as usize;
        last = zip[at + 46..at + 46 + n].to_vec();
        at += 46 + n;
    }
    last
}

#[test]
fn decompression_bombs_hit_the_ratio_total_and_entry_caps() {
    let base = Base::new("adv_zip_bombs");

    // Ratio cap: 2 MiB declared from 1 KiB stored; deflate cannot do 2048:1,
    // so the header lies. Refused before decompressing anything.
    let data = [0u8; 1024];
    let lie = E {
        size: 2 << 20,
        ..E::stored(b"assets/big.bin", &data)
    };
    refuse(
        &base,
        "ratio cap",
        &base.with(Some(&base.listing("big.bin", 2 << 20)), &[lie]),
        4,
        &[
            "entry `assets/big.bin`",
            "2048:1 compression ratio",
            "decompression bomb",
        ],
    );

    // Entry cap: one entry declaring more than 256 MiB.
    let huge = E {
        size: 300 << 20,
        ..E::stored(b"assets/huge.bin", &data)
    };
    refuse(
        &base,
        "entry cap",
        &base.with(Some(&base.listing("huge.bin", 300 << 20)), &[huge]),
        4,
        &[
            "entry `assets/huge.bin`",
            "more than the 268,435,456 B limit",
        ],
    );

    // Total cap: three real deflate streams of 200 MiB of zeros (about
    // 1030:1, under the ratio cap; each under the entry cap), 600 MiB together.
    let zeros = vec![0u8; 200 << 20];
    let stream = deflate(&zeros);
    let crc = crc32(&zeros);
    drop(zeros);
    let bomb = |name: &'static [u8]| E {
        name,
        stored: &stream,
        method: 8,
        crc,
        size: 200 << 20,
        mode: 0o100644,
        flags: 0,
        reuse: None,
    };
    let mut m = base.listing("z1.bin", 200 << 20);
    for n in ["z2.bin", "z3.bin"] {
        m["assets"].as_array_mut().unwrap().push(serde_json::json!({
            "name": n, "file": format!("assets/{n}"), "size": 200 << 20,
            "sha256": "00", "compressed_size": 1, "stored_size": 1, "storage_size": 1
        }));
    }
    let three = base.with(
        Some(&m),
        &[
            bomb(b"assets/z1.bin"),
            bomb(b"assets/z2.bin"),
            bomb(b"assets/z3.bin"),
        ],
    );
    assert!(three.len() < 2 << 20, "the bomb is small on disk");
    refuse(
        &base,
        "total cap",
        &three,
        4,
        &["entry `assets/z3.bin`", "past 536,870,912 B decompressed"],
    );

    // Bombs that lie small, so no cap applies to what they declare. One
    // declares 1 MiB and inflates to 200 MiB: the zip reader stops at the
    // declared size.
    let liar = E {
        size: 1 << 20,
        ..bomb(b"assets/liar.bin")
    };
    refuse(
        &base,
        "lying declared size",
        &base.with(Some(&base.listing("liar.bin", 1 << 20)), &[liar]),
        4,
        &[
            "entry `assets/liar.bin` cannot be decompressed",
            "larger than its declared uncompressed size",
        ],
    );
    // The other declares its 200 MiB honestly but manifest.json lists 1 MiB:
    // the running counter stops it at 1 MiB + 1 byte.
    refuse(
        &base,
        "lying listed size",
        &base.with(
            Some(&base.listing("liar.bin", 1 << 20)),
            &[bomb(b"assets/liar.bin")],
        ),
        4,
        &[
            "entry `assets/liar.bin`",
            "decompresses to more than its declared or listed 1048576 bytes",
        ],
    );

    // Overlapping entries (Fifield's non-recursive bomb): a second central
    // record for the same local data.
    let mut zip = Zip::new();
    let mut offset = 0;
    for (name, data) in &base.entries {
        let at = zip.add_entry(&E::stored(name.as_bytes(), data));
        if name == "assets/logo.bin" {
            offset = at;
        }
    }
    let logo = &base
        .entries
        .iter()
        .find(|(n, _)| n == "assets/logo.bin")
        .unwrap()
        .1;
    zip.add_entry(&E {
        reuse: Some(offset),
        ..E::stored(b"assets/logo2.bin", logo)
    });
    refuse(
        &base,
        "overlapping entries",
        &zip.finish(),
        4,
        &["overlaps the next entry", "decompression bomb"],
    );
}

/// A zip without `manifest.json` and with a `.bin` at its root is read as a
/// Particle bundle (`src/particle/zip.rs`), with the same name rules.
#[test]
fn a_hostile_particle_shaped_zip_is_refused_too() {
    let work = tempfile::tempdir().unwrap();
    let mut zip = Zip::new();
    zip.add_entry(&E::stored(b"app.bin", &[0u8; 100]));
    zip.add_entry(&E::stored(b"../evil.txt", b"x"));
    std::fs::write(work.path().join("p.zip"), zip.finish()).unwrap();
    let before = tree(work.path());
    for command in ["verify", "inspect"] {
        refused(
            &cli(work.path(), &[command, "p.zip"]),
            4,
            &["entry `../evil.txt`", "path traversal"],
        );
    }
    unchanged("particle-shaped", &before, &tree(work.path()));
    assert!(!work.path().parent().unwrap().join("evil.txt").exists());
}

#[test]
fn truncated_zips_are_not_bundles() {
    let base = Base::new("adv_zip_truncated");
    let good = std::fs::read(&base.good).unwrap();
    let n = good.len();
    for cut in [n - 1, n - 22, n - 60, n / 2, 200, 31, 4] {
        refuse(
            &base,
            &format!("first {cut} of {n} bytes"),
            &good[..cut],
            1,
            &[
                "hostile.assetota.zip` is not a valid bundle",
                "no end of central directory record",
            ],
        );
    }
    // Data cut from the middle, the central directory kept: its offsets point
    // past the data they describe.
    let eocd = n - 22;
    let cd = u32::from_le_bytes(good[eocd + 16..eocd + 20].try_into().unwrap()) as usize;
    let mut middle = good[..cd / 2].to_vec();
    middle.extend_from_slice(&good[cd..]);
    refuse(
        &base,
        "middle removed",
        &middle,
        1,
        &["hostile.assetota.zip` is not a valid bundle"],
    );
    // An empty file: `verify` says it is no zip; `inspect` and `diff`, which
    // also take ELF files and flat images, that it is none of those.
    let work = tempfile::tempdir().unwrap();
    std::fs::write(work.path().join("empty.zip"), b"").unwrap();
    refused(
        &cli(work.path(), &["verify", "empty.zip"]),
        1,
        &["`empty.zip` is not a valid bundle"],
    );
    refused(
        &cli(work.path(), &["inspect", "empty.zip"]),
        1,
        &["`empty.zip` is not an ELF file, a flat firmware image"],
    );
}
