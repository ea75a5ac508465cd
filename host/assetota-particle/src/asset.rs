//! Asset modules: the form a Particle device stores an asset in, as
//! binary-version-reader's `createAssetModule` builds it and Device OS's
//! `AssetReader::validate` accepts it (binary-version-reader's `lib/moduleEncoding.js` is the reference).
//!
//! ```text
//! prefix (24)   start 0, end = len − 4, flags DROP_MODULE_INFO|COMPRESSED, function ASSET, platform 0
//! header (8)    u16 8, u8 method 0 (raw deflate), u8 window bits 0 (= 15), u32 original size
//! payload       raw deflate (zlib level 6, window 15, memLevel 8)
//! suffix        HASH{0, 32, sha256(raw)} NAME{name} PRODUCT_DATA{ffff ffff ffff}
//!               u16 reserved 0, sha256 of the module, u16 suffix size = 88 + len(name)
//! CRC-32        big-endian, over everything before it
//! ```

use std::io::{Read, Write};

use assetota_core::bytesize::Bytes;
use assetota_core::codec::{Codec, PARTICLE_DEFLATE};
use sha2::{Digest, Sha256};

use crate::module::{
    self, COMPRESSED_HEADER_SIZE, CRC_SIZE, Extension, FormatError, HASH_TYPE_SHA256,
    MIN_SUFFIX_SIZE, Module, PREFIX_SIZE, Prefix, ext, flags, function,
};

/// Bytes of module around the deflate stream: prefix, compression header,
/// the fixed part of the suffix (HASH 38 + NAME header 4 + PRODUCT_DATA 10 +
/// 36), CRC. The name comes on top.
#[allow(dead_code)] // used by the tests; assetota-core's platform table has the same 124
pub const CONTAINER_OVERHEAD: u64 = (PREFIX_SIZE + COMPRESSED_HEADER_SIZE + 88 + CRC_SIZE) as u64;
/// `compressed_module_header.method` for raw deflate.
pub const METHOD_RAW_DEFLATE: u8 = 0;

/// The suffix of an asset module: HASH, NAME, PRODUCT_DATA.
fn suffix(raw: &[u8], name: &str) -> Vec<u8> {
    let sha: [u8; 32] = Sha256::digest(raw).into();
    let exts = [
        Extension::hash(&sha),
        Extension::name(name.as_bytes()),
        Extension::product_data(0xFFFF, 0xFFFF),
    ];
    module::encode_suffix(&exts, [0xFF; 4], [0, 0]).expect("an asset name fits a u16 suffix")
}

fn assemble(prefix: &Prefix, body: &[&[u8]], suffix: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    out.extend_from_slice(&prefix.encode());
    for part in body {
        out.extend_from_slice(part);
    }
    out.extend_from_slice(suffix);
    out.extend_from_slice(&[0; CRC_SIZE]);
    module::seal(&mut out);
    out
}

fn asset_prefix(len: usize, flags: u8) -> Prefix {
    Prefix {
        start: 0,
        end: (len - CRC_SIZE) as u32,
        flags,
        function: function::ASSET,
        ..Prefix::default()
    }
}

/// Deflates with the project's codec (real zlib, Particle's settings).
pub fn deflate(codec: Codec, raw: &[u8]) -> std::io::Result<Vec<u8>> {
    let mut encoder = codec.encoder(Vec::with_capacity(raw.len() / 2 + 64))?;
    encoder.write_all(raw)?;
    encoder.finish()
}

/// The compressed asset module the device stores for `raw` named `name`.
pub fn create(raw: &[u8], name: &str) -> std::io::Result<Vec<u8>> {
    let original = u32::try_from(raw.len())
        .map_err(|_| std::io::Error::other("an asset must be smaller than 4 GiB"))?;
    let payload = deflate(PARTICLE_DEFLATE, raw)?;
    let suffix = suffix(raw, name);
    let mut header = [0u8; COMPRESSED_HEADER_SIZE];
    header[0..2].copy_from_slice(&(COMPRESSED_HEADER_SIZE as u16).to_le_bytes());
    header[2] = METHOD_RAW_DEFLATE;
    header[3] = 0; // window bits 0 means 15
    header[4..8].copy_from_slice(&original.to_le_bytes());
    let len = PREFIX_SIZE + COMPRESSED_HEADER_SIZE + payload.len() + suffix.len() + CRC_SIZE;
    Ok(assemble(
        &asset_prefix(len, flags::DROP_MODULE_INFO | flags::COMPRESSED),
        &[&header, &payload],
        &suffix,
    ))
}

