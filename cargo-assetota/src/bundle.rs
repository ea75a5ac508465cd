//! The bundle (DESIGN §8): `manifest.json`, the firmware image and the raw assets
//! in a deterministic zip, written atomically; and a reader that refuses hostile
//! zips before anything is decompressed, without writing anywhere.

use std::collections::{BTreeMap, HashSet};
use std::io::{Cursor, Read, Write};
use std::path::{Path, PathBuf};

use assetota_core::platform::{Container, Limits, Origin, Platform, StoreGeometry};
use assetota_core::{Budget, Codec};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::error::{Error, Result};

/// The bundle format this tool writes and reads.
pub const FORMAT: u64 = 1;
pub const MANIFEST_JSON: &str = "manifest.json";
pub const ASSETS_PREFIX: &str = "assets/";

/// Largest decompressed entry accepted (firmware and assets are a few MiB).
pub const MAX_ENTRY: u64 = 256 << 20;
/// Largest total of decompressed entries accepted.
pub const MAX_TOTAL: u64 = 512 << 20;
/// Largest `manifest.json` accepted.
pub const MAX_MANIFEST_JSON: u64 = 16 << 20;
/// DEFLATE cannot expand more than about 1032:1; a higher declared ratio is a lie.
pub const MAX_RATIO: u64 = 1100;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BundleManifest {
    pub format: u64,
    pub generator: String,
    pub package: PackageJson,
    pub bin: Option<String>,
    pub target: Option<String>,
    pub profile: Option<String>,
    /// The platform the budget was computed for; `null` when none was configured.
    pub platform: Option<String>,
    /// The platform's storage model, so `verify` can recheck the budget alone.
    pub storage: StorageJson,
    pub codec: CodecJson,
    pub firmware: FirmwareJson,
    pub assets: Vec<AssetJson>,
    pub total_size: u64,
    pub total_storage_size: u64,
    pub fits: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PackageJson {
    pub name: String,
    pub version: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StorageJson {
    pub limit_total: Option<u64>,
    pub limit_single: Option<u64>,
    pub block_size: u64,
    pub per_block_overhead: u64,
    pub per_asset_overhead: u64,
    pub name_in_container: bool,
    /// The device store's flash geometry (platforms of kind `assetota-store`),
    /// so the factory image can be rebuilt from the bundle alone.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub store: Option<StoreJson>,
}

/// The flash geometry of an `assetota-store` platform.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoreJson {
    /// The flash's write size (`WRITE_SIZE`), in bytes.
    pub write_size: u32,
    /// The flash's erase size (`ERASE_SIZE`): the store's block.
    pub erase_size: u32,
    /// Bytes of the store partition.
    pub partition_size: u64,
    /// Where the partition starts on the flash, when known.
    #[serde(default)]
    pub partition_offset: Option<u64>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CodecJson {
    pub kind: String,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub level: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub window_bits: Option<u8>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub dict_size: Option<u32>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FirmwareJson {
    /// Its entry name in the zip.
    pub file: String,
    /// `bin` (flat image) or `elf`.
    pub format: String,
    pub size: u64,
    pub sha256: String,
    /// Where the embedded manifest starts inside `file`.
    pub manifest_offset: u64,
    pub manifest_size: u64,
    /// Load address of the image's first byte (flat images).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub load_address: Option<u64>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AssetJson {
    pub name: String,
    pub file: String,
    pub size: u64,
    pub sha256: String,
    pub compressed_size: u64,
    pub stored_size: u64,
    pub storage_size: u64,
    /// The codec this asset is stored with (written for every asset; an asset
    /// that compression does not shrink is stored with `none`). Absent in
    /// bundles from older versions: the bundle-level `codec` applies.
    #[serde(default)]
    pub codec: Option<CodecJson>,
}

impl CodecJson {
    pub fn from_codec(codec: Codec) -> CodecJson {
        match codec {
            Codec::None => CodecJson {
                kind: "none".into(),
                level: None,
                window_bits: None,
                dict_size: None,
            },
            Codec::Deflate { level, window_bits } => CodecJson {
                kind: "deflate".into(),
                level: Some(level),
                window_bits: Some(window_bits),
                dict_size: None,
            },
            Codec::Xz { preset, dict_size } => CodecJson {
                kind: "xz".into(),
                level: Some(preset),
                window_bits: None,
                dict_size: Some(dict_size),
            },
        }
    }

    pub fn to_codec(&self) -> std::result::Result<Codec, String> {
        Codec::from_parts(
            &self.kind,
            self.level,
            self.window_bits.map(u32::from),
            self.dict_size.map(u64::from),
        )
        .map_err(|e| e.to_string())
    }
}

impl StorageJson {
    pub fn from_platform(p: &Platform) -> StorageJson {
        let l = p.limits.as_ref();
        StorageJson {
            limit_total: l.map(|l| l.total),
            limit_single: l.and_then(|l| l.max_asset),
            block_size: l.map_or(0, |l| l.block_size),
            per_block_overhead: l.map_or(0, |l| l.per_block_overhead),
            per_asset_overhead: p.container.fixed,
            name_in_container: p.container.includes_name,
            store: p.store.map(|g| StoreJson {
                write_size: g.write_size,
                erase_size: g.erase_size,
                partition_size: g.partition_size,
                partition_offset: g.partition_offset,
            }),
        }
    }
}

impl BundleManifest {
    /// The platform the bundle records, rebuilt so its budget can be checked.
    /// A store platform is rebuilt from its geometry, which must give the
    /// block model `storage` records.
    pub fn platform(&self) -> std::result::Result<Platform, String> {
        let codec = self.codec.to_codec().map_err(|e| format!("codec: {e}"))?;
        let s = &self.storage;
        let origin = match &self.platform {
            None => Origin::Unconstrained,
            Some(name) if assetota_core::platform::builtin(name).is_some() => Origin::BuiltIn,
            Some(_) => Origin::Config(PathBuf::from(MANIFEST_JSON)),
        };
        if let Some(store) = &s.store {
            let geometry = StoreGeometry {
                write_size: store.write_size,
                erase_size: store.erase_size,
                partition_size: store.partition_size,
                partition_offset: store.partition_offset,
            };
            let name = self.platform.as_deref().unwrap_or("(none)");
            let p = assetota_core::platform::store_platform(
                name,
                geometry,
                s.limit_single,
                codec,
                origin,
            )
            .map_err(|e| format!("storage.store: {e}"))?;
            let rebuilt = StorageJson::from_platform(&p);
            if rebuilt != *s {
                return Err(format!(
                    "storage: the block model ({} B blocks, {} B per block, {} B per asset, {:?} B in total) is not what the store geometry gives ({} B, {} B, {} B, {:?} B)",
                    s.block_size,
                    s.per_block_overhead,
                    s.per_asset_overhead,
                    s.limit_total,
                    rebuilt.block_size,
                    rebuilt.per_block_overhead,
                    rebuilt.per_asset_overhead,
                    rebuilt.limit_total
                ));
            }
            return Ok(p);
        }
        let mut p = match &self.platform {
            Some(name) => assetota_core::platform::builtin(name)
                .unwrap_or_else(|| assetota_core::platform::unconstrained(codec)),
            None => assetota_core::platform::unconstrained(codec),
        };
        p.name = self.platform.clone().unwrap_or_else(|| "(none)".into());
        p.codec = codec;
        p.container = Container {
            fixed: s.per_asset_overhead,
            includes_name: s.name_in_container,
        };
        p.limits = s.limit_total.map(|total| Limits {
            total,
            max_asset: s.limit_single,
            block_size: s.block_size,
            per_block_overhead: s.per_block_overhead,
        });
        p.origin = origin;
        Ok(p)
    }
}

impl AssetJson {
    /// The codec this asset is stored with: its own, or the bundle's `codec`
    /// when the bundle predates per-asset codecs.
    pub fn stored_codec(&self, bundle: &CodecJson) -> std::result::Result<Codec, String> {
        self.codec.as_ref().unwrap_or(bundle).to_codec()
    }
}

pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

pub fn sha256_hex(bytes: &[u8]) -> String {
    hex(&Sha256::digest(bytes))
}

/// The asset list of `manifest.json` for a budget.
pub fn assets_json(budget: &Budget) -> Vec<AssetJson> {
    budget
        .assets
        .iter()
        .map(|a| AssetJson {
            name: a.measured.name.clone(),
            file: format!("{ASSETS_PREFIX}{}", a.measured.name),
            size: a.measured.size,
            sha256: hex(&a.measured.sha256),
            compressed_size: a.measured.compressed_size,
            stored_size: a.stored_size,
            storage_size: a.storage_size,
            codec: Some(CodecJson::from_codec(a.codec)),
        })
        .collect()
}

/// The zip timestamp: `SOURCE_DATE_EPOCH` when set, else 1980-01-01 00:00:00,
/// clamped to what a zip can hold.
pub fn timestamp() -> zip::DateTime {
    let epoch = std::env::var("SOURCE_DATE_EPOCH")
        .ok()
        .and_then(|v| v.trim().parse::<i64>().ok());
    let Some(secs) = epoch else {
        return zip::DateTime::default();
    };
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    let (y, m, d) = civil_from_days(days);
    if y < 1980 {
        return zip::DateTime::default();
    }
    let y = y.min(2107);
    zip::DateTime::from_date_and_time(
        y as u16,
        m,
        d,
        (rem / 3600) as u8,
        (rem % 3600 / 60) as u8,
        (rem % 60) as u8,
    )
    .unwrap_or_default()
}

/// Howard Hinnant's days-to-civil algorithm (proleptic Gregorian, UTC).
fn civil_from_days(z: i64) -> (i64, u8, u8) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u8;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u8;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

/// One file to put in the bundle.
pub struct Entry<'a> {
    pub name: String,
    pub bytes: std::borrow::Cow<'a, [u8]>,
}

/// Reads an asset for the bundle, checking it is still what was measured: an
/// asset changed or removed since then makes the build of `bin` stale.
pub fn read_asset(path: &Path, name: &str, size: u64, sha256: &str, bin: &str) -> Result<Vec<u8>> {
    let stale = |what: &str| Error::Stale {
        bin: bin.to_owned(),
        dir: path.parent().unwrap_or(Path::new(".")).to_owned(),
        changes: vec![format!(
            "`{name}` {what} while the bundle was being written"
        )],
    };
    let bytes = match std::fs::read(path) {
        Ok(bytes) => bytes,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Err(stale("was removed")),
        Err(source) => {
            return Err(Error::Read {
                path: path.to_owned(),
                source,
            });
        }
    };
    if bytes.len() as u64 != size || sha256_hex(&bytes) != sha256 {
        return Err(stale("changed"));
    }
    Ok(bytes)
}

/// Writes the bundle: `manifest.json` first, then the other entries sorted by
/// name; fixed timestamp and permissions; stored or deflated by a rule that only
/// depends on the bytes. Written to a temporary file beside `path`, then renamed.
pub fn write(path: &Path, manifest: &BundleManifest, mut entries: Vec<Entry<'_>>) -> Result<()> {
    let zip_err = |source| Error::Zip {
        path: path.to_owned(),
        source,
    };
    let write_err = |source| Error::Write {
        path: path.to_owned(),
        source,
    };
    let mut json =
        serde_json::to_vec_pretty(manifest).map_err(|e| write_err(std::io::Error::other(e)))?;
    json.push(b'\n');
    entries.sort_by(|a, b| a.name.as_bytes().cmp(b.name.as_bytes()));
    entries.insert(
        0,
        Entry {
            name: MANIFEST_JSON.into(),
            bytes: json.into(),
        },
    );

    let time = timestamp();
    write_atomically(path, |file| {
        let mut zip = zip::ZipWriter::new(std::io::BufWriter::new(file));
        for entry in &entries {
            let method = if deflate_pays(&entry.bytes) {
                zip::CompressionMethod::Deflated
            } else {
                zip::CompressionMethod::Stored
            };
            let options = zip::write::SimpleFileOptions::default()
                .compression_method(method)
                .compression_level(if method == zip::CompressionMethod::Deflated {
                    Some(6)
                } else {
                    None
                })
                .last_modified_time(time)
                .unix_permissions(0o644)
                .large_file(entry.bytes.len() as u64 >= 0xFFFF_FFFF);
            zip.start_file(entry.name.as_str(), options)
                .map_err(zip_err)?;
            zip.write_all(&entry.bytes).map_err(write_err)?;
        }
        let mut out = zip.finish().map_err(zip_err)?;
        out.flush().map_err(write_err)
    })
}

/// The prefix of the temporary files [`write_atomically`] writes `path`
/// through: `.<file name>.tmp-` followed by six random characters, in the
/// same directory. A process killed while writing (SIGKILL, power loss)
/// leaves one behind; the next write of the same file removes it.
pub fn temp_prefix(path: &Path) -> String {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    format!(".{name}.tmp-")
}

/// Writes `path` so that it holds either its previous contents or the new
/// ones, never a mix, whatever happens meanwhile: `fill` writes into a
/// temporary file in the same directory, which is flushed to disk, then
/// renamed over `path`, and the directory flushed too.
///
/// Writers take an exclusive lock on the directory (`flock`, released by the
/// kernel when a process dies), so concurrent builds of the same bundle wait
/// for each other, and a temporary file found while holding the lock belongs to
/// a writer that died: it is removed. Where the lock cannot be taken, nothing is
/// removed.
pub fn write_atomically(
    path: &Path,
    fill: impl FnOnce(&std::fs::File) -> Result<()>,
) -> Result<()> {
    let write_err = |source| Error::Write {
        path: path.to_owned(),
        source,
    };
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    std::fs::create_dir_all(dir).map_err(write_err)?;
    catch_file_size_signal();
    let lock = lock_dir(dir);
    let prefix = temp_prefix(path);
    if lock.is_some() {
        remove_stale_temps(dir, &prefix);
    }
    let tmp = tempfile::Builder::new()
        .prefix(&prefix)
        .tempfile_in(dir)
        .map_err(write_err)?;
    fill(tmp.as_file())?;
    tmp.as_file().sync_all().map_err(write_err)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let _ = std::fs::set_permissions(tmp.path(), std::fs::Permissions::from_mode(0o644));
    }
    tmp.persist(path).map_err(|e| write_err(e.error))?;
    if let Some(dir) = &lock {
        // The rename itself reaches the disk (best effort: not every file
        // system syncs a directory).
        let _ = dir.sync_all();
    }
    Ok(())
}

/// An exclusive `flock` on a directory, held until the handle is dropped.
fn lock_dir(dir: &Path) -> Option<std::fs::File> {
    if !cfg!(unix) {
        return None;
    }
    let handle = std::fs::File::open(dir).ok()?;
    handle.lock().ok()?;
    Some(handle)
}

/// Removes what killed writers of the same file left in `dir`.
fn remove_stale_temps(dir: &Path, prefix: &str) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let stale = entry
            .file_name()
            .to_str()
            .is_some_and(|n| n.starts_with(prefix))
            && entry.file_type().is_ok_and(|t| t.is_file());
        if stale {
            let _ = std::fs::remove_file(entry.path());
        }
    }
}

