//! Platforms: where assets are stored and what that storage costs.

use crate::codec::{Codec, PARTICLE_DEFLATE};
use crate::names::DEFAULT_MAX_NAME_LEN;
use assetota_store::{GeometryError, Layout};
use std::path::PathBuf;

/// The `kind` of a custom platform that budgets for the device store
/// (`build-support/assetota-store`).
pub const STORE_KIND: &str = "assetota-store";
/// The `kind` of a custom platform with the block model of its keys
/// (`block-size`, `per-block-overhead`, `per-asset-overhead`,
/// `reserved-blocks`); the default.
pub const GENERIC_KIND: &str = "generic";
/// Every `kind` a custom platform may have.
pub const KINDS: &[&str] = &[GENERIC_KIND, STORE_KIND];

/// The flash geometry of a platform whose assets live in the device store.
/// Its numbers come from [`assetota_store::Layout`], the arithmetic the store
/// itself runs on, so the budget is the store's exact footprint.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StoreGeometry {
    /// The flash's write size (`WRITE_SIZE`), 1 to 32 bytes.
    pub write_size: u32,
    /// The flash's erase size (`ERASE_SIZE`): the store's block.
    pub erase_size: u32,
    /// Bytes of the store's partition (only whole erase blocks are used).
    pub partition_size: u64,
    /// Where the partition starts on the flash, when known (factory images).
    pub partition_offset: Option<u64>,
}

impl StoreGeometry {
    /// The store's layout for this flash, or why the store cannot use it.
    pub fn layout(&self) -> Result<Layout, GeometryError> {
        Layout::new(self.write_size, self.erase_size)
    }

    /// The partition's whole erase blocks, in bytes: what the store can use.
    pub fn usable_size(&self) -> u64 {
        self.partition_size - self.partition_size % u64::from(self.erase_size.max(1))
    }
}

/// Storage limits and the block model of a platform's asset store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limits {
    /// Usable bytes for all assets together (reserved blocks already taken off).
    pub total: u64,
    /// Largest stored size one asset may have, if the platform limits it.
    pub max_asset: Option<u64>,
    /// Filesystem block size; 0 means no block rounding.
    pub block_size: u64,
    /// Bytes of each block the filesystem keeps for itself (LittleFS v1 CTZ pointers).
    pub per_block_overhead: u64,
}

/// Bytes wrapped around each stored asset (a container such as Particle's module).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Container {
    pub fixed: u64,
    /// The asset's name is stored in the container too (Particle's NAME extension).
    pub includes_name: bool,
}

impl Container {
    pub fn bytes_for(&self, name: &str) -> u64 {
        self.fixed
            + if self.includes_name {
                name.len() as u64
            } else {
                0
            }
    }
}

/// Where a platform's definition came from, for error messages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    BuiltIn,
    Config(PathBuf),
    /// No platform configured: sizes only, no limits.
    Unconstrained,
}

/// A platform's complete accounting.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Platform {
    pub name: String,
    pub codec: Codec,
    pub container: Container,
    pub limits: Option<Limits>,
    pub max_name_len: usize,
    /// Particle stores assets in the root directory only.
    pub flat_names: bool,
    /// Particle platform id, for bundling Particle modules.
    pub particle_id: Option<u16>,
    /// Firmware limits derived from a partition table: (app partition, OTA partition) sizes.
    pub firmware_partitions: Option<(u64, u64)>,
    /// Where those partitions start on the flash (app, OTA), when the table
    /// gives both offsets: the addresses in a W800 image's headers.
    pub firmware_offsets: Option<(u64, u64)>,
    /// The device store's geometry, for platforms of kind `assetota-store`;
    /// `None` for every other platform.
    pub store: Option<StoreGeometry>,
    /// The ESP chip and the app slots of its partition table, for platforms
    /// with `chip = "…"` (`crate::esp`); `None` for every other platform.
    pub esp: Option<crate::esp::EspPlatform>,
    pub origin: Origin,
}

/// The module Particle stores: a 24-byte prefix, an 8-byte compression
/// header, the deflate payload, an 88-byte suffix plus the name, a 4-byte CRC.
const PARTICLE_CONTAINER: Container = Container {
    fixed: 24 + 8 + 88 + 4,
    includes_name: true,
};

struct ParticleRow {
    names: &'static [&'static str],
    id: u16,
    blocks: u64,
    single: u64,
}

