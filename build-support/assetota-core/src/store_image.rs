//! The factory image of the device store (README.md, "Factory image"): the store partition
//! with every asset installed, built by the store's own code
//! (`assetota-store`) on a memory flash, so the image is what a device that
//! installed the same assets over the air would hold, byte for byte; and a
//! check that mounts an image and reads every asset back.
//!
//! Also the two file formats a production programmer takes besides a raw
//! binary: Intel HEX ([`intel_hex`]) and UF2 ([`uf2`]), from address-placed
//! [`Segment`]s (the partition, and optionally the firmware at its load
//! address).
//!
//! Deterministic: assets are installed in name order (the manifest's), the
//! encoders are deterministic and the store writes no time or random bytes,
//! so the same inputs always give the same image.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::io::{self, Write};

use assetota_store::{
    AssetId, GeometryError, Layout, Scratch, SliceFlash, SliceFlashError, Store, StoredAsset,
};
use sha2::{Digest, Sha256};

use crate::codec::Codec;
use crate::platform::StoreGeometry;

/// Most assets (distinct contents) one image holds: the size of the store's
/// table on the host. A device mounting the image needs a `Store<_, N>` with
/// `N` at least the image's number of stored assets.
pub const MAX_ASSETS: usize = 16_384;

/// The store's error over the memory flash images are built on.
pub type StoreError = assetota_store::Error<SliceFlashError>;

/// One asset to install: its name, raw bytes, and the codec it is stored with
/// (the bundle's per-asset codec; `none` for an asset stored raw).
#[derive(Debug, Clone, Copy)]
pub struct ImageAsset<'a> {
    pub name: &'a str,
    pub bytes: &'a [u8],
    pub codec: Codec,
}

/// Where an asset landed in the image.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Placed {
    pub name: String,
    /// SHA-256 of the raw bytes: the store's identity of the asset.
    pub sha256: [u8; 32],
    /// Raw size.
    pub size: u64,
    /// Bytes of the payload (the codec's output) in flash.
    pub payload_len: u64,
    pub codec: Codec,
    /// Offset of the asset's first block in the partition.
    pub offset: u64,
    /// Bytes of flash its extent occupies (whole blocks).
    pub storage_size: u64,
    /// The asset installed before it with the same bytes: the store keeps
    /// one copy per content, so this one costs nothing.
    pub same_as: Option<String>,
}

/// A built store partition.
#[derive(Debug, Clone)]
pub struct StoreImage {
    /// Exactly `partition_size` bytes, 0xFF where erased.
    pub bytes: Vec<u8>,
    pub geometry: StoreGeometry,
    /// Bytes the store can use: the partition's whole erase blocks.
    pub capacity: u64,
    /// Bytes occupied by the installed assets (`Store::used`).
    pub used: u64,
    /// In install (name) order.
    pub assets: Vec<Placed>,
}

/// What [`check`] found in an image.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckReport {
    pub capacity: u64,
    pub used: u64,
    /// Assets of the list read back and matched.
    pub assets: usize,
    /// Extents (distinct stored contents) in the store.
    pub extents: usize,
}

/// An asset [`check`] expects in an image.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Expected<'a> {
    pub name: &'a str,
    pub size: u64,
    pub sha256: [u8; 32],
}

/// Bytes to place at an address in a HEX or UF2 file.
#[derive(Debug, Clone, Copy)]
pub struct Segment<'a> {
    /// What it is, for error messages (`store partition`, `firmware`).
    pub name: &'a str,
    pub address: u64,
    pub bytes: &'a [u8],
}

