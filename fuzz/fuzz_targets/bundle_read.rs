//! Fuzzes the bundle reader (`assetota_bundle::read_bytes`, what `verify` and
//! `inspect` run on a `.assetota.zip`): nothing may panic or allocate without bound,
//! and whatever it accepts must respect its rules — every entry listed in
//! `manifest.json`, no entry name that could leave a directory, no entry longer than
//! `manifest.json` says, the size caps.
//!
//! Two passes per input: the bytes as a zip file, and the bytes as a recipe for a
//! well-formed zip (correct CRCs, a `manifest.json` that lists some entries, names
//! from a hostile dictionary, lied sizes, symlink modes, stored or deflated data), so
//! the fuzzer gets past the container checks to the listing and size rules.
//!
//! Run: cargo +nightly fuzz run bundle_read fuzz/seeds/bundle_read -- -max_total_time=60
#![no_main]

use std::io::Write;
use std::path::Path;

use assetota_bundle::{ASSETS_PREFIX, FORMAT, MAX_ENTRY, MAX_TOTAL, read_bytes};
use libfuzzer_sys::fuzz_target;

// The hostile-zip writer the CLI's tests use too.
use assetota_raw_zip::{RawZip, ZipEntry};

fuzz_target!(|data: &[u8]| {
    check(data);
    if let Some(zip) = recipe(data) {
        check(&zip);
    }
});

fn check(zip: &[u8]) {
    let path = Path::new("fuzz.assetota.zip");
    match read_bytes(path, zip) {
        Ok(contents) => {
            let m = &contents.manifest;
            assert!(m.format >= 1 && m.format <= FORMAT);
            assert!(contents.firmware.len() as u64 <= m.firmware.size);
            assert!(contents.firmware.len() as u64 <= MAX_ENTRY);
            let mut total = contents.firmware.len() as u64;
            for (name, bytes) in &contents.assets {
                let entry = format!("{ASSETS_PREFIX}{name}");
                assert!(safe(&entry), "{entry:?} was accepted");
                let listed = m.assets.iter().filter(|a| a.file == entry);
                // Read through a reader capped at the listed size (the smallest
                // when an entry is listed twice).
                let cap = listed.map(|a| a.size).min();
                assert!(cap.is_some(), "{entry:?} is not listed");
                assert!(bytes.len() as u64 <= cap.unwrap());
                total += bytes.len() as u64;
            }
            assert!(safe(&m.firmware.file), "{:?}", m.firmware.file);
            assert!(total <= MAX_TOTAL);
        }
        Err(e) => {
            // Every refusal renders (this is what the user sees).
            let _ = e.to_string();
        }
    }
}

/// What the reader's name rule promises: no way out of a directory.
fn safe(name: &str) -> bool {
    !name.is_empty()
        && !name.starts_with('/')
        && !name.contains('\\')
        && !name.chars().any(char::is_control)
        && name.split('/').all(|c| !matches!(c, "" | "." | ".."))
        && !(name.len() >= 2 && name.as_bytes()[1] == b':')
}

