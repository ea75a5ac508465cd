//! The bundle particle-cli writes (particle-cli 3.43.1 is the reference):
//! a zip with the application at the root and `assets/<name>` holding each
//! asset's raw bytes, nothing else; and a reader for such zips that refuses
//! hostile ones before decompressing anything and never writes to disk.
//!
//! Unlike particle-cli's, the zip written here is byte-reproducible: entries in
//! a fixed order (application, then assets sorted by name), one timestamp for
//! all (the caller's, e.g. from `SOURCE_DATE_EPOCH`), mode 0644.

// The central-directory walker both bundle readers share.
use assetota_bundle::central_directory_names;
use assetota_core::bytesize::Bytes;
use std::collections::HashSet;
use std::io::{Cursor, Read, Write};
use std::path::Path;

/// The directory of the assets in the zip.
pub const ASSETS_DIR: &str = "assets/";
/// Largest decompressed entry accepted (an application is ≤ 1.5 MiB, assets a few MiB).
pub const MAX_ENTRY: u64 = 64 << 20;
/// Largest total of decompressed entries accepted.
pub const MAX_TOTAL: u64 = 256 << 20;
/// DEFLATE cannot expand more than about 1032:1; a higher declared ratio is a lie.
pub const MAX_RATIO: u64 = 1100;

/// The deflate level of every entry: Particle's own (zlib level 6, window 15,
/// as its asset modules), so the compressed size of an asset's entry is the
/// size its budget measured, and the measuring pass can make the entry itself
/// ([`entry_builder`], [`write_entries`]): each asset is compressed once.
/// particle-cli writes level 9; its zips are about 0.9 % smaller, with the
/// same contents.
pub const LEVEL: i64 = 6;

/// The name of asset `name`'s entry: `assets/<name>`.
pub fn asset_entry_name(name: &str) -> String {
    format!("{ASSETS_DIR}{name}")
}

/// A compressor for the entry `name` holding `len` raw bytes, with what every
/// entry has (deflate at [`LEVEL`], the bundle's one timestamp, mode 0644,
/// zip64 only when the entry needs it): write the bytes into it, and
/// `finish()` gives the entry for [`write_entries`].
pub fn entry_builder(
    name: &str,
    len: u64,
    time: zip::DateTime,
) -> std::io::Result<zip::write::ZipFileBuilder> {
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated)
        .compression_level(Some(LEVEL))
        .last_modified_time(time)
        .unix_permissions(0o644)
        .large_file(len >= 0xFFFF_FFFF);
    zip::write::ZipFileBuilder::new(name, options).map_err(std::io::Error::other)
}

/// The entry `name` holding `bytes`, compressed.
pub fn prepare(
    name: &str,
    bytes: &[u8],
    time: zip::DateTime,
) -> std::io::Result<zip::write::PreparedZipFile> {
    let mut builder = entry_builder(name, bytes.len() as u64, time)?;
    builder.write_all(bytes)?;
    builder.finish().map_err(std::io::Error::other)
}

/// An entry's contents for [`write_entries`]: raw bytes still to compress,
/// or the entry [`prepare`] or [`entry_builder`] made.
pub enum Entry<'a> {
    /// Raw bytes, compressed by [`write_entries`].
    Raw(&'a [u8]),
    /// An entry compressed already, with its name.
    Prepared(zip::write::PreparedZipFile),
}

/// Writes the bundle to `path` through a temporary file beside it.
// The CLI calls `write_entries`; the tests call this.
#[allow(dead_code)]
pub fn write(
    path: &Path,
    app_name: &str,
    app: &[u8],
    assets: &[(&str, &[u8])],
    time: zip::DateTime,
) -> std::io::Result<()> {
    let assets = assets.iter().map(|(n, b)| (*n, Entry::Raw(b))).collect();
    write_entries(path, app_name, Entry::Raw(app), assets, time)
}

