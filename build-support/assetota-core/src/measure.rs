//! Hashing and encoding every asset in one streaming pass: memory stays
//! flat whatever the file size, and both cores are used.

use crate::codec::{Codec, CountingSink};
use crate::scan::ScannedFile;
use sha2::{Digest, Sha256};
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

/// What one asset costs before any platform rounding.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Measured {
    pub name: String,
    pub path: PathBuf,
    pub size: u64,
    pub sha256: [u8; 32],
    pub compressed_size: u64,
}

#[derive(Debug, thiserror::Error)]
pub enum MeasureError {
    #[error("asset `{name}` vanished during the scan (`{}`); run the build again once the files stop changing", path.display())]
    Vanished { name: String, path: PathBuf },
    #[error("cannot read asset `{name}` (`{}`): {source}; check its permissions or add it to .assetotaignore", path.display())]
    Read {
        name: String,
        path: PathBuf,
        source: io::Error,
    },
    #[error("cannot encode asset `{name}` with {codec}: {source}")]
    Encode {
        name: String,
        codec: Codec,
        source: io::Error,
    },
}

/// Receives progress while assets are measured; the CLI draws a bar with it.
pub trait Progress: Sync {
    fn start(&self, _files: usize, _bytes: u64) {}
    fn advance(&self, _name: &str, _bytes: u64) {}
    fn finish(&self) {}
}

/// Progress that goes nowhere.
pub struct NoProgress;
impl Progress for NoProgress {}

const CHUNK: usize = 64 * 1024;

/// SHA-256 and exact encoded size of one file, streamed.
pub fn measure_file(name: &str, path: &Path, codec: Codec) -> Result<Measured, MeasureError> {
    let read_error = |source: io::Error| match source.kind() {
        io::ErrorKind::NotFound => MeasureError::Vanished {
            name: name.to_owned(),
            path: path.to_owned(),
        },
        _ => MeasureError::Read {
            name: name.to_owned(),
            path: path.to_owned(),
            source,
        },
    };
    let encode_error = |source| MeasureError::Encode {
        name: name.to_owned(),
        codec,
        source,
    };
    let mut file = std::fs::File::open(path).map_err(read_error)?;
    let mut hasher = Sha256::new();
    let mut encoder = codec
        .encoder(CountingSink::default())
        .map_err(encode_error)?;
    let mut buf = vec![0u8; CHUNK];
    let mut size = 0u64;
    loop {
        let n = match file.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(read_error(e)),
        };
        hasher.update(&buf[..n]);
        encoder.write_all(&buf[..n]).map_err(encode_error)?;
        size += n as u64;
    }
    let compressed_size = encoder.finish().map_err(encode_error)?.count;
    Ok(Measured {
        name: name.to_owned(),
        path: path.to_owned(),
        size,
        sha256: hasher.finalize().into(),
        compressed_size,
    })
}

/// Measures all files, in parallel, keeping the input order. Stops at the
/// first error in input order so the report is deterministic.
pub fn measure_all(
    files: &[ScannedFile],
    codec: Codec,
    progress: &dyn Progress,
) -> Result<Vec<Measured>, MeasureError> {
    let total_bytes = files
        .iter()
        .filter_map(|f| f.path.metadata().ok())
        .map(|m| m.len())
        .sum();
    progress.start(files.len(), total_bytes);
    let workers = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .min(files.len().max(1));
    let next = AtomicUsize::new(0);
    let results: Mutex<Vec<Option<Result<Measured, MeasureError>>>> =
        Mutex::new((0..files.len()).map(|_| None).collect());
    std::thread::scope(|scope| {
        for _ in 0..workers {
            scope.spawn(|| {
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(file) = files.get(i) else { break };
                    let result = measure_file(&file.name, &file.path, codec);
                    if let Ok(m) = &result {
                        progress.advance(&m.name, m.size);
                    }
                    results.lock().unwrap_or_else(|p| p.into_inner())[i] = Some(result);
                }
            });
        }
    });
    progress.finish();
    results
        .into_inner()
        .unwrap_or_else(|p| p.into_inner())
        .into_iter()
        .map(|r| r.expect("every index is measured by some worker"))
        .collect()
}