/// Why an image cannot be built, checked or written.
#[derive(Debug, thiserror::Error)]
pub enum ImageError {
    #[error(
        "the device store cannot use this flash geometry (write size {write_size} B, erase size {erase_size} B, partition {partition_size} B): {source}"
    )]
    Geometry {
        write_size: u32,
        erase_size: u32,
        partition_size: u64,
        #[source]
        source: GeometryError,
    },

    #[error(
        "the store partition is {size} B; a store image is at most {} B (the store's offsets are 32-bit)",
        u32::MAX
    )]
    PartitionTooLarge { size: u64 },

    #[error("{count} distinct assets are more than a store image holds ({max})")]
    TooManyAssets { count: usize, max: usize },

    #[error("two assets are named `{0}`")]
    DuplicateName(String),

    #[error("cannot encode `{asset}` with {codec}: {source}")]
    Encode {
        asset: String,
        codec: Codec,
        #[source]
        source: io::Error,
    },

    #[error(
        "no room for `{asset}` in the {capacity}-byte store partition: it needs {need} B, {free} B are free (the largest free run is {largest_run} B); all the assets need {total} B, {} B more than the partition holds",
        total.saturating_sub(*capacity)
    )]
    NoSpace {
        asset: String,
        need: u64,
        free: u64,
        largest_run: u64,
        capacity: u64,
        /// Bytes every asset needs (each distinct content once).
        total: u64,
    },

    #[error("the store refused `{asset}`: {source}")]
    Store {
        asset: String,
        #[source]
        source: StoreError,
    },

    #[error("cannot mount the store image: {source}")]
    Mount {
        #[source]
        source: StoreError,
    },

    #[error(
        "the image is {actual} B, but a store partition of this geometry is {expected} B (`partition_size`)"
    )]
    ImageSize { expected: u64, actual: u64 },

    #[error("the image does not hold `{asset}` (sha256 {sha256})")]
    Missing { asset: String, sha256: String },

    #[error("`{asset}` does not read back from the image as expected: {reason}")]
    Mismatch { asset: String, reason: String },

    #[error(
        "the image holds an extent that no listed asset accounts for (sha256 {sha256}, {size} B, {})",
        if *committed { "committed" } else { "an unfinished install" }
    )]
    Unexpected {
        sha256: String,
        size: u64,
        committed: bool,
    },

    #[error(
        "cannot start the image builder with {stack} B of stack (a {window}-byte decoder window and the store's table): {source}"
    )]
    Worker {
        stack: usize,
        window: usize,
        #[source]
        source: io::Error,
    },

    #[error("{name} ({start:#x}..{end:#x}) reaches past the 4 GiB a HEX or UF2 file can address")]
    AddressRange { name: String, start: u64, end: u64 },

    #[error(
        "{first} ({first_start:#x}..{first_end:#x}) and {second} ({second_start:#x}..{second_end:#x}) overlap"
    )]
    Overlap {
        first: String,
        first_start: u64,
        first_end: u64,
        second: String,
        second_start: u64,
        second_end: u64,
    },
}

/// The store's layout for `geometry`, the partition's size in bytes, and the
/// part the store mounts (whole erase blocks).
fn dimensions(geometry: &StoreGeometry) -> Result<(Layout, usize, u32), ImageError> {
    let geometry_error = |source| ImageError::Geometry {
        write_size: geometry.write_size,
        erase_size: geometry.erase_size,
        partition_size: geometry.partition_size,
        source,
    };
    let layout = geometry.layout().map_err(geometry_error)?;
    let size =
        u32::try_from(geometry.partition_size).map_err(|_| ImageError::PartitionTooLarge {
            size: geometry.partition_size,
        })?;
    let usable = size - size % layout.block_size();
    if usable == 0 {
        return Err(geometry_error(GeometryError::Empty));
    }
    Ok((layout, size as usize, usable))
}

/// log2 of the decoder window the store needs for `codec` (at least 32 KiB:
/// one window serves every deflate stream).
fn window_log2(codec: assetota::Codec) -> u32 {
    match codec {
        assetota::Codec::None | assetota::Codec::Deflate { .. } => 15,
        assetota::Codec::Xz { dict_log2 } => u32::from(dict_log2).max(15),
    }
}

/// Work that needs a store and a decoder window of `WIN` bytes, run on a
/// thread whose stack holds both (the store crate keeps them inline: it is
/// `no_std` and allocation-free).
trait WindowJob: Send {
    type Out: Send;
    fn run<const WIN: usize>(self) -> Self::Out;
}

/// Runs `job` with the smallest window of at least `2^log2` bytes.
fn with_window<J: WindowJob>(log2: u32, job: J) -> Result<J::Out, ImageError> {
    let window = 1usize << log2.clamp(15, 30);
    let store = std::mem::size_of::<Store<SliceFlash<'static>, MAX_ASSETS>>();
    // Unoptimized builds keep several copies of each on the stack while they
    // are constructed and moved (measured: the store's table up to 8 times).
    let stack = window
        .saturating_mul(4)
        .saturating_add(store.saturating_mul(10))
        .saturating_add(16 << 20);
    std::thread::scope(|scope| {
        let handle = std::thread::Builder::new()
            .name("assetota-store-image".into())
            .stack_size(stack)
            .spawn_scoped(scope, move || dispatch(log2, job))
            .map_err(|source| ImageError::Worker {
                stack,
                window,
                source,
            })?;
        match handle.join() {
            Ok(out) => Ok(out),
            Err(panic) => std::panic::resume_unwind(panic),
        }
    })
}