/// [`write`], where an entry may come already compressed (made by
/// [`entry_builder`] with this same `time`, so the zip is the same byte for
/// byte; only the names are checked here): raw entries are
/// compressed on every core, then all are appended in order, the application
/// first and the assets sorted by name.
pub fn write_entries(
    path: &Path,
    app_name: &str,
    app: Entry<'_>,
    assets: Vec<(&str, Entry<'_>)>,
    time: zip::DateTime,
) -> std::io::Result<()> {
    let mut entries: Vec<(String, Entry<'_>)> = assets
        .into_iter()
        .map(|(name, e)| (asset_entry_name(name), e))
        .collect();
    entries.sort_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
    entries.insert(0, (app_name.to_owned(), app));
    // Compressing is most of the time a bundle takes, so the raw entries are
    // compressed on every core.
    let raw: Vec<(&str, &[u8])> = entries
        .iter()
        .filter_map(|(name, e)| match e {
            Entry::Raw(bytes) => Some((name.as_str(), *bytes)),
            Entry::Prepared(_) => None,
        })
        .collect();
    // In input order: the n-th is the n-th raw entry's.
    let mut made = parallel_map(&raw, |(name, bytes)| prepare(name, bytes, time)).into_iter();
    let mut prepared = Vec::with_capacity(entries.len());
    for (name, e) in entries {
        let p = match e {
            Entry::Prepared(p) => p,
            Entry::Raw(_) => made
                .next()
                .unwrap_or_else(|| Err(std::io::Error::other("an entry was not compressed")))?,
        };
        if p.file_name_raw() != name.as_bytes() {
            return Err(std::io::Error::new(
                std::io::ErrorKind::InvalidInput,
                format!(
                    "the entry prepared as `{}` was given as `{name}`",
                    String::from_utf8_lossy(p.file_name_raw())
                ),
            ));
        }
        prepared.push(p);
    }

    assetota_core::atomic::write_with(path, |file| {
        let mut zip = zip::ZipWriter::new(std::io::BufWriter::new(file));
        zip.add_prepared_files(prepared)
            .map_err(std::io::Error::other)?;
        zip.finish().map_err(std::io::Error::other)?.flush()
    })
    .map_err(|e| match e {
        assetota_core::atomic::AtomicWriteError::Io(e)
        | assetota_core::atomic::AtomicWriteError::Fill(e) => e,
    })
}

/// `f` over `items` on every core, results in input order.
pub fn parallel_map<T: Sync, R: Send>(items: &[T], f: impl Fn(&T) -> R + Sync) -> Vec<R> {
    let workers = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .min(items.len());
    if workers <= 1 {
        return items.iter().map(f).collect();
    }
    let next = std::sync::atomic::AtomicUsize::new(0);
    let mut done: Vec<(usize, R)> = std::thread::scope(|s| {
        let workers: Vec<_> = (0..workers)
            .map(|_| {
                s.spawn(|| {
                    let mut out = Vec::new();
                    loop {
                        let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                        let Some(item) = items.get(i) else { break out };
                        out.push((i, f(item)));
                    }
                })
            })
            .collect();
        workers
            .into_iter()
            .flat_map(|w| w.join().unwrap_or_else(|p| std::panic::resume_unwind(p)))
            .collect()
    });
    done.sort_by_key(|(i, _)| *i);
    done.into_iter().map(|(_, r)| r).collect()
}

/// A Particle bundle read into memory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bundle {
    /// The application's entry name (the one `.bin` at the root).
    pub app_name: String,
    /// The application module's bytes.
    pub app: Vec<u8>,
    /// `assets/<name>` entries, in zip order.
    pub assets: Vec<(String, Vec<u8>)>,
    /// Entries Particle's tools skip (e.g. `assets/sub/x`, `env.json`): they
    /// never reach a device.
    pub ignored: Vec<String>,
}

/// Why bytes are not a Particle bundle this tool accepts.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BundleError {
    /// Not a zip at all; says why.
    #[error("is not a zip file: {0}")]
    NotZip(String),
    /// An entry that could harm the reader: its name and why it is refused.
    #[error("is rejected: entry `{entry}` {reason}")]
    Hostile {
        /// The entry's name.
        entry: String,
        /// Why it is refused.
        reason: String,
    },
    /// No `.bin` at the root.
    #[error("has no application: a Particle bundle has one `.bin` file at the root of the zip")]
    NoApp,
    /// More than one file at the root: their names.
    #[error("has more than one file at the root of the zip ({}); a Particle bundle has only the application there", .0.join(", "))]
    SeveralApps(Vec<String>),
}

