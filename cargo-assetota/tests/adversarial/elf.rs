//! Hostile firmware: truncated and corrupt ELFs, a manifest section of the
//! wrong size, a manifest whose CRC fails, a manifest from a future format.
//! Each through `inspect`, `bundle FIRMWARE --assets DIR`, `build` (the
//! artifact cargo considers fresh is replaced) and, inside a bundle, `verify`.
//! The firmware is bare-metal, so `build` and `bundle` also make flat images.

use std::path::PathBuf;

use crate::harness::*;
use crate::support::*;

/// A section header of a little-endian ELF32 or ELF64 file.
#[derive(Debug, Clone, Copy)]
struct Section {
    /// Where the header is in the file.
    at: usize,
    class64: bool,
    offset: u64,
}

fn le(bytes: &[u8], at: usize, n: usize) -> u64 {
    let mut v = 0u64;
    for i in (0..n).rev() {
        v = (v << 8) | u64::from(bytes[at + i]);
    }
    v
}

fn put(bytes: &mut [u8], at: usize, n: usize, v: u64) {
    for i in 0..n {
        bytes[at + i] = (v >> (8 * i)) as u8;
    }
}

fn section(elf: &[u8], name: &str) -> Section {
    let class64 = elf[4] == 2;
    let (shoff, shentsize, shnum, shstrndx) = if class64 {
        (
            le(elf, 0x28, 8),
            le(elf, 0x3A, 2),
            le(elf, 0x3C, 2),
            le(elf, 0x3E, 2),
        )
    } else {
        (
            le(elf, 0x20, 4),
            le(elf, 0x2E, 2),
            le(elf, 0x30, 2),
            le(elf, 0x32, 2),
        )
    };
    let header = |i: u64| {
        let at = (shoff + i * shentsize) as usize;
        let offset = if class64 {
            le(elf, at + 24, 8)
        } else {
            le(elf, at + 16, 4)
        };
        Section {
            at,
            class64,
            offset,
        }
    };
    let strtab = header(shstrndx);
    for i in 0..shnum {
        let s = header(i);
        let name_at = (strtab.offset + le(elf, s.at, 4)) as usize;
        let end = elf[name_at..].iter().position(|&b| b == 0).unwrap();
        if &elf[name_at..name_at + end] == name.as_bytes() {
            return s;
        }
    }
    panic!("no section {name}");
}

impl Section {
    fn set_size(&self, elf: &mut [u8], size: u64) {
        if self.class64 {
            put(elf, self.at + 32, 8, size);
        } else {
            put(elf, self.at + 20, 4, size);
        }
    }
    fn set_offset(&self, elf: &mut [u8], offset: u64) {
        if self.class64 {
            put(elf, self.at + 24, 8, offset);
        } else {
            put(elf, self.at + 16, 4, offset);
        }
    }
    fn set_type(&self, elf: &mut [u8], sh_type: u32) {
        put(elf, self.at + 4, 4, u64::from(sh_type));
    }
}

fn crc32(data: &[u8]) -> u32 {
    let mut h = flate2::Crc::new();
    h.update(data);
    h.sum()
}

struct Fixture {
    p: Project,
    exe: PathBuf,
    original: Vec<u8>,
    work: tempfile::TempDir,
}

impl Fixture {
    fn new(name: &str) -> Fixture {
        let p = Project::thumb(name, META_P2).with_assets();
        ok(cli(p.path(), &["build"]));
        let exe = p.exe(Some(THUMB), "debug");
        Fixture {
            original: std::fs::read(&exe).unwrap(),
            exe,
            p,
            work: tempfile::tempdir().unwrap(),
        }
    }

    /// Where the manifest is, and how long.
    fn manifest_at(&self) -> (usize, usize) {
        let s = section(&self.original, ".assetota");
        (
            s.offset as usize,
            le(&self.original, s.offset as usize + 8, 4) as usize,
        )
    }

