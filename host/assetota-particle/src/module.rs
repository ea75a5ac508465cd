//! Particle's module format: Device OS's `module_info_t` prefix, optional
//! prefix extensions, the payload, the suffix (extensions, product data,
//! reserved, SHA-256, size) and the CRC-32, as binary-version-reader (BVR)
//! reads and writes it (binary-version-reader's `HalModuleParser` is the reference).
//!
//! Every integer is little-endian except the CRC-32, which is big-endian.
//! Nothing here panics on hostile input: offsets are checked before use.

use assetota_core::bytesize::Bytes;
use sha2::{Digest, Sha256};

/// `module_info_t`.
pub const PREFIX_SIZE: usize = 24;
/// u16 reserved + SHA-256 + u16 suffix size.
pub const MIN_SUFFIX_SIZE: usize = 36;
/// The raw product id and version that follow the extensions when there is
/// no PRODUCT_DATA extension.
pub const RAW_PRODUCT_SIZE: usize = 4;
/// The CRC-32 at the end of every module.
pub const CRC_SIZE: usize = 4;
/// Reserved u16 + SHA-256 + suffix size u16 + CRC: the fixed tail of a module.
pub const FIXED_TAIL: usize = MIN_SUFFIX_SIZE + CRC_SIZE;
/// `compressed_module_header`: u16 size, u8 method, u8 window bits, u32 original size.
pub const COMPRESSED_HEADER_SIZE: usize = 8;
/// An extension's header: u16 type, u16 length (the length counts the header).
pub const EXT_HEADER_SIZE: usize = 4;
/// Length of a SHA-256.
pub const SHA256_LEN: usize = 32;

/// Module functions (`module_function_t`).
pub mod function {
    /// No function.
    pub const NONE: u8 = 0;
    /// A resource.
    pub const RESOURCE: u8 = 1;
    /// The bootloader.
    pub const BOOTLOADER: u8 = 2;
    /// Monolithic firmware (system and application in one).
    pub const MONO: u8 = 3;
    /// A Device OS system part.
    pub const SYSTEM_PART: u8 = 4;
    /// The application (user part): what `particle compile` builds.
    pub const USER_PART: u8 = 5;
    /// Settings.
    pub const SETTINGS: u8 = 6;
    /// Network coprocessor firmware.
    pub const NCP: u8 = 7;
    /// The radio stack (SoftDevice).
    pub const RADIO_STACK: u8 = 8;
    /// An asset module.
    pub const ASSET: u8 = 9;

    /// The function's name in messages, `unknown` for a value not defined.
    pub fn name(function: u8) -> &'static str {
        match function {
            NONE => "none",
            RESOURCE => "resource",
            BOOTLOADER => "bootloader",
            MONO => "monolithic firmware",
            SYSTEM_PART => "system part",
            USER_PART => "user part (application)",
            SETTINGS => "settings",
            NCP => "network coprocessor firmware",
            RADIO_STACK => "radio stack",
            ASSET => "asset",
            _ => "unknown",
        }
    }
}

/// Module flags (`module_info_flags_t`).
pub mod flags {
    /// The device drops `module_info_t` when it stores the module (set on asset modules).
    pub const DROP_MODULE_INFO: u8 = 0x01;
    /// The payload is compressed, after a `compressed_module_header`.
    pub const COMPRESSED: u8 = 0x02;
    /// Several modules combined in one file.
    pub const COMBINED: u8 = 0x04;
    /// The payload is encrypted.
    pub const ENCRYPTED: u8 = 0x08;
    /// Extensions follow `module_info_t` (growsLeft platforms).
    pub const PREFIX_EXTENSIONS: u8 = 0x10;
}

