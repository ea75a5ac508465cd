//! Particle applications (user-part modules): the checks `particle bundle`
//! makes before it touches one, and the ASSET_DEPENDENCY extensions it adds,
//! byte for byte as binary-version-reader's `updateModuleAssetDependencies`
//! writes them (particle-cli's `bundle` command is the reference).

use assetota_core::bytesize::Bytes;

use crate::module::{
    self, CRC_SIZE, Extension, FIXED_TAIL, FormatError, Module, PREFIX_SIZE, ext, flags, function,
};

/// The oldest Device OS that knows asset dependencies (its module version).
pub const MIN_DEVICE_OS: u16 = 5500;
/// Start addresses of growsLeft user parts are kept 8-byte aligned.
pub const START_ALIGNMENT: u32 = 8;

/// What the asset code needs to know about a platform's user part.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UserPart {
    /// Particle's platform id.
    pub platform_id: u16,
    /// Particle's platform name (also the built-in assetota platform name).
    pub name: &'static str,
    /// RTL872x user parts grow towards lower addresses: their extensions go in
    /// the prefix and the start address moves down.
    pub grows_left: bool,
    /// Largest user-part module, in bytes.
    pub max_size: u64,
}

const NRF52_USER_PART: u64 = 262_144;
const RTL872X_USER_PART: u64 = 1_572_864;

/// Platforms with asset OTA (numbers from @particle/device-constants 4.2.1,
/// `firmwareModules[type=userPart]`).
pub const USER_PARTS: &[UserPart] = &[
    UserPart {
        platform_id: 12,
        name: "argon",
        grows_left: false,
        max_size: NRF52_USER_PART,
    },
    UserPart {
        platform_id: 13,
        name: "boron",
        grows_left: false,
        max_size: NRF52_USER_PART,
    },
    UserPart {
        platform_id: 15,
        name: "esomx",
        grows_left: false,
        max_size: NRF52_USER_PART,
    },
    UserPart {
        platform_id: 23,
        name: "bsom",
        grows_left: false,
        max_size: NRF52_USER_PART,
    },
    UserPart {
        platform_id: 25,
        name: "b5som",
        grows_left: false,
        max_size: NRF52_USER_PART,
    },
    UserPart {
        platform_id: 26,
        name: "tracker",
        grows_left: false,
        max_size: NRF52_USER_PART,
    },
    UserPart {
        platform_id: 28,
        name: "trackerm",
        grows_left: true,
        max_size: RTL872X_USER_PART,
    },
    UserPart {
        platform_id: 32,
        name: "p2",
        grows_left: true,
        max_size: RTL872X_USER_PART,
    },
    UserPart {
        platform_id: 35,
        name: "msom",
        grows_left: true,
        max_size: RTL872X_USER_PART,
    },
    UserPart {
        platform_id: 37,
        name: "electron2",
        grows_left: false,
        max_size: NRF52_USER_PART,
    },
    UserPart {
        platform_id: 38,
        name: "sulu",
        grows_left: true,
        max_size: RTL872X_USER_PART,
    },
];

/// Particle platforms that exist but have no asset storage.
const WITHOUT_ASSETS: &[(u16, &str)] = &[
    (0, "core"),
    (3, "gcc"),
    (6, "photon"),
    (8, "p1"),
    (10, "electron"),
    (11, "esp32"),
    (14, "xenon"),
    (22, "asom"),
    (24, "xsom"),
    (31, "raspi"),
    (42, "tachyon"),
    (43, "linux"),
    (82, "oak"),
    (88, "duo"),
    (103, "bluz"),
];

/// The user part of a platform with asset OTA; `None` for any other id.
pub fn user_part(platform_id: u16) -> Option<&'static UserPart> {
    USER_PARTS.iter().find(|p| p.platform_id == platform_id)
}