// docs/particle-platforms.md: blocks of 4096 B, 10 reserved, 8 B per
// block for LittleFS v1. The p2 family's single limit is the device's own
// (storage − 16 blocks), lower than particle-cli's 1,179,648.
const PARTICLE: &[ParticleRow] = &[
    ParticleRow {
        names: &["argon"],
        id: 12,
        blocks: 288,
        single: 606_208,
    },
    ParticleRow {
        names: &["boron"],
        id: 13,
        blocks: 288,
        single: 606_208,
    },
    ParticleRow {
        names: &["esomx"],
        id: 15,
        blocks: 512,
        single: 1_572_864,
    },
    ParticleRow {
        names: &["bsom"],
        id: 23,
        blocks: 288,
        single: 606_208,
    },
    ParticleRow {
        names: &["b5som"],
        id: 25,
        blocks: 512,
        single: 1_572_864,
    },
    ParticleRow {
        names: &["tracker"],
        id: 26,
        blocks: 512,
        single: 1_572_864,
    },
    ParticleRow {
        names: &["trackerm"],
        id: 28,
        blocks: 288,
        single: 1_114_112,
    },
    ParticleRow {
        names: &["p2", "photon2"],
        id: 32,
        blocks: 288,
        single: 1_114_112,
    },
    ParticleRow {
        names: &["msom"],
        id: 35,
        blocks: 288,
        single: 1_114_112,
    },
    ParticleRow {
        names: &["electron2"],
        id: 37,
        blocks: 512,
        single: 1_572_864,
    },
    ParticleRow {
        names: &["sulu"],
        id: 38,
        blocks: 288,
        single: 1_114_112,
    },
];

const PARTICLE_BLOCK: u64 = 4096;
const PARTICLE_RESERVED_BLOCKS: u64 = 10;

fn particle(row: &ParticleRow, name: &str) -> Platform {
    Platform {
        name: name.to_owned(),
        codec: PARTICLE_DEFLATE,
        container: PARTICLE_CONTAINER,
        limits: Some(Limits {
            total: PARTICLE_BLOCK * (row.blocks - PARTICLE_RESERVED_BLOCKS),
            max_asset: Some(row.single),
            block_size: PARTICLE_BLOCK,
            per_block_overhead: 8,
        }),
        max_name_len: DEFAULT_MAX_NAME_LEN,
        flat_names: true,
        particle_id: Some(row.id),
        firmware_partitions: None,
        firmware_offsets: None,
        store: None,
        esp: None,
        origin: Origin::BuiltIn,
    }
}

/// Every built-in platform, under its canonical name (aliases left out).
pub fn builtin_platforms() -> Vec<Platform> {
    PARTICLE
        .iter()
        .map(|row| particle(row, row.names[0]))
        .collect()
}

/// Names accepted for built-in platforms, aliases included.
pub fn builtin_names() -> Vec<&'static str> {
    PARTICLE
        .iter()
        .flat_map(|row| row.names.iter().copied())
        .collect()
}

/// A built-in platform by name or alias (case-insensitive).
pub fn builtin(name: &str) -> Option<Platform> {
    let lower = name.to_ascii_lowercase();
    PARTICLE
        .iter()
        .find(|row| row.names.contains(&lower.as_str()))
        .map(|row| particle(row, row.names[0]))
}

/// The accounting used when no platform is configured: sizes, no limits.
pub fn unconstrained(codec: Codec) -> Platform {
    Platform {
        name: "(none)".to_owned(),
        codec,
        container: Container::default(),
        limits: None,
        max_name_len: DEFAULT_MAX_NAME_LEN,
        flat_names: false,
        particle_id: None,
        firmware_partitions: None,
        firmware_offsets: None,
        store: None,
        esp: None,
        origin: Origin::Unconstrained,
    }
}

/// A platform whose assets live in the device store on a flash of this
/// geometry: the usable total is the partition's whole erase blocks, the
/// block is the erase size, and the per-block and per-asset overheads are the
/// store's (`Layout::per_block_overhead`, `Layout::container`).
pub fn store_platform(
    name: &str,
    geometry: StoreGeometry,
    max_asset: Option<u64>,
    codec: Codec,
    origin: Origin,
) -> Result<Platform, GeometryError> {
    let layout = geometry.layout()?;
    let total = geometry.usable_size();
    if total == 0 {
        return Err(GeometryError::Empty);
    }
    Ok(Platform {
        name: name.to_owned(),
        codec,
        container: Container {
            fixed: u64::from(layout.container()),
            includes_name: false,
        },
        limits: Some(Limits {
            total,
            max_asset,
            block_size: u64::from(layout.block_size()),
            per_block_overhead: u64::from(layout.per_block_overhead()),
        }),
        max_name_len: DEFAULT_MAX_NAME_LEN,
        flat_names: false,
        particle_id: None,
        firmware_partitions: None,
        firmware_offsets: None,
        store: Some(geometry),
        esp: None,
        origin,
    })
}