/// The uncompressed form (`createAssetModule(…, {compress: false})`). Device
/// OS 6.2.0 reads these back wrongly (docs/particle-platforms.md), so only for comparison.
#[allow(dead_code)] // compared with BVR by the tests
pub fn create_uncompressed(raw: &[u8], name: &str) -> Vec<u8> {
    let suffix = suffix(raw, name);
    let len = PREFIX_SIZE + raw.len() + suffix.len() + CRC_SIZE;
    assemble(&asset_prefix(len, flags::DROP_MODULE_INFO), &[raw], &suffix)
}

/// Why a file is not an asset module the device would keep.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AssetModuleError {
    /// Not a well-formed module.
    #[error("is not a Particle module: {0}")]
    Format(FormatError),
    /// A module of another function (held here) than ASSET.
    #[error("is a Particle {name} module (function {0}), not an asset", name = function::name(*.0))]
    NotAsset(u8),
    /// The DROP_MODULE_INFO flag is not set.
    #[error("lacks the DROP_MODULE_INFO flag")]
    NoDropModuleInfo,
    /// It has prefix extensions.
    #[error("has prefix extensions, which asset modules must not have")]
    PrefixExtensions,
    /// The CRC-32 does not match.
    #[error("fails its CRC-32 check (stored {stored:08x}, computed {computed:08x})")]
    BadCrc {
        /// The CRC-32 the module holds.
        stored: u32,
        /// The CRC-32 of its bytes.
        computed: u32,
    },
    /// The suffix (its size held here) is smaller than 44 bytes.
    #[error("has a suffix of {}, less than the 44 B an asset needs", Bytes(*.0 as u64))]
    SuffixTooSmall(usize),
    /// No NAME extension.
    #[error("has no NAME extension")]
    NoName,
    /// No HASH extension with a 32-byte SHA-256.
    #[error("has no HASH extension with a 32-byte SHA-256")]
    NoHash,
    /// A compression method (held here) other than raw deflate.
    #[error("uses compression method {0}; the device only inflates method 0 (raw deflate)")]
    Method(u8),
    /// The compression header is malformed; says how.
    #[error("has a bad compression header: {0}")]
    BadHeader(&'static str),
    /// The payload does not inflate; the decoder's error.
    #[error("does not inflate: {0}")]
    Inflate(String),
    /// The inflated length differs from the header's original size.
    #[error("inflates to {}, but its header says {}", Bytes(*.actual), Bytes(*.declared))]
    SizeMismatch {
        /// The original size the header declares, in bytes.
        declared: u64,
        /// The length the payload inflates to, in bytes.
        actual: u64,
    },
    /// The inflated bytes' SHA-256 differs from the HASH extension's (both in hex).
    #[error("inflates to bytes whose SHA-256 is {actual}, but its HASH extension says {declared}")]
    HashMismatch {
        /// The HASH extension's SHA-256, in hex.
        declared: String,
        /// The SHA-256 of the inflated bytes, in hex.
        actual: String,
    },
}

impl From<FormatError> for AssetModuleError {
    fn from(e: FormatError) -> Self {
        AssetModuleError::Format(e)
    }
}

/// An asset module, read back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AssetModule {
    /// The parsed module.
    pub module: Module,
    /// The NAME extension's bytes: the name the device stores the asset under.
    pub name: Vec<u8>,
    /// The HASH extension's SHA-256 of the raw asset.
    pub sha256: [u8; 32],
    /// Whether the COMPRESSED flag is set.
    pub compressed: bool,
    /// `compressed_module_header` fields, when compressed.
    pub header_size: u16,
    /// The compression method (0, raw deflate).
    pub method: u8,
    /// The deflate window bits (0 means 15).
    pub window_bits: u8,
    /// The raw asset's length: the header's, or the payload's when uncompressed.
    pub original_size: u64,
    /// The deflate stream (compressed) or the raw bytes.
    pub payload: std::ops::Range<usize>,
}