/// Extension types (`module_info_extension_type_t`).
#[allow(dead_code)] // the whole table
pub mod ext {
    /// The last extension of an area; its body is padding.
    pub const END: u16 = 0x0000;
    /// Product id and version.
    pub const PRODUCT_DATA: u16 = 0x0001;
    /// Where a relocatable module starts (`module_start_address`).
    pub const DYNAMIC_LOCATION: u16 = 0x0002;
    /// A dependency on another module.
    pub const DEPENDENCY: u16 = 0x0003;
    /// A hash of the asset's raw bytes (asset modules).
    pub const HASH: u16 = 0x0010;
    /// The asset's name (asset modules).
    pub const NAME: u16 = 0x0011;
    /// An asset the application needs: its hash and name.
    pub const ASSET_DEPENDENCY: u16 = 0x0012;
    /// The module's security mode.
    pub const SECURITY_MODE: u16 = 0x0013;
    /// The asset's type.
    pub const ASSET_TYPE: u16 = 0x0014;
    /// Erased flash: no extension (ends the scan).
    pub const INVALID: u16 = 0xFFFF;

    /// The type's name in Device OS's headers, `unknown` for a value not defined.
    pub fn name(kind: u16) -> &'static str {
        match kind {
            END => "END",
            PRODUCT_DATA => "PRODUCT_DATA",
            DYNAMIC_LOCATION => "DYNAMIC_LOCATION",
            DEPENDENCY => "DEPENDENCY",
            HASH => "HASH",
            NAME => "NAME",
            ASSET_DEPENDENCY => "ASSET_DEPENDENCY",
            SECURITY_MODE => "SECURITY_MODE",
            ASSET_TYPE => "ASSET_TYPE",
            _ => "unknown",
        }
    }
}

/// `module_info_hash_type_t`: the only one defined.
pub const HASH_TYPE_SHA256: u8 = 0;

/// Why bytes are not a well-formed module.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FormatError {
    /// Shorter than a prefix and the fixed tail; holds the file's length.
    #[error("it is {}, too short for a Particle module (at least {})", Bytes(*.0 as u64), Bytes((PREFIX_SIZE + FIXED_TAIL) as u64))]
    TooShort(usize),
    #[error(
        "its module info says it spans {start:#x}..{end:#x} ({} with the CRC), but the file is {}", Bytes(*.declared), Bytes(*.actual as u64)
    )]
    /// The prefix's address range does not give the file's length.
    SizeMismatch {
        /// The prefix's start address.
        start: u32,
        /// The prefix's end address (exclusive).
        end: u32,
        /// The length the addresses give, CRC included.
        declared: u64,
        /// The file's length.
        actual: usize,
    },
    /// The suffix size field (held here) is below 36 or larger than the file allows.
    #[error("its suffix size {} is out of range for a file of this size", Bytes(*.0 as u64))]
    BadSuffixSize(usize),
    /// The prefix extensions do not parse; says how.
    #[error("its prefix extensions are malformed: {0}")]
    BadPrefixExtensions(&'static str),
    /// The suffix extensions do not parse; says how.
    #[error("its suffix extensions are malformed: {0}")]
    BadSuffixExtensions(&'static str),
}

/// One of the two dependencies in `module_info_t`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Dependency {
    /// The function of the module depended on.
    pub function: u8,
    /// Its index (e.g. system part 1).
    pub index: u8,
    /// Its minimum module version.
    pub version: u16,
}

/// `module_info_t`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Prefix {
    /// The address the module starts at.
    pub start: u32,
    /// Exclusive; the CRC-32 follows it.
    pub end: u32,
    /// `mcu_target` on Gen 3.
    pub reserved: u8,
    /// [`flags`] bits.
    pub flags: u8,
    /// The module's version (for Device OS, e.g. 5500 is 5.5.0).
    pub module_version: u16,
    /// Particle's platform id (e.g. 12 argon, 32 p2); 0 on asset modules.
    pub platform_id: u16,
    /// [`function`] of the module.
    pub function: u8,
    /// The module's index among modules of its function.
    pub index: u8,
    /// The first dependency; for an application, the Device OS system part it needs.
    pub dep1: Dependency,
    /// The second dependency.
    pub dep2: Dependency,
}

