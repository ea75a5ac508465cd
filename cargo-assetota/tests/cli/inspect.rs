//! `inspect` on every kind of input, and every kind of bad input.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::support::*;

/// Builds a host project once per test and returns it with its ELF.
fn built(name: &str) -> (Project, PathBuf) {
    let p = Project::host(name, META_P2).with_assets();
    p.cli(&["build"]).success();
    let elf = p.exe(None, "debug");
    (p, elf)
}

fn objcopy(args: &[&str], input: &Path, output: &Path) {
    let status = Command::new("llvm-objcopy")
        .args(args)
        .arg(input)
        .arg(output)
        .status()
        .unwrap();
    assert!(status.success(), "llvm-objcopy {args:?} failed");
}

/// Masks what changes with the toolchain: offsets and load addresses.
fn mask_offsets(text: &str) -> String {
    text.lines()
        .map(
            |l| match (l.find(" at offset "), l.find(" ("), l.find(')')) {
                (Some(i), Some(open), Some(close)) if l.trim_start().starts_with("manifest:") => {
                    let load = if l.contains("load address") {
                        ", load address [ADDR]"
                    } else {
                        ""
                    };
                    format!(
                        "{} at offset [OFFSET] {}{load}",
                        &l[..i],
                        &l[open + 1..=close]
                    )
                }
                _ => l.to_owned(),
            },
        )
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn inspect_reads_an_elf_a_flat_image_and_a_bundle() {
    let (p, elf) = built("cli_inspect");
    let human = p.cli(&["inspect", elf.to_str().unwrap()]).success();
    insta::assert_snapshot!("inspect_elf", mask_offsets(&p.redact(&human.stdout)));

    let json = p
        .cli(&["inspect", "--json", elf.to_str().unwrap()])
        .success()
        .json();
    assert_eq!(json["kind"], "elf");
    assert_eq!(json["manifest"]["found_by"], "section .assetota");
    assert_eq!(json["manifest"]["platform"], "p2");
    let off = json["manifest"]["offset"].as_u64().unwrap() as usize;
    let bytes = std::fs::read(&elf).unwrap();
    assert_eq!(&bytes[off..off + 4], b"AOTA");

    // A flat image: the ELF's bytes at some offset in a blob.
    let mut flat = vec![0xFFu8; 100];
    flat.extend_from_slice(&bytes[off..off + json["manifest"]["size"].as_u64().unwrap() as usize]);
    flat.extend_from_slice(&[0u8; 50]);
    p.write("image.bin", &flat);
    let flat_json = p.cli(&["inspect", "--json", "image.bin"]).success().json();
    assert_eq!(flat_json["kind"], "flat");
    assert_eq!(flat_json["manifest"]["offset"], 100);
    assert_eq!(flat_json["manifest"]["assets"], json["manifest"]["assets"]);

    let bundle = p.bundle(None, "debug");
    let b = p
        .cli(&["inspect", "--json", bundle.to_str().unwrap()])
        .success()
        .json();
    assert_eq!(b["kind"], "bundle");
    assert_eq!(b["bundle"]["package"]["name"], "cli_inspect");
    assert_eq!(b["manifest"]["assets"], json["manifest"]["assets"]);
    let human = p.cli(&["inspect", bundle.to_str().unwrap()]).success();
    assert!(
        human.stdout.contains("package:   cli_inspect 0.1.0"),
        "{}",
        human.stdout
    );
}

#[test]
fn stripped_and_renamed_sections_are_still_found() {
    let (p, elf) = built("cli_inspect_strip");
    let stripped = p.path().join("stripped");
    objcopy(&["--strip-all"], &elf, &stripped);
    let json = p
        .cli(&["inspect", "--json", stripped.to_str().unwrap()])
        .success()
        .json();
    assert_eq!(
        json["manifest"]["found_by"], "section .assetota",
        "strip keeps allocated sections"
    );

    // A linker script that renamed the section: the symbol still leads to it.
    let renamed = p.path().join("renamed");
    objcopy(
        &["--rename-section", ".assetota=.rodata.moved"],
        &elf,
        &renamed,
    );
    let json = p
        .cli(&["inspect", "--json", renamed.to_str().unwrap()])
        .success()
        .json();
    assert_eq!(
        json["manifest"]["found_by"],
        "symbol __ASSETOTA_MANIFEST in section .rodata.moved"
    );
    assert_eq!(json["manifest"]["assets"].as_array().unwrap().len(), 3);

    // Renamed and stripped: nothing left to find it by.
    let both = p.path().join("both");
    objcopy(&["--strip-all"], &renamed, &both);
    p.cli(&["inspect", both.to_str().unwrap()])
        .failure(1)
        .stderr_has("no `.assetota` section and no `__ASSETOTA_MANIFEST` symbol; its symbol table was stripped")
        .stderr_has("KEEP(*(.assetota))");
}

#[test]
fn bad_inputs_get_clear_errors() {
    let (p, elf) = built("cli_inspect_bad");
    // Not an ELF (nor an image, nor a bundle).
    p.cli(&["inspect", "Cargo.toml"]).failure(1).stderr_has(
        "is not an ELF file, a flat firmware image with an assetota manifest, or a bundle",
    );
    p.cli(&["bundle", "Cargo.toml", "--assets", "assets"])
        .failure(1)
        .stderr_has("is not an ELF file");
    let missing = p
        .cli(&["inspect", "missing.elf"])
        .failure(1)
        .stderr_has("cannot read `missing.elf`");
    // The I/O cause is in the message; miette's cause chain does not repeat it.
    assert_eq!(
        missing.stderr.matches("No such file or directory").count(),
        1,
        "{}",
        missing.stderr
    );

    // Truncated ELF.
    let bytes = std::fs::read(&elf).unwrap();
    p.write("truncated", &bytes[..bytes.len() / 3]);
    p.cli(&["inspect", "truncated"])
        .failure(1)
        .stderr_has("truncated or malformed ELF");
    p.write("header-only", &bytes[..40]);
    p.cli(&["inspect", "header-only"])
        .failure(1)
        .stderr_has("truncated or malformed ELF");

    // Manifest CRC failure: one flipped bit inside the manifest.
    let json = p
        .cli(&["inspect", "--json", elf.to_str().unwrap()])
        .success()
        .json();
    let off = json["manifest"]["offset"].as_u64().unwrap() as usize;
    let mut corrupt = bytes.clone();
    corrupt[off + 40] ^= 0x01;
    p.write("corrupt", &corrupt);
    p.cli(&["inspect", "corrupt"])
        .failure(4)
        .stderr_has("is corrupted: manifest CRC-32 mismatch")
        .stderr_has("section .assetota");

    // A manifest from a newer format.
    let mut newer = bytes.clone();
    newer[off + 4] = 2;
    p.write("newer", &newer);
    p.cli(&["inspect", "newer"])
        .failure(1)
        .stderr_has("format v2, newer than this cargo-assetota reads (v1)")
        .stderr_has("cargo install cargo-assetota");

    // The same corruption in a flat image is found by its magic.
    let mut flat = vec![0u8; 16];
    flat.extend_from_slice(
        &corrupt[off..off + json["manifest"]["size"].as_u64().unwrap() as usize],
    );
    p.write("corrupt.bin", &flat);
    p.cli(&["inspect", "corrupt.bin"])
        .failure(4)
        .stderr_has("CRC-32 mismatch")
        .stderr_has("magic at offset 0x10");
}

#[test]
fn a_bundle_in_a_newer_format_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let json = br#"{"format": 2, "something": "new"}"#;
    let mut zip = RawZip::new();
    zip.add(RawEntry {
        name: b"manifest.json",
        data: json,
        declared: None,
        unix_mode: 0o100644,
    });
    std::fs::write(tmp.path().join("new.assetota.zip"), zip.finish()).unwrap();
    for cmd in ["verify", "inspect"] {
        cli_in(tmp.path(), &[cmd, "new.assetota.zip"])
            .failure(1)
            .stderr_has("is a bundle in format v2, newer than this cargo-assetota reads (v1)")
            .stderr_has("update cargo-assetota");
    }
}
