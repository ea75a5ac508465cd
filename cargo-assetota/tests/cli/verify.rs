//! `verify`: what it accepts, and every way a bundle is refused.

use std::path::{Path, PathBuf};

use crate::support::*;

fn built(name: &str, meta: &str) -> (Project, PathBuf) {
    let p = Project::host(name, meta).with_assets();
    p.cli(&["build"]).success();
    let bundle = p.bundle(None, "debug");
    (p, bundle)
}

/// Rewrites a bundle with `edit` applied to its entries, as stored entries.
fn rewrite(
    entries: &[(String, Vec<u8>)],
    edit: impl Fn(&str, &[u8]) -> Option<Vec<u8>>,
) -> Vec<u8> {
    let mut zip = RawZip::new();
    let edited: Vec<(String, Vec<u8>)> = entries
        .iter()
        .filter_map(|(n, d)| edit(n, d).map(|d| (n.clone(), d)))
        .collect();
    for (name, data) in &edited {
        zip.add(RawEntry {
            name: name.as_bytes(),
            data,
            declared: None,
            unix_mode: 0o100644,
        });
    }
    zip.finish()
}

fn verify(p: &Project, bundle: &Path) -> Run {
    p.cli(&["verify", bundle.to_str().unwrap()])
}

#[test]
fn a_built_bundle_verifies_and_json_says_so() {
    let (p, bundle) = built("cli_verify_ok", META_P2);
    let run = verify(&p, &bundle).success();
    assert!(run.stderr.contains("Verified"), "{}", run.stderr);
    assert!(run.stderr.contains("fits `p2`"), "{}", run.stderr);
    let json = p
        .cli(&["verify", "--json", bundle.to_str().unwrap()])
        .success()
        .json();
    assert_eq!(json["ok"], true);
    assert_eq!(json["problems"].as_array().unwrap().len(), 0);
    // Re-stored (no deflate) with identical contents: still valid.
    let entries = zip_entries(&bundle);
    p.write("restored.zip", rewrite(&entries, |_, d| Some(d.to_vec())));
    verify(&p, &p.path().join("restored.zip")).success();
}

#[test]
fn tampering_fails_with_exit_4_naming_the_entry() {
    let (p, bundle) = built("cli_verify_tamper", META_P2);
    let entries = zip_entries(&bundle);

    // An asset's bytes changed, size kept.
    p.write(
        "asset.zip",
        rewrite(&entries, |n, d| {
            let mut d = d.to_vec();
            if n == "assets/text.txt" {
                d[0] ^= 0x20;
            }
            Some(d)
        }),
    );
    verify(&p, &p.path().join("asset.zip"))
        .failure(4)
        .stderr_has("`assets/text.txt`: sha256");

    // The firmware changed outside the manifest.
    p.write(
        "firmware.zip",
        rewrite(&entries, |n, d| {
            let mut d = d.to_vec();
            if n.ends_with(".elf") {
                let last = d.len() - 1;
                d[last] ^= 0xFF;
            }
            Some(d)
        }),
    );
    verify(&p, &p.path().join("firmware.zip"))
        .failure(4)
        .stderr_has("`cli_verify_tamper.elf`: sha256");

    // An asset replaced and manifest.json updated to match: the firmware's
    // embedded manifest still disagrees.
    let new_text = b"replaced\n".to_vec();
    let new_sha = {
        use std::fmt::Write;
        let digest = <sha2::Sha256 as sha2::Digest>::digest(&new_text);
        digest.iter().fold(String::new(), |mut s, b| {
            let _ = write!(s, "{b:02x}");
            s
        })
    };
    let mut manifest: serde_json::Value = serde_json::from_slice(&entries[0].1).unwrap();
    for a in manifest["assets"].as_array_mut().unwrap() {
        if a["name"] == "text.txt" {
            a["sha256"] = new_sha.clone().into();
            a["size"] = new_text.len().into();
        }
    }
    let manifest = serde_json::to_vec(&manifest).unwrap();
    p.write(
        "swapped.zip",
        rewrite(&entries, |n, d| match n {
            "manifest.json" => Some(manifest.clone()),
            "assets/text.txt" => Some(new_text.clone()),
            _ => Some(d.to_vec()),
        }),
    );
    verify(&p, &p.path().join("swapped.zip"))
        .failure(4)
        .stderr_has("`text.txt`: the manifest embedded in `cli_verify_tamper.elf` and manifest.json disagree");

    // An asset missing.
    p.write(
        "missing.zip",
        rewrite(&entries, |n, d| {
            (n != "assets/config.json").then(|| d.to_vec())
        }),
    );
    verify(&p, &p.path().join("missing.zip"))
        .failure(4)
        .stderr_has("`assets/config.json`: listed in manifest.json but missing");
}