fn u16_at(b: &[u8], at: usize) -> Option<u16> {
    b.get(at..at.checked_add(2)?)
        .map(|s| u16::from_le_bytes([s[0], s[1]]))
}

fn u32_at(b: &[u8], at: usize) -> Option<u32> {
    b.get(at..at.checked_add(4)?)
        .map(|s| u32::from_le_bytes([s[0], s[1], s[2], s[3]]))
}

impl Prefix {
    /// Reads the 24 bytes at the start of `bytes`.
    pub fn read(bytes: &[u8]) -> Option<Prefix> {
        let b = bytes.get(..PREFIX_SIZE)?;
        Some(Prefix {
            start: u32_at(b, 0)?,
            end: u32_at(b, 4)?,
            reserved: b[8],
            flags: b[9],
            module_version: u16_at(b, 10)?,
            platform_id: u16_at(b, 12)?,
            function: b[14],
            index: b[15],
            dep1: Dependency {
                function: b[16],
                index: b[17],
                version: u16_at(b, 18)?,
            },
            dep2: Dependency {
                function: b[20],
                index: b[21],
                version: u16_at(b, 22)?,
            },
        })
    }

    /// The 24 bytes of `module_info_t`.
    pub fn encode(&self) -> [u8; PREFIX_SIZE] {
        let mut b = [0u8; PREFIX_SIZE];
        b[0..4].copy_from_slice(&self.start.to_le_bytes());
        b[4..8].copy_from_slice(&self.end.to_le_bytes());
        b[8] = self.reserved;
        b[9] = self.flags;
        b[10..12].copy_from_slice(&self.module_version.to_le_bytes());
        b[12..14].copy_from_slice(&self.platform_id.to_le_bytes());
        b[14] = self.function;
        b[15] = self.index;
        b[16] = self.dep1.function;
        b[17] = self.dep1.index;
        b[18..20].copy_from_slice(&self.dep1.version.to_le_bytes());
        b[20] = self.dep2.function;
        b[21] = self.dep2.index;
        b[22..24].copy_from_slice(&self.dep2.version.to_le_bytes());
        b
    }

    /// Whether any bit of `flag` is set.
    pub fn has(&self, flag: u8) -> bool {
        self.flags & flag != 0
    }
}

/// One extension, kept as its encoded bytes (header included) so that
/// extensions this tool does not interpret are written back unchanged.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Extension {
    /// The extension type ([`ext`]).
    pub kind: u16,
    /// The whole extension: type, length, body.
    pub bytes: Vec<u8>,
}

/// An ASSET_DEPENDENCY extension, decoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AssetDependency {
    /// The name bytes (UTF-8 for everything Particle's tools write).
    pub name: Vec<u8>,
    /// The hash type ([`HASH_TYPE_SHA256`] is the only one defined).
    pub hash_type: u8,
    /// The hash of the asset's raw bytes.
    pub hash: Vec<u8>,
}

impl AssetDependency {
    /// The name, invalid UTF-8 replaced.
    pub fn name_lossy(&self) -> String {
        String::from_utf8_lossy(&self.name).into_owned()
    }

    /// The SHA-256, when the dependency is the only kind the device knows.
    pub fn sha256(&self) -> Option<[u8; 32]> {
        if self.hash_type != HASH_TYPE_SHA256 {
            return None;
        }
        self.hash.as_slice().try_into().ok()
    }
}

impl Extension {
    /// An extension of `kind` whose body is `body`.
    ///
    /// # Panics
    /// If the body does not fit a u16 length; callers bound names first.
    pub fn new(kind: u16, body: &[u8]) -> Extension {
        let len =
            u16::try_from(EXT_HEADER_SIZE + body.len()).expect("extension longer than 65535 bytes");
        let mut bytes = Vec::with_capacity(len as usize);
        bytes.extend_from_slice(&kind.to_le_bytes());
        bytes.extend_from_slice(&len.to_le_bytes());
        bytes.extend_from_slice(body);
        Extension { kind, bytes }
    }

