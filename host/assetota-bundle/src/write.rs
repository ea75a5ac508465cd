//! Writing a bundle: a deterministic zip, written atomically.

use std::io::Write;
use std::path::Path;

use assetota_core::atomic::AtomicWriteError;

use crate::error::{Error, Result};
use crate::manifest::{BundleManifest, MANIFEST_JSON};

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
    /// Its name in the zip.
    pub name: String,
    /// Its contents.
    pub bytes: std::borrow::Cow<'a, [u8]>,
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
    assetota_core::atomic::write_with(path, |file| {
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
    .map_err(|e| match e {
        AtomicWriteError::Io(source) => write_err(source),
        AtomicWriteError::Fill(e) => e,
    })
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn civil_dates() {
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(civil_from_days(19_723), (2024, 1, 1));
        assert_eq!(civil_from_days(3_652), (1980, 1, 1));
    }
}