    /// `bytes` as the firmware: through inspect and bundle as a file in the
    /// working directory, through build as the artifact cargo built (cargo
    /// sees nothing to rebuild). Each run exits `code` with `needles` and the
    /// file's path in stderr; the bundle, flat image, project and working
    /// directory are unchanged.
    fn refuse(&self, label: &str, bytes: &[u8], code: i32, needles: &[&str]) {
        let file = self.work.path().join("fw.elf");
        std::fs::write(&file, bytes).unwrap();
        let project = tree(self.p.path());
        let outs = outputs(&self.p, Some(THUMB), "debug");
        let work = tree(self.work.path());
        let assets = self.p.path().join("assets");
        for args in [
            &["inspect", "fw.elf"][..],
            &["bundle", "fw.elf", "--assets", assets.to_str().unwrap()],
            &[
                "bundle",
                "fw.elf",
                "--assets",
                assets.to_str().unwrap(),
                "--format",
                "elf",
                "-o",
                "out.zip",
            ],
        ] {
            let run = cli(self.work.path(), args);
            eprintln!("{label}: {}: exit {}", args[0], run.code);
            refused(&run, code, needles);
            assert!(run.stderr.contains("`fw.elf`"), "{label}: {}", run.stderr);
        }
        unchanged(
            &format!("{label}: working dir"),
            &work,
            &tree(self.work.path()),
        );

        // The artifact itself, replaced in place (it is a hard link cargo
        // made; cargo will not rebuild it).
        std::fs::write(&self.exe, bytes).unwrap();
        let run = cli(self.p.path(), &["build"]);
        std::fs::write(&self.exe, &self.original).unwrap();
        eprintln!("{label}: build: exit {}", run.code);
        refused(&run, code, needles);
        let exe = format!("`{}`", self.exe.display());
        assert!(run.stderr.contains(&exe), "{label}: {}", run.stderr);
        unchanged(&format!("{label}: project"), &project, &tree(self.p.path()));
        assert_eq!(
            outputs(&self.p, Some(THUMB), "debug"),
            outs,
            "{label}: the bundle, the image or their temporary files changed"
        );
    }
}

#[test]
fn truncated_and_corrupt_elfs_are_refused() {
    let f = Fixture::new("adv_elf_broken");
    let elf = f.original.clone();
    let n = elf.len();
    for cut in [n - 1, n / 2, n / 3, 100, 52] {
        f.refuse(
            &format!("first {cut} of {n} bytes"),
            &elf[..cut],
            1,
            &["is a truncated or malformed ELF file"],
        );
    }
    f.refuse(
        "header only",
        &elf[..40],
        1,
        &["is a truncated or malformed ELF file"],
    );

    // Section headers beyond the end of the file.
    let mut far = elf.clone();
    put(&mut far, 0x20, 4, 0xFFFF_FF00);
    f.refuse(
        "e_shoff past the end",
        &far,
        1,
        &["is a truncated or malformed ELF file"],
    );
    // A program header count that cannot fit.
    let mut many = elf.clone();
    put(&mut many, 0x2C, 2, 0xFFFF);
    f.refuse(
        "e_phnum 65535",
        &many,
        1,
        &["is a truncated or malformed ELF file"],
    );
    // The section header table overwritten with noise.
    let mut noise = elf.clone();
    let shoff = le(&elf, 0x20, 4) as usize;
    let mut rng = Rng::new(0x5eed);
    for b in &mut noise[shoff..] {
        *b = rng.next() as u8;
    }
    f.refuse(
        "noise section headers",
        &noise,
        1,
        &["is a truncated or malformed ELF file"],
    );
    // Found by fuzz/elf_locate: a SHT_NULL section flagged SHF_ALLOC, its
    // contents past the end, escaped the bounds check and the flat image
    // sliced past the file (a panic).
    let mut null = elf.clone();
    let data = section(&elf, ".data");
    data.set_type(&mut null, 0);
    data.set_offset(&mut null, n as u64 + 4096);
    f.refuse(
        "SHT_NULL section out of bounds",
        &null,
        1,
        &[
            "is a truncated or malformed ELF file",
            "section `.data` ends at byte",
        ],
    );
}