fn dispatch<J: WindowJob>(log2: u32, job: J) -> J::Out {
    macro_rules! windows {
        ($($n:literal)*) => {
            match log2 {
                0..=15 => run_with::<J, { 1usize << 15 }>(job),
                $($n => run_with::<J, { 1usize << $n }>(job),)*
                _ => run_with::<J, { 1usize << 30 }>(job),
            }
        };
    }
    windows!(16 17 18 19 20 21 22 23 24 25 26 27 28 29)
}

/// One frame per window size: inlined into [`dispatch`], every arm's scratch
/// would share its frame, and the frame would be as large as the largest
/// window (1 GiB) whichever arm runs.
#[inline(never)]
fn run_with<J: WindowJob, const WIN: usize>(job: J) -> J::Out {
    job.run::<WIN>()
}

/// An asset ready to install: its payload encoded.
struct Payload<'a> {
    name: &'a str,
    id: AssetId,
    codec: Codec,
    payload: Vec<u8>,
}

/// Builds the store partition for `geometry` with every asset installed, in
/// name order, through `assetota_store` (`install`, `write`, `finish`, which
/// decodes each payload back from the image and checks size and SHA-256
/// before committing). Assets with equal bytes are stored once.
pub fn build(
    geometry: &StoreGeometry,
    assets: &[ImageAsset<'_>],
) -> Result<StoreImage, ImageError> {
    let (layout, size, usable) = dimensions(geometry)?;
    let mut order: Vec<&ImageAsset<'_>> = assets.iter().collect();
    order.sort_by(|a, b| a.name.as_bytes().cmp(b.name.as_bytes()));
    if let Some(pair) = order.windows(2).find(|w| w[0].name == w[1].name) {
        return Err(ImageError::DuplicateName(pair[0].name.to_owned()));
    }
    let mut payloads = Vec::with_capacity(order.len());
    for a in order {
        let payload = encode(a)?;
        let sha256: [u8; 32] = Sha256::digest(a.bytes).into();
        payloads.push(Payload {
            name: a.name,
            id: AssetId {
                sha256,
                size: a.bytes.len() as u64,
                payload_len: payload.len() as u64,
                codec: a.codec.device_codec(),
            },
            codec: a.codec,
            payload,
        });
    }
    let distinct: BTreeMap<[u8; 32], u64> = payloads
        .iter()
        .map(|p| (p.id.sha256, layout.storage_size(p.id.payload_len)))
        .collect();
    if distinct.len() > MAX_ASSETS {
        return Err(ImageError::TooManyAssets {
            count: distinct.len(),
            max: MAX_ASSETS,
        });
    }
    let total = distinct.values().fold(0u64, |a, b| a.saturating_add(*b));
    let log2 = payloads
        .iter()
        .map(|p| window_log2(p.id.codec))
        .max()
        .unwrap_or(15);

    let mut bytes = vec![0xFF; size];
    let placed = with_window(
        log2,
        Install {
            flash: &mut bytes,
            usable,
            layout,
            payloads: &payloads,
            total,
        },
    )??;
    let used = placed
        .iter()
        .filter(|p| p.same_as.is_none())
        .map(|p| p.storage_size)
        .sum();
    Ok(StoreImage {
        bytes,
        geometry: *geometry,
        capacity: u64::from(usable),
        used,
        assets: placed,
    })
}

fn encode(a: &ImageAsset<'_>) -> Result<Vec<u8>, ImageError> {
    let err = |source| ImageError::Encode {
        asset: a.name.to_owned(),
        codec: a.codec,
        source,
    };
    let mut encoder = a.codec.encoder(Vec::new()).map_err(err)?;
    encoder.write_all(a.bytes).map_err(err)?;
    encoder.finish().map_err(err)
}

struct Install<'a, 'p> {
    flash: &'a mut [u8],
    usable: u32,
    layout: Layout,
    payloads: &'a [Payload<'p>],
    total: u64,
}

