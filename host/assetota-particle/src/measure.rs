//! Assets measured against Particle's limits: the zip entry of each asset
//! made while it is measured (so a bundle compresses nothing twice), the
//! assets of a bundle measured from their bytes (their budget's findings
//! are [`assetota_bundle::budget::findings`]).

use std::io::Write;
use std::path::PathBuf;

use assetota_core::measure::Measured;
use assetota_core::{Codec, MeasureError, Progress, ScannedFile};
use sha2::{Digest, Sha256};

use crate::zip as pzip;

/// Assets read whole when they total at most this much: each is then hashed
/// and compressed from memory once, by the zip crate, into its zip entry.
pub const KEEP_TOTAL: u64 = 64 << 20;

/// The codec of the bundle zip's entries: Particle's (deflate level 6,
/// window 15).
pub const ZIP_CODEC: Codec = Codec::Deflate {
    level: pzip::LEVEL as u32,
    window_bits: 15,
};

/// An asset's bytes and zip entry, kept from measuring.
pub struct Kept {
    /// The asset's raw bytes, as measured.
    pub raw: Vec<u8>,
    /// Its zip entry (`assets/<name>`), compressed.
    pub entry: ::zip::write::PreparedZipFile,
}

/// Asset `name`'s zip entry (deflate level 6, window 15, by the zip crate)
/// and the SHA-256 of `raw`, hashed as it is compressed. The entry's own
/// compressed length is not the budget's: Particle measures with Node's
/// zlib, which `Codec::Deflate` reproduces and the zip crate's zlib does not.
pub fn prepare_asset(
    name: &str,
    raw: &[u8],
    time: ::zip::DateTime,
) -> std::io::Result<(::zip::write::PreparedZipFile, [u8; 32])> {
    let mut builder = pzip::entry_builder(&pzip::asset_entry_name(name), raw.len() as u64, time)?;
    let mut sha = Sha256::new();
    for piece in raw.chunks(64 << 10) {
        sha.update(piece);
        builder.write_all(piece)?;
    }
    let entry = builder.finish().map_err(std::io::Error::other)?;
    Ok((entry, sha.finalize().into()))
}

/// [`assetota_core::measure::measure_all`], keeping each asset's bytes and
/// zip entry when the budget's codec is Particle's deflate and the assets are
/// small enough in all: each asset is read once, and its zip entry is made
/// beside its measurement (by the budget codec, as `measure_all` does), so
/// bundling reads nothing twice. Larger trees are streamed and not kept (they
/// are far over any Particle budget anyway).
pub fn measure_keeping(
    files: &[ScannedFile],
    codec: Codec,
    time: ::zip::DateTime,
    progress: &dyn Progress,
) -> Result<Vec<(Measured, Option<Kept>)>, MeasureError> {
    let total: u64 = files
        .iter()
        .map(|f| std::fs::metadata(&f.path).map_or(u64::MAX, |m| m.len()))
        .fold(0, u64::saturating_add);
    if codec != ZIP_CODEC || total > KEEP_TOTAL {
        let measured = assetota_core::measure::measure_all(files, codec, progress)?;
        return Ok(measured.into_iter().map(|m| (m, None)).collect());
    }
    progress.start(files.len(), total);
    let results = pzip::parallel_map(files, |f| {
        let raw = std::fs::read(&f.path).map_err(|source| match source.kind() {
            std::io::ErrorKind::NotFound => MeasureError::Vanished {
                name: f.name.clone(),
                path: f.path.clone(),
            },
            _ => MeasureError::Read {
                name: f.name.clone(),
                path: f.path.clone(),
                source,
            },
        })?;
        let (entry, sha256) =
            prepare_asset(&f.name, &raw, time).map_err(|source| MeasureError::Encode {
                name: f.name.clone(),
                codec,
                source,
            })?;
        let compressed_size = codec
            .encoded_len(&raw)
            .map_err(|source| MeasureError::Encode {
                name: f.name.clone(),
                codec,
                source,
            })?;
        progress.advance(&f.name, raw.len() as u64);
        let measured = Measured {
            name: f.name.clone(),
            path: f.path.clone(),
            size: raw.len() as u64,
            sha256,
            compressed_size,
        };
        Ok((measured, Some(Kept { raw, entry })))
    });
    progress.finish();
    results.into_iter().collect()
}