/// Beyond a file-size limit (`ulimit -f`), a write raises SIGXFSZ, which kills
/// the process by default and leaves a partial temporary file without a word.
/// With a handler installed, the write fails with EFBIG instead and is reported
/// like any other write error. A handler (unlike SIG_IGN) does not carry over
/// to the programs this one runs.
fn catch_file_size_signal() {
    #[cfg(unix)]
    {
        static ONCE: std::sync::Once = std::sync::Once::new();
        extern "C" fn ignore(_: libc::c_int) {}
        ONCE.call_once(|| {
            // SAFETY: installs an async-signal-safe handler that does nothing.
            unsafe {
                let mut action: libc::sigaction = std::mem::zeroed();
                action.sa_sigaction = ignore as extern "C" fn(libc::c_int) as usize;
                libc::sigemptyset(&mut action.sa_mask);
                action.sa_flags = libc::SA_RESTART;
                libc::sigaction(libc::SIGXFSZ, &action, std::ptr::null_mut());
            }
        });
    }
}

/// Deflate an entry only when that saves at least 1/16 of it (already-compressed
/// assets are stored as they are).
fn deflate_pays(bytes: &[u8]) -> bool {
    if bytes.len() < 64 {
        return false;
    }
    let mut encoder = flate2::write::DeflateEncoder::new(Counter(0), flate2::Compression::new(6));
    if encoder.write_all(bytes).is_err() {
        return false;
    }
    match encoder.finish() {
        Ok(Counter(n)) => n + (bytes.len() as u64 / 16) < bytes.len() as u64,
        Err(_) => false,
    }
}

