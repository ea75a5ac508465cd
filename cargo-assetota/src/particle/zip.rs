//! The bundle particle-cli writes (research/particle-asset-ota.md §2.5, §2.7):
//! a zip with the application at the root and `assets/<name>` holding each
//! asset's raw bytes, nothing else; and a reader for such zips that refuses
//! hostile ones before decompressing anything and never writes to disk.
//!
//! Unlike particle-cli's, the zip written here is byte-reproducible: entries in
//! a fixed order (application, then assets sorted by name), one timestamp for
//! all (the caller's, e.g. from `SOURCE_DATE_EPOCH`), mode 0644.

use std::collections::HashSet;
use std::io::{Cursor, Read, Write};
use std::path::Path;

pub const ASSETS_DIR: &str = "assets/";
/// Largest decompressed entry accepted (an application is ≤ 1.5 MiB, assets a few MiB).
pub const MAX_ENTRY: u64 = 64 << 20;
/// Largest total of decompressed entries accepted.
pub const MAX_TOTAL: u64 = 256 << 20;
/// DEFLATE cannot expand more than about 1032:1; a higher declared ratio is a lie.
pub const MAX_RATIO: u64 = 1100;

/// The deflate level of every entry: Particle's own (zlib level 6, window 15,
/// as its asset modules), so an asset's entry is the very stream its budget
/// measured and [`write_reusing`] need not compress it a second time.
/// particle-cli writes level 9; its zips are about 0.5 % smaller, with the
/// same contents.
pub const LEVEL: i64 = 6;

/// An asset's raw-DEFLATE stream (level [`LEVEL`], window 15) and the CRC-32
/// of its raw bytes: what its zip entry holds.
#[derive(Debug, Clone, Copy)]
pub struct Deflated<'a> {
    pub stream: &'a [u8],
    pub crc32: u32,
}

