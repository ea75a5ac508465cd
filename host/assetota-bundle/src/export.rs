//! The export layout (README.md, "Delivery: export and serve"): a bundle as a static,
//! content-addressed directory any HTTP server, object store or CDN can serve
//! to a fleet:
//!
//! - `DIR/manifest.json`: the bundle's, byte for byte (the latest release);
//! - `DIR/blobs/<sha256>`: each asset as the device stores it, its raw bytes
//!   encoded with its codec, so that decoding the blob hashes to `<sha256>`;
//! - `DIR/<firmware.file>`: the firmware image.
//!
//! Blobs are immutable: exporting another release into the same directory adds
//! the blobs it lacks and leaves every existing one untouched. A blob that
//! exists with other bytes under the same name is refused before anything is
//! written. `manifest.json` and the firmware are replaced atomically, the
//! manifest last, so a client that reads the new manifest finds its blobs.

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use assetota_core::Codec;
use assetota_core::atomic;
use assetota_core::bytesize::Bytes;
use serde::Serialize;

use crate::error::{Error, Result};
use crate::manifest::{self as bundle, BundleManifest, PackageJson, sha256_hex};
use crate::read::read_bytes;

/// The directory of the content-addressed blobs inside an export directory.
pub const BLOBS: &str = "blobs";

/// What one export did.
#[derive(Debug, Serialize)]
pub struct Summary {
    /// The export directory (as given; the CLI shows it relative to the
    /// current directory).
    pub dir: String,
    /// The release's package and version.
    pub package: PackageJson,
    /// `written` or `unchanged` (already byte-identical).
    pub manifest: &'static str,
    /// The firmware image written beside the manifest.
    pub firmware: FirmwareSummary,
    /// Counts and bytes of the blobs added and kept.
    pub blobs: BlobTotals,
    /// The blobs this export wrote.
    pub added: Vec<BlobSummary>,
    /// The blobs that were already there with the same bytes, left untouched.
    pub kept: Vec<BlobSummary>,
}

impl Summary {
    /// The status line's text: what was added and kept, and the firmware's
    /// and manifest.json's status.
    pub fn describe(&self) -> String {
        let blobs = &self.blobs;
        format!(
            "{} {} to {}: {} blob{} added ({}), {} kept ({}); firmware `{}` {}, manifest.json {}",
            self.package.name,
            self.package.version,
            self.dir,
            blobs.added,
            if blobs.added == 1 { "" } else { "s" },
            Bytes(blobs.added_bytes),
            blobs.kept,
            Bytes(blobs.kept_bytes),
            self.firmware.file,
            self.firmware.status,
            self.manifest,
        )
    }
}

/// The firmware of an export.
#[derive(Debug, Serialize)]
pub struct FirmwareSummary {
    /// Its path in the directory (`firmware.file` of manifest.json).
    pub file: String,
    /// Its size in bytes.
    pub size: u64,
    /// Its SHA-256, lowercase hex.
    pub sha256: String,
    /// `written` or `unchanged`.
    pub status: &'static str,
}

/// How many blobs an export added and kept, and their bytes.
#[derive(Debug, Default, Serialize)]
pub struct BlobTotals {
    /// Blobs written.
    pub added: usize,
    /// Bytes of the blobs written.
    pub added_bytes: u64,
    /// Blobs already there with the same bytes.
    pub kept: usize,
    /// Bytes of the blobs kept.
    pub kept_bytes: u64,
}

/// One blob of an export.
#[derive(Debug, Clone, Serialize)]
pub struct BlobSummary {
    /// The blob's name: the SHA-256 of the asset's raw bytes.
    pub sha256: String,
    /// `blobs/<sha256>`, relative to the export directory.
    pub path: String,
    /// Bytes of the blob (the encoded asset).
    pub size: u64,
    /// The codec it is encoded with, as `Codec` displays it (`none`,
    /// `deflate (level 6, window 15)`, …).
    pub codec: String,
    /// The assets of the release stored as this blob (several when their bytes are equal).
    pub assets: Vec<String>,
}

/// One blob the release needs.
struct Blob {
    bytes: Vec<u8>,
    codec: Codec,
    assets: Vec<String>,
}