impl WindowJob for Install<'_, '_> {
    type Out = Result<Vec<Placed>, ImageError>;

    fn run<const WIN: usize>(self) -> Self::Out {
        let mut scratch = Scratch::<WIN>::new();
        let mut store = Store::<_, MAX_ASSETS>::mount_with(
            SliceFlash::new(self.flash),
            0..self.usable,
            self.layout,
        )
        .map_err(|source| ImageError::Mount { source })?;
        let mut placed: Vec<Placed> = Vec::with_capacity(self.payloads.len());
        let mut first_of: BTreeMap<[u8; 32], usize> = BTreeMap::new();
        for p in self.payloads {
            let store_err = |source| ImageError::Store {
                asset: p.name.to_owned(),
                source,
            };
            if let Some(&i) = first_of.get(&p.id.sha256) {
                let first = &placed[i];
                placed.push(Placed {
                    name: p.name.to_owned(),
                    same_as: Some(first.name.clone()),
                    ..first.clone()
                });
                continue;
            }
            let capacity = store.capacity();
            let mut install = store.install(p.id).map_err(|e| match e {
                assetota_store::Error::NoSpace {
                    need,
                    free,
                    largest_run,
                } => ImageError::NoSpace {
                    asset: p.name.to_owned(),
                    need,
                    free,
                    largest_run,
                    capacity,
                    total: self.total,
                },
                other => store_err(other),
            })?;
            install.write(0, &p.payload).map_err(store_err)?;
            install.finish(&mut scratch).map_err(store_err)?;
            let extent = store
                .extents()
                .find(|e| e.committed && e.sha256 == p.id.sha256)
                .ok_or_else(|| store_err(assetota_store::Error::NotStored))?;
            first_of.insert(p.id.sha256, placed.len());
            placed.push(Placed {
                name: p.name.to_owned(),
                sha256: p.id.sha256,
                size: p.id.size,
                payload_len: p.id.payload_len,
                codec: p.codec,
                offset: u64::from(extent.first_block) * u64::from(self.layout.block_size()),
                storage_size: u64::from(extent.blocks) * u64::from(self.layout.block_size()),
                same_as: None,
            });
        }
        Ok(placed)
    }
}

/// Mounts `image` (a copy of it: nothing is written) as a store of
/// `geometry` and reads every `expected` asset back through the store's
/// reader, comparing its size and SHA-256 (computed here, independently of
/// the reader's own check). Refuses an image of another size, one the store
/// does not mount (a store written for another geometry is
/// [`assetota_store::Error::ForeignLayout`]), a missing or different asset,
/// and extents no expected asset accounts for.
pub fn check(
    geometry: &StoreGeometry,
    image: &[u8],
    expected: &[Expected<'_>],
) -> Result<CheckReport, ImageError> {
    let (layout, size, usable) = dimensions(geometry)?;
    if image.len() != size {
        return Err(ImageError::ImageSize {
            expected: size as u64,
            actual: image.len() as u64,
        });
    }
    let mut copy = image.to_vec();
    // First what the store holds (and which window reading it needs).
    let extents = with_window(
        15,
        List {
            flash: &mut copy,
            usable,
            layout,
        },
    )??;
    let wanted: BTreeSet<[u8; 32]> = expected.iter().map(|e| e.sha256).collect();
    if let Some(e) = extents
        .iter()
        .find(|e| !e.committed || !wanted.contains(&e.sha256))
    {
        return Err(ImageError::Unexpected {
            sha256: hex(&e.sha256),
            size: e.size,
            committed: e.committed,
        });
    }
    let log2 = extents
        .iter()
        .map(|e| window_log2(e.codec))
        .max()
        .unwrap_or(15);
    let mut copy = image.to_vec();
    let (capacity, used) = with_window(
        log2,
        ReadBack {
            flash: &mut copy,
            usable,
            layout,
            expected,
        },
    )??;
    Ok(CheckReport {
        capacity,
        used,
        assets: expected.len(),
        extents: extents.len(),
    })
}

struct List<'a> {
    flash: &'a mut [u8],
    usable: u32,
    layout: Layout,
}

impl WindowJob for List<'_> {
    type Out = Result<Vec<StoredAsset>, ImageError>;

    fn run<const WIN: usize>(self) -> Self::Out {
        let store = Store::<_, MAX_ASSETS>::mount_with(
            SliceFlash::new(self.flash),
            0..self.usable,
            self.layout,
        )
        .map_err(|source| ImageError::Mount { source })?;
        Ok(store.extents().collect())
    }
}

