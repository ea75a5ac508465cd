//! `cargo assetota image`, end to end: bundles of real projects built by the
//! real cargo for an `assetota-store` platform, imaged by the real binary,
//! and the output checked by independent readers: the bin mounted by the
//! store crate and every asset hashed against Python's hashlib over the
//! bundle's raw entries, the HEX converted back by `llvm-objcopy`, the UF2
//! parsed by a Python reader written here from the UF2 specification.
//!
//! Exit codes: a corpus too large for the partition is 3 (over budget, as
//! `build` and `verify` report it); a bundle without a store geometry is 1.

#[allow(dead_code)]
mod support;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use assetota_core::platform::StoreGeometry;
use assetota_core::store_image::{self, Expected, ImageError, StoreError};
use serde_json::Value;
use support::*;

const STORE_META: &str = r#"[package.metadata.assetota]
dir = "assets"
platform = "board"

[package.metadata.assetota.platforms.board]
kind = "assetota-store"
partition-size = "256 KiB"
partition-offset = "0x08040000"
erase-size = "4 KiB"
write-size = 4

# Too small for the assets.
[package.metadata.assetota.platforms.small]
kind = "assetota-store"
partition-size = "16 KiB"
partition-offset = "0x08040000"
erase-size = "4 KiB"
write-size = 4

# Another flash: 8 KiB erase blocks, 16-byte words; no address.
[package.metadata.assetota.platforms.other]
kind = "assetota-store"
partition-size = "512 KiB"
erase-size = "8 KiB"
write-size = 16

# Where the firmware is.
[package.metadata.assetota.platforms.clash]
kind = "assetota-store"
partition-size = "64 KiB"
partition-offset = "0x08000000"
erase-size = "4 KiB"
write-size = 4
"#;

struct Fixture {
    project: Project,
    bundle: PathBuf,
}

/// Thumb firmware for the `board` store platform: a flat image at
/// 0x0800_0000, the store partition at 0x0804_0000. Built once.
fn fixture() -> &'static Fixture {
    static FIXTURE: OnceLock<Fixture> = OnceLock::new();
    FIXTURE.get_or_init(|| {
        let p = Project::thumb("image_store_fixture", STORE_META).with_assets();
        p.write("assets/noise.bin", noise(40 << 10, 1));
        p.write("assets/sub/more.txt", "more text, more text\n".repeat(500));
        p.write("assets/empty", "");
        p.cli(&["build"]).success();
        let bundle = p.bundle(Some(THUMB), "debug");
        Fixture { project: p, bundle }
    })
}

fn manifest(bundle: &Path) -> Value {
    let entries = zip_entries(bundle);
    assert_eq!(entries[0].0, "manifest.json");
    serde_json::from_slice(&entries[0].1).unwrap()
}

/// SHA-256 and size of every asset entry of the bundle, by hashlib.
const HASH_ENTRIES: &str = r#"
import hashlib, json, sys, zipfile
z = zipfile.ZipFile(sys.argv[1])
m = json.loads(z.read("manifest.json"))
out = {}
for a in m["assets"]:
    raw = z.read(a["file"])
    out[a["name"]] = [hashlib.sha256(raw).hexdigest(), len(raw)]
print(json.dumps(out))
"#;

/// A UF2 reader from the specification (github.com/microsoft/uf2): checks
/// every block's magics, payload size, numbering and flags, and writes the
/// partition it describes (0xFF where no block is) to argv[2].
const UF2_READER: &str = r#"
import json, struct, sys
data = open(sys.argv[1], "rb").read()
base, size = int(sys.argv[3]), int(sys.argv[4])
assert len(data) % 512 == 0
blocks = [data[i:i + 512] for i in range(0, len(data), 512)]
image = bytearray(b"\xff" * size)
flags, families, outside = set(), set(), []
for n, b in enumerate(blocks):
    m0, m1, fl, addr, plen, no, count, fam = struct.unpack("<8I", b[:32])
    assert (m0, m1) == (0x0A324655, 0x9E5D5157), n
    assert struct.unpack("<I", b[508:])[0] == 0x0AB16F30, n
    assert plen == 256 and addr % 256 == 0, n
    assert no == n and count == len(blocks), n
    assert fl & 1 == 0, "not-main-flash block"
    flags.add(fl)
    families.add(fam if fl & 0x2000 else None)
    if base <= addr < base + size:
        image[addr - base:addr - base + 256] = b[32:288]
    else:
        outside.append([addr, b[32:288].hex()])