/// Whether a zip looks like a Particle bundle rather than an assetota one:
/// no `manifest.json`, and a `.bin` at the root.
pub fn looks_like_particle_bundle(bytes: &[u8]) -> bool {
    let Some(names) = central_directory_names(bytes) else {
        return false;
    };
    let root_bin = |n: &Vec<u8>| {
        !n.contains(&b'/') && n.len() > 4 && n[n.len() - 4..].eq_ignore_ascii_case(b".bin")
    };
    !names.iter().any(|n| n == b"manifest.json") && names.iter().any(root_bin)
}

/// Reads a Particle bundle, refusing duplicates, unsafe names, symlinks,
/// encrypted entries, methods other than stored/deflate and decompression
/// bombs (entries over the caps, impossible ratios, data longer than
/// declared). Directory entries are skipped, as Particle's reader does.
pub fn read(bytes: &[u8]) -> Result<Bundle, BundleError> {
    let hostile = |entry: &str, reason: String| BundleError::Hostile {
        entry: entry.to_owned(),
        reason,
    };
    let names = central_directory_names(bytes)
        .ok_or_else(|| BundleError::NotZip("no end of central directory record".into()))?;
    let mut seen = HashSet::new();
    for name in &names {
        if !seen.insert(name.as_slice()) {
            return Err(hostile(
                &String::from_utf8_lossy(name),
                "appears more than once".into(),
            ));
        }
    }
    let mut zip =
        zip::ZipArchive::new(Cursor::new(bytes)).map_err(|e| BundleError::NotZip(e.to_string()))?;

    let mut files = Vec::new();
    let mut total = 0u64;
    for index in 0..zip.len() {
        let f = zip
            .by_index_raw(index)
            .map_err(|e| BundleError::NotZip(format!("entry {index} is unreadable: {e}")))?;
        let name = String::from_utf8(f.name_raw().to_vec()).map_err(|e| {
            hostile(
                &String::from_utf8_lossy(e.as_bytes()),
                "has a name that is not UTF-8".into(),
            )
        })?;
        assetota_bundle::check_entry_name(&name, true).map_err(|r| hostile(&name, r.into()))?;
        if f.unix_mode().is_some_and(|m| m & 0o170000 == 0o120000) {
            return Err(hostile(&name, "is a symbolic link".into()));
        }
        if f.encrypted() {
            return Err(hostile(&name, "is encrypted".into()));
        }
        if f.is_dir() {
            continue;
        }
        if !matches!(
            f.compression(),
            zip::CompressionMethod::Stored | zip::CompressionMethod::Deflated
        ) {
            return Err(hostile(
                &name,
                "uses a compression method other than stored or deflate".into(),
            ));
        }
        let size = f.size();
        if size > MAX_ENTRY {
            return Err(hostile(
                &name,
                format!(
                    "declares {}, more than the {} limit (decompression bomb)",
                    Bytes(size),
                    Bytes(MAX_ENTRY)
                ),
            ));
        }
        let ratio = size / f.compressed_size().max(1);
        if size > (1 << 20) && ratio > MAX_RATIO {
            return Err(hostile(
                &name,
                format!(
                    "declares a {ratio}:1 compression ratio, more than deflate can reach (decompression bomb)"
                ),
            ));
        }
        total = total.saturating_add(size);
        if total > MAX_TOTAL {
            return Err(hostile(
                &name,
                format!(
                    "brings the bundle past {} decompressed (decompression bomb)",
                    Bytes(MAX_TOTAL)
                ),
            ));
        }
        files.push((index, name, size));
    }

    let roots: Vec<&str> = files
        .iter()
        .map(|(_, n, _)| n.as_str())
        .filter(|n| !n.contains('/'))
        .collect();
    match roots.len() {
        0 => return Err(BundleError::NoApp),
        1 => {}
        _ => {
            return Err(BundleError::SeveralApps(
                roots.iter().map(|s| s.to_string()).collect(),
            ));
        }
    }
    let mut bundle = Bundle {
        app_name: String::new(),
        app: Vec::new(),
        assets: Vec::new(),
        ignored: Vec::new(),
    };
    for (index, name, size) in files {
        let asset = name
            .strip_prefix(ASSETS_DIR)
            .filter(|rest| !rest.contains('/'));
        if name.contains('/') && asset.is_none() {
            bundle.ignored.push(name);
            continue;
        }
        let f = zip
            .by_index(index)
            .map_err(|e| hostile(&name, format!("cannot be read: {e}")))?;
        let mut data = Vec::with_capacity(size.min(16 << 20) as usize);
        f.take(size + 1)
            .read_to_end(&mut data)
            .map_err(|e| hostile(&name, format!("cannot be decompressed: {e}")))?;
        if data.len() as u64 > size {
            return Err(hostile(
                &name,
                format!(
                    "decompresses to more than its declared {} (decompression bomb)",
                    Bytes(size)
                ),
            ));
        }
        match asset {
            Some(asset) => bundle.assets.push((asset.to_owned(), data)),
            None => {
                bundle.app_name = name;
                bundle.app = data;
            }
        }
    }
    Ok(bundle)
}