#[test]
fn a_manifest_section_of_the_wrong_size_is_refused() {
    let f = Fixture::new("adv_elf_size");
    let s = section(&f.original, ".assetota");
    let (_, len) = f.manifest_at();
    let with_size = |size: u64| {
        let mut elf = f.original.clone();
        s.set_size(&mut elf, size);
        elf
    };
    // Shorter than the manifest: it used to be read past its section.
    f.refuse(
        "8 bytes short",
        &with_size(len as u64 - 8),
        4,
        &[
            "(section .assetota) is corrupted",
            &format!(
                "manifest truncated: header says {len} bytes, only {} available",
                len - 8
            ),
        ],
    );
    f.refuse(
        "4 bytes long",
        &with_size(4),
        4,
        &[
            "(section .assetota) is corrupted",
            "manifest too short: 4 bytes",
        ],
    );
    f.refuse(
        "empty",
        &with_size(0),
        4,
        &[
            "(section .assetota) is corrupted",
            "manifest too short: 0 bytes",
        ],
    );
    // Longer than the file.
    f.refuse(
        "past the end of the file",
        &with_size(0x7FFF_FFFF),
        1,
        &[
            "is a truncated or malformed ELF file",
            "section `.assetota` ends at byte",
        ],
    );
    // Longer than the manifest (linker padding) is fine: the manifest carries
    // its own length.
    let padded = with_size(len as u64 + 16);
    let work = f.work.path();
    std::fs::write(work.join("padded.elf"), &padded).unwrap();
    ok(cli(work, &["inspect", "padded.elf"]));
}

#[test]
fn a_manifest_crc_mismatch_and_a_future_version_are_refused() {
    let f = Fixture::new("adv_elf_crc");
    let (off, len) = f.manifest_at();

    // One bit flipped in an entry: the CRC-32 no longer matches.
    let mut flipped = f.original.clone();
    flipped[off + 40] ^= 0x01;
    f.refuse(
        "bit flip",
        &flipped,
        4,
        &[
            "(section .assetota) is corrupted",
            "manifest CRC-32 mismatch",
        ],
    );
    // The trailer itself zeroed.
    let mut zeroed = f.original.clone();
    zeroed[off + len - 4..off + len].fill(0);
    f.refuse(
        "CRC zeroed",
        &zeroed,
        4,
        &["manifest CRC-32 mismatch: stored 0x00000000"],
    );

    // Format v2, with a valid CRC, so the version is what is refused.
    let mut future = f.original.clone();
    future[off + 4] = 2;
    let crc = crc32(&future[off..off + len - 4]);
    future[off + len - 4..off + len].copy_from_slice(&crc.to_le_bytes());
    f.refuse(
        "format v2",
        &future,
        1,
        &["is format v2, newer than this cargo-assetota reads (v1)"],
    );
    // And v65535 without a valid CRC: still the version that is reported.
    let mut far = f.original.clone();
    far[off + 4..off + 6].copy_from_slice(&u16::MAX.to_le_bytes());
    f.refuse("format v65535", &far, 1, &["is format v65535"]);

    // The same firmware inside a bundle whose manifest.json is updated to
    // match it (size, sha256): verify still refuses it, by the embedded manifest.
    let bundle = f.p.bundle(Some(THUMB), "debug");
    let entries = zip_entries(&bundle);
    let json: serde_json::Value = serde_json::from_slice(&entries[0].1).unwrap();
    let fw_name = json["firmware"]["file"].as_str().unwrap().to_owned();
    let image = &entries.iter().find(|(n, _)| *n == fw_name).unwrap().1;
    let at = json["firmware"]["manifest_offset"].as_u64().unwrap() as usize;
    for (label, patch, code, needle) in [
        ("CRC", 0usize, 4, "CRC-32 mismatch"),
        (
            "v2",
            1,
            1,
            "is format v2, newer than this cargo-assetota reads",
        ),
    ] {
        let mut image = image.clone();
        if patch == 0 {
            image[at + 40] ^= 1;
        } else {
            image[at + 4] = 2;
            let crc = crc32(&image[at..at + len - 4]);
            image[at + len - 4..at + len].copy_from_slice(&crc.to_le_bytes());
        }
        let mut m = json.clone();
        m["firmware"]["sha256"] = sha256_hex(&image).into();
        let mut zip = RawZip::new();
        let m = serde_json::to_vec(&m).unwrap();
        for (name, data) in &entries {
            let data: &[u8] = match name.as_str() {
                "manifest.json" => &m,
                n if n == fw_name => &image,
                _ => data,
            };
            zip.add(RawEntry {
                name: name.as_bytes(),
                data,
                declared: None,
                unix_mode: 0o100644,
            });
        }
        let work = f.work.path();
        std::fs::write(work.join("b.zip"), zip.finish()).unwrap();
        let before = tree(work);
        let run = cli(work, &["verify", "b.zip"]);
        refused(&run, code, &[needle]);
        unchanged(label, &before, &tree(work));
    }
}

fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest;
    sha2::Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}