/// Why an application cannot take asset dependencies.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AppError {
    /// Not a well-formed module.
    #[error("is not a Particle module: {0}")]
    Format(FormatError),
    /// A module of another function (held here) than the user part.
    #[error("is a Particle {name} module (function {0}), not an application (user part)", name = function::name(*.0))]
    NotUserPart(u8),
    #[error(
        "depends on Device OS module version {0}; asset OTA needs Device OS 5.5.0 (module version {MIN_DEVICE_OS}) or newer"
    )]
    /// Built against a Device OS (module version held here) older than 5.5.0.
    DeviceOsTooOld(u16),
    /// A Particle platform without asset storage: its id and name.
    #[error("is for Particle platform `{name}` (id {id}), which does not support assets")]
    NoAssetSupport {
        /// Particle's platform id.
        id: u16,
        /// The platform's name.
        name: &'static str,
    },
    /// A platform id Particle does not define.
    #[error("is for an unknown Particle platform id {0}")]
    UnknownPlatform(u16),
    /// A compressed module: it cannot take extensions.
    #[error("is a compressed module; extensions can only be added to an uncompressed application")]
    Compressed,
    /// A combined module.
    #[error("is a combined module; bundle each module on its own")]
    Combined,
    /// An encrypted module.
    #[error("is an encrypted module")]
    Encrypted,
    #[error(
        "fails its CRC-32 check (stored {stored:08x}, computed {computed:08x}); the file is damaged"
    )]
    /// The CRC-32 does not match: the file is damaged.
    BadCrc {
        /// The CRC-32 the module holds.
        stored: u32,
        /// The CRC-32 of its bytes.
        computed: u32,
    },
    /// With the dependencies, larger than the platform's user part.
    #[error("would be {} with the asset dependencies, over the {} user part of platform `{platform}` by {}", Bytes(*.size), Bytes(*.max), Bytes(size - max))]
    TooBig {
        /// The application's size with the dependencies, in bytes.
        size: u64,
        /// The user part's size, in bytes.
        max: u64,
        /// The platform's name.
        platform: &'static str,
    },
    #[error(
        "would need a suffix of {} for the asset dependencies, more than a module can hold (65,535 B)", Bytes(*.0 as u64)
    )]
    /// The suffix (its size held here) would not fit its u16 size field.
    SuffixOverflow(usize),
    /// An asset name too long for an extension's u16 length.
    #[error("asset name `{0}` is too long for an ASSET_DEPENDENCY extension")]
    NameTooLong(String),
}

impl From<FormatError> for AppError {
    fn from(e: FormatError) -> Self {
        AppError::Format(e)
    }
}

/// A parsed application that passed every check `particle bundle` makes
/// (and a CRC check, which it does not make).
#[derive(Debug, Clone)]
pub struct App {
    /// The parsed module.
    pub module: Module,
    /// Its platform's user part.
    pub user_part: &'static UserPart,
}

impl App {
    /// The checks, in particle-cli's order: the module parses, depends on
    /// Device OS ≥ 5.5.0, its platform supports assets, it is not compressed
    /// (or combined, or encrypted). This tool also requires a user part and a
    /// valid CRC-32, so a damaged file is not silently re-sealed.
    pub fn check(bytes: &[u8]) -> Result<App, AppError> {
        let module = Module::parse(bytes)?;
        let p = &module.prefix;
        if p.function != function::USER_PART {
            return Err(AppError::NotUserPart(p.function));
        }
        if p.dep1.version < MIN_DEVICE_OS {
            return Err(AppError::DeviceOsTooOld(p.dep1.version));
        }
        let user_part = match user_part(p.platform_id) {
            Some(u) => u,
            None => {
                return Err(
                    match WITHOUT_ASSETS.iter().find(|(id, _)| *id == p.platform_id) {
                        Some(&(id, name)) => AppError::NoAssetSupport { id, name },
                        None => AppError::UnknownPlatform(p.platform_id),
                    },
                );
            }
        };
        if p.has(flags::COMPRESSED) {
            return Err(AppError::Compressed);
        }
        if p.has(flags::COMBINED) {
            return Err(AppError::Combined);
        }
        if p.has(flags::ENCRYPTED) {
            return Err(AppError::Encrypted);
        }
        if let Some((stored, computed)) = module::crc32(bytes)
            && stored != computed
        {
            return Err(AppError::BadCrc { stored, computed });
        }
        Ok(App { module, user_part })
    }

    /// Where the dependencies go: the prefix for growsLeft platforms or a
    /// module that already has prefix extensions, else the suffix.
    pub fn deps_in_prefix(&self) -> bool {
        self.module.prefix.has(flags::PREFIX_EXTENSIONS) || self.user_part.grows_left
    }
}

/// One dependency to write: the asset's name and the SHA-256 of its raw bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dependency<'a> {
    /// The asset's name, as the device stores it.
    pub name: &'a str,
    /// The SHA-256 of its raw bytes.
    pub sha256: [u8; 32],
}