/// The assets of a bundle (name, raw bytes), measured with `codec` from the
/// bytes; each one's path is its entry name, `assets/<name>`.
pub fn measure_bundle_assets(
    codec: Codec,
    assets: &[(String, Vec<u8>)],
) -> std::io::Result<Vec<Measured>> {
    assets
        .iter()
        .map(|(name, raw)| {
            Ok(Measured {
                name: name.clone(),
                path: PathBuf::from(pzip::asset_entry_name(name)),
                size: raw.len() as u64,
                sha256: Sha256::digest(raw).into(),
                compressed_size: crate::asset::deflate(codec, raw)?.len() as u64,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use assetota_core::Budget;
    use std::io::{Cursor, Read};

    /// Deterministic noise (xorshift32).
    fn noise(len: usize, mut x: u32) -> Vec<u8> {
        (0..len)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 17;
                x ^= x << 5;
                x as u8
            })
            .collect()
    }

    /// An asset's zip entry, made while measuring, holds the asset: it
    /// inflates to its bytes, under its name, and the hash taken on the way
    /// is the asset's.
    #[test]
    fn an_entry_inflates_to_the_asset() {
        let json: Vec<u8> = (0..60_000u32)
            .flat_map(|i| {
                format!(
                    "{{\"id\": {i}, \"name\": \"item-{}\", \"on\": {}}},\n",
                    i % 313,
                    i % 3 == 0
                )
                .into_bytes()
            })
            .collect();
        // An 800×480 RGB565 frame, three times over: gradients with a little grain.
        let grain = noise(800 * 480, 0x2545_f491);
        let rgb565: Vec<u8> = (0..3 * 800 * 480usize)
            .flat_map(|i| {
                let (x, y) = (i % 800, (i / 800) % 480);
                let r = (x * 31 / 799) as u16;
                let g = ((y * 63 / 479) as u16) ^ (grain[i % grain.len()] as u16 & 1);
                let b = (((x + y) * 31) / 1278) as u16;
                ((r << 11) | (g << 5) | b).to_le_bytes()
            })
            .collect();
        assert!(rgb565.len() > 2 << 20);
        let cases: Vec<(&str, Vec<u8>)> = vec![
            ("config.json", json),
            ("noise.bin", noise(300_000, 0x9e37_79b9)),
            ("empty", Vec::new()),
            ("byte", vec![7]),
            ("frames.rgb565", rgb565),
        ];
        let time = ::zip::DateTime::from_date_and_time(2024, 5, 17, 12, 34, 56).unwrap();
        for (name, raw) in &cases {
            let (entry, sha256) = prepare_asset(name, raw, time).unwrap();
            assert_eq!(entry.uncompressed_size(), raw.len() as u64, "`{name}`");
            assert_eq!(sha256, <[u8; 32]>::from(Sha256::digest(raw)), "`{name}`");

            let mut zip = ::zip::ZipWriter::new(Cursor::new(Vec::new()));
            zip.add_prepared_file(entry).unwrap();
            let bytes = zip.finish().unwrap().into_inner();
            let mut archive = ::zip::ZipArchive::new(Cursor::new(bytes)).unwrap();
            let mut file = archive.by_index(0).unwrap();
            assert_eq!(file.name_raw(), pzip::asset_entry_name(name).as_bytes());
            assert_eq!(file.compression(), ::zip::CompressionMethod::Deflated);
            let mut back = Vec::new();
            file.read_to_end(&mut back).unwrap();
            assert!(back == *raw, "`{name}` does not inflate to its bytes");
        }
    }

    #[test]
    fn kept_measures_are_the_streamed_ones_and_findings_split() {
        let dir = tempfile::tempdir().unwrap();
        let mut files = Vec::new();
        // Compressible text too: there the zip crate's zlib and Node's (the
        // budget codec) emit streams of other lengths, and the budget must
        // be Node's.
        let text: Vec<u8> = (0..20_000u32)
            .flat_map(|i| format!("{{\"id\": {i}, \"tag\": \"t{}\"}},\n", i % 97).into_bytes())
            .collect();
        for (name, raw) in [
            ("a.bin", noise(700_000, 1)),
            ("b.txt", b"hello".to_vec()),
            ("c.json", text),
        ] {
            let path = dir.path().join(name);
            std::fs::write(&path, &raw).unwrap();
            files.push(ScannedFile {
                name: name.into(),
                path,
            });
        }
        let p = assetota_core::platform::builtin("argon").unwrap();
        let kept = measure_keeping(
            &files,
            p.codec,
            ::zip::DateTime::default(),
            &assetota_core::NoProgress,
        )
        .unwrap();
        assert!(kept.iter().all(|(_, k)| k.is_some()));
        let streamed =
            assetota_core::measure::measure_all(&files, p.codec, &assetota_core::NoProgress)
                .unwrap();
        let measured: Vec<Measured> = kept.into_iter().map(|(m, _)| m).collect();
        assert_eq!(measured, streamed);

        let budget = Budget::new(&p, measured);
        let f = assetota_bundle::budget::findings(&budget);
        assert_eq!(f.over.len(), 1, "{f:?}");
        assert!(f.over[0].contains("`a.bin`"), "{f:?}");
    }
}
