//! What `cargo assetota image` reports about a store image it wrote: the
//! JSON of `--json` and the summary of the status line.

use assetota_core::bytesize::Bytes;
use assetota_core::store_image::Placed;
use serde::Serialize;

use super::{Made, Request, Target};
use crate::manifest::hex;

/// The JSON of `image --json`.
#[derive(Debug, Serialize)]
pub struct ImageJson {
    /// The file written, as displayed.
    pub file: String,
    /// Its format.
    pub format: &'static str,
    /// Bytes of the output file.
    pub file_size: u64,
    /// The platform whose geometry the image was built for.
    pub platform: Option<String>,
    /// The flash's write size.
    pub write_size: u32,
    /// The flash's erase size.
    pub erase_size: u32,
    /// Bytes of the store partition.
    pub partition_size: u64,
    /// The partition's address in a hex or uf2 file (`null` for a bin
    /// without a recorded offset).
    pub partition_offset: Option<u64>,
    /// Bytes the store can use (whole erase blocks).
    pub capacity: u64,
    /// Bytes it uses.
    pub used: u64,
    /// Whether all-0xFF ranges were left out.
    pub skip_erased: bool,
    /// The firmware merged, if any.
    pub firmware: Option<FirmwareJson>,
    /// The assets, as placed.
    pub assets: Vec<AssetJson>,
}

/// The firmware merged into the file.
#[derive(Debug, Serialize)]
pub struct FirmwareJson {
    /// Its entry in the bundle.
    pub file: String,
    /// Where it is placed.
    pub address: u64,
    /// Its bytes.
    pub size: u64,
}

/// One asset in the partition.
#[derive(Debug, Serialize)]
pub struct AssetJson {
    /// Its name.
    pub name: String,
    /// The SHA-256 of its raw bytes.
    pub sha256: String,
    /// Bytes raw.
    pub size: u64,
    /// Bytes stored (after its codec).
    pub payload_len: u64,
    /// Its codec.
    pub codec: String,
    /// Offset of its first block in the partition.
    pub offset: u64,
    /// Bytes of the partition it takes.
    pub storage_size: u64,
    /// An earlier asset with the same bytes: the store keeps one copy.
    pub same_as: Option<String>,
}

impl ImageJson {
    /// The report of `made` for `target` as `request` asked, written to
    /// `file` (as displayed).
    pub fn new(file: String, made: &Made, target: &Target, request: Request) -> ImageJson {
        let g = &target.geometry;
        ImageJson {
            file,
            format: request.format.as_str(),
            file_size: made.bytes().len() as u64,
            platform: target.platform.clone(),
            write_size: g.write_size,
            erase_size: g.erase_size,
            partition_size: g.partition_size,
            partition_offset: made.address.or(g.partition_offset),
            capacity: made.image.capacity,
            used: made.image.used,
            skip_erased: request.skip_erased,
            firmware: made.firmware.as_ref().map(|f| FirmwareJson {
                file: f.file.clone(),
                address: f.address,
                size: f.bytes.len() as u64,
            }),
            assets: made.image.assets.iter().map(AssetJson::of).collect(),
        }
    }
}

impl AssetJson {
    fn of(a: &Placed) -> AssetJson {
        AssetJson {
            name: a.name.clone(),
            sha256: hex(&a.sha256),
            size: a.size,
            payload_len: a.payload_len,
            codec: a.codec.kind().to_owned(),
            offset: a.offset,
            storage_size: a.storage_size,
            same_as: a.same_as.clone(),
        }
    }
}

impl Made {
    /// The status line's text for the file written as `file` (displayed):
    /// its format, size and address, the store's use, the assets and the
    /// firmware.
    pub fn summary(&self, file: &str) -> String {
        let image = &self.image;
        let n = image.assets.len();
        format!(
            "{file} ({}, {}{}): store {} of {} used, {n} asset{}{}{}",
            self.format.as_str(),
            Bytes(self.bytes().len() as u64),
            self.address
                .map(|a| format!(", partition at {a:#x}"))
                .unwrap_or_default(),
            Bytes(image.used),
            Bytes(image.capacity),
            if n == 1 { "" } else { "s" },
            match image.assets.iter().filter(|a| a.same_as.is_some()).count() {
                0 => String::new(),
                n => format!(" ({n} identical to another, stored once)"),
            },
            self.firmware
                .as_ref()
                .map(|f| format!(
                    ", firmware `{}` {} at {:#x}",
                    f.file,
                    Bytes(f.bytes.len() as u64),
                    f.address
                ))
                .unwrap_or_default(),
        )
    }
}
