//! Verifying a bundle read into memory: the firmware entry, the manifest
//! embedded in it and `manifest.json` must agree, every asset must have the
//! recorded bytes and compress to the recorded size with its codec, and the
//! whole must fit the platform, recomputed from the bytes. What `cargo
//! assetota verify` reports, and what `export` and `image` check first.

use std::path::Path;

use assetota::Manifest;
use assetota_core::bytesize::Bytes;
use assetota_core::measure::Measured;
use assetota_core::{Budget, Platform, Verdict};

use crate::error::Result;
use crate::manifest::{self as bundle, BundleManifest, hex, sha256_hex};
use crate::read::Contents;

pub mod report;

/// What verifying a bundle found.
#[derive(Debug)]
pub struct Verification {
    /// What is wrong with the bundle itself (damage, tampering, a writer's
    /// bug): one line each, naming the entry.
    pub problems: Vec<String>,
    /// Limits of the platform the bundle goes over.
    pub over_budget: Vec<String>,
    /// Limits it comes near (90 % or more).
    pub warnings: Vec<String>,
    /// The platform checked against, if the bundle records one or one was
    /// given; its budget recomputed from the asset bytes.
    pub budget: Option<Budget>,
}

/// Verifies `contents` (read from `path`, named in errors) against its own
/// `manifest.json`, and against `platform` when given (`verify --platform`:
/// a built-in platform, with the bundle's codec) or else the platform the
/// bundle records. Only a manifest format newer than this crate reads is an
/// error; everything else wrong is a line of [`Verification::problems`].
pub fn verify(
    path: &Path,
    contents: &Contents,
    platform: Option<Platform>,
) -> Result<Verification> {
    let overridden = platform.is_some();
    let m = &contents.manifest;
    let mut problems = Vec::new();
    let mut budget_problems = Vec::new();

    // The firmware entry against manifest.json.
    let fw = &m.firmware;
    if contents.firmware.len() as u64 != fw.size {
        problems.push(format!(
            "`{}`: {} in the bundle, manifest.json says {}",
            fw.file,
            Bytes(contents.firmware.len() as u64),
            Bytes(fw.size)
        ));
    }
    let fw_sha = sha256_hex(&contents.firmware);
    if fw_sha != fw.sha256 {
        problems.push(format!(
            "`{}`: sha256 {fw_sha}, manifest.json says {}",
            fw.file, fw.sha256
        ));
    }

    // An ESP app image must be one the bootloader accepts.
    if fw.format == "esp"
        && let Err(e) = assetota_firmware::esp::AppImage::parse(
            std::path::Path::new(&fw.file),
            &contents.firmware,
        )
    {
        problems.push(e.to_string());
    }

    // The embedded manifest at the recorded offset against manifest.json.
    let located = assetota_firmware::Located {
        offset: fw.manifest_offset as usize,
        len: fw.manifest_size as usize,
        found_by: format!(
            "at manifest_offset {:#x} of `{}`",
            fw.manifest_offset, fw.file
        ),
        load_address: None,
    };
    match assetota_firmware::decode(path, &contents.firmware, &located) {
        Ok(embedded) => {
            if embedded.byte_len() as u64 != fw.manifest_size {
                problems.push(format!(
                    "`{}`: the embedded manifest is {} B, manifest.json says {} B",
                    fw.file,
                    embedded.byte_len(),
                    fw.manifest_size
                ));
            }
            compare_embedded(&embedded, m, &fw.file, &mut problems);
        }
        Err(assetota_firmware::Error::ManifestTooNew { version, .. }) => {
            return Err(assetota_firmware::Error::ManifestTooNew {
                path: path.to_owned(),
                version,
            }
            .into());
        }
        Err(e) => problems.push(format!(
            "`{}`: no valid manifest at manifest_offset {:#x}: {e}",
            fw.file, fw.manifest_offset
        )),
    }

    // Every asset's bytes against manifest.json, and recompressed with the
    // recorded codec to check the sizes the budget rests on.
    let platform = match platform {
        Some(mut p) => {
            if let Ok(codec) = m.codec.to_codec() {
                p.codec = codec;
            }
            Some(p)
        }
        None => match m.platform() {
            Ok(p) => Some(p),
            Err(e) => {
                problems.push(format!("`{}`: {e}", bundle::MANIFEST_JSON));
                None
            }
        },
    };
    let mut measured = Vec::new();
    let mut recorded_codecs = Vec::new();
    for a in &m.assets {
        if platform.as_ref().is_some_and(|p| p.flat_names) && a.name.contains('/') {
            problems.push(format!(
                "`{}`: in a sub-directory, but platform `{}` keeps assets in one flat directory",
                a.name,
                platform.as_ref().map_or("?", |p| p.name.as_str())
            ));
        }
        if a.file != format!("{}{}", bundle::ASSETS_PREFIX, a.name) {
            problems.push(format!(
                "`{}`: stored as `{}`, expected `{}{}`",
                a.name,
                a.file,
                bundle::ASSETS_PREFIX,
                a.name
            ));
        }
        let Some(bytes) = contents.assets.get(&a.name) else {
            problems.push(format!(
                "`{}`: listed in manifest.json but missing from the bundle",
                a.file
            ));
            continue;
        };
        if bytes.len() as u64 != a.size {
            problems.push(format!(
                "`{}`: {} in the bundle, manifest.json says {}",
                a.file,
                Bytes(bytes.len() as u64),
                Bytes(a.size)
            ));
        }
        let sha = sha256_hex(bytes);
        if sha != a.sha256 {
            problems.push(format!(
                "`{}`: sha256 {sha}, manifest.json says {}",
                a.file, a.sha256
            ));
        }
        if let Some(p) = &platform {
            // The payload as stored, with the asset's own codec (the
            // bundle's, in bundles that predate per-asset codecs).
            let recorded = match a.stored_codec(&m.codec) {
                Ok(codec) => codec,
                Err(e) => {
                    problems.push(format!("`{}`: codec: {e}", a.file));
                    p.codec
                }
            };
            let compressed = recorded.encoded_len(bytes).unwrap_or(u64::MAX);
            if compressed != a.compressed_size {
                problems.push(format!(
                    "`{}`: compresses to {} with {}, manifest.json says {}",
                    a.file,
                    Bytes(compressed),
                    recorded,
                    Bytes(a.compressed_size)
                ));
            }
            // With the platform's codec, for the budget to decide again which
            // codec the asset gets (raw where a store platform's does not shrink it).
            let with_platform = if recorded == p.codec {
                compressed
            } else {
                p.codec.encoded_len(bytes).unwrap_or(u64::MAX)
            };
            let digest: [u8; 32] = <sha2::Sha256 as sha2::Digest>::digest(bytes).into();
            measured.push(Measured {
                name: a.name.clone(),
                path: a.file.clone().into(),
                size: bytes.len() as u64,
                sha256: digest,
                compressed_size: with_platform,
            });
            recorded_codecs.push(recorded);
        }
    }

    // The platform's limits, from the bytes.
    let mut warnings = Vec::new();
    let mut budget = None;
    if let Some(platform) = &platform {
        let b = Budget::new(platform, measured);
        if !overridden {
            for ((cost, a), recorded) in b.assets.iter().zip(&m.assets).zip(&recorded_codecs) {
                if cost.codec != *recorded {
                    problems.push(format!(
                        "`{}`: stored with {recorded}, but platform `{}` stores it with {}",
                        a.file, platform.name, cost.codec
                    ));
                }
                if cost.storage_size != a.storage_size || cost.stored_size != a.stored_size {
                    problems.push(format!(
                        "`{}`: stored {} in {} of storage on `{}`, manifest.json says {} in {}",
                        a.file,
                        Bytes(cost.stored_size),
                        Bytes(cost.storage_size),
                        platform.name,
                        Bytes(a.stored_size),
                        Bytes(a.storage_size)
                    ));
                }
            }
        }
        for f in b.findings() {
            if f.verdict() == Verdict::Over {
                budget_problems.push(f.message(&platform.name));
            } else {
                warnings.push(f.message(&platform.name));
            }
        }
        budget = Some(b);
    }
    Ok(Verification {
        problems,
        over_budget: budget_problems,
        warnings,
        budget,
    })
}

