//! A NOR flash simulator that enforces the rules real NOR imposes and cuts
//! power at a chosen operation, plus the corpus and install helpers the
//! store's tests share.
#![allow(dead_code)]

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::rc::Rc;

use assetota::Codec;
use assetota_store::{AssetId, Error, Scratch, Store};
use embedded_storage::nor_flash::{
    ErrorType, NorFlash, NorFlashError, NorFlashErrorKind, ReadNorFlash,
};
use sha2::{Digest, Sha256};

/// How the operation a cut lands on is left.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Torn {
    /// Not applied at all.
    NotApplied,
    /// The first half of its words (or of its block) applied.
    Prefix,
    /// A prefix applied and the interrupted words (or the whole block) left
    /// as arbitrary values.
    Garbage,
}

pub const TORN: [Torn; 3] = [Torn::NotApplied, Torn::Prefix, Torn::Garbage];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SimError {
    /// Power is off.
    Cut,
    OutOfBounds,
}

impl NorFlashError for SimError {
    fn kind(&self) -> NorFlashErrorKind {
        match self {
            SimError::Cut => NorFlashErrorKind::Other,
            SimError::OutOfBounds => NorFlashErrorKind::OutOfBounds,
        }
    }
}

/// Counters of what the store did to the flash.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Stats {
    pub writes: u64,
    pub erases: u64,
    pub bytes_written: u64,
    pub bytes_erased: u64,
    pub reads: u64,
}

impl Stats {
    pub fn ops(&self) -> u64 {
        self.writes + self.erases
    }
}

/// The flash's persistent state: survives "power cycles" (new SimFlash handles).
#[derive(Debug, Clone)]
pub struct Chip {
    pub bytes: Vec<u8>,
    /// Per WRITE_SIZE word: programmed since the last erase.
    pub programmed: Vec<bool>,
    pub stats: Stats,
    /// Erase count per erase block (wear).
    pub wear: Vec<u32>,
    cut_at: Option<(u64, Torn)>,
    dead: bool,
    rng: u64,
}

impl Chip {
    pub fn new(size: usize, write: usize, erase: usize) -> Self {
        Chip {
            bytes: vec![0xFF; size],
            programmed: vec![false; size / write],
            stats: Stats::default(),
            wear: vec![0; size / erase],
            cut_at: None,
            dead: false,
            rng: 0x9E37_79B9_7F4A_7C15,
        }
    }

    /// Cut power right at operation `k` (1-based, writes and erases counted
    /// from now), leaving it `torn`.
    pub fn cut_at(&mut self, k: u64, torn: Torn) {
        self.cut_at = Some((self.stats.ops() + k, torn));
        self.dead = false;
    }

    /// Power back on: clears any cut.
    pub fn power_on(&mut self) {
        self.cut_at = None;
        self.dead = false;
    }

    pub fn is_dead(&self) -> bool {
        self.dead
    }

    fn random(&mut self) -> u8 {
        // SplitMix64: deterministic garbage.
        self.rng = self.rng.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.rng;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        (z ^ (z >> 31)) as u8
    }
}

/// A handle on a shared chip with NOR rules: WRITE_SIZE `W`, ERASE_SIZE `B`.
/// Panics (a test failure) on misaligned access and on writing a word that
/// was programmed since its last erase.
#[derive(Debug, Clone)]
pub struct SimFlash<const W: usize, const B: usize> {
    pub chip: Rc<RefCell<Chip>>,
}

impl<const W: usize, const B: usize> SimFlash<W, B> {
    pub fn new(size: usize) -> Self {
        SimFlash {
            chip: Rc::new(RefCell::new(Chip::new(size, W, B))),
        }
    }

    pub fn from_chip(chip: Chip) -> Self {
        SimFlash {
            chip: Rc::new(RefCell::new(chip)),
        }
    }

    /// A snapshot of the chip (bytes, programmed words, counters).
    pub fn snapshot(&self) -> Chip {
        self.chip.borrow().clone()
    }

    pub fn stats(&self) -> Stats {
        self.chip.borrow().stats
    }
}

impl<const W: usize, const B: usize> ErrorType for SimFlash<W, B> {
    type Error = SimError;
}

