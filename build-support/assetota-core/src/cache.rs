//! The incremental cache: an unchanged file is not hashed or compressed
//! again. Keyed by path, size, mtime and inode (and the codec), kept in the
//! target directory, shared by build.rs, `size` and `watch`.
//!
//! It is only ever a hint: a file that does not parse, fails its checksum or
//! comes from another format version is ignored whole, and an entry whose
//! file changed within [`RACY_WINDOW`] of being measured is neither saved nor
//! trusted in memory (a write in the same clock tick would leave size and
//! mtime alike). The in-memory rule matters to a long-running `watch`, which
//! looks the same entries up again and again.

use crate::codec::Codec;
use crate::measure::{MeasureError, Measured, Progress};
use crate::scan::ScannedFile;
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

const HEADER: &str = "assetota-cache v1";
/// Entries for files modified this close to the time of writing are dropped.
pub const RACY_WINDOW: Duration = Duration::from_secs(2);
/// Where the cache lives inside a target directory.
pub const CACHE_FILE: &str = "assetota/measure-cache-v1";

/// What identifies a file's content without reading it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Stamp {
    pub size: u64,
    pub mtime_ns: u128,
    pub inode: u64,
}

impl Stamp {
    pub fn of(meta: &std::fs::Metadata) -> Option<Stamp> {
        let mtime_ns = meta
            .modified()
            .ok()?
            .duration_since(UNIX_EPOCH)
            .ok()?
            .as_nanos();
        #[cfg(unix)]
        let inode = std::os::unix::fs::MetadataExt::ino(meta);
        #[cfg(not(unix))]
        let inode = 0;
        Some(Stamp {
            size: meta.len(),
            mtime_ns,
            inode,
        })
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Entry {
    stamp: Stamp,
    sha256: [u8; 32],
    compressed_size: u64,
    /// When the stamp was taken (ns since the epoch), for entries measured by
    /// this process; `None` for loaded ones, which passed the check when saved.
    checked_ns: Option<u128>,
}

impl Entry {
    /// Whether the file had been still long enough when it was measured that
    /// a later write cannot have left its stamp unchanged.
    fn settled(&self) -> bool {
        self.checked_ns
            .is_none_or(|t| t.saturating_sub(self.stamp.mtime_ns) > RACY_WINDOW.as_nanos())
    }
}

/// An in-memory cache, loaded from and saved to one file.
#[derive(Debug, Default)]
pub struct Cache {
    path: Option<PathBuf>,
    entries: HashMap<(String, PathBuf), Entry>,
    hits: usize,
    misses: usize,
    /// What the last [`Cache::save`] wrote, as a hash of its `keep` list, while
    /// nothing was inserted since: saving the same again is skipped (a watch
    /// rescans often, mostly with nothing new).
    saved: std::cell::Cell<Option<u64>>,
    /// A hash of the file as [`Cache::load`] read it (when it was valid) or
    /// as [`Cache::save`] last wrote it: a process that measured nothing new
    /// (`size`, build.rs) would write the same bytes again, and skips it.
    loaded: std::cell::Cell<Option<u64>>,
}

fn text_hash(text: &str) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    text.hash(&mut h);
    h.finish()
}

impl Cache {
    /// An empty cache that is never saved.
    pub fn in_memory() -> Cache {
        Cache::default()
    }

    /// Loads `path`; a missing, corrupt or foreign file gives an empty cache.
    pub fn load(path: &Path) -> Cache {
        let (entries, loaded) = std::fs::read_to_string(path)
            .ok()
            .and_then(|text| Some((parse(&text)?, Some(text_hash(&text)))))
            .unwrap_or_default();
        Cache {
            path: Some(path.to_owned()),
            entries,
            hits: 0,
            misses: 0,
            saved: Default::default(),
            loaded: std::cell::Cell::new(loaded),
        }
    }