/// The application with exactly `deps` as its asset dependencies (in the
/// order given), replacing any it had; sealed with a new SHA-256 and CRC-32.
///
/// On a fresh application this is byte for byte what BVR's
/// `updateModuleAssetDependencies` writes:
/// - suffix platforms: the dependencies go before the existing suffix
///   extensions, then END unless the last one is END or PRODUCT_DATA; the
///   start address stays and the end address grows;
/// - prefix platforms: flag 0x10, the existing prefix extensions, the
///   dependencies, then END padded so that the new start address (end
///   address unchanged, start moved down) is 8-byte aligned; the suffix's
///   DYNAMIC_LOCATION gets the new start address.
///
/// Where BVR goes wrong this does not follow it: re-bundling a prefix
/// application whose prefix already ends in END (any application BVR
/// bundled before) makes BVR put the new dependencies *after* that END,
/// where neither the device nor BVR's own parser reads them; here the old
/// END is replaced. With no dependencies and none present, the application
/// is returned unchanged (as `particle bundle` leaves it); with none but
/// some present, they are removed as `particle binary strip-assets` does.
pub fn with_dependencies(
    bytes: &[u8],
    app: &App,
    deps: &[Dependency<'_>],
) -> Result<Vec<u8>, AppError> {
    let m = &app.module;
    let has_deps = !m.asset_dependencies().is_empty();
    if deps.is_empty() && !has_deps {
        return Ok(bytes.to_vec());
    }
    let mut new_exts = Vec::with_capacity(deps.len());
    for d in deps {
        if d.name.len() > u16::MAX as usize - 64 {
            return Err(AppError::NameTooLong(d.name.to_owned()));
        }
        new_exts.push(Extension::asset_dependency(d.name.as_bytes(), &d.sha256));
    }
    let payload = &bytes[m.payload_range()];
    let mut prefix = m.prefix.clone();

    let out = if app.deps_in_prefix() {
        // Keep the other prefix extensions, drop the old dependencies and END.
        let mut exts: Vec<Extension> = m
            .prefix_extensions
            .iter()
            .filter(|e| e.kind != ext::ASSET_DEPENDENCY && e.kind != ext::END)
            .cloned()
            .collect();
        exts.extend(new_exts);
        let ext_len: usize =
            exts.iter().map(|e| e.bytes.len()).sum::<usize>() + module::EXT_HEADER_SIZE;
        let unpadded = (PREFIX_SIZE + ext_len + payload.len() + m.suffix_size + CRC_SIZE) as u32;
        // end − (size − 4) is the new start; pad the END so it is aligned.
        let start = prefix.end.wrapping_sub(unpadded - CRC_SIZE as u32);
        let padding = start % START_ALIGNMENT;
        exts.push(Extension::end(padding as usize));
        prefix.flags |= flags::PREFIX_EXTENSIONS;
        prefix.start = start - padding;
        // The suffix keeps its bytes; only DYNAMIC_LOCATION learns the new start.
        let mut suffix = bytes[m.len - CRC_SIZE - m.suffix_size..m.len - CRC_SIZE].to_vec();
        let mut at = 0;
        for e in &m.suffix_extensions {
            if e.kind == ext::DYNAMIC_LOCATION && e.bytes.len() >= module::EXT_HEADER_SIZE + 4 {
                let field = at + module::EXT_HEADER_SIZE;
                suffix[field..field + 4].copy_from_slice(&prefix.start.to_le_bytes());
            }
            at += e.bytes.len();
        }
        assemble(&prefix, &exts, payload, &suffix)
    } else {
        let mut exts = new_exts;
        exts.extend(
            m.suffix_extensions
                .iter()
                .filter(|e| e.kind != ext::ASSET_DEPENDENCY)
                .cloned(),
        );
        if exts
            .last()
            .is_some_and(|e| e.kind != ext::END && e.kind != ext::PRODUCT_DATA)
        {
            exts.push(Extension::end(0));
        }
        let suffix_len = exts.iter().map(|e| e.bytes.len()).sum::<usize>() + FIXED_TAIL;
        // Without a PRODUCT_DATA extension the raw product id/version follow
        // the extensions; a 36-byte suffix had none, so write "no product".
        let raw_product = m.raw_product.unwrap_or([0xFF; 4]);
        let suffix = module::encode_suffix(&exts, raw_product, m.reserved)
            .ok_or(AppError::SuffixOverflow(suffix_len))?;
        let size = m.prefix_size + payload.len() + suffix.len() + CRC_SIZE;
        prefix.end = prefix.start.wrapping_add((size - CRC_SIZE) as u32);
        assemble(&prefix, &m.prefix_extensions, payload, &suffix)
    };
    if out.len() as u64 > app.user_part.max_size {
        return Err(AppError::TooBig {
            size: out.len() as u64,
            max: app.user_part.max_size,
            platform: app.user_part.name,
        });
    }
    Ok(out)
}

fn assemble(
    prefix: &module::Prefix,
    prefix_exts: &[Extension],
    payload: &[u8],
    suffix: &[u8],
) -> Vec<u8> {
    let mut out = Vec::with_capacity(PREFIX_SIZE + payload.len() + suffix.len() + 64);
    out.extend_from_slice(&prefix.encode());
    for e in prefix_exts {
        out.extend_from_slice(&e.bytes);
    }
    out.extend_from_slice(payload);
    out.extend_from_slice(suffix);
    out.extend_from_slice(&[0; CRC_SIZE]);
    module::seal(&mut out);
    out
}