open(sys.argv[2], "wb").write(image)
print(json.dumps({"blocks": len(blocks), "flags": sorted(flags),
                  "families": sorted(f for f in families if f is not None),
                  "outside": outside}))
"#;

fn geometry_of(m: &Value) -> StoreGeometry {
    let s = &m["storage"]["store"];
    StoreGeometry {
        write_size: s["write_size"].as_u64().unwrap() as u32,
        erase_size: s["erase_size"].as_u64().unwrap() as u32,
        partition_size: s["partition_size"].as_u64().unwrap(),
        partition_offset: s["partition_offset"].as_u64(),
    }
}

fn unhex(s: &str) -> [u8; 32] {
    let v: Vec<u8> = (0..64)
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect();
    v.try_into().unwrap()
}

fn out_dir(name: &str) -> PathBuf {
    let dir = target_dir().join("image-tests").join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn image(dir: &Path, args: &[&str]) -> Run {
    cli_in(dir, &[&["image"], args].concat())
}

#[test]
fn the_bin_is_reproducible_and_every_asset_reads_back_through_the_store() {
    let f = fixture();
    let dir = out_dir("bin");
    let bundle = f.bundle.to_str().unwrap();
    let first = dir.join("a.bin");
    let run = image(&dir, &[bundle, "-o", first.to_str().unwrap(), "--json"]).success();
    let json = run.json();
    let m = manifest(&f.bundle);
    let total = m["total_storage_size"].as_u64().unwrap();
    let second = dir.join("b.bin");
    image(&dir, &[bundle, "-o", second.to_str().unwrap()])
        .success()
        .stderr_has(&format!(
            "store {} of 262,144 B used, 6 assets",
            assetota_core::bytesize::Bytes(total)
        ));
    let bytes = std::fs::read(&first).unwrap();
    assert!(
        bytes == std::fs::read(&second).unwrap(),
        "two images differ"
    );

    let g = geometry_of(&m);
    assert_eq!(bytes.len() as u64, g.partition_size);
    assert_eq!(json["format"], "bin");
    assert_eq!(json["partition_size"], g.partition_size);
    assert_eq!(json["partition_offset"], 0x0804_0000);
    assert_eq!(json["used"], m["total_storage_size"]);
    assert_eq!(json["assets"].as_array().unwrap().len(), 6);
    let used = json["used"].as_u64().unwrap();
    assert!(bytes[used as usize..].iter().all(|&b| b == 0xFF));

    // What hashlib says the bundle's raw entries are, and the manifest agrees.
    let hashes: BTreeMap<String, (String, u64)> =
        serde_json::from_str(&python(HASH_ENTRIES, &[bundle])).unwrap();
    assert_eq!(hashes.len(), 6);
    for a in m["assets"].as_array().unwrap() {
        let (sha, size) = &hashes[a["name"].as_str().unwrap()];
        assert_eq!(
            (a["sha256"].as_str().unwrap(), a["size"].as_u64().unwrap()),
            (sha.as_str(), *size)
        );
    }
    // The store crate mounts the image and reads back bytes with those hashes.
    let expected: Vec<Expected<'_>> = hashes
        .iter()
        .map(|(name, (sha, size))| Expected {
            name,
            size: *size,
            sha256: unhex(sha),
        })
        .collect();
    let report = store_image::check(&g, &bytes, &expected).unwrap();
    assert_eq!(report.used, used);
    assert_eq!(report.extents, 6);
    // A damaged copy is not accepted.
    let noise = json["assets"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["name"] == "noise.bin")
        .unwrap();
    assert_eq!(noise["codec"], "none");
    let mut damaged = bytes.clone();
    damaged[noise["offset"].as_u64().unwrap() as usize + 4096 + 100] ^= 1;
    assert!(store_image::check(&g, &damaged, &expected).is_err());
}

#[test]
fn an_image_for_another_geometry_is_refused_by_the_store() {
    let f = fixture();
    let dir = out_dir("geometry");
    let bundle = f.bundle.to_str().unwrap();
    let board = dir.join("board.bin");
    image(&dir, &[bundle, "-o", board.to_str().unwrap()]).success();
    // `--platform` of another geometry is allowed, and said.
    let other = dir.join("other.bin");
    let run = cli_in(
        f.project.path(),
        &[
            "image",
            bundle,
            "--platform",
            "other",
            "-o",
            other.to_str().unwrap(),
            "--json",
        ],
    )
    .success()
    .stderr_has("building for platform `other` (write size 16 B, erase size 8192 B");
    let json = run.json();
    assert_eq!(
        (json["erase_size"].as_u64(), json["write_size"].as_u64()),
        (Some(8192), Some(16))
    );
    assert_eq!(std::fs::metadata(&other).unwrap().len(), 512 << 10);

    let expected: Vec<Expected<'_>> = Vec::new();
    let geometry_other = StoreGeometry {
        write_size: 16,
        erase_size: 8192,
        partition_size: 256 << 10,
        partition_offset: None,
    };
    let err = store_image::check(&geometry_other, &std::fs::read(&board).unwrap(), &expected)
        .unwrap_err();
    assert!(
        matches!(
            err,
            ImageError::Mount {
                source: StoreError::ForeignLayout {
                    block_size: 4096,
                    word: 8,
                    ..
                }
            }
        ),
        "{err:?}"
    );
    let geometry_board = geometry_of(&manifest(&f.bundle));
    let err = store_image::check(
        &StoreGeometry {
            partition_size: 512 << 10,
            ..geometry_board
        },
        &std::fs::read(&other).unwrap(),
        &expected,
    )
    .unwrap_err();
    assert!(
        matches!(
            err,
            ImageError::Mount {
                source: StoreError::ForeignLayout {
                    block_size: 8192,
                    word: 16,
                    ..
                }
            }
        ),
        "{err:?}"
    );
}

#[test]
fn the_hex_converts_back_to_the_bin_at_the_partition_address() {
    let f = fixture();
    let dir = out_dir("hex");
    let bundle = f.bundle.to_str().unwrap();
    let bin = dir.join("s.bin");
    image(&dir, &[bundle, "-o", bin.to_str().unwrap()]).success();
    let bin = std::fs::read(bin).unwrap();
    let hex = dir.join("s.hex");
    image(
        &dir,
        &[bundle, "-o", hex.to_str().unwrap(), "--format", "hex"],
    )
    .success()
    .stderr_has("partition at 0x8040000");
    let text = std::fs::read_to_string(&hex).unwrap();
    // 16 data bytes per record, extended linear address records.
    assert!(text.starts_with(":020000040804EE\r\n"), "{}", &text[..40]);
    assert!(
        text.lines()
            .filter(|l| &l[7..9] == "00")
            .all(|l| &l[1..3] == "10")
    );
    let back = objcopy_hex(&hex, &dir.join("back.bin"));
    assert!(back == bin, "llvm-objcopy reads other bytes back");

    // With the firmware: both at their addresses, the gap between left out.
    let merged = dir.join("merged.hex");
    image(
        &dir,
        &[
            bundle,
            "-o",
            merged.to_str().unwrap(),
            "--format",
            "hex",
            "--firmware",
        ],
    )
    .success()
    .stderr_has("firmware `image_store_fixture.bin`");
    let flat = zip_entries(&f.bundle)
        .into_iter()
        .find(|(n, _)| n == "image_store_fixture.bin")
        .unwrap()
        .1;
    let m = manifest(&f.bundle);
    assert_eq!(m["firmware"]["load_address"], 0x0800_0000);
    let back = objcopy_hex(&merged, &dir.join("merged.bin"));
    // objcopy's binary output starts at the lowest address and fills gaps with 0.
    assert_eq!(back.len(), 0x40000 + bin.len());
    assert!(back[..flat.len()] == flat[..], "the firmware");
    assert!(back[flat.len()..0x40000].iter().all(|&b| b == 0));
    assert!(back[0x40000..] == bin[..], "the partition");

    // Erased records left out on request: fewer records, the same bytes.
    let sparse = dir.join("sparse.hex");
    image(
        &dir,
        &[
            bundle,
            "-o",
            sparse.to_str().unwrap(),
            "--format",
            "hex",
            "--skip-erased",
        ],
    )
    .success()
    .stderr_has("program it only with a tool that erases");
    let back = objcopy_hex(&sparse, &dir.join("sparse.bin"));
    // objcopy fills what no record covers with 0: those are the erased records.
    assert!(back.len() < bin.len());
    for (i, (got, want)) in back.chunks(16).zip(bin.chunks(16)).enumerate() {
        if want.iter().all(|&b| b == 0xFF) {
            assert!(got.iter().all(|&b| b == 0), "record {i} was written");
        } else {
            assert_eq!(got, want, "record {i}");
        }
    }
    assert!(bin[back.len()..].iter().all(|&b| b == 0xFF));
}

fn objcopy_hex(hex: &Path, out: &Path) -> Vec<u8> {
    let status = Command::new("llvm-objcopy")
        .args(["-I", "ihex", "-O", "binary"])
        .arg(hex)
        .arg(out)
        .status()
        .expect("llvm-objcopy runs (install llvm)");
    assert!(status.success());
    std::fs::read(out).unwrap()
}

#[test]
fn the_uf2_parses_to_the_bin() {
    let f = fixture();
    let dir = out_dir("uf2");
    let bundle = f.bundle.to_str().unwrap();
    let bin = dir.join("s.bin");
    image(&dir, &[bundle, "-o", bin.to_str().unwrap()]).success();
    let bin = std::fs::read(bin).unwrap();
    let base = 0x0804_0000u64.to_string();
    let size = bin.len().to_string();
    for (extra, full) in [
        (&[][..], true),
        (&["--family-id", "0xE48BFF56", "--skip-erased"][..], false),
    ] {
        let uf2 = dir.join("s.uf2");
        let args = [
            &[bundle, "-o", uf2.to_str().unwrap(), "--format", "uf2"][..],
            extra,
        ]
        .concat();
        image(&dir, &args).success();
        let parsed = dir.join("parsed.bin");
        let report: Value = serde_json::from_str(&python(
            UF2_READER,
            &[
                uf2.to_str().unwrap(),
                parsed.to_str().unwrap(),
                &base,
                &size,
            ],
        ))
        .unwrap();
        assert!(std::fs::read(&parsed).unwrap() == bin, "{extra:?}");
        assert_eq!(report["outside"], serde_json::json!([]));
        if full {
            assert_eq!(report["blocks"], bin.len() / 256);
            assert_eq!(report["flags"], serde_json::json!([0]));
        } else {
            let used = bin
                .chunks(256)
                .filter(|c| c.iter().any(|&b| b != 0xFF))
                .count();
            assert_eq!(report["blocks"], used);
            assert_eq!(report["flags"], serde_json::json!([0x2000]));
            assert_eq!(report["families"], serde_json::json!([0xE48B_FF56u32]));
        }
    }
    // With the firmware: its blocks at 0x0800_0000, outside the partition.
    let uf2 = dir.join("fw.uf2");
    image(
        &dir,
        &[
            bundle,
            "-o",
            uf2.to_str().unwrap(),
            "--format",
            "uf2",
            "--firmware",
        ],
    )
    .success();
    let report: Value = serde_json::from_str(&python(
        UF2_READER,
        &[
            uf2.to_str().unwrap(),
            dir.join("p.bin").to_str().unwrap(),
            &base,
            &size,
        ],
    ))
    .unwrap();
    let flat = zip_entries(&f.bundle)
        .into_iter()
        .find(|(n, _)| n == "image_store_fixture.bin")
        .unwrap()
        .1;
    let outside = report["outside"].as_array().unwrap();
    assert_eq!(outside.len(), flat.len().div_ceil(256));
    let mut fw = Vec::new();
    for (i, block) in outside.iter().enumerate() {
        assert_eq!(block[0], 0x0800_0000 + 256 * i as u64);
        let hex = block[1].as_str().unwrap();
        fw.extend(
            (0..hex.len())
                .step_by(2)
                .map(|j| u8::from_str_radix(&hex[j..j + 2], 16).unwrap()),
        );
    }
    assert!(fw[..flat.len()] == flat[..]);
    assert!(
        fw[flat.len()..].iter().all(|&b| b == 0xFF),
        "padded with erased bytes"
    );
}

#[test]
fn a_corpus_too_large_for_the_partition_is_over_budget_with_the_numbers() {
    let f = fixture();
    let dir = out_dir("small");
    let out = dir.join("small.bin");
    std::fs::write(&out, b"previous").unwrap();
    let total = manifest(&f.bundle)["total_storage_size"].as_u64().unwrap();
    let run = cli_in(
        f.project.path(),
        &[
            "image",
            f.bundle.to_str().unwrap(),
            "--platform",
            "small",
            "-o",
            out.to_str().unwrap(),
        ],
    )
    .failure(3)
    .stderr_has("in the 16384-byte store partition")
    .stderr_has(&format!(
        "all the assets need {total} B, {} B more",
        total - 16384
    ));
    assert!(run.stderr.contains("no room for `"), "{}", run.stderr);
    assert_eq!(std::fs::read(&out).unwrap(), b"previous", "nothing written");
}

#[test]
fn a_bundle_without_a_store_names_the_fix() {
    let p = Project::host("image_no_store_fixture", META_P2).with_assets();
    p.cli(&["build"]).success();
    let dir = out_dir("nostore");
    let out = dir.join("x.bin");
    let bundle = p.bundle(None, "debug");
    image(
        &dir,
        &[bundle.to_str().unwrap(), "-o", out.to_str().unwrap()],
    )
    .failure(1)
    .stderr_has("its platform `p2` is not of kind \"assetota-store\"")
    .stderr_has("--platform NAME");
    assert!(!out.exists());
    // A platform that is not a store's is refused by name.
    cli_in(
        p.path(),
        &[
            "image",
            bundle.to_str().unwrap(),
            "--platform",
            "p2",
            "-o",
            out.to_str().unwrap(),
        ],
    )
    .failure(1)
    .stderr_has("platform `p2` is of kind \"particle\"");
}

#[test]
fn addresses_are_required_checked_and_never_overlap() {
    let f = fixture();
    let dir = out_dir("address");
    let bundle = f.bundle.to_str().unwrap();
    let out = dir.join("x.hex");
    let o = out.to_str().unwrap();
    // `other` has no partition-offset: a hex needs one.
    cli_in(
        f.project.path(),
        &[
            "image",
            bundle,
            "--platform",
            "other",
            "-o",
            o,
            "--format",
            "hex",
        ],
    )
    .failure(1)
    .stderr_has("sets no `partition-offset`")
    .stderr_has("--address");
    cli_in(
        f.project.path(),
        &[
            "image",
            bundle,
            "--platform",
            "other",
            "-o",
            o,
            "--format",
            "hex",
            "--address",
            "0x200000",
        ],
    )
    .success()
    .stderr_has("partition at 0x200000");
    // The store where the firmware is.
    cli_in(
        f.project.path(),
        &[
            "image",
            bundle,
            "--platform",
            "clash",
            "-o",
            o,
            "--format",
            "uf2",
            "--firmware",
        ],
    )
    .failure(1)
    .stderr_has("overlap");
    // Flags that do not go with bin.
    for extra in [
        &["--firmware"][..],
        &["--address", "0"],
        &["--family-id", "1"],
    ] {
        let args = [&[bundle, "-o", o][..], extra].concat();
        image(&dir, &args).failure(2);
    }
}