    /// The cache of a cargo target directory.
    pub fn for_target_dir(target_dir: &Path) -> Cache {
        Cache::load(&target_dir.join(CACHE_FILE))
    }

    /// A cached measurement, if the file at `path` still has `stamp`.
    pub fn get(&mut self, codec: Codec, name: &str, path: &Path, stamp: Stamp) -> Option<Measured> {
        let found = self
            .entries
            .get(&(key(codec), path.to_owned()))
            .filter(|e| e.stamp == stamp && e.settled());
        match found {
            Some(e) => {
                self.hits += 1;
                Some(Measured {
                    name: name.to_owned(),
                    path: path.to_owned(),
                    size: stamp.size,
                    sha256: e.sha256,
                    compressed_size: e.compressed_size,
                })
            }
            None => {
                self.misses += 1;
                None
            }
        }
    }

    /// Records a measurement; `checked_at` is when `stamp` was taken (before
    /// the file was read).
    pub fn insert(
        &mut self,
        codec: Codec,
        measured: &Measured,
        stamp: Stamp,
        checked_at: SystemTime,
    ) {
        let entry = Entry {
            stamp,
            sha256: measured.sha256,
            compressed_size: measured.compressed_size,
            checked_ns: Some(
                checked_at
                    .duration_since(UNIX_EPOCH)
                    .map_or(0, |d| d.as_nanos()),
            ),
        };
        // A racy entry is not saved: the file need not be written for it (the
        // entry it replaces there no longer matches the file, a plain miss).
        if entry.settled() {
            self.saved.set(None);
        }
        self.entries
            .insert((key(codec), measured.path.clone()), entry);
    }

    /// Cache hits and misses since loading.
    pub fn stats(&self) -> (usize, usize) {
        (self.hits, self.misses)
    }