/// Writes the bundle to `path` through a temporary file beside it.
// The CLI calls `write_reusing`; the tests call this.
#[allow(dead_code)]
pub fn write(
    path: &Path,
    app_name: &str,
    app: &[u8],
    assets: &[(&str, &[u8])],
    time: zip::DateTime,
) -> std::io::Result<()> {
    let assets: Vec<(&str, &[u8], Option<Deflated<'_>>)> =
        assets.iter().map(|(n, b)| (*n, *b, None)).collect();
    write_reusing(path, app_name, app, &assets, time)
}

/// [`write`], where an asset given with its [`Deflated`] stream is written
/// as it is instead of being compressed again: the same zip, byte for byte.
pub fn write_reusing(
    path: &Path,
    app_name: &str,
    app: &[u8],
    assets: &[(&str, &[u8], Option<Deflated<'_>>)],
    time: zip::DateTime,
) -> std::io::Result<()> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    std::fs::create_dir_all(dir)?;
    let tmp = tempfile::Builder::new()
        .prefix(".assetota-particle")
        .tempfile_in(dir)?;
    {
        let mut sorted: Vec<&(&str, &[u8], Option<Deflated<'_>>)> = assets.iter().collect();
        sorted.sort_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
        let entries: Vec<(String, &[u8], Option<Deflated<'_>>)> =
            std::iter::once((app_name.to_owned(), app, None))
                .chain(
                    sorted
                        .into_iter()
                        .map(|(name, bytes, d)| (format!("{ASSETS_DIR}{name}"), *bytes, *d)),
                )
                .collect();
        // Compressing is most of the time a bundle takes, so the entries are
        // made on every core, each as a one-entry zip in memory, then copied
        // raw in order: the same bytes as writing them one after the other.
        let made: Vec<std::io::Result<Vec<u8>>> = parallel_map(&entries, |(name, bytes, d)| {
            if let Some(one) = d.and_then(|d| one_entry_zip(name, bytes.len(), d, time)) {
                return Ok(one);
            }
            let options = zip::write::SimpleFileOptions::default()
                .compression_method(zip::CompressionMethod::Deflated)
                .compression_level(Some(LEVEL))
                .last_modified_time(time)
                .unix_permissions(0o644)
                .large_file(bytes.len() as u64 >= 0xFFFF_FFFF);
            let mut one = zip::ZipWriter::new(Cursor::new(Vec::new()));
            one.start_file(name.as_str(), options)
                .map_err(std::io::Error::other)?;
            one.write_all(bytes)?;
            Ok(one.finish().map_err(std::io::Error::other)?.into_inner())
        });
        let mut zip = zip::ZipWriter::new(std::io::BufWriter::new(tmp.as_file()));
        for one in made {
            let mut one = zip::ZipArchive::new(Cursor::new(one?)).map_err(std::io::Error::other)?;
            let entry = one.by_index_raw(0).map_err(std::io::Error::other)?;
            zip.raw_copy_file(entry).map_err(std::io::Error::other)?;
        }
        zip.finish().map_err(std::io::Error::other)?.flush()?;
    }
    tmp.as_file().sync_all()?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(tmp.path(), std::fs::Permissions::from_mode(0o644))?;
    }
    tmp.persist(path).map_err(|e| e.error)?;
    Ok(())
}

/// A zip holding one deflated entry made from an existing stream, with the
/// metadata `ZipWriter` gives the others (mode 0644, `time`, the UTF-8 flag
/// for a non-ASCII name), for [`zip::ZipWriter::raw_copy_file`]; `None` when
/// it would need zip64.
fn one_entry_zip(name: &str, len: usize, d: Deflated<'_>, time: zip::DateTime) -> Option<Vec<u8>> {
    let size = u32::try_from(len).ok().filter(|&n| n < u32::MAX)?;
    let csize = u32::try_from(d.stream.len())
        .ok()
        .filter(|&n| n < u32::MAX)?;
    let name_len = u16::try_from(name.len()).ok()?;
    let flags: u16 = if name.is_ascii() { 0 } else { 1 << 11 };
    let mut z = Vec::with_capacity(d.stream.len() + 2 * name.len() + 100);
    let common = |z: &mut Vec<u8>| {
        for v in [20u16, flags, 8, time.timepart(), time.datepart()] {
            z.extend_from_slice(&v.to_le_bytes());
        }
        for v in [d.crc32, csize, size] {
            z.extend_from_slice(&v.to_le_bytes());
        }
        z.extend_from_slice(&name_len.to_le_bytes());
        z.extend_from_slice(&0u16.to_le_bytes()); // extra field length
    };
    z.extend_from_slice(&0x0403_4b50u32.to_le_bytes());
    common(&mut z);
    z.extend_from_slice(name.as_bytes());
    z.extend_from_slice(d.stream);
    let central = z.len();
    z.extend_from_slice(&0x0201_4b50u32.to_le_bytes());
    z.extend_from_slice(&0x0314u16.to_le_bytes()); // made by Unix, zip 2.0
    common(&mut z);
    for v in [0u16, 0, 0] {
        // comment length, disk, internal attributes
        z.extend_from_slice(&v.to_le_bytes());
    }
    z.extend_from_slice(&(0o100644u32 << 16).to_le_bytes());
    z.extend_from_slice(&0u32.to_le_bytes()); // local header offset
    z.extend_from_slice(name.as_bytes());
    let central_len = u32::try_from(z.len() - central).ok()?;
    let central = u32::try_from(central).ok()?;
    z.extend_from_slice(&0x0605_4b50u32.to_le_bytes());
    for v in [0u16, 0, 1, 1] {
        z.extend_from_slice(&v.to_le_bytes());
    }
    z.extend_from_slice(&central_len.to_le_bytes());
    z.extend_from_slice(&central.to_le_bytes());
    z.extend_from_slice(&0u16.to_le_bytes());
    Some(z)
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
    pub app_name: String,
    pub app: Vec<u8>,
    /// `assets/<name>` entries, in zip order.
    pub assets: Vec<(String, Vec<u8>)>,
    /// Entries Particle's tools skip (e.g. `assets/sub/x`, `env.json`): they
    /// never reach a device.
    pub ignored: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BundleError {
    #[error("is not a zip file: {0}")]
    NotZip(String),
    #[error("is rejected: entry `{entry}` {reason}")]
    Hostile { entry: String, reason: String },
    #[error("has no application: a Particle bundle has one `.bin` file at the root of the zip")]
    NoApp,
    #[error("has more than one file at the root of the zip ({}); a Particle bundle has only the application there", .0.join(", "))]
    SeveralApps(Vec<String>),
}

/// The raw names in the central directory, duplicates kept; `None` if the end
/// of central directory record cannot be found or points outside the file.
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

/// Rejects names that are unsafe anywhere: absolute, drive letters, `..`, `.`
/// or empty components, backslashes, control characters.
fn check_name(name: &str) -> Result<(), &'static str> {
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
    let trimmed = name.strip_suffix('/').unwrap_or(name);
    for component in trimmed.split('/') {
        match component {
            ".." => return Err("has a `..` component (path traversal)"),
            "." | "" => return Err("has an empty or `.` path component"),
            _ => {}
        }
    }
    Ok(())
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
        check_name(&name).map_err(|r| hostile(&name, r.into()))?;
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
                    "declares {size} bytes, more than the {MAX_ENTRY}-byte limit (decompression bomb)"
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
                    "brings the bundle past {MAX_TOTAL} decompressed bytes (decompression bomb)"
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
                format!("decompresses to more than its declared {size} bytes (decompression bomb)"),
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

    fn deflate6(raw: &[u8]) -> (Vec<u8>, u32) {
        let mut e = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::new(6));
        e.write_all(raw).unwrap();
        let mut crc = flate2::Crc::new();
        crc.update(raw);
        (e.finish().unwrap(), crc.sum())
    }

    #[test]
    fn reused_streams_give_the_same_zip_byte_for_byte() {
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
        let assets: Vec<(&str, &[u8])> = vec![
            ("config.json", &text),
            ("noise.bin", &noise),
            ("empty", b""),
            ("été✓.txt", b"hello\n"),
        ];
        let streams: Vec<(Vec<u8>, u32)> = assets.iter().map(|(_, b)| deflate6(b)).collect();
        let reusing: Vec<(&str, &[u8], Option<Deflated<'_>>)> = assets
            .iter()
            .zip(&streams)
            .map(|((n, b), (s, crc))| {
                let d = Deflated {
                    stream: s,
                    crc32: *crc,
                };
                (*n, *b, Some(d))
            })
            .collect();
        let dir = tempfile::tempdir().unwrap();
        let time = zip::DateTime::from_date_and_time(2024, 5, 17, 12, 34, 56).unwrap();
        let (a, b) = (dir.path().join("a.zip"), dir.path().join("b.zip"));
        write(&a, "app.bin", b"\x01\x02app", &assets, time).unwrap();
        write_reusing(&b, "app.bin", b"\x01\x02app", &reusing, time).unwrap();
        let (a, b) = (std::fs::read(a).unwrap(), std::fs::read(b).unwrap());
        assert!(
            a == b,
            "the zips differ ({} and {} bytes)",
            a.len(),
            b.len()
        );
        let back = read(&b).unwrap();
        assert_eq!(back.assets.len(), 4);
        assert_eq!(back.assets[0], ("config.json".to_owned(), text.clone()));
    }
}