impl AssetModule {
    /// Parses and applies the device's checks (`AssetReader::validate`):
    /// function ASSET, DROP_MODULE_INFO, no prefix extensions, the size the
    /// prefix declares, the CRC-32, a suffix of at least 44 bytes with NAME and
    /// a 32-byte SHA-256 HASH, compression method 0. The payload is not
    /// inflated here (see [`AssetModule::raw`]).
    pub fn parse(bytes: &[u8]) -> Result<AssetModule, AssetModuleError> {
        let module = Module::parse(bytes)?;
        let p = &module.prefix;
        if p.function != function::ASSET {
            return Err(AssetModuleError::NotAsset(p.function));
        }
        if !p.has(flags::DROP_MODULE_INFO) {
            return Err(AssetModuleError::NoDropModuleInfo);
        }
        if p.has(flags::PREFIX_EXTENSIONS) {
            return Err(AssetModuleError::PrefixExtensions);
        }
        if let Some((stored, computed)) = module::crc32(bytes)
            && stored != computed
        {
            return Err(AssetModuleError::BadCrc { stored, computed });
        }
        if module.suffix_size < MIN_SUFFIX_SIZE + 8 {
            return Err(AssetModuleError::SuffixTooSmall(module.suffix_size));
        }
        let name = module
            .suffix_extension(ext::NAME)
            .ok_or(AssetModuleError::NoName)?
            .body()
            .to_vec();
        let sha256: [u8; 32] = module
            .suffix_extensions
            .iter()
            .filter_map(Extension::as_hash)
            .find(|(kind, hash)| *kind == HASH_TYPE_SHA256 && hash.len() == 32)
            .and_then(|(_, hash)| hash.try_into().ok())
            .ok_or(AssetModuleError::NoHash)?;
        let body = module.payload_range();
        let compressed = p.has(flags::COMPRESSED);
        let (header_size, method, window_bits, original_size, payload) = if compressed {
            let h = bytes
                .get(body.start..body.start + COMPRESSED_HEADER_SIZE)
                .filter(|_| body.len() >= COMPRESSED_HEADER_SIZE);
            let h = h.ok_or(AssetModuleError::BadHeader(
                "the module is shorter than the header",
            ))?;
            let header_size = u16::from_le_bytes([h[0], h[1]]);
            if (header_size as usize) < COMPRESSED_HEADER_SIZE || header_size as usize > body.len()
            {
                return Err(AssetModuleError::BadHeader(
                    "its size field is out of range",
                ));
            }
            let original = u32::from_le_bytes([h[4], h[5], h[6], h[7]]);
            if h[2] != METHOD_RAW_DEFLATE {
                return Err(AssetModuleError::Method(h[2]));
            }
            if h[3] != 0 && !(8..=15).contains(&h[3]) {
                return Err(AssetModuleError::BadHeader(
                    "window bits must be 0 (15) or 8 to 15",
                ));
            }
            (
                header_size,
                h[2],
                h[3],
                u64::from(original),
                body.start + header_size as usize..body.end,
            )
        } else {
            (0, 0, 0, body.len() as u64, body.clone())
        };
        Ok(AssetModule {
            module,
            name,
            sha256,
            compressed,
            header_size,
            method,
            window_bits,
            original_size,
            payload,
        })
    }

    /// The name, invalid UTF-8 replaced.
    pub fn name_lossy(&self) -> String {
        String::from_utf8_lossy(&self.name).into_owned()
    }

    /// The raw asset: the payload inflated (or as is), checked against the
    /// header's size and the HASH extension. `limit` caps what is inflated.
    pub fn raw(&self, bytes: &[u8], limit: u64) -> Result<Vec<u8>, AssetModuleError> {
        let payload = &bytes[self.payload.clone()];
        let raw = if self.compressed {
            let cap = self.original_size.min(limit);
            let mut out = Vec::with_capacity(cap.min(16 << 20) as usize);
            flate2::read::DeflateDecoder::new(payload)
                .take(cap + 1)
                .read_to_end(&mut out)
                .map_err(|e| AssetModuleError::Inflate(e.to_string()))?;
            out
        } else {
            payload.to_vec()
        };
        if raw.len() as u64 != self.original_size {
            return Err(AssetModuleError::SizeMismatch {
                declared: self.original_size,
                actual: raw.len() as u64,
            });
        }
        let sha: [u8; 32] = Sha256::digest(&raw).into();
        if sha != self.sha256 {
            return Err(AssetModuleError::HashMismatch {
                declared: module::hex(&self.sha256),
                actual: module::hex(&sha),
            });
        }
        Ok(raw)
    }
}
