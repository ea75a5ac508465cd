//! Reading a bundle: every structural check before anything is decompressed,
//! nothing written anywhere.

use std::collections::{BTreeMap, HashSet};
use std::io::{Cursor, Read};
use std::path::Path;

use assetota_core::bytesize::Bytes;

use crate::error::{Error, Result};
use crate::manifest::*;

/// A bundle read into memory after every structural check passed.
#[derive(Debug)]
pub struct Contents {
    /// The parsed `manifest.json`.
    pub manifest: BundleManifest,
    /// The bytes of the firmware entry `manifest.firmware.file`.
    pub firmware: Vec<u8>,
    /// Asset name → raw bytes, for every entry under `assets/`.
    pub assets: BTreeMap<String, Vec<u8>>,
}

/// Reads a bundle, refusing anything hostile: names that could escape a
/// directory (`..`, absolute, backslashes, drive letters, control characters),
/// symlinks, duplicate names, entries `manifest.json` does not list, encrypted
/// entries, and decompression bombs (entries beyond the size caps, declared
/// ratios deflate cannot reach, or data longer than declared). Nothing is
/// written to disk; every entry is read through a size-limited reader.
pub fn read(path: &Path) -> Result<Contents> {
    let file = std::fs::File::open(path).map_err(|source| Error::Read {
        path: path.to_owned(),
        source,
    })?;
    let len = file
        .metadata()
        .map_err(|source| Error::Read {
            path: path.to_owned(),
            source,
        })?
        .len();
    let too_big = || Error::BadBundle {
        path: path.to_owned(),
        reason: format!(
            "it is more than the {} limit for a bundle",
            Bytes(MAX_TOTAL)
        ),
    };
    if len > MAX_TOTAL {
        return Err(too_big());
    }
    let mut bytes = Vec::with_capacity(len as usize);
    file.take(MAX_TOTAL + 1)
        .read_to_end(&mut bytes)
        .map_err(|source| Error::Read {
            path: path.to_owned(),
            source,
        })?;
    if bytes.len() as u64 > MAX_TOTAL {
        return Err(too_big());
    }
    read_bytes(path, &bytes)
}