struct ReadBack<'a, 'e> {
    flash: &'a mut [u8],
    usable: u32,
    layout: Layout,
    expected: &'a [Expected<'e>],
}

impl WindowJob for ReadBack<'_, '_> {
    type Out = Result<(u64, u64), ImageError>;

    fn run<const WIN: usize>(self) -> Self::Out {
        let mut scratch = Scratch::<WIN>::new();
        let mut store = Store::<_, MAX_ASSETS>::mount_with(
            SliceFlash::new(self.flash),
            0..self.usable,
            self.layout,
        )
        .map_err(|source| ImageError::Mount { source })?;
        let mut buf = vec![0u8; 64 << 10];
        for e in self.expected {
            let mismatch = |reason: String| ImageError::Mismatch {
                asset: e.name.to_owned(),
                reason,
            };
            let mut reader = match store.open(&e.sha256, &mut scratch) {
                Ok(r) => r,
                Err(assetota_store::Error::NotStored) => {
                    return Err(ImageError::Missing {
                        asset: e.name.to_owned(),
                        sha256: hex(&e.sha256),
                    });
                }
                Err(err) => return Err(mismatch(err.to_string())),
            };
            let mut hasher = Sha256::new();
            let mut len = 0u64;
            loop {
                match reader.read(&mut buf) {
                    Ok(0) => break,
                    Ok(n) => {
                        hasher.update(&buf[..n]);
                        len += n as u64;
                    }
                    Err(err) => return Err(mismatch(err.to_string())),
                }
            }
            let sha: [u8; 32] = hasher.finalize().into();
            if len != e.size || sha != e.sha256 {
                return Err(mismatch(format!(
                    "{len} B with sha256 {}, expected {} B with sha256 {}",
                    hex(&sha),
                    e.size,
                    hex(&e.sha256)
                )));
            }
        }
        Ok((store.capacity(), store.used()))
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().fold(String::new(), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}

/// The segments sorted by address, refusing any two that overlap and any
/// that reaches past 4 GiB.
fn placed_segments<'s, 'a>(
    segments: &'s [Segment<'a>],
) -> Result<Vec<&'s Segment<'a>>, ImageError> {
    let mut sorted: Vec<&Segment<'a>> = segments.iter().filter(|s| !s.bytes.is_empty()).collect();
    sorted.sort_by_key(|s| s.address);
    for s in &sorted {
        let end = s.address.saturating_add(s.bytes.len() as u64);
        if end > 1 << 32 {
            return Err(ImageError::AddressRange {
                name: s.name.to_owned(),
                start: s.address,
                end,
            });
        }
    }
    for pair in sorted.windows(2) {
        let (a, b) = (pair[0], pair[1]);
        let a_end = a.address + a.bytes.len() as u64;
        if b.address < a_end {
            return Err(ImageError::Overlap {
                first: a.name.to_owned(),
                first_start: a.address,
                first_end: a_end,
                second: b.name.to_owned(),
                second_start: b.address,
                second_end: b.address + b.bytes.len() as u64,
            });
        }
    }
    Ok(sorted)
}

/// Data bytes per Intel HEX data record.
pub const HEX_RECORD_LEN: usize = 16;

/// The segments as an Intel HEX file: data records of [`HEX_RECORD_LEN`]
/// bytes (shorter at a segment's end or a 64 KiB boundary), an extended
/// linear address record (type 04) wherever the upper 16 address bits change,
/// and the end-of-file record; lines end with CRLF. With `skip_erased`, data
/// records whose bytes are all 0xFF are left out (only for a programmer that
/// erases the whole range first: bytes it does not write keep what was there).
pub fn intel_hex(segments: &[Segment<'_>], skip_erased: bool) -> Result<Vec<u8>, ImageError> {
    let sorted = placed_segments(segments)?;
    let data_len: usize = sorted.iter().map(|s| s.bytes.len()).sum();
    // 45 characters per 16-byte record, and some address records.
    let mut out = Vec::with_capacity(data_len / HEX_RECORD_LEN * 45 + 64);
    let mut upper: Option<u64> = None;
    for s in sorted {
        let mut offset = 0usize;
        while offset < s.bytes.len() {
            let address = s.address + offset as u64;
            let to_boundary = (0x1_0000 - (address & 0xFFFF)) as usize;
            let n = HEX_RECORD_LEN.min(s.bytes.len() - offset).min(to_boundary);
            let data = &s.bytes[offset..offset + n];
            offset += n;
            if skip_erased && data.iter().all(|&b| b == 0xFF) {
                continue;
            }
            if upper != Some(address >> 16) {
                let high = (address >> 16) as u16;
                hex_record(&mut out, 0, 0x04, &high.to_be_bytes());
                upper = Some(address >> 16);
            }
            hex_record(&mut out, (address & 0xFFFF) as u16, 0x00, data);
        }
    }
    hex_record(&mut out, 0, 0x01, &[]);
    Ok(out)
}

fn hex_record(out: &mut Vec<u8>, address: u16, kind: u8, data: &[u8]) {
    const DIGITS: &[u8; 16] = b"0123456789ABCDEF";
    let push = |out: &mut Vec<u8>, b: u8| {
        out.extend_from_slice(&[DIGITS[usize::from(b >> 4)], DIGITS[usize::from(b & 0xF)]]);
    };
    let [hi, lo] = address.to_be_bytes();
    let head = [data.len() as u8, hi, lo, kind];
    let mut sum = 0u8;
    out.push(b':');
    for &b in head.iter().chain(data) {
        sum = sum.wrapping_add(b);
        push(out, b);
    }
    push(out, sum.wrapping_neg());
    out.extend_from_slice(b"\r\n");
}

/// UF2's magic numbers and the flag that says the family ID is present
/// (<https://github.com/microsoft/uf2>).
pub const UF2_MAGIC_START0: u32 = 0x0A32_4655;
pub const UF2_MAGIC_START1: u32 = 0x9E5D_5157;
pub const UF2_MAGIC_END: u32 = 0x0AB1_6F30;
pub const UF2_FLAG_FAMILY_ID: u32 = 0x0000_2000;
/// Payload bytes per UF2 block.
pub const UF2_PAYLOAD: usize = 256;

/// The segments as a UF2 file: 512-byte blocks, each carrying the 256 bytes
/// at a 256-byte aligned target address (bytes of a block that no segment
/// covers are 0xFF), in address order. Flags are 0, or 0x2000 with
/// `family_id` in the family field. With `skip_erased`, blocks whose 256
/// bytes are all 0xFF are left out (same caveat as [`intel_hex`]).
pub fn uf2(
    segments: &[Segment<'_>],
    family_id: Option<u32>,
    skip_erased: bool,
) -> Result<Vec<u8>, ImageError> {
    let sorted = placed_segments(segments)?;
    let mut blocks: BTreeMap<u64, [u8; UF2_PAYLOAD]> = BTreeMap::new();
    let step = UF2_PAYLOAD as u64;
    for s in sorted {
        let end = s.address + s.bytes.len() as u64;
        let mut at = s.address - s.address % step;
        while at < end {
            let block = blocks.entry(at).or_insert([0xFF; UF2_PAYLOAD]);
            let from = at.max(s.address);
            let to = (at + step).min(end);
            block[(from - at) as usize..(to - at) as usize]
                .copy_from_slice(&s.bytes[(from - s.address) as usize..(to - s.address) as usize]);
            at += step;
        }
    }
    if skip_erased {
        blocks.retain(|_, b| b.iter().any(|&x| x != 0xFF));
    }
    let count = blocks.len() as u32;
    let (flags, family) = match family_id {
        Some(id) => (UF2_FLAG_FAMILY_ID, id),
        None => (0, 0),
    };
    let mut out = Vec::with_capacity(blocks.len() * 512);
    for (number, (address, payload)) in blocks.iter().enumerate() {
        let mut block = [0u8; 512];
        let header = [
            UF2_MAGIC_START0,
            UF2_MAGIC_START1,
            flags,
            *address as u32,
            UF2_PAYLOAD as u32,
            number as u32,
            count,
            family,
        ];
        for (i, word) in header.iter().enumerate() {
            block[i * 4..i * 4 + 4].copy_from_slice(&word.to_le_bytes());
        }
        block[32..32 + UF2_PAYLOAD].copy_from_slice(payload);
        block[508..512].copy_from_slice(&UF2_MAGIC_END.to_le_bytes());
        out.extend_from_slice(&block);
    }
    Ok(out)
}