/// Writes the layout of the bundle `bytes` (read from `bundle_path`) into
/// `dir`, after checking again everything the layout rests on (sizes, hashes,
/// codecs). The caller verifies the bundle first; `Summary::dir` is `dir` as
/// given.
pub fn export(bundle_path: &Path, bytes: &[u8], dir: &Path) -> Result<Summary> {
    let contents = read_bytes(bundle_path, bytes)?;
    let manifest_json = raw_manifest_json(bundle_path, bytes)?;
    let m = &contents.manifest;
    let bad = |reason: String| Error::BadBundle {
        path: bundle_path.to_owned(),
        reason,
    };
    if sha256_hex(&contents.firmware) != m.firmware.sha256 {
        return Err(bad(format!(
            "`{}` does not hash to the sha256 manifest.json gives",
            m.firmware.file
        )));
    }
    let blobs = encode_blobs(bundle_path, m, &contents.assets)?;
    let firmware_rel = firmware_path(bundle_path, m)?;
    write_layout(
        dir,
        m,
        &manifest_json,
        &firmware_rel,
        &contents.firmware,
        blobs,
    )
}

/// The bytes of `manifest.json` as stored in the zip (the parsed manifest may
/// leave out fields a newer writer added; the export keeps them).
fn raw_manifest_json(path: &Path, bytes: &[u8]) -> Result<Vec<u8>> {
    let bad = |reason: String| Error::BadBundle {
        path: path.to_owned(),
        reason,
    };
    let mut zip = zip::ZipArchive::new(std::io::Cursor::new(bytes))
        .map_err(|e| bad(format!("it is not a readable zip file: {e}")))?;
    let entry = zip
        .by_name(bundle::MANIFEST_JSON)
        .map_err(|e| bad(format!("`{}` cannot be read: {e}", bundle::MANIFEST_JSON)))?;
    let mut out = Vec::new();
    entry
        .take(bundle::MAX_MANIFEST_JSON + 1)
        .read_to_end(&mut out)
        .map_err(|e| bad(format!("`{}` cannot be read: {e}", bundle::MANIFEST_JSON)))?;
    Ok(out)
}

/// Where the firmware goes in the directory: `firmware.file`, unless that
/// would land among the blobs or be hidden.
fn firmware_path(path: &Path, m: &BundleManifest) -> Result<PathBuf> {
    let file = &m.firmware.file;
    let first = file.split('/').next().unwrap_or_default();
    if first == BLOBS || file.split('/').any(|c| c.starts_with('.')) {
        return Err(Error::BadBundle {
            path: path.to_owned(),
            reason: format!(
                "its firmware is named `{file}`, which an export directory cannot hold (it would be under `{BLOBS}/` or hidden)"
            ),
        });
    }
    // `bundle::read` already refused absolute names, `..`, backslashes and
    // drive letters.
    Ok(PathBuf::from(file))
}

/// Each asset encoded with its codec, by blob name. The encoders are
/// deterministic, so a blob's bytes only depend on the asset and its codec.
fn encode_blobs(
    path: &Path,
    m: &BundleManifest,
    assets: &BTreeMap<String, Vec<u8>>,
) -> Result<BTreeMap<String, Blob>> {
    let bad = |reason: String| Error::BadBundle {
        path: path.to_owned(),
        reason,
    };
    let mut blobs: BTreeMap<String, Blob> = BTreeMap::new();
    for a in &m.assets {
        // The name becomes a file name: exactly 64 lowercase hex digits.
        if a.sha256.len() != 64
            || !a
                .sha256
                .bytes()
                .all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
        {
            return Err(bad(format!(
                "`{}` has the sha256 `{}`, which is not 64 lowercase hex digits",
                a.name, a.sha256
            )));
        }
        let raw = assets
            .get(&a.name)
            .ok_or_else(|| bad(format!("`{}` is listed but missing", a.file)))?;
        if raw.len() as u64 != a.size || sha256_hex(raw) != a.sha256 {
            return Err(bad(format!(
                "`{}` does not have the size and sha256 manifest.json gives",
                a.file
            )));
        }
        // Its own codec, else (bundles from before per-asset codecs) the bundle's.
        let codec = a
            .codec
            .as_ref()
            .unwrap_or(&m.codec)
            .to_codec()
            .map_err(|e| bad(format!("`{}`: codec: {e}", a.name)))?;
        let bytes = encode(codec, raw)
            .map_err(|e| bad(format!("`{}` cannot be encoded with {codec}: {e}", a.name)))?;
        if bytes.len() as u64 != a.compressed_size {
            return Err(bad(format!(
                "`{}` encodes to {} with {codec}, manifest.json says {}",
                a.name,
                Bytes(bytes.len() as u64),
                Bytes(a.compressed_size)
            )));
        }
        match blobs.get_mut(&a.sha256) {
            None => {
                blobs.insert(
                    a.sha256.clone(),
                    Blob {
                        bytes,
                        codec,
                        assets: vec![a.name.clone()],
                    },
                );
            }
            Some(blob) if blob.bytes == bytes => blob.assets.push(a.name.clone()),
            Some(blob) => {
                return Err(bad(format!(
                    "`{}` and `{}` have the same bytes but different codecs ({} and {codec}), so they cannot share the blob `{BLOBS}/{}`",
                    blob.assets[0], a.name, blob.codec, a.sha256
                )));
            }
        }
    }
    Ok(blobs)
}