    /// The bytes after the 4-byte header.
    pub fn body(&self) -> &[u8] {
        &self.bytes[EXT_HEADER_SIZE..]
    }

    /// END, with `padding` zero bytes (the prefix uses them to align the start address).
    pub fn end(padding: usize) -> Extension {
        Extension::new(ext::END, &vec![0; padding])
    }

    /// `{u8 hash_type = SHA-256, u8 len = 32, sha256, name}` (no NUL, no padding).
    pub fn asset_dependency(name: &[u8], sha256: &[u8; 32]) -> Extension {
        let mut body = Vec::with_capacity(2 + SHA256_LEN + name.len());
        body.extend_from_slice(&[HASH_TYPE_SHA256, SHA256_LEN as u8]);
        body.extend_from_slice(sha256);
        body.extend_from_slice(name);
        Extension::new(ext::ASSET_DEPENDENCY, &body)
    }

    /// HASH `{u8 type, u8 len, hash}`.
    pub fn hash(sha256: &[u8; 32]) -> Extension {
        let mut body = vec![HASH_TYPE_SHA256, SHA256_LEN as u8];
        body.extend_from_slice(sha256);
        Extension::new(ext::HASH, &body)
    }

    /// NAME: the UTF-8 bytes, no NUL.
    pub fn name(name: &[u8]) -> Extension {
        Extension::new(ext::NAME, name)
    }

    /// PRODUCT_DATA `{u16 0xffff, u16 product id, u16 product version}`.
    pub fn product_data(product_id: u16, product_version: u16) -> Extension {
        let mut body = vec![0xFF, 0xFF];
        body.extend_from_slice(&product_id.to_le_bytes());
        body.extend_from_slice(&product_version.to_le_bytes());
        Extension::new(ext::PRODUCT_DATA, &body)
    }

    /// Decodes an ASSET_DEPENDENCY extension.
    pub fn as_asset_dependency(&self) -> Option<AssetDependency> {
        if self.kind != ext::ASSET_DEPENDENCY {
            return None;
        }
        let body = self.body();
        let (&hash_type, rest) = body.split_first()?;
        let (&hash_len, rest) = rest.split_first()?;
        let hash = rest.get(..hash_len as usize)?;
        Some(AssetDependency {
            name: rest[hash_len as usize..].to_vec(),
            hash_type,
            hash: hash.to_vec(),
        })
    }

    /// Decodes a HASH extension: (type, hash).
    pub fn as_hash(&self) -> Option<(u8, &[u8])> {
        if self.kind != ext::HASH {
            return None;
        }
        let body = self.body();
        let hash_len = *body.get(1)? as usize;
        Some((body[0], body.get(2..2 + hash_len)?))
    }

    /// DYNAMIC_LOCATION's `module_start_address`.
    #[allow(dead_code)] // the tests check it follows the start address
    pub fn dynamic_location_start(&self) -> Option<u32> {
        (self.kind == ext::DYNAMIC_LOCATION)
            .then(|| u32_at(self.body(), 0))
            .flatten()
    }

    /// Reads the extension at `at`, which must end at or before `limit`.
    fn read(bytes: &[u8], at: usize, limit: usize) -> Result<Option<Extension>, &'static str> {
        let (Some(kind), Some(len)) = (u16_at(bytes, at), u16_at(bytes, at + 2)) else {
            return Ok(None);
        };
        if kind == ext::INVALID {
            return Ok(None);
        }
        let len = len as usize;
        if len < EXT_HEADER_SIZE {
            return Err("an extension is shorter than its own header");
        }
        if at + len > limit {
            return Err("an extension runs past the end of its area");
        }
        Ok(Some(Extension {
            kind,
            bytes: bytes[at..at + len].to_vec(),
        }))
    }
}