impl<const W: usize, const B: usize> ReadNorFlash for SimFlash<W, B> {
    const READ_SIZE: usize = 1;

    fn read(&mut self, offset: u32, bytes: &mut [u8]) -> Result<(), SimError> {
        let mut chip = self.chip.borrow_mut();
        if chip.dead {
            return Err(SimError::Cut);
        }
        let start = offset as usize;
        let end = start + bytes.len();
        if end > chip.bytes.len() {
            return Err(SimError::OutOfBounds);
        }
        chip.stats.reads += 1;
        bytes.copy_from_slice(&chip.bytes[start..end]);
        Ok(())
    }

    fn capacity(&self) -> usize {
        self.chip.borrow().bytes.len()
    }
}

impl<const W: usize, const B: usize> NorFlash for SimFlash<W, B> {
    const WRITE_SIZE: usize = W;
    const ERASE_SIZE: usize = B;

    fn erase(&mut self, from: u32, to: u32) -> Result<(), SimError> {
        let mut chip = self.chip.borrow_mut();
        if chip.dead {
            return Err(SimError::Cut);
        }
        let (from, to) = (from as usize, to as usize);
        assert!(
            from.is_multiple_of(B) && to.is_multiple_of(B) && from <= to,
            "misaligned erase {from:#x}..{to:#x} (erase size {B})"
        );
        if to > chip.bytes.len() {
            return Err(SimError::OutOfBounds);
        }
        chip.stats.erases += 1;
        chip.stats.bytes_erased += (to - from) as u64;
        let op = chip.stats.ops();
        let torn = match chip.cut_at {
            Some((k, torn)) if k == op => Some(torn),
            _ => None,
        };
        let apply_to = match torn {
            None => to,
            Some(Torn::NotApplied) => from,
            Some(Torn::Prefix | Torn::Garbage) => from + (to - from) / 2,
        };
        for b in (from / B)..(to / B) {
            chip.wear[b] += 1;
        }
        chip.bytes[from..apply_to].fill(0xFF);
        for w in from / W..apply_to / W {
            chip.programmed[w] = false;
        }
        if torn == Some(Torn::Garbage) {
            // An interrupted erase leaves the rest of the range undefined.
            for i in apply_to..to {
                let g = chip.random();
                chip.bytes[i] = g;
            }
            for w in apply_to / W..to / W {
                chip.programmed[w] = true;
            }
        }
        if torn.is_some() {
            chip.dead = true;
            return Err(SimError::Cut);
        }
        Ok(())
    }

    fn write(&mut self, offset: u32, bytes: &[u8]) -> Result<(), SimError> {
        let mut chip = self.chip.borrow_mut();
        if chip.dead {
            return Err(SimError::Cut);
        }
        let start = offset as usize;
        assert!(
            start.is_multiple_of(W) && bytes.len().is_multiple_of(W),
            "misaligned write of {} B at {start:#x} (write size {W})",
            bytes.len()
        );
        let end = start + bytes.len();
        if end > chip.bytes.len() {
            return Err(SimError::OutOfBounds);
        }
        for w in start / W..end / W {
            assert!(
                !chip.programmed[w],
                "write to a word not erased since it was last programmed, at {:#x}",
                w * W
            );
        }
        chip.stats.writes += 1;
        chip.stats.bytes_written += bytes.len() as u64;
        let op = chip.stats.ops();
        let torn = match chip.cut_at {
            Some((k, torn)) if k == op => Some(torn),
            _ => None,
        };
        let words = bytes.len() / W;
        let applied_words = match torn {
            None => words,
            Some(Torn::NotApplied) => 0,
            Some(Torn::Prefix | Torn::Garbage) => words / 2,
        };
        let applied = applied_words * W;
        for (i, b) in bytes[..applied].iter().enumerate() {
            chip.bytes[start + i] &= *b;
        }
        for w in start / W..start / W + applied_words {
            chip.programmed[w] = true;
        }
        if torn == Some(Torn::Garbage) && applied_words < words {
            // The interrupted word: any value bits can take when programming
            // stops half way (only 1 -> 0 transitions).
            let w = start / W + applied_words;
            for i in w * W..(w + 1) * W {
                let g = chip.random();
                chip.bytes[i] &= g | bytes[i - start];
            }
            chip.programmed[w] = true;
        }
        if torn.is_some() {
            chip.dead = true;
            return Err(SimError::Cut);
        }
        Ok(())
    }
}