struct Counter(u64);
impl Write for Counter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0 += buf.len() as u64;
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// A bundle read into memory after every structural check passed.
#[derive(Debug)]
pub struct Contents {
    pub manifest: BundleManifest,
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
        reason: format!("it is more than the {MAX_TOTAL}-byte limit for a bundle"),
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
        check_name(&name).map_err(|reason| hostile(&name, reason))?;
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
                    "declares {size} bytes, more than the {MAX_ENTRY}-byte limit (decompression bomb)"
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
                    "brings the bundle past {MAX_TOTAL} decompressed bytes (decompression bomb)"
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
        if let Err(reason) = check_name(name) {
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

/// Rejects names that are unsafe anywhere: absolute, drive-relative, with `..`
/// or `.` or empty components, backslashes or control characters.
fn check_name(name: &str) -> std::result::Result<(), &'static str> {
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
    for component in name.split('/') {
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
    fn civil_dates() {
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(civil_from_days(19_723), (2024, 1, 1));
        assert_eq!(civil_from_days(3_652), (1980, 1, 1));
    }

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
            assert!(check_name(bad).is_err(), "{bad:?}");
        }
        for good in [
            "manifest.json",
            "assets/img/logo.png",
            "hello.bin",
            "assets/..dots",
        ] {
            assert!(check_name(good).is_ok(), "{good:?}");
        }
    }
}