fn encode(codec: Codec, raw: &[u8]) -> std::io::Result<Vec<u8>> {
    let mut encoder = codec.encoder(Vec::with_capacity(raw.len() / 2 + 64))?;
    encoder.write_all(raw)?;
    encoder.finish()
}

/// What is at a path in the directory already.
enum Existing {
    Missing,
    Same,
    Different(String),
}

fn existing(path: &Path, bytes: &[u8], blob_name: Option<&str>) -> Result<Existing> {
    let meta = match std::fs::symlink_metadata(path) {
        Ok(meta) => meta,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Existing::Missing),
        Err(source) => {
            return Err(Error::Read {
                path: path.to_owned(),
                source,
            });
        }
    };
    if !meta.is_file() {
        return Ok(Existing::Different(
            if meta.is_dir() {
                "is a directory"
            } else if meta.file_type().is_symlink() {
                "is a symbolic link"
            } else {
                "is not a regular file"
            }
            .to_owned(),
        ));
    }
    if meta.len() != bytes.len() as u64 {
        let old = read(path)?;
        return Ok(Existing::Different(describe(&old, bytes.len(), blob_name)));
    }
    let old = read(path)?;
    Ok(if old == bytes {
        Existing::Same
    } else {
        Existing::Different(describe(&old, bytes.len(), blob_name))
    })
}

fn read(path: &Path) -> Result<Vec<u8>> {
    std::fs::read(path).map_err(|source| Error::Read {
        path: path.to_owned(),
        source,
    })
}

/// Words what an existing blob holds instead of the expected bytes.
fn describe(old: &[u8], expected_len: usize, blob_name: Option<&str>) -> String {
    let what = match blob_name {
        Some(name) if sha256_hex(old) == name => "the raw asset",
        Some(_) if old.starts_with(&[0xfd, b'7', b'z', b'X', b'Z', 0]) => "an xz stream",
        Some(name) if inflates_to(old, name) => "the asset deflated with other settings",
        Some(_) => "bytes that are not this asset in any codec this tool writes",
        None => "other bytes",
    };
    format!(
        "holds {} ({what}), where this release needs {}",
        Bytes(old.len() as u64),
        Bytes(expected_len as u64)
    )
}

fn inflates_to(data: &[u8], sha: &str) -> bool {
    let mut out = Vec::new();
    flate2::read::DeflateDecoder::new(data)
        .take(bundle::MAX_ENTRY + 1)
        .read_to_end(&mut out)
        .is_ok()
        && sha256_hex(&out) == sha
}