impl Platform {
    /// The platform's kind: `particle` (built in), `generic`, `assetota-store`,
    /// or `none` without a platform.
    pub fn kind(&self) -> &'static str {
        match (&self.origin, &self.store) {
            (_, Some(_)) => STORE_KIND,
            (Origin::BuiltIn, None) => "particle",
            (Origin::Unconstrained, None) => "none",
            (Origin::Config(_), None) => GENERIC_KIND,
        }
    }

    /// Whether an asset that the codec does not shrink is stored raw (codec
    /// `none`) instead: on the device store, which records the codec per
    /// asset. Particle's module format is always deflate; the older custom
    /// platforms and the unconstrained model keep the platform's codec.
    pub fn stores_raw_when_not_smaller(&self) -> bool {
        self.store.is_some()
    }

    /// Bytes the device stores for an asset: encoded payload plus container.
    pub fn stored_size(&self, name: &str, compressed_size: u64) -> u64 {
        compressed_size + self.container.bytes_for(name)
    }

    /// Bytes of flash the stored asset occupies once rounded to blocks. On a
    /// store platform, what `assetota_store::Layout::storage_size` says for
    /// its payload: `ceil((payload + container) / (block − word)) × block`.
    pub fn storage_size(&self, stored_size: u64) -> u64 {
        if let Some(layout) = self.store.as_ref().and_then(|s| s.layout().ok()) {
            let payload = stored_size.saturating_sub(self.container.fixed);
            return layout.storage_size(payload);
        }
        match &self.limits {
            Some(l) if l.block_size > 0 => {
                let payload_per_block = l.block_size - l.per_block_overhead;
                stored_size.div_ceil(payload_per_block) * l.block_size
            }
            _ => stored_size,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn particle_totals_match_the_design_table() {
        // docs/particle-platforms.md, computed there as 4096 × (blocks − 10).
        let expect = [
            ("argon", 1_138_688, 606_208),
            ("boron", 1_138_688, 606_208),
            ("bsom", 1_138_688, 606_208),
            ("esomx", 2_056_192, 1_572_864),
            ("b5som", 2_056_192, 1_572_864),
            ("tracker", 2_056_192, 1_572_864),
            ("electron2", 2_056_192, 1_572_864),
            ("p2", 1_138_688, 1_114_112),
            ("photon2", 1_138_688, 1_114_112),
            ("trackerm", 1_138_688, 1_114_112),
            ("msom", 1_138_688, 1_114_112),
            ("sulu", 1_138_688, 1_114_112),
        ];
        for (name, total, single) in expect {
            let p = builtin(name).unwrap();
            let l = p.limits.unwrap();
            assert_eq!((l.total, l.max_asset), (total, Some(single)), "{name}");
        }
        assert_eq!(builtin("PHOTON2").unwrap().name, "p2");
        assert!(builtin("photon").is_none());
    }

    #[test]
    fn store_platforms_block_model_is_the_layouts() {
        // The generic block model recorded in `limits` and `container` gives
        // the same footprint as the store's own arithmetic, so a reader that
        // only knows the block model (an older bundle reader) agrees too.
        for (write, erase) in [
            (1, 256),
            (4, 4096),
            (8, 4096),
            (16, 2048),
            (32, 256),
            (4, 256 << 10),
        ] {
            let geometry = StoreGeometry {
                write_size: write,
                erase_size: erase,
                partition_size: 64 << 20,
                partition_offset: None,
            };
            let p = store_platform("s", geometry, None, PARTICLE_DEFLATE, Origin::BuiltIn).unwrap();
            let layout = geometry.layout().unwrap();
            let l = p.limits.as_ref().unwrap();
            let block = l.block_size;
            for payload in [0u64, 1, 100, 255, 4000, 4096, 70_000, 1 << 20] {
                let stored = p.stored_size("x", payload);
                let generic = stored.div_ceil(block - l.per_block_overhead) * block;
                assert_eq!(p.storage_size(stored), layout.storage_size(payload));
                assert_eq!(
                    generic,
                    layout.storage_size(payload),
                    "{write}/{erase}/{payload}"
                );
            }
        }
        let empty = StoreGeometry {
            write_size: 4,
            erase_size: 4096,
            partition_size: 4095,
            partition_offset: None,
        };
        assert_eq!(
            store_platform("s", empty, None, PARTICLE_DEFLATE, Origin::BuiltIn),
            Err(GeometryError::Empty)
        );
    }

    #[test]
    fn particle_block_model_matches_the_worked_example() {
        // docs/particle-platforms.md: "hello\n" as cat.txt is a 139-byte module (8 B payload).
        let p = builtin("argon").unwrap();
        assert_eq!(p.stored_size("cat.txt", 8), 139);
        // ceil(139 / 4088) blocks of 4096.
        assert_eq!(p.storage_size(139), 4096);
        assert_eq!(p.storage_size(4088), 4096);
        assert_eq!(p.storage_size(4089), 8192);
    }
}