#[test]
fn hostile_zips_are_refused_without_writing_anything() {
    let (_p, bundle) = built("cli_verify_hostile", META);
    let entries = zip_entries(&bundle);
    let dir = tempfile::tempdir().unwrap();
    let check = |label: &str, bytes: Vec<u8>, entry: &str, reason: &str| {
        let path = dir.path().join(format!("{label}.zip"));
        std::fs::write(&path, bytes).unwrap();
        let before = listing(dir.path());
        let run = cli_in(
            dir.path(),
            &["verify", path.file_name().unwrap().to_str().unwrap()],
        )
        .failure(4);
        assert!(
            run.stderr.contains(&format!("entry `{entry}`")),
            "{label}: {}",
            run.stderr
        );
        assert!(
            run.stderr.contains(reason),
            "{label}: wants {reason:?}: {}",
            run.stderr
        );
        assert_eq!(listing(dir.path()), before, "{label}: verify wrote files");
        assert!(!dir.path().parent().unwrap().join("evil.txt").exists());
    };
    let with_extra = |name: &[u8], data: &[u8], mode: u32, declared: Option<u32>| {
        let mut zip = RawZip::new();
        for (n, d) in &entries {
            zip.add(RawEntry {
                name: n.as_bytes(),
                data: d,
                declared: None,
                unix_mode: 0o100644,
            });
        }
        zip.add(RawEntry {
            name,
            data,
            declared,
            unix_mode: mode,
        });
        zip.finish()
    };
    check(
        "traversal",
        with_extra(b"../evil.txt", b"x", 0o100644, None),
        "../evil.txt",
        "path traversal",
    );
    check(
        "nested-traversal",
        with_extra(b"assets/../../evil.txt", b"x", 0o100644, None),
        "assets/../../evil.txt",
        "path traversal",
    );
    check(
        "absolute",
        with_extra(b"/tmp/evil.txt", b"x", 0o100644, None),
        "/tmp/evil.txt",
        "absolute path",
    );
    check(
        "backslash",
        with_extra(b"assets\\..\\evil.txt", b"x", 0o100644, None),
        "assets\\..\\evil.txt",
        "backslash",
    );
    check(
        "unlisted",
        with_extra(b"extra.txt", b"x", 0o100644, None),
        "extra.txt",
        "is not listed in manifest.json",
    );
    check(
        "bomb-declared",
        with_extra(b"assets/big.bin", b"x", 0o100644, Some(1 << 30)),
        "assets/big.bin",
        "decompression bomb",
    );

    // A symlink in place of an asset.
    let mut zip = RawZip::new();
    for (n, d) in &entries {
        let mode = if n == "assets/config.json" {
            0o120777
        } else {
            0o100644
        };
        let data: &[u8] = if mode == 0o120777 { b"/etc/passwd" } else { d };
        zip.add(RawEntry {
            name: n.as_bytes(),
            data,
            declared: None,
            unix_mode: mode,
        });
    }
    check(
        "symlink",
        zip.finish(),
        "assets/config.json",
        "symbolic link",
    );

    // The same name twice.
    let mut zip = RawZip::new();
    for (n, d) in &entries {
        zip.add(RawEntry {
            name: n.as_bytes(),
            data: d,
            declared: None,
            unix_mode: 0o100644,
        });
    }
    zip.add(RawEntry {
        name: b"assets/text.txt",
        data: b"second copy",
        declared: None,
        unix_mode: 0o100644,
    });
    check(
        "duplicate",
        zip.finish(),
        "assets/text.txt",
        "appears more than once",
    );

    // Data longer than manifest.json lists: read through a size-limited reader.
    let mut manifest: serde_json::Value = serde_json::from_slice(&entries[0].1).unwrap();
    for a in manifest["assets"].as_array_mut().unwrap() {
        if a["name"] == "logo.bin" {
            a["size"] = 10.into();
        }
    }
    let manifest = serde_json::to_vec(&manifest).unwrap();
    let mut zip = RawZip::new();
    for (n, d) in &entries {
        let data: &[u8] = if n == "manifest.json" { &manifest } else { d };
        zip.add(RawEntry {
            name: n.as_bytes(),
            data,
            declared: None,
            unix_mode: 0o100644,
        });
    }
    check(
        "longer-than-listed",
        zip.finish(),
        "assets/logo.bin",
        "decompresses to more than",
    );

    // A real deflate bomb: 300 MiB of zeros, past the per-entry cap.
    let mut bomb = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated)
        .large_file(true);
    bomb.start_file("manifest.json", options).unwrap();
    std::io::Write::write_all(&mut bomb, &entries[0].1).unwrap();
    bomb.start_file("assets/zeros.bin", options).unwrap();
    let chunk = vec![0u8; 1 << 20];
    for _ in 0..300 {
        std::io::Write::write_all(&mut bomb, &chunk).unwrap();
    }
    let bytes = bomb.finish().unwrap().into_inner();
    assert!(bytes.len() < 1 << 20, "the bomb is small on disk");
    check(
        "bomb-deflate",
        bytes,
        "assets/zeros.bin",
        "decompression bomb",
    );
}