#[cfg(test)]
mod reuse_tests {
    use super::*;

    /// The zip `ZipWriter` writes from the entries one after the other.
    fn reference(entries: &[(String, &[u8])], time: zip::DateTime) -> Vec<u8> {
        let mut zip = zip::ZipWriter::new(Cursor::new(Vec::new()));
        for (name, bytes) in entries {
            let options = zip::write::SimpleFileOptions::default()
                .compression_method(zip::CompressionMethod::Deflated)
                .compression_level(Some(LEVEL))
                .last_modified_time(time)
                .unix_permissions(0o644);
            zip.start_file(name.as_str(), options).unwrap();
            zip.write_all(bytes).unwrap();
        }
        zip.finish().unwrap().into_inner()
    }

    #[test]
    fn prepared_entries_give_the_same_zip_byte_for_byte() {
        let text: Vec<u8> = (0..200_000u32)
            .flat_map(|i| format!("{{\"id\": {i}, \"v\": {}}}\n", i % 97).into_bytes())
            .collect();
        let mut noise = vec![0u8; 70_000];
        let mut x = 0x9e37_79b9u32;
        for b in &mut noise {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            *b = x as u8;
        }
        // Given unsorted: the zip has them sorted by name.
        let assets: Vec<(&str, &[u8])> = vec![
            ("noise.bin", &noise),
            ("config.json", &text),
            ("été✓.txt", b"hello\n"),
            ("empty", b""),
        ];
        let time = zip::DateTime::from_date_and_time(2024, 5, 17, 12, 34, 56).unwrap();
        let app: &[u8] = b"\x01\x02app";
        let mut sorted = assets.clone();
        sorted.sort_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
        let expected = reference(
            &std::iter::once(("app.bin".to_owned(), app))
                .chain(sorted.iter().map(|(n, b)| (asset_entry_name(n), *b)))
                .collect::<Vec<_>>(),
            time,
        );
        // Prepared as the measuring pass does: fed in pieces.
        let prepared: Vec<(&str, Entry<'_>)> = assets
            .iter()
            .map(|(n, b)| {
                let mut builder =
                    entry_builder(&asset_entry_name(n), b.len() as u64, time).unwrap();
                for piece in b.chunks(64 << 10) {
                    builder.write_all(piece).unwrap();
                }
                (*n, Entry::Prepared(builder.finish().unwrap()))
            })
            .collect();
        let dir = tempfile::tempdir().unwrap();
        let (a, b) = (dir.path().join("a.zip"), dir.path().join("b.zip"));
        write(&a, "app.bin", app, &assets, time).unwrap();
        write_entries(&b, "app.bin", Entry::Raw(app), prepared, time).unwrap();
        for (which, zip) in [("write", a), ("write_entries", b)] {
            let zip = std::fs::read(zip).unwrap();
            assert!(
                zip == expected,
                "{which}'s zip differs from ZipWriter's ({} and {} bytes)",
                zip.len(),
                expected.len()
            );
        }
        let back = read(&expected).unwrap();
        assert_eq!(back.assets.len(), 4);
        assert_eq!(back.assets[0], ("config.json".to_owned(), text.clone()));
    }

    #[test]
    fn an_entry_prepared_under_another_name_is_refused() {
        let time = zip::DateTime::default();
        let wrong = prepare("assets/b", b"x", time).unwrap();
        let dir = tempfile::tempdir().unwrap();
        let err = write_entries(
            &dir.path().join("x.zip"),
            "app.bin",
            Entry::Raw(b"app"),
            vec![("a", Entry::Prepared(wrong))],
            time,
        )
        .unwrap_err();
        assert_eq!(err.kind(), std::io::ErrorKind::InvalidInput);
        assert!(!dir.path().join("x.zip").exists());
    }
}