/// Reads the input as a list of entries and writes them as a zip with a
/// `manifest.json` first. Each entry: a flags byte, a name (from the dictionary or
/// raw), a data length and the data.
fn recipe(data: &[u8]) -> Option<Vec<u8>> {
    let mut r = Reader(data);
    let count = usize::from(r.byte()? % 8);
    let mut entries = Vec::new();
    for i in 0..count {
        let flags = r.byte()?;
        let name: Vec<u8> = match r.byte()? {
            n @ 0..=15 => DICTIONARY[usize::from(n)].as_bytes().to_vec(),
            n => r.take(usize::from(n - 15).min(64))?.to_vec(),
        };
        let len = usize::from(r.byte()?) * 16 + usize::from(r.byte()?);
        let body = r.take(len.min(r.0.len()))?.to_vec();
        // Sometimes a long run of one byte, to make deflate ratios high.
        let body = if flags & 0x40 != 0 {
            vec![body.first().copied().unwrap_or(0); len * 64]
        } else {
            body
        };
        entries.push(Entry {
            name,
            body,
            deflate: flags & 1 != 0,
            listed: flags & 2 != 0 || i == 0,
            lie_listed: flags & 4 != 0,
            lie_declared: flags & 8 != 0,
            symlink: flags & 0x10 != 0 && flags & 0x20 != 0,
            listed_twice: flags & 0x80 != 0,
        });
    }
    let firmware = entries
        .first()
        .map(|e| String::from_utf8_lossy(&e.name).into_owned())
        .unwrap_or_else(|| "fw.elf".into());
    let assets: Vec<String> = entries
        .iter()
        .skip(1)
        .filter(|e| e.listed)
        .flat_map(|e| {
            let file = String::from_utf8_lossy(&e.name).into_owned();
            let name = file.strip_prefix(ASSETS_PREFIX).unwrap_or(&file).to_owned();
            let size = if e.lie_listed {
                e.body.len() / 2
            } else {
                e.body.len()
            };
            let listing = |size: usize| {
                format!(
                    r#"{{"name":{name:?},"file":{file:?},"size":{size},"sha256":"00","compressed_size":1,"stored_size":1,"storage_size":1}}"#
                )
            };
            // Listed twice, the second time with another size.
            let twice = e.listed_twice.then(|| listing(e.body.len() / 2 + 1));
            std::iter::once(listing(size)).chain(twice)
        })
        .collect();
    let fw_size = entries.first().map_or(0, |e| {
        if e.lie_listed {
            e.body.len() / 2
        } else {
            e.body.len()
        }
    });
    let manifest = format!(
        r#"{{"format":1,"generator":"fuzz","package":{{"name":"p","version":"0.1.0"}},"bin":null,"target":null,"profile":null,"platform":null,"storage":{{"limit_total":null,"limit_single":null,"block_size":0,"per_block_overhead":0,"per_asset_overhead":0,"name_in_container":false}},"codec":{{"kind":"none"}},"firmware":{{"file":{firmware:?},"format":"elf","size":{fw_size},"sha256":"00","manifest_offset":0,"manifest_size":0}},"assets":[{}],"total_size":0,"total_storage_size":0,"fits":true}}"#,
        assets.join(",")
    );
    let mut zip = RawZip::new();
    Entry {
        name: b"manifest.json".to_vec(),
        body: manifest.into_bytes(),
        deflate: data.len() % 2 == 0,
        listed: true,
        lie_listed: false,
        lie_declared: false,
        symlink: false,
        listed_twice: false,
    }
    .write(&mut zip);
    for e in &entries {
        e.write(&mut zip);
    }
    Some(zip.finish())
}

const DICTIONARY: [&str; 16] = [
    "fw.elf",
    "assets/a.bin",
    "assets/b/c.txt",
    "manifest.json",
    "../evil",
    "/etc/passwd",
    "assets\\..\\x",
    "assets//a.bin",
    "assets/./a.bin",
    "C:/x",
    "assets/a.bin",
    "",
    "assets/",
    "assets/\u{7f}",
    "assets/..",
    "fw.bin",
];

struct Reader<'a>(&'a [u8]);
impl<'a> Reader<'a> {
    fn byte(&mut self) -> Option<u8> {
        let (&b, rest) = self.0.split_first()?;
        self.0 = rest;
        Some(b)
    }
    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        if n > self.0.len() {
            return None;
        }
        let (head, rest) = self.0.split_at(n);
        self.0 = rest;
        Some(head)
    }
}

struct Entry {
    name: Vec<u8>,
    body: Vec<u8>,
    deflate: bool,
    listed: bool,
    lie_listed: bool,
    lie_declared: bool,
    symlink: bool,
    listed_twice: bool,
}

impl Entry {
    /// Writes this entry through the shared hostile-zip writer: deflated or
    /// stored, its true CRC, a declared size that may lie, a symlink mode.
    fn write(&self, zip: &mut RawZip) {
        let stored = if self.deflate {
            let mut enc =
                flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::new(6));
            enc.write_all(&self.body).unwrap();
            enc.finish().unwrap()
        } else {
            self.body.clone()
        };
        let size = self.body.len() as u32;
        zip.add_entry(&ZipEntry {
            method: if self.deflate { 8 } else { 0 },
            size: if self.lie_declared { size / 3 } else { size },
            mode: if self.symlink { 0o120777 } else { 0o100644 },
            stored: &stored,
            ..ZipEntry::stored(&self.name, &self.body)
        });
    }
}