/// One asset of a test corpus: raw bytes and the payload as the build
/// encodes it.
#[derive(Debug, Clone)]
pub struct TestAsset {
    pub name: String,
    pub raw: Vec<u8>,
    pub payload: Vec<u8>,
    pub id: AssetId,
}

pub fn sha256(bytes: &[u8]) -> [u8; 32] {
    Sha256::digest(bytes).into()
}

/// Raw deflate as `cargo assetota` writes it (zlib, memLevel 8).
pub fn deflate(raw: &[u8], level: u32, window_bits: u8) -> Vec<u8> {
    use flate2::{Compress, Compression, FlushCompress};
    let mut c = Compress::new_with_window_bits(Compression::new(level), false, window_bits);
    let mut out = Vec::with_capacity(raw.len() + raw.len() / 8 + 1024);
    loop {
        let consumed = c.total_in() as usize;
        let status = c
            .compress_vec(&raw[consumed..], &mut out, FlushCompress::Finish)
            .unwrap();
        if status == flate2::Status::StreamEnd {
            return out;
        }
        out.reserve(out.capacity().max(4096));
    }
}

/// Deterministic bytes: text-like when `compressible`, else random.
pub fn bytes(seed: u64, len: usize, compressible: bool) -> Vec<u8> {
    let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    let mut out = Vec::with_capacity(len);
    let words: [&[u8]; 8] = [
        b"asset ",
        b"flash ",
        b"block ",
        b"deflate ",
        b"ota ",
        b"store ",
        b"0123 ",
        b"\n",
    ];
    while out.len() < len {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        if compressible {
            out.extend_from_slice(words[(x % 8) as usize]);
        } else {
            out.extend_from_slice(&x.to_le_bytes());
        }
    }
    out.truncate(len);
    out
}

impl TestAsset {
    pub fn deflated(name: &str, raw: Vec<u8>, window_bits: u8) -> Self {
        let payload = deflate(&raw, 6, window_bits);
        let id = AssetId {
            sha256: sha256(&raw),
            size: raw.len() as u64,
            payload_len: payload.len() as u64,
            codec: Codec::Deflate { window_bits },
        };
        TestAsset {
            name: name.into(),
            raw,
            payload,
            id,
        }
    }

    pub fn stored_raw(name: &str, raw: Vec<u8>) -> Self {
        let id = AssetId {
            sha256: sha256(&raw),
            size: raw.len() as u64,
            payload_len: raw.len() as u64,
            codec: Codec::None,
        };
        TestAsset {
            name: name.into(),
            payload: raw.clone(),
            raw,
            id,
        }
    }
}

pub type Res<T> = Result<T, Error<SimError>>;

/// Installs `asset` the way a device does: resume offset, chunks, finish.
/// Returns the payload bytes sent.
pub fn install<F: NorFlash, const MAX: usize, const WIN: usize>(
    store: &mut Store<F, MAX>,
    asset: &TestAsset,
    chunk: usize,
    scratch: &mut Scratch<WIN>,
) -> Result<u64, Error<F::Error>> {
    let mut inst = store.install(asset.id)?;
    let start = inst.resume_offset() as usize;
    let mut sent = 0u64;
    let mut off = start;
    while off < asset.payload.len() {
        let end = (off + chunk).min(asset.payload.len());
        inst.write(off as u64, &asset.payload[off..end])?;
        sent += (end - off) as u64;
        off = end;
    }
    inst.finish(scratch)?;
    Ok(sent)
}

/// Reads a committed asset to its end.
pub fn read_all<F: NorFlash, const MAX: usize, const WIN: usize>(
    store: &mut Store<F, MAX>,
    sha: &[u8; 32],
    scratch: &mut Scratch<WIN>,
    chunk: usize,
) -> Result<Vec<u8>, Error<F::Error>> {
    let mut r = store.open(sha, scratch)?;
    let mut out = Vec::new();
    let mut buf = vec![0u8; chunk];
    loop {
        let n = r.read(&mut buf)?;
        if n == 0 {
            break;
        }
        out.extend_from_slice(&buf[..n]);
    }
    Ok(out)
}