#[test]
fn budget_and_recompression_are_rechecked() {
    let (p, bundle) = built("cli_verify_budget", META_P2);
    let entries = zip_entries(&bundle);
    let edit_manifest = |f: &dyn Fn(&mut serde_json::Value)| {
        let mut m: serde_json::Value = serde_json::from_slice(&entries[0].1).unwrap();
        f(&mut m);
        let m = serde_json::to_vec(&m).unwrap();
        let mut zip = RawZip::new();
        for (n, d) in &entries {
            let data: &[u8] = if n == "manifest.json" { &m } else { d };
            zip.add(RawEntry {
                name: n.as_bytes(),
                data,
                declared: None,
                unix_mode: 0o100644,
            });
        }
        zip.finish()
    };
    // A smaller total limit than the assets need: intact but over budget, exit 3.
    p.write(
        "tight.zip",
        edit_manifest(&|m| m["storage"]["limit_total"] = 8192.into()),
    );
    verify(&p, &p.path().join("tight.zip"))
        .failure(3)
        .stderr_has("over the total limit of 8,192 B");
    // A compressed size that the bytes do not compress to.
    p.write(
        "sizes.zip",
        edit_manifest(&|m| {
            for a in m["assets"].as_array_mut().unwrap() {
                if a["name"] == "config.json" {
                    a["compressed_size"] = 1.into();
                }
            }
        }),
    );
    verify(&p, &p.path().join("sizes.zip"))
        .failure(4)
        .stderr_has("`assets/config.json`: compresses to");
    // --platform checks another platform's limits.
    verify(&p, &p.path().join("tight.zip")).failure(3);
    p.cli(&["verify", "--platform", "argon", bundle.to_str().unwrap()])
        .success();
}

/// `manifest.json` of `entries` edited by `f`, the other entries as they are.
fn with_manifest(entries: &[(String, Vec<u8>)], f: &dyn Fn(&mut serde_json::Value)) -> Vec<u8> {
    let mut m: serde_json::Value = serde_json::from_slice(&entries[0].1).unwrap();
    f(&mut m);
    let m = serde_json::to_vec(&m).unwrap();
    rewrite(entries, |n, d| {
        Some(if n == "manifest.json" {
            m.clone()
        } else {
            d.to_vec()
        })
    })
}