/// Checks the directory against the release, then writes what it lacks.
fn write_layout(
    dir: &Path,
    m: &BundleManifest,
    manifest_json: &[u8],
    firmware_rel: &Path,
    firmware: &[u8],
    blobs: BTreeMap<String, Blob>,
) -> Result<Summary> {
    let layout = |path: &Path, reason: &str| Error::ExportLayout {
        path: path.to_owned(),
        reason: reason.to_owned(),
    };
    // Shapes that would make the layout impossible, before creating anything.
    let blobs_dir = dir.join(BLOBS);
    let manifest_path = dir.join(bundle::MANIFEST_JSON);
    let firmware_path = dir.join(firmware_rel);
    for (path, want_dir) in [
        (dir, true),
        (blobs_dir.as_path(), true),
        (manifest_path.as_path(), false),
        (firmware_path.as_path(), false),
    ] {
        if let Ok(meta) = std::fs::metadata(path)
            && meta.is_dir() != want_dir
        {
            return Err(layout(
                path,
                if want_dir {
                    "exists and is not a directory"
                } else {
                    "exists and is a directory"
                },
            ));
        }
    }

    std::fs::create_dir_all(&blobs_dir).map_err(|source| Error::Write {
        path: blobs_dir.clone(),
        source,
    })?;
    // One export at a time per directory: the check below and the writes
    // after it see the same blobs. (`flock`, released if the process dies.)
    let lock = atomic::lock_dir(&blobs_dir);
    if lock.is_some() {
        atomic::remove_temporaries(&blobs_dir, None);
    }

    let mut added = Vec::new();
    let mut kept = Vec::new();
    let mut conflicts = Vec::new();
    let mut to_write = Vec::new();
    for (sha, blob) in blobs {
        let path = blobs_dir.join(&sha);
        let summary = BlobSummary {
            path: format!("{BLOBS}/{sha}"),
            sha256: sha.clone(),
            size: blob.bytes.len() as u64,
            codec: blob.codec.to_string(),
            assets: blob.assets.clone(),
        };
        match existing(&path, &blob.bytes, Some(&sha))? {
            Existing::Same => kept.push(summary),
            Existing::Missing => to_write.push((path, blob.bytes, summary)),
            Existing::Different(why) => conflicts.push(format!(
                "`{}` (asset{} {}, {}) {why}",
                path.display(),
                if blob.assets.len() == 1 { "" } else { "s" },
                blob.assets
                    .iter()
                    .map(|a| format!("`{a}`"))
                    .collect::<Vec<_>>()
                    .join(", "),
                blob.codec
            )),
        }
    }
    if !conflicts.is_empty() {
        return Err(Error::BlobConflict {
            dir: dir.to_owned(),
            conflicts,
        });
    }

    for (path, bytes, summary) in to_write {
        if write_new(&path, &bytes)? {
            added.push(summary);
        } else {
            kept.push(summary);
        }
    }
    // The firmware, then the manifest that points at it and at the blobs.
    let firmware_status = replace(&firmware_path, firmware)?;
    let manifest_status = replace(&manifest_path, manifest_json)?;

    let totals = BlobTotals {
        added: added.len(),
        added_bytes: added.iter().map(|b| b.size).sum(),
        kept: kept.len(),
        kept_bytes: kept.iter().map(|b| b.size).sum(),
    };
    Ok(Summary {
        dir: dir.display().to_string(),
        package: m.package.clone(),
        manifest: manifest_status,
        firmware: FirmwareSummary {
            file: m.firmware.file.clone(),
            size: firmware.len() as u64,
            sha256: m.firmware.sha256.clone(),
            status: firmware_status,
        },
        blobs: totals,
        added,
        kept,
    })
}

/// Writes `path` atomically unless it already holds exactly `bytes` (then it
/// is left alone, inode and mtime too).
fn replace(path: &Path, bytes: &[u8]) -> Result<&'static str> {
    if let Ok(Existing::Same) = existing(path, bytes, None) {
        return Ok("unchanged");
    }
    atomic::write_bytes(path, bytes).map_err(|source| Error::Write {
        path: path.to_owned(),
        source,
    })?;
    Ok("written")
}

/// Writes a new blob, never replacing an existing one. `false` if one with the
/// same bytes appeared meanwhile.
fn write_new(path: &Path, bytes: &[u8]) -> Result<bool> {
    let dir = path.parent().unwrap_or(Path::new("."));
    match atomic::write_new(path, bytes) {
        Ok(true) => Ok(true),
        Ok(false) => match existing(path, bytes, None)? {
            Existing::Same => Ok(false),
            _ => Err(Error::BlobConflict {
                dir: dir.parent().unwrap_or(dir).to_owned(),
                conflicts: vec![format!(
                    "`{}` was written with other bytes while this export ran",
                    path.display()
                )],
            }),
        },
        Err(source) => Err(Error::Write {
            path: path.to_owned(),
            source,
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn summary_line_counts_blobs() {
        let summary = Summary {
            dir: "out".into(),
            package: PackageJson {
                name: "app".into(),
                version: "1.0.0".into(),
            },
            manifest: "written",
            firmware: FirmwareSummary {
                file: "app.bin".into(),
                size: 4,
                sha256: String::new(),
                status: "unchanged",
            },
            blobs: BlobTotals {
                added: 1,
                added_bytes: 1000,
                kept: 2,
                kept_bytes: 20,
            },
            added: Vec::new(),
            kept: Vec::new(),
        };
        assert_eq!(
            summary.describe(),
            "app 1.0.0 to out: 1 blob added (1,000 B), 2 kept (20 B); firmware `app.bin` unchanged, manifest.json written"
        );
    }
}
