//! Platforms: where assets are stored and what that storage costs.

use crate::codec::{Codec, PARTICLE_DEFLATE};
use crate::names::DEFAULT_MAX_NAME_LEN;
use std::path::PathBuf;

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

// research/particle-asset-ota.md §3.3: blocks of 4096 B, 10 reserved, 8 B per
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
        origin: Origin::Unconstrained,
    }
}

impl Platform {
    /// Bytes the device stores for an asset: encoded payload plus container.
    pub fn stored_size(&self, name: &str, compressed_size: u64) -> u64 {
        compressed_size + self.container.bytes_for(name)
    }

    /// Bytes of flash the stored asset occupies once rounded to blocks.
    pub fn storage_size(&self, stored_size: u64) -> u64 {
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
        // DESIGN.md §5, computed there as 4096 × (blocks − 10).
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
    fn particle_block_model_matches_the_worked_example() {
        // research §2.3: "hello\n" as cat.txt is a 139-byte module (8 B payload).
        let p = builtin("argon").unwrap();
        assert_eq!(p.stored_size("cat.txt", 8), 139);
        // ceil(139 / 4088) blocks of 4096.
        assert_eq!(p.storage_size(139), 4096);
        assert_eq!(p.storage_size(4088), 4096);
        assert_eq!(p.storage_size(4089), 8192);
    }
}