/// A parsed module. The payload is `bytes[prefix_size .. len - suffix_size - 4]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Module {
    /// The `module_info_t` at offset 0.
    pub prefix: Prefix,
    /// Prefix extensions (only with PREFIX_EXTENSIONS), the END included.
    pub prefix_extensions: Vec<Extension>,
    /// 24 plus the prefix extensions.
    pub prefix_size: usize,
    /// Suffix extensions, in file order.
    pub suffix_extensions: Vec<Extension>,
    /// The suffix size field.
    pub suffix_size: usize,
    /// The 4 bytes before `reserved`: raw product id and version when there is
    /// no PRODUCT_DATA extension (BVR rewrites them from here).
    pub raw_product: Option<[u8; 4]>,
    /// The suffix's reserved u16.
    pub reserved: [u8; 2],
    /// The file's length, CRC included.
    pub len: usize,
}

impl Module {
    /// Parses a module whose `module_info_t` is at offset 0 (true of every
    /// user part and asset module on the platforms with asset OTA).
    pub fn parse(bytes: &[u8]) -> Result<Module, FormatError> {
        let len = bytes.len();
        if len < PREFIX_SIZE + FIXED_TAIL {
            return Err(FormatError::TooShort(len));
        }
        let prefix = Prefix::read(bytes).ok_or(FormatError::TooShort(len))?;
        let declared = u64::from(prefix.end)
            .wrapping_sub(u64::from(prefix.start))
            .wrapping_add(CRC_SIZE as u64);
        if prefix.end < prefix.start || declared != len as u64 {
            return Err(FormatError::SizeMismatch {
                start: prefix.start,
                end: prefix.end,
                declared,
                actual: len,
            });
        }
        let suffix_size = u16_at(bytes, len - CRC_SIZE - 2).unwrap_or(0) as usize;
        if suffix_size < MIN_SUFFIX_SIZE || suffix_size + CRC_SIZE + PREFIX_SIZE > len {
            return Err(FormatError::BadSuffixSize(suffix_size));
        }
        let suffix_start = len - CRC_SIZE - suffix_size;

        let mut prefix_extensions = Vec::new();
        let mut prefix_size = PREFIX_SIZE;
        if prefix.has(flags::PREFIX_EXTENSIONS) {
            let mut at = PREFIX_SIZE;
            loop {
                let e = Extension::read(bytes, at, suffix_start)
                    .map_err(FormatError::BadPrefixExtensions)?
                    .ok_or(FormatError::BadPrefixExtensions(
                        "they do not end with an END extension",
                    ))?;
                at += e.bytes.len();
                let end = e.kind == ext::END;
                prefix_extensions.push(e);
                if end {
                    break;
                }
            }
            prefix_size = at;
        }

        // Extensions run from the start of the suffix to the fixed part;
        // BVR parses them only when the suffix is larger than 40 bytes.
        let fixed = len - FIXED_TAIL;
        let mut suffix_extensions = Vec::new();
        if suffix_size > MIN_SUFFIX_SIZE + RAW_PRODUCT_SIZE {
            let mut at = suffix_start;
            while at + EXT_HEADER_SIZE <= fixed {
                let Some(e) =
                    Extension::read(bytes, at, fixed).map_err(FormatError::BadSuffixExtensions)?
                else {
                    break;
                };
                at += e.bytes.len();
                let end = e.kind == ext::END;
                suffix_extensions.push(e);
                if end {
                    break;
                }
            }
        }
        let raw_product = (suffix_size >= MIN_SUFFIX_SIZE + RAW_PRODUCT_SIZE)
            .then(|| bytes[fixed - 4..fixed].try_into().unwrap());
        Ok(Module {
            prefix,
            prefix_extensions,
            prefix_size,
            suffix_extensions,
            suffix_size,
            raw_product,
            reserved: [bytes[fixed], bytes[fixed + 1]],
            len,
        })
    }

    /// Where the payload lies in the module's bytes.
    pub fn payload_range(&self) -> std::ops::Range<usize> {
        self.prefix_size..self.len - CRC_SIZE - self.suffix_size
    }

    /// Every ASSET_DEPENDENCY, prefix first, as the device and BVR read them.
    pub fn asset_dependencies(&self) -> Vec<AssetDependency> {
        self.prefix_extensions
            .iter()
            .chain(&self.suffix_extensions)
            .filter_map(Extension::as_asset_dependency)
            .collect()
    }