/// [`read`] of a bundle already in memory; `path` only names it in errors.
pub fn read_bytes(path: &Path, bytes: &[u8]) -> Result<Contents> {
    let hostile = |entry: &str, reason: &str| Error::HostileBundle {
        path: path.to_owned(),
        entry: printable(entry),
        reason: reason.to_owned(),
    };
    let bad = |reason: String| Error::BadBundle {
        path: path.to_owned(),
        reason,
    };

    // Duplicates collapse in the zip crate's index: count the central directory.
    let names = central_directory_names(bytes)
        .ok_or_else(|| bad("it is not a zip file (no end of central directory record)".into()))?;
    let mut seen = HashSet::new();
    for name in &names {
        if !seen.insert(name.as_slice()) {
            return Err(hostile(
                &String::from_utf8_lossy(name),
                "appears more than once",
            ));
        }
    }

    let mut zip = zip::ZipArchive::new(Cursor::new(bytes))
        .map_err(|e| bad(format!("it is not a readable zip file: {e}")))?;
    if zip.has_duplicate_names() {
        return Err(hostile(
            "(several)",
            "duplicate names in the central directory",
        ));
    }

    // Structure of every entry, before reading any data.
    let mut total: u64 = 0;
    let mut entries = Vec::new();
    let mut spans = Vec::new();
    for index in 0..zip.len() {
        let f = zip
            .by_index_raw(index)
            .map_err(|e| bad(format!("entry {index} is unreadable: {e}")))?;
        let raw = f.name_raw().to_vec();
        let name = String::from_utf8(raw).map_err(|e| {
            hostile(
                &String::from_utf8_lossy(e.as_bytes()),
                "has a name that is not UTF-8",
            )
        })?;
        check_entry_name(&name, false).map_err(|reason| hostile(&name, reason))?;
        if f.is_dir() {
            return Err(hostile(
                &name,
                "is a directory entry, which bundles do not have",
            ));
        }
        if let Some(mode) = f.unix_mode()
            && mode & 0o170000 == 0o120000
        {
            return Err(hostile(&name, "is a symbolic link"));
        }
        if f.encrypted() {
            return Err(hostile(&name, "is encrypted"));
        }
        if !matches!(
            f.compression(),
            zip::CompressionMethod::Stored | zip::CompressionMethod::Deflated
        ) {
            return Err(hostile(
                &name,
                "uses a compression method other than stored or deflate",
            ));
        }
        let size = f.size();
        if size > MAX_ENTRY {
            return Err(hostile(
                &name,
                &format!(
                    "declares {}, more than the {} limit (decompression bomb)",
                    Bytes(size),
                    Bytes(MAX_ENTRY)
                ),
            ));
        }
        if size > (1 << 20) && size / f.compressed_size().max(1) > MAX_RATIO {
            return Err(hostile(
                &name,
                &format!(
                    "declares a {}:1 compression ratio, more than deflate can reach (decompression bomb)",
                    size / f.compressed_size().max(1)
                ),
            ));
        }
        total = total.saturating_add(size);
        if total > MAX_TOTAL {
            return Err(hostile(
                &name,
                &format!(
                    "brings the bundle past {} decompressed (decompression bomb)",
                    Bytes(MAX_TOTAL)
                ),
            ));
        }
        // Where its local header and data are, for the overlap check below.
        let start = f.header_start();
        let end = f
            .data_start()
            .unwrap_or(start)
            .saturating_add(f.compressed_size());
        spans.push((start, end, name.clone()));
        entries.push((name, size));
    }

    // Entries whose data overlap (Fifield's "better zip bomb" reuses one
    // compressed stream for many entries) or run past the central directory.
    spans.sort();
    let central_directory = zip.central_directory_start();
    for (i, (_, end, name)) in spans.iter().enumerate() {
        let next = spans.get(i + 1).map_or(central_directory, |s| s.0);
        if *end > next {
            return Err(hostile(
                name,
                "overlaps the next entry or the central directory (overlapping entries: a decompression bomb)",
            ));
        }
    }

    match entries.first() {
        Some((name, _)) if name == MANIFEST_JSON => {}
        Some(_) => return Err(bad(format!("the first entry is not `{MANIFEST_JSON}`"))),
        None => return Err(bad("it is empty".into())),
    }
    let json =
        read_limited(&mut zip, 0, MAX_MANIFEST_JSON).map_err(|r| hostile(MANIFEST_JSON, &r))?;
    let value: serde_json::Value = serde_json::from_slice(&json)
        .map_err(|e| bad(format!("`{MANIFEST_JSON}` is not valid JSON: {e}")))?;
    match value.get("format").and_then(serde_json::Value::as_u64) {
        Some(v) if v > FORMAT => {
            return Err(Error::BundleTooNew {
                path: path.to_owned(),
                found: v,
            });
        }
        Some(0) | None => {
            return Err(bad(format!(
                "`{MANIFEST_JSON}` has no valid `format` version"
            )));
        }
        Some(_) => {}
    }
    let manifest: BundleManifest =
        serde_json::from_value(value).map_err(|e| bad(format!("`{MANIFEST_JSON}`: {e}")))?;
    // Names that reports print must be as safe as entry names.
    let listed_names = std::iter::once(manifest.firmware.file.as_str()).chain(
        manifest
            .assets
            .iter()
            .flat_map(|a| [a.name.as_str(), a.file.as_str()]),
    );
    for name in listed_names {
        if let Err(reason) = check_entry_name(name, false) {
            return Err(bad(format!(
                "`{MANIFEST_JSON}` lists `{}`, which {reason}",
                printable(name)
            )));
        }
    }

    // Every entry must be listed, with the size manifest.json gives it.
    let mut listed: BTreeMap<&str, Option<u64>> = BTreeMap::new();
    listed.insert(MANIFEST_JSON, None);
    let files = std::iter::once((&manifest.firmware.file, manifest.firmware.size))
        .chain(manifest.assets.iter().map(|a| (&a.file, a.size)));
    for (file, size) in files {
        if listed.insert(file, Some(size)).is_some() {
            return Err(bad(format!(
                "`{MANIFEST_JSON}` lists the entry `{file}` more than once"
            )));
        }
    }
    for (name, _) in &entries {
        if !listed.contains_key(name.as_str()) {
            return Err(hostile(name, "is not listed in manifest.json"));
        }
    }

    let mut firmware = None;
    let mut assets = BTreeMap::new();
    for (index, (name, declared)) in entries.iter().enumerate().skip(1) {
        // Read no more than declared (and listed) + 1, to catch data that runs long.
        let limit = listed
            .get(name.as_str())
            .copied()
            .flatten()
            .map_or(*declared, |l| l.min(*declared));
        let data = read_limited(&mut zip, index, limit).map_err(|r| hostile(name, &r))?;
        if name == &manifest.firmware.file {
            firmware = Some(data);
        } else if let Some(asset) = name.strip_prefix(ASSETS_PREFIX) {
            assets.insert(asset.to_owned(), data);
        }
    }
    let firmware = firmware.ok_or_else(|| {
        bad(format!(
            "the firmware entry `{}` is missing",
            manifest.firmware.file
        ))
    })?;
    Ok(Contents {
        manifest,
        firmware,
        assets,
    })
}

