//! `platforms`: the built-in and configured platforms, as JSON and as a table.

use assetota_bundle::{CodecJson, StorageJson, StoreJson};
use assetota_core::bytesize::Bytes;
use assetota_core::platform::{Origin, Platform};
use serde::Serialize;

use crate::text::Table;

/// One platform as `platforms --json` lists it.
#[derive(Debug, Serialize)]
pub struct PlatformJson {
    /// The platform's name.
    pub name: String,
    /// The other names of a built-in platform.
    pub aliases: Vec<String>,
    /// `particle` (built in), `generic` or `assetota-store`.
    pub kind: &'static str,
    /// `built-in`, the Cargo.toml that defines it, or `none`.
    pub origin: String,
    /// The codec assets are compressed with.
    pub codec: CodecJson,
    /// Bytes the assets may take in all.
    pub limit_total: Option<u64>,
    /// Bytes one asset may be stored as.
    pub limit_single: Option<u64>,
    /// The storage's block (0: none).
    pub block_size: u64,
    /// Bytes each block loses to the storage's bookkeeping.
    pub per_block_overhead: u64,
    /// Bytes of each asset's container header.
    pub per_asset_overhead: u64,
    /// The container header holds the asset's name too.
    pub name_in_container: bool,
    /// The longest asset name the platform takes.
    pub max_name_len: usize,
    /// Bytes of the app partition (a partition-table platform).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub app_partition: Option<u64>,
    /// Bytes of the OTA partition (a partition-table platform).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ota_partition: Option<u64>,
    /// The device store's flash geometry (kind `assetota-store`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub store: Option<StoreJson>,
}

impl PlatformJson {
    /// The JSON of `p`.
    pub fn of(p: &Platform) -> PlatformJson {
        let aliases = assetota_core::platform::builtin_names()
            .into_iter()
            .filter(|n| {
                *n != p.name
                    && matches!(p.origin, Origin::BuiltIn)
                    && assetota_core::platform::builtin(n).is_some_and(|b| b.name == p.name)
            })
            .map(str::to_owned)
            .collect();
        // The storage numbers as a bundle's manifest.json records them.
        let storage = StorageJson::from_platform(p);
        PlatformJson {
            name: p.name.clone(),
            aliases,
            kind: p.kind(),
            origin: match &p.origin {
                Origin::BuiltIn => "built-in".into(),
                Origin::Config(path) => path.display().to_string(),
                Origin::Unconstrained => "none".into(),
            },
            codec: CodecJson::from_codec(p.codec),
            limit_total: storage.limit_total,
            limit_single: storage.limit_single,
            block_size: storage.block_size,
            per_block_overhead: storage.per_block_overhead,
            per_asset_overhead: storage.per_asset_overhead,
            name_in_container: storage.name_in_container,
            max_name_len: p.max_name_len,
            app_partition: p.firmware_partitions.map(|(a, _)| a),
            ota_partition: p.firmware_partitions.map(|(_, o)| o),
            store: storage.store,
        }
    }
}

/// The table of `platforms`: `list` is the JSON of `platforms`, in order.
pub fn platforms_text(platforms: &[Platform], list: &[PlatformJson]) -> String {
    let mut t = Table::new(&[
        "PLATFORM",
        "CODEC",
        "TOTAL LIMIT",
        "SINGLE LIMIT",
        "BLOCK",
        "PER ASSET",
        "FROM",
    ])
    .left_aligned(2);
    for (p, j) in platforms.iter().zip(list) {
        let name = if j.aliases.is_empty() {
            p.name.clone()
        } else {
            format!("{} ({})", p.name, j.aliases.join(", "))
        };
        t.row(vec![
            name,
            p.codec.to_string(),
            j.limit_total.map_or("-".into(), |v| Bytes(v).to_string()),
            j.limit_single.map_or("-".into(), |v| Bytes(v).to_string()),
            j.block_size.to_string(),
            format!(
                "{}{}",
                j.per_asset_overhead,
                if j.name_in_container { " + name" } else { "" }
            ),
            j.origin.clone(),
        ]);
    }
    t.render().trim_end().to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_built_in_platform_is_a_row_under_the_header() {
        let platforms = assetota_core::platform::builtin_platforms();
        let list: Vec<PlatformJson> = platforms.iter().map(PlatformJson::of).collect();
        let text = platforms_text(&platforms, &list);
        let lines: Vec<&str> = text.lines().collect();
        assert!(lines[0].starts_with("  PLATFORM"), "{text}");
        assert_eq!(lines.len(), platforms.len() + 1);
        assert!(list.iter().all(|j| j.origin == "built-in"));
    }
}