/// The embedded (binary) manifest against manifest.json, entry by entry.
fn compare_embedded(
    embedded: &Manifest<'_>,
    m: &BundleManifest,
    file: &str,
    problems: &mut Vec<String>,
) {
    if embedded.platform() != m.platform.as_deref() {
        problems.push(format!(
            "`{file}`: the embedded manifest is for platform {:?}, manifest.json says {:?}",
            embedded.platform(),
            m.platform
        ));
    }
    for a in &m.assets {
        let Some(e) = embedded.get(&a.name) else {
            problems.push(format!(
                "`{}`: listed in manifest.json but not in the manifest embedded in `{file}`",
                a.name
            ));
            continue;
        };
        let mut diffs = Vec::new();
        if e.size() != a.size {
            diffs.push(format!("size {} vs {}", e.size(), a.size));
        }
        if hex(e.sha256()) != a.sha256 {
            diffs.push(format!("sha256 {} vs {}", hex(e.sha256()), a.sha256));
        }
        if e.compressed_size() != a.compressed_size {
            diffs.push(format!(
                "compressed size {} vs {}",
                e.compressed_size(),
                a.compressed_size
            ));
        }
        if let Ok(codec) = a.stored_codec(&m.codec)
            && e.codec() != codec.device_codec()
        {
            diffs.push(format!("codec {} vs {}", e.codec(), codec.device_codec()));
        }
        if e.stored_size() != a.stored_size {
            diffs.push(format!(
                "stored size {} vs {}",
                e.stored_size(),
                a.stored_size
            ));
        }
        if !diffs.is_empty() {
            problems.push(format!("`{}`: the manifest embedded in `{file}` and manifest.json disagree: {} (embedded vs manifest.json)", a.name, diffs.join(", ")));
        }
    }
    for e in embedded.iter() {
        if !m.assets.iter().any(|a| a.name == e.name()) {
            problems.push(format!(
                "`{}`: in the manifest embedded in `{file}` but not in manifest.json or the bundle",
                e.name()
            ));
        }
    }
}