/// What a store holds, for comparing runs: committed SHA-256s with their
/// handled flag.
pub fn state<F: NorFlash, const MAX: usize>(store: &Store<F, MAX>) -> BTreeMap<[u8; 32], bool> {
    store
        .extents()
        .filter(|e| e.committed)
        .map(|e| (e.sha256, store.is_handled(&e.sha256)))
        .collect()
}

/// The invariants every mounted store must hold whatever happened before:
/// no overlap, inside the partition, used + free = capacity, and every
/// committed extent reads back to bytes that hash right (`corpus` gives the
/// expected bytes by SHA-256).
pub fn check_invariants<F: NorFlash, const MAX: usize, const WIN: usize>(
    store: &mut Store<F, MAX>,
    corpus: &BTreeMap<[u8; 32], Vec<u8>>,
    scratch: &mut Scratch<WIN>,
) -> Result<(), String>
where
    F::Error: std::fmt::Debug,
{
    let extents: Vec<_> = store.extents().collect();
    let capacity_blocks = (store.capacity() / u64::from(store.layout().block_size())) as u32;
    let mut last_end = 0u32;
    for e in &extents {
        if e.first_block < last_end {
            return Err(format!("extents overlap at block {}", e.first_block));
        }
        last_end = e.first_block + e.blocks;
        if last_end > capacity_blocks {
            return Err(format!("extent past the partition: {e:?}"));
        }
    }
    if store.used() + store.free() != store.capacity() {
        return Err(format!(
            "used {} + free {} != capacity {}",
            store.used(),
            store.free(),
            store.capacity()
        ));
    }
    for e in extents.iter().filter(|e| e.committed) {
        let want = corpus
            .get(&e.sha256)
            .ok_or_else(|| format!("committed extent of unknown content {e:?}"))?;
        let got = read_all(store, &e.sha256, scratch, 97)
            .map_err(|err| format!("committed asset does not read back: {err:?}"))?;
        if &got != want {
            return Err("committed asset reads back other bytes".into());
        }
    }
    Ok(())
}

/// Encodes a v1 manifest (docs/manifest-format.md) for `assets`, sorted by name.
pub fn manifest(assets: &[&TestAsset]) -> Vec<u8> {
    let mut sorted: Vec<&&TestAsset> = assets.iter().collect();
    sorted.sort_by(|a, b| a.name.as_bytes().cmp(b.name.as_bytes()));
    let n = sorted.len();
    let strings: Vec<u8> = sorted.iter().flat_map(|a| a.name.bytes()).collect();
    let unpadded = 32 + 64 * n + strings.len();
    let total = unpadded.div_ceil(4) * 4 + 4;
    let mut m = Vec::new();
    m.extend_from_slice(b"AOTA");
    m.extend_from_slice(&1u16.to_le_bytes());
    m.extend_from_slice(&32u16.to_le_bytes());
    m.extend_from_slice(&(total as u32).to_le_bytes());
    m.extend_from_slice(&(n as u32).to_le_bytes());
    m.extend_from_slice(&64u16.to_le_bytes());
    m.extend_from_slice(&0u16.to_le_bytes());
    m.extend_from_slice(&((32 + 64 * n) as u32).to_le_bytes());
    m.extend_from_slice(&(strings.len() as u32).to_le_bytes());
    m.extend_from_slice(&[0; 4]);
    let mut off = 0u32;
    for a in &sorted {
        m.extend_from_slice(&off.to_le_bytes());
        m.extend_from_slice(&(a.name.len() as u16).to_le_bytes());
        m.push(a.id.codec.id());
        m.push(a.id.codec.param());
        m.extend_from_slice(&a.id.size.to_le_bytes());
        m.extend_from_slice(&a.id.payload_len.to_le_bytes());
        m.extend_from_slice(&a.id.payload_len.to_le_bytes());
        m.extend_from_slice(&a.id.sha256);
        off += a.name.len() as u32;
    }
    m.extend_from_slice(&strings);
    while m.len() < total - 4 {
        m.push(0);
    }
    let crc = crc32fast::hash(&m);
    m.extend_from_slice(&crc.to_le_bytes());
    m
}