#[test]
fn a_store_bundle_records_each_codec_and_the_geometry_and_verifies() {
    let p = Project::host("cli_verify_store", crate::size::META_STORE).with_assets();
    p.write("assets/noise.bin", crate::size::store_noise());
    p.cli(&["build"]).success();
    let bundle = p.bundle(None, "debug");
    verify(&p, &bundle).success();

    let entries = zip_entries(&bundle);
    let m: serde_json::Value = serde_json::from_slice(&entries[0].1).unwrap();
    assert_eq!(
        m["storage"]["store"],
        serde_json::json!({
            "write_size": 4,
            "erase_size": 262_144,
            "partition_size": 33_554_432,
            "partition_offset": 0x2200_0000u64,
        })
    );
    let codec_of = |name: &str| {
        m["assets"]
            .as_array()
            .unwrap()
            .iter()
            .find(|a| a["name"] == name)
            .unwrap()["codec"]
            .clone()
    };
    assert_eq!(codec_of("noise.bin"), serde_json::json!({"kind": "none"}));
    assert_eq!(codec_of("config.json"), serde_json::json!({"kind": "none"}));
    assert_eq!(
        codec_of("text.txt"),
        serde_json::json!({"kind": "deflate", "level": 6, "window_bits": 12})
    );

    // The firmware's embedded manifest says the same, entry by entry.
    let firmware = &entries
        .iter()
        .find(|(n, _)| *n == m["firmware"]["file"])
        .unwrap()
        .1;
    let offset = m["firmware"]["manifest_offset"].as_u64().unwrap() as usize;
    let len = m["firmware"]["manifest_size"].as_u64().unwrap() as usize;
    let embedded = assetota::Manifest::parse(&firmware[offset..offset + len]).unwrap();
    assert_eq!(embedded.platform(), Some("virt-store"));
    let noise = embedded.get("noise.bin").unwrap();
    assert_eq!(noise.codec(), assetota::Codec::None);
    assert_eq!(noise.compressed_size(), noise.size());
    assert_eq!(noise.stored_size(), noise.size() + 104);
    assert_eq!(
        embedded.get("text.txt").unwrap().codec(),
        assetota::Codec::Deflate { window_bits: 12 }
    );

    // Claiming deflate for an asset stored raw is caught twice: the bytes do
    // not deflate to that size, the firmware's manifest says none.
    p.write(
        "liar.zip",
        with_manifest(&entries, &|m| {
            for a in m["assets"].as_array_mut().unwrap() {
                if a["name"] == "noise.bin" {
                    a["codec"] =
                        serde_json::json!({"kind": "deflate", "level": 6, "window_bits": 12});
                }
            }
        }),
    );
    verify(&p, &p.path().join("liar.zip"))
        .failure(4)
        .stderr_has("`assets/noise.bin`: compresses to")
        .stderr_has("codec none vs deflate");
    // A geometry that does not give the recorded block model.
    p.write(
        "geometry.zip",
        with_manifest(&entries, &|m| {
            m["storage"]["store"]["erase_size"] = 4096.into();
        }),
    );
    verify(&p, &p.path().join("geometry.zip"))
        .failure(4)
        .stderr_has("is not what the store geometry gives");
}

#[test]
fn bundles_without_per_asset_codecs_still_verify() {
    // What earlier versions wrote: no `codec` per asset, so the bundle's applies.
    let (p, bundle) = built("cli_verify_old_bundle", META_P2);
    let entries = zip_entries(&bundle);
    p.write(
        "old.zip",
        with_manifest(&entries, &|m| {
            for a in m["assets"].as_array_mut().unwrap() {
                a.as_object_mut().unwrap().remove("codec");
            }
            assert!(m["storage"].get("store").is_none());
        }),
    );
    verify(&p, &p.path().join("old.zip")).success();
}