    /// Writes the cache atomically (temporary file, then rename), with the
    /// settled entries of `keep` (the files of the latest scan) and of other
    /// files that still exist — packages sharing a target dir keep each
    /// other's entries, while deleted files drop out. Not written when the
    /// bytes would be those of the file as loaded or last saved. Errors are
    /// ignored: a cache that cannot be written is only slower.
    pub fn save(&self, keep: &[PathBuf]) {
        let Some(path) = &self.path else { return };
        let keep_hash = {
            use std::hash::{Hash, Hasher};
            let mut h = std::collections::hash_map::DefaultHasher::new();
            keep.hash(&mut h);
            h.finish()
        };
        if self.saved.get() == Some(keep_hash) {
            return;
        }
        let keep: std::collections::HashSet<&PathBuf> = keep.iter().collect();
        let mut lines: Vec<String> = self
            .entries
            .iter()
            .filter(|((_, p), e)| e.settled() && (keep.contains(p) || p.is_file()))
            .filter_map(|((codec, p), e)| {
                let p = p.to_str().filter(|s| !s.contains(['\n', '\r']))?;
                let sha: String = e.sha256.iter().map(|b| format!("{b:02x}")).collect();
                Some(format!(
                    "{codec}\t{}\t{}\t{}\t{sha}\t{}\t{p}",
                    e.stamp.inode, e.stamp.size, e.stamp.mtime_ns, e.compressed_size
                ))
            })
            .collect();
        lines.sort();
        let body = lines.iter().map(|l| format!("{l}\n")).collect::<String>();
        let text = format!("{HEADER}\n{body}{}\n", checksum(&body));
        let hash = text_hash(&text);
        if self.loaded.get() == Some(hash) {
            self.saved.set(Some(keep_hash));
            return;
        }
        if let Some(dir) = path.parent() {
            let _ = std::fs::create_dir_all(dir);
        }
        let tmp = path.with_extension(format!("tmp{}", std::process::id()));
        if std::fs::write(&tmp, text).is_ok() {
            if std::fs::rename(&tmp, path).is_ok() {
                self.saved.set(Some(keep_hash));
                self.loaded.set(Some(hash));
            } else {
                let _ = std::fs::remove_file(&tmp);
            }
        }
    }
}

fn key(codec: Codec) -> String {
    match codec {
        Codec::None => "none".into(),
        // Sizes from Node's zlib (Chromium's); "deflate-L-W" entries were
        // canonical zlib's and must not be reused.
        Codec::Deflate { level, window_bits } => format!("deflate-node-{level}-{window_bits}"),
        Codec::Xz { preset, dict_size } => format!("xz-{preset}-{dict_size}"),
    }
}

fn checksum(body: &str) -> String {
    Sha256::digest(body.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn parse(text: &str) -> Option<HashMap<(String, PathBuf), Entry>> {
    let rest = text.strip_prefix(HEADER)?.strip_prefix('\n')?;
    let rest = rest.strip_suffix('\n')?;
    let (body, sum) = match rest.rfind('\n') {
        Some(i) => (&rest[..=i], &rest[i + 1..]),
        None => ("", rest),
    };
    if checksum(body) != sum {
        return None;
    }
    let mut entries = HashMap::new();
    for line in body.lines() {
        let mut f = line.splitn(7, '\t');
        let codec = f.next()?.to_owned();
        let inode = f.next()?.parse().ok()?;
        let size = f.next()?.parse().ok()?;
        let mtime_ns = f.next()?.parse().ok()?;
        let sha_hex = f.next()?;
        let compressed_size = f.next()?.parse().ok()?;
        let path = PathBuf::from(f.next()?);
        let mut sha256 = [0u8; 32];
        if sha_hex.len() != 64 {
            return None;
        }
        for (i, byte) in sha256.iter_mut().enumerate() {
            *byte = u8::from_str_radix(sha_hex.get(2 * i..2 * i + 2)?, 16).ok()?;
        }
        entries.insert(
            (codec, path),
            Entry {
                stamp: Stamp {
                    size,
                    mtime_ns,
                    inode,
                },
                sha256,
                compressed_size,
                checked_ns: None,
            },
        );
    }
    Some(entries)
}

/// The target directory that contains `out_dir` (cargo marks its root with
/// `CACHEDIR.TAG`), so build.rs can share the CLI's cache.
pub fn target_dir_of(out_dir: &Path) -> Option<PathBuf> {
    out_dir
        .ancestors()
        .find(|dir| dir.join("CACHEDIR.TAG").is_file())
        .map(Path::to_owned)
}

/// Like [`measure_all`](crate::measure::measure_all), but files whose size, mtime and inode match the
/// cache are not read; what is measured goes into the cache.
pub fn measure_all_cached(
    files: &[ScannedFile],
    codec: Codec,
    progress: &dyn Progress,
    cache: &mut Cache,
) -> Result<Vec<Measured>, MeasureError> {
    let mut results: Vec<Option<Measured>> = Vec::with_capacity(files.len());
    let mut stamps = Vec::with_capacity(files.len());
    let mut todo = Vec::new();
    let checked_at = std::time::SystemTime::now();
    for file in files {
        // Stat before reading: if the file changes meanwhile, the stored
        // stamp is the older one and the next run measures it again.
        let stamp = file.path.metadata().ok().and_then(|m| Stamp::of(&m));
        let hit = stamp.and_then(|s| cache.get(codec, &file.name, &file.path, s));
        if hit.is_none() {
            todo.push(file.clone());
        }
        results.push(hit);
        stamps.push(stamp);
    }
    let mut fresh = crate::measure::measure_all(&todo, codec, progress)?.into_iter();
    for (i, slot) in results.iter_mut().enumerate() {
        if slot.is_none() {
            let measured = fresh.next().expect("one fresh measurement per miss");
            if let Some(stamp) = stamps[i] {
                cache.insert(codec, &measured, stamp, checked_at);
            }
            *slot = Some(measured);
        }
    }
    Ok(results
        .into_iter()
        .map(|m| m.expect("every slot filled"))
        .collect())
}