    /// The first extension of `kind` in the suffix.
    pub fn suffix_extension(&self, kind: u16) -> Option<&Extension> {
        self.suffix_extensions.iter().find(|e| e.kind == kind)
    }
}

/// The stored CRC-32 (big-endian) and the one computed over `[0, len-4)`.
pub fn crc32(bytes: &[u8]) -> Option<(u32, u32)> {
    let at = bytes.len().checked_sub(CRC_SIZE)?;
    let stored = u32::from_be_bytes(bytes[at..].try_into().ok()?);
    let mut crc = flate2::Crc::new();
    crc.update(&bytes[..at]);
    Some((stored, crc.sum()))
}

/// The stored SHA-256 (at `len-38`) and the one computed over `[0, len-38)`.
pub fn sha256(bytes: &[u8]) -> Option<([u8; 32], [u8; 32])> {
    let at = bytes.len().checked_sub(SHA256_LEN + 2 + CRC_SIZE)?;
    let stored: [u8; 32] = bytes[at..at + SHA256_LEN].try_into().ok()?;
    Some((stored, Sha256::digest(&bytes[..at]).into()))
}

/// Writes the module SHA-256 then the CRC-32, as BVR's `updateModuleSha256`
/// and `updateModuleCrc32` do.
pub fn seal(bytes: &mut [u8]) {
    let sha_at = bytes.len() - SHA256_LEN - 2 - CRC_SIZE;
    let digest: [u8; 32] = Sha256::digest(&bytes[..sha_at]).into();
    bytes[sha_at..sha_at + SHA256_LEN].copy_from_slice(&digest);
    let crc_at = bytes.len() - CRC_SIZE;
    let mut crc = flate2::Crc::new();
    crc.update(&bytes[..crc_at]);
    let sum = crc.sum();
    bytes[crc_at..].copy_from_slice(&sum.to_be_bytes());
}

/// Encodes a suffix: extensions, the raw product id/version when there is no
/// PRODUCT_DATA extension, reserved, a zero SHA-256 (see [`seal`]), the size.
/// Returns `None` when it would not fit the u16 size field.
pub fn encode_suffix(
    extensions: &[Extension],
    raw_product: [u8; 4],
    reserved: [u8; 2],
) -> Option<Vec<u8>> {
    let has_product_data = extensions.iter().any(|e| e.kind == ext::PRODUCT_DATA);
    let mut out: Vec<u8> = extensions
        .iter()
        .flat_map(|e| e.bytes.iter().copied())
        .collect();
    if !has_product_data {
        out.extend_from_slice(&raw_product);
    }
    out.extend_from_slice(&reserved);
    out.extend_from_slice(&[0; SHA256_LEN]);
    let size = u16::try_from(out.len() + 2).ok()?;
    out.extend_from_slice(&size.to_le_bytes());
    Some(out)
}

/// `bytes` in lowercase hex.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefix_round_trips() {
        let p = Prefix {
            start: 0x085f_e000,
            end: 0x085f_e440,
            reserved: 1,
            flags: 0x10,
            module_version: 7,
            platform_id: 32,
            function: function::USER_PART,
            index: 1,
            dep1: Dependency {
                function: 4,
                index: 1,
                version: 5800,
            },
            dep2: Dependency {
                function: 2,
                index: 0,
                version: 3000,
            },
        };
        assert_eq!(Prefix::read(&p.encode()), Some(p));
    }

    #[test]
    fn garbage_never_panics() {
        let mut seed = 0x1234_5678u32;
        for len in 0..300 {
            let bytes: Vec<u8> = (0..len)
                .map(|_| {
                    seed ^= seed << 13;
                    seed ^= seed >> 17;
                    seed ^= seed << 5;
                    seed as u8
                })
                .collect();
            let _ = Module::parse(&bytes);
            let _ = crc32(&bytes);
            let _ = sha256(&bytes);
        }
    }
}
