//! Deterministic corpora: every byte comes from a seeded PRNG, so two runs
//! (and two machines) benchmark exactly the same files. A stamp beside the
//! assets directory records the spec and a fingerprint; a corpus whose stamp
//! matches is not written again.

use sha2::{Digest, Sha256};
use std::fmt::Write as _;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

/// Bumped whenever a generator changes its output.
const GENERATOR_VERSION: u32 = 1;

/// SplitMix64: tiny, fast, and good enough for test data.
#[derive(Clone)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        let mut rng = Rng(seed ^ 0x5851_f42d_4c95_7f2d);
        rng.next_u64();
        rng
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n` (n > 0; the modulo bias is irrelevant here).
    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n
    }

    /// Uniform in `[0, 1)`.
    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// Standard normal (Box–Muller).
    pub fn normal(&mut self) -> f64 {
        let u1 = self.unit().max(1e-12);
        let u2 = self.unit();
        (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
    }

    pub fn fill(&mut self, buf: &mut [u8]) {
        let mut chunks = buf.chunks_exact_mut(8);
        for chunk in &mut chunks {
            chunk.copy_from_slice(&self.next_u64().to_le_bytes());
        }
        let rest = chunks.into_remainder();
        let last = self.next_u64().to_le_bytes();
        rest.copy_from_slice(&last[..rest.len()]);
    }
}

/// The kinds of content issue 8 asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Kind {
    /// A PNG's chunk structure around an incompressible (already deflated) IDAT.
    Png,
    /// A raw RGB565 frame buffer: gradients, flat shapes, a little noise.
    Rgb565,
    /// Pretty-printed JSON configuration records.
    Json,
    /// TrueType-like: a table directory and glyph outlines (flags, small deltas).
    Font,
    /// The concatenation of 4 MiB segments of the four kinds above (corpus c).
    Mixed,
}

impl Kind {
    pub const ALL: [Kind; 4] = [Kind::Png, Kind::Rgb565, Kind::Json, Kind::Font];

    pub fn name(self) -> &'static str {
        match self {
            Kind::Png => "png-like",
            Kind::Rgb565 => "rgb565",
            Kind::Json => "json",
            Kind::Font => "font-like",
            Kind::Mixed => "mixed",
        }
    }

    fn extension(self) -> &'static str {
        match self {
            Kind::Png => "png",
            Kind::Rgb565 => "rgb565",
            Kind::Json => "json",
            Kind::Font => "ttf",
            Kind::Mixed => "bin",
        }
    }
}

/// Bytes of one kind, exactly `len` long.
pub fn generate(kind: Kind, len: usize, seed: u64) -> Vec<u8> {
    let mut rng = Rng::new(seed);
    let mut out = match kind {
        Kind::Png => png_like(len, &mut rng),
        Kind::Rgb565 => rgb565(len, &mut rng),
        Kind::Json => json(len, &mut rng),
        Kind::Font => font_like(len, &mut rng),
        Kind::Mixed => {
            let mut out = Vec::with_capacity(len);
            let mut i = 0u64;
            while out.len() < len {
                let n = (len - out.len()).min(MIXED_SEGMENT);
                let k = Kind::ALL[(i % 4) as usize];
                out.extend_from_slice(&generate(k, n, seed.wrapping_add(i * 7919)));
                i += 1;
            }
            out
        }
    };
    out.truncate(len);
    debug_assert_eq!(out.len(), len);
    out
}

const MIXED_SEGMENT: usize = 4 << 20;

fn chunk(out: &mut Vec<u8>, kind: &[u8; 4], data: &[u8]) {
    out.extend_from_slice(&(data.len() as u32).to_be_bytes());
    let mut crc = crc32fast::Hasher::new();
    crc.update(kind);
    crc.update(data);
    out.extend_from_slice(kind);
    out.extend_from_slice(data);
    out.extend_from_slice(&crc.finalize().to_be_bytes());
}

fn png_like(len: usize, rng: &mut Rng) -> Vec<u8> {
    const OVERHEAD: usize = 8 + 25 + 12 + 12;
    let mut out = Vec::with_capacity(len);
    if len <= OVERHEAD {
        out.resize(len, 0);
        rng.fill(&mut out);
        return out;
    }
    out.extend_from_slice(b"\x89PNG\r\n\x1a\n");
    let side = ((len / 4) as f64).sqrt().max(1.0) as u32;
    let mut ihdr = Vec::with_capacity(13);
    ihdr.extend_from_slice(&side.to_be_bytes());
    ihdr.extend_from_slice(&side.to_be_bytes());
    ihdr.extend_from_slice(&[8, 6, 0, 0, 0]);
    chunk(&mut out, b"IHDR", &ihdr);
    let mut idat = vec![0u8; len - OVERHEAD];
    rng.fill(&mut idat);
    chunk(&mut out, b"IDAT", &idat);
    chunk(&mut out, b"IEND", &[]);
    out
}

fn rgb565(len: usize, rng: &mut Rng) -> Vec<u8> {
    let width = [240usize, 320, 480][rng.below(3) as usize];
    let height = (len / 2).div_ceil(width).max(1);
    // A few flat rectangles over a gradient, and sparse sensor-like noise.
    let rects: Vec<(usize, usize, usize, usize, u16)> = (0..8)
        .map(|_| {
            let x0 = rng.below(width as u64) as usize;
            let y0 = rng.below(height as u64) as usize;
            let w = 8 + rng.below(width as u64 / 2) as usize;
            let h = 8 + rng.below(height as u64 / 2 + 1) as usize;
            (x0, y0, x0 + w, y0 + h, rng.next_u64() as u16)
        })
        .collect();
    let mut out = Vec::with_capacity(len + 2);
    let mut noise = rng.next_u64();
    'rows: for y in 0..height {
        let g = ((y * 63) / height) as u16;
        for x in 0..width {
            if out.len() >= len {
                break 'rows;
            }
            let mut px = (((x * 31) / width) as u16) << 11 | g << 5 | (((x + y) / 16) % 32) as u16;
            for &(x0, y0, x1, y1, color) in &rects {
                if x >= x0 && x < x1 && y >= y0 && y < y1 {
                    px = color;
                }
            }
            if noise & 0xf == 0 {
                px ^= 1 << 5;
            }
            noise = noise.rotate_right(4);
            if noise == 0 || (x & 15) == 0 {
                noise = rng.next_u64();
            }
            out.extend_from_slice(&px.to_le_bytes());
        }
    }
    out.resize(len, 0);
    out
}

const WORDS: [&str; 32] = [
    "sensor",
    "frame",
    "pixel",
    "display",
    "sound",
    "volume",
    "brightness",
    "threshold",
    "interval",
    "sample",
    "channel",
    "battery",
    "motor",
    "speed",
    "alpha",
    "beta",
    "gamma",
    "delta",
    "north",
    "south",
    "east",
    "west",
    "enabled",
    "mode",
    "idle",
    "active",
    "sleep",
    "wake",
    "retry",
    "timeout",
    "level",
    "offset",
];
const UNITS: [&str; 8] = ["ms", "mV", "mA", "dB", "Hz", "%", "C", "rpm"];

fn json(len: usize, rng: &mut Rng) -> Vec<u8> {
    let mut s = String::with_capacity(len + 512);
    s.push_str("[\n");
    let mut id = rng.below(10_000);
    let mut first = true;
    while s.len() + 300 < len {
        if !first {
            s.push_str(",\n");
        }
        first = false;
        id += 1 + rng.below(3);
        let w = |rng: &mut Rng| WORDS[rng.below(WORDS.len() as u64) as usize];
        let (a, b) = (w(rng), w(rng));
        let value = (rng.below(2_000_000) as f64 - 1_000_000.0) / 1000.0;
        let unit = UNITS[rng.below(UNITS.len() as u64) as usize];
        let enabled = rng.below(2) == 0;
        let (t1, t2) = (w(rng), w(rng));
        let (x, y) = (rng.below(480), rng.below(320));
        let _ = write!(
            s,
            "  {{\n    \"id\": {id},\n    \"name\": \"{a}-{b}-{}\",\n    \"value\": {value:.3},\n    \"unit\": \"{unit}\",\n    \"enabled\": {enabled},\n    \"tags\": [\"{t1}\", \"{t2}\"],\n    \"position\": [{x}, {y}]\n  }}",
            rng.below(100)
        );
    }
    s.push_str("\n]\n");
    let mut out = s.into_bytes();
    if out.len() < len {
        out.resize(len, b' ');
        if let Some(last) = out.last_mut() {
            *last = b'\n';
        }
    }
    out
}

fn font_like(len: usize, rng: &mut Rng) -> Vec<u8> {
    let mut out = Vec::with_capacity(len + 4096);
    let tables: [&[u8; 4]; 9] = [
        b"cmap", b"glyf", b"head", b"hhea", b"hmtx", b"loca", b"maxp", b"name", b"post",
    ];
    out.extend_from_slice(&[0, 1, 0, 0, 0, 9, 0, 0x80, 0, 3, 0, 0x10]);
    for (i, tag) in tables.iter().enumerate() {
        out.extend_from_slice(*tag);
        out.extend_from_slice(&(rng.next_u64() as u32).to_be_bytes());
        out.extend_from_slice(&(0x100 + i as u32 * 0x1000).to_be_bytes());
        out.extend_from_slice(&(0x1000u32).to_be_bytes());
    }
    const FLAGS: [u8; 8] = [0x01, 0x33, 0x37, 0x27, 0x15, 0x21, 0x01, 0x31];
    const OPS: [u8; 8] = [0xb0, 0x40, 0x2e, 0x2f, 0x01, 0x00, 0x1f, 0x3c];
    while out.len() < len {
        let contours = 1 + rng.below(4) as u16;
        out.extend_from_slice(&contours.to_be_bytes());
        for _ in 0..4 {
            out.extend_from_slice(&(rng.below(2048) as i16 - 200).to_be_bytes());
        }
        let mut end = 0u16;
        for _ in 0..contours {
            end += 3 + rng.below(24) as u16;
            out.extend_from_slice(&end.to_be_bytes());
        }
        let points = end as usize + 1;
        let instructions = if rng.below(3) == 0 {
            rng.below(40) as u16
        } else {
            0
        };
        out.extend_from_slice(&instructions.to_be_bytes());
        for _ in 0..instructions {
            out.push(OPS[rng.below(8) as usize]);
        }
        for _ in 0..points {
            out.push(FLAGS[rng.below(8) as usize]);
        }
        for _ in 0..2 * points {
            let delta = if rng.below(4) == 0 {
                rng.below(400) as i16 - 200
            } else {
                rng.below(40) as i16 - 20
            };
            if (-255..=255).contains(&delta) && rng.below(2) == 0 {
                out.push(delta.unsigned_abs() as u8);
            } else {
                out.extend_from_slice(&delta.to_be_bytes());
            }
        }
        // Word-aligned, as glyf entries are.
        while out.len() % 2 != 0 {
            out.push(0);
        }
    }
    out
}

/// One file of a corpus.
#[derive(Debug, Clone)]
pub struct FileSpec {
    pub name: String,
    pub kind: Kind,
    pub len: usize,
    pub seed: u64,
}

/// What to generate.
#[derive(Debug, Clone)]
pub struct CorpusSpec {
    pub id: &'static str,
    pub files: Vec<FileSpec>,
}

impl CorpusSpec {
    pub fn total(&self) -> u64 {
        self.files.iter().map(|f| f.len as u64).sum()
    }

    fn describe(&self) -> String {
        let mut s = format!("generator v{GENERATOR_VERSION} corpus {}\n", self.id);
        for f in &self.files {
            let _ = writeln!(s, "{}\t{}\t{}\t{}", f.name, f.kind.name(), f.len, f.seed);
        }
        s
    }
}

/// Splits `total` bytes into `n` log-normally distributed sizes of at least
/// `min` bytes, summing exactly to `total`.
fn sizes(rng: &mut Rng, n: usize, total: u64, min: u64, sigma: f64) -> Vec<usize> {
    let weights: Vec<f64> = (0..n).map(|_| (rng.normal() * sigma).exp()).collect();
    let sum: f64 = weights.iter().sum();
    let spread = total - min * n as u64;
    let mut out: Vec<usize> = weights
        .iter()
        .map(|w| (min + (w / sum * spread as f64) as u64) as usize)
        .collect();
    let assigned: u64 = out.iter().map(|&s| s as u64).sum();
    out[n - 1] += (total - assigned) as usize;
    out
}

/// (a) Particle-size: 40 flat assets, 1 MiB: one RGB565 frame (240×320),
/// PNG-like icons, JSON configuration, font-like files.
pub fn particle_size() -> CorpusSpec {
    let mut rng = Rng::new(0xa);
    let total: u64 = 1 << 20;
    let frame = 240 * 320 * 2;
    let kinds: Vec<Kind> = (0..39)
        .map(|i| match i % 3 {
            0 => Kind::Png,
            1 => Kind::Json,
            _ => Kind::Font,
        })
        .collect();
    let lens = sizes(&mut rng, 39, total - frame as u64, 1024, 0.7);
    let mut files = vec![FileSpec {
        name: "frame.rgb565".into(),
        kind: Kind::Rgb565,
        len: frame,
        seed: rng.next_u64(),
    }];
    for (i, (kind, len)) in kinds.into_iter().zip(lens).enumerate() {
        let stem = match kind {
            Kind::Png => "icon",
            Kind::Json => "config",
            _ => "font",
        };
        files.push(FileSpec {
            name: format!("{stem}{i:02}.{}", kind.extension()),
            kind,
            len,
            seed: rng.next_u64(),
        });
    }
    files.sort_by(|a, b| a.name.cmp(&b.name));
    CorpusSpec { id: "a", files }
}

/// (b) Large: `n` assets, `total` bytes, mixed kinds in nested directories.
pub fn large(n: usize, total: u64) -> CorpusSpec {
    let mut rng = Rng::new(0xb);
    let lens = sizes(&mut rng, n, total, 512, 1.0);
    let files = lens
        .into_iter()
        .enumerate()
        .map(|(i, len)| {
            let kind = match rng.below(20) {
                0..=5 => Kind::Png,
                6..=9 => Kind::Rgb565,
                10..=14 => Kind::Json,
                _ => Kind::Font,
            };
            let dir = match kind {
                Kind::Png => "images",
                Kind::Rgb565 => "frames",
                Kind::Json => "config",
                _ => "fonts",
            };
            FileSpec {
                name: format!("{dir}/set{:02}/{dir}-{i:04}.{}", i / 100, kind.extension()),
                kind,
                len,
                seed: rng.next_u64(),
            }
        })
        .collect();
    CorpusSpec { id: "b", files }
}

/// (c) One big asset of mixed content.
pub fn huge(total: u64) -> CorpusSpec {
    CorpusSpec {
        id: "c",
        files: vec![FileSpec {
            name: "huge.bin".into(),
            kind: Kind::Mixed,
            len: total as usize,
            seed: 0xc,
        }],
    }
}

/// A generated corpus on disk.
#[derive(Debug, Clone)]
pub struct Corpus {
    pub spec: CorpusSpec,
    pub assets: PathBuf,
    /// SHA-256 over every file's name, length and SHA-256, in name order.
    pub fingerprint: String,
    /// Whether it was written by this run (else reused from the stamp).
    pub generated: bool,
}

impl Corpus {
    pub fn paths(&self) -> impl Iterator<Item = (PathBuf, &FileSpec)> {
        self.spec
            .files
            .iter()
            .map(|f| (self.assets.join(&f.name), f))
    }
}

/// Writes `spec` into `root/assets` unless `root/corpus.stamp` says it is
/// already there; `root` is a throwaway directory under `target/`.
pub fn materialize(spec: CorpusSpec, root: &Path) -> std::io::Result<Corpus> {
    let assets = root.join("assets");
    let stamp_path = root.join("corpus.stamp");
    let describe = spec.describe();
    if let Ok(stamp) = std::fs::read_to_string(&stamp_path)
        && let Some((described, fingerprint)) = stamp.rsplit_once("fingerprint ")
        && described == describe
        && spec
            .files
            .iter()
            .all(|f| std::fs::metadata(assets.join(&f.name)).is_ok_and(|m| m.len() == f.len as u64))
    {
        return Ok(Corpus {
            spec,
            assets,
            fingerprint: fingerprint.trim().to_owned(),
            generated: false,
        });
    }
    let _ = std::fs::remove_file(&stamp_path);
    if assets.exists() {
        std::fs::remove_dir_all(&assets)?;
    }
    std::fs::create_dir_all(&assets)?;
    let digests: Mutex<Vec<Option<[u8; 32]>>> = Mutex::new(vec![None; spec.files.len()]);
    let next = AtomicUsize::new(0);
    let failed: Mutex<Option<std::io::Error>> = Mutex::new(None);
    std::thread::scope(|scope| {
        let workers = std::thread::available_parallelism().map_or(1, |n| n.get());
        for _ in 0..workers {
            scope.spawn(|| {
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(f) = spec.files.get(i) else { break };
                    match write_file(&assets.join(&f.name), f) {
                        Ok(d) => digests.lock().unwrap()[i] = Some(d),
                        Err(e) => {
                            *failed.lock().unwrap() = Some(e);
                            break;
                        }
                    }
                }
            });
        }
    });
    if let Some(e) = failed.into_inner().unwrap() {
        return Err(e);
    }
    let mut all = Sha256::new();
    for (f, d) in spec.files.iter().zip(digests.into_inner().unwrap()) {
        all.update(f.name.as_bytes());
        all.update([0]);
        all.update((f.len as u64).to_le_bytes());
        all.update(d.expect("every file written"));
    }
    let fingerprint = hex(&all.finalize());
    std::fs::write(
        &stamp_path,
        format!("{describe}fingerprint {fingerprint}\n"),
    )?;
    Ok(Corpus {
        spec,
        assets,
        fingerprint,
        generated: true,
    })
}

fn write_file(path: &Path, f: &FileSpec) -> std::io::Result<[u8; 32]> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let mut file = std::io::BufWriter::with_capacity(1 << 20, std::fs::File::create(path)?);
    let mut sha = Sha256::new();
    if f.kind == Kind::Mixed {
        // Streamed segment by segment, so a 1 GiB asset never sits in memory.
        let mut written = 0usize;
        let mut i = 0u64;
        while written < f.len {
            let n = (f.len - written).min(MIXED_SEGMENT);
            let k = Kind::ALL[(i % 4) as usize];
            let bytes = generate(k, n, f.seed.wrapping_add(i * 7919));
            sha.update(&bytes);
            file.write_all(&bytes)?;
            written += n;
            i += 1;
        }
    } else {
        let bytes = generate(f.kind, f.len, f.seed);
        sha.update(&bytes);
        file.write_all(&bytes)?;
    }
    file.into_inner().map_err(|e| e.into_error())?.sync_all()?;
    Ok(sha.finalize().into())
}

pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generators_are_exact_and_deterministic() {
        for kind in Kind::ALL.into_iter().chain([Kind::Mixed]) {
            for len in [0, 1, 56, 57, 58, 1000, 4097, 100_003] {
                let a = generate(kind, len, 42);
                assert_eq!(a.len(), len, "{kind:?} {len}");
                assert_eq!(a, generate(kind, len, 42), "{kind:?} {len}");
            }
        }
    }

    #[test]
    fn corpora_have_the_sizes_issue_8_asks_for() {
        let a = particle_size();
        assert_eq!(a.files.len(), 40);
        assert_eq!(a.total(), 1 << 20);
        let b = large(2000, 200 << 20);
        assert_eq!(b.files.len(), 2000);
        assert_eq!(b.total(), 200 << 20);
        assert_eq!(huge(1 << 30).total(), 1 << 30);
        let mut names: Vec<_> = b.files.iter().map(|f| &f.name).collect();
        names.sort();
        names.dedup();
        assert_eq!(names.len(), 2000);
    }
}