/// Decompresses one entry, failing as soon as it yields more than `limit` bytes
/// or its CRC does not match.
fn read_limited(
    zip: &mut zip::ZipArchive<Cursor<&[u8]>>,
    index: usize,
    limit: u64,
) -> std::result::Result<Vec<u8>, String> {
    let f = zip
        .by_index(index)
        .map_err(|e| format!("cannot be read: {e}"))?;
    let mut out = Vec::new();
    f.take(limit + 1)
        .read_to_end(&mut out)
        .map_err(|e| format!("cannot be decompressed: {e}"))?;
    if out.len() as u64 > limit {
        return Err(format!(
            "decompresses to more than its declared or listed {limit} bytes (decompression bomb)"
        ));
    }
    Ok(out)
}

/// `name` with control characters and bidirectional overrides escaped, so
/// an error message cannot rewrite the terminal it is printed on.
fn printable(name: &str) -> String {
    name.chars()
        .map(|c| {
            if c.is_control() || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}') {
                c.escape_default().to_string()
            } else {
                c.to_string()
            }
        })
        .collect()
}

/// Rejects zip entry names that are unsafe anywhere: absolute, drive-relative,
/// with `..` or `.` or empty components, backslashes or control characters.
/// With `directory_slash`, one trailing `/` (a directory entry's name) is not
/// an empty component. Shared with the Particle bundle reader.
pub fn check_entry_name(
    name: &str,
    directory_slash: bool,
) -> std::result::Result<(), &'static str> {
    if name.is_empty() {
        return Err("has an empty name");
    }
    if name.contains('\\') {
        return Err("has a backslash in its name (a Windows path separator)");
    }
    if name.starts_with('/') {
        return Err("has an absolute path");
    }
    if name.len() >= 2 && name.as_bytes()[1] == b':' {
        return Err("has a drive letter in its name");
    }
    if name.chars().any(char::is_control) {
        return Err("has control characters in its name");
    }
    let path = match directory_slash {
        true => name.strip_suffix('/').unwrap_or(name),
        false => name,
    };
    for component in path.split('/') {
        match component {
            ".." => return Err("has a `..` component (path traversal)"),
            "." | "" => return Err("has an empty or `.` path component"),
            _ => {}
        }
    }
    Ok(())
}

/// The raw names in the central directory, duplicates kept; `None` if the end
/// of central directory record cannot be found or points outside the file.
/// Shared with the Particle bundle reader.
pub fn central_directory_names(bytes: &[u8]) -> Option<Vec<Vec<u8>>> {
    let u16_at = |at: usize| {
        bytes
            .get(at..at + 2)
            .map(|b| u16::from_le_bytes([b[0], b[1]]))
    };
    let u32_at = |at: usize| {
        bytes
            .get(at..at + 4)
            .map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    };
    let min = bytes.len().saturating_sub(22 + 0xFFFF);
    let eocd = (min..=bytes.len().checked_sub(22)?)
        .rev()
        .find(|&i| u32_at(i) == Some(0x0605_4b50))?;
    let count = u16_at(eocd + 10)? as usize;
    let mut at = u32_at(eocd + 16)? as usize;
    let mut names = Vec::with_capacity(count.min(4096));
    for _ in 0..count {
        if u32_at(at)? != 0x0201_4b50 {
            return None;
        }
        let name_len = u16_at(at + 28)? as usize;
        let extra_len = u16_at(at + 30)? as usize;
        let comment_len = u16_at(at + 32)? as usize;
        names.push(bytes.get(at + 46..at + 46 + name_len)?.to_vec());
        at += 46 + name_len + extra_len + comment_len;
    }
    Some(names)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unsafe_names_are_refused() {
        for bad in [
            "../x",
            "a/../b",
            "/etc/passwd",
            "C:/x",
            "a\\b",
            "a//b",
            "./a",
            "a\nb",
            "",
        ] {
            assert!(check_entry_name(bad, false).is_err(), "{bad:?}");
        }
        for good in [
            "manifest.json",
            "assets/img/logo.png",
            "hello.bin",
            "assets/..dots",
        ] {
            assert!(check_entry_name(good, false).is_ok(), "{good:?}");
        }
    }
}
