//! The factory image of the device store for a verified bundle (`cargo
//! assetota image`, README.md, "Factory image"): the geometry to build for,
//! the partition built and read back by the store crate itself
//! (`assetota_core::store_image`), the firmware to merge, and the file in its
//! format. The bundle must have been verified first; nothing here reads or
//! writes files.

use std::path::Path;

use assetota_core::Platform;
use assetota_core::bytesize::Bytes;
use assetota_core::platform::StoreGeometry;
use assetota_core::store_image::{self as store, Expected, ImageAsset, Segment, StoreImage};

use crate::error::Result;
use crate::manifest::{BundleManifest, hex};
use crate::read::Contents;

pub mod error;
pub mod report;

pub use error::StoreImageError;

/// The file formats of a store image.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// The partition's bytes, exactly its size.
    Bin,
    /// Intel HEX at the partition's address.
    Hex,
    /// UF2 blocks at the partition's address.
    Uf2,
}

impl Format {
    /// The format's name, as `--format` spells it.
    pub fn as_str(self) -> &'static str {
        match self {
            Format::Bin => "bin",
            Format::Hex => "hex",
            Format::Uf2 => "uf2",
        }
    }
}

/// The note for a hex or uf2 file made with [`Request::skip_erased`].
pub const SKIP_ERASED_NOTE: &str = "erased (all-0xFF) ranges were left out of the file: program it only with a tool that erases the whole store partition first, or stale flash contents survive there";

/// What to make: the file's format and where its parts go.
#[derive(Debug, Clone, Copy)]
pub struct Request {
    /// The file format.
    pub format: Format,
    /// The partition's address in a hex or uf2 file, over the platform's.
    pub address: Option<u64>,
    /// Merge the bundle's firmware at its load address (hex and uf2).
    pub firmware: bool,
    /// The UF2 family ID.
    pub family_id: Option<u32>,
    /// Leave all-0xFF ranges out of a hex or uf2 file.
    pub skip_erased: bool,
}

impl Request {
    /// What is wrong with the combination asked for, in the words of
    /// `cargo assetota image`'s flags; `None` when it can be made.
    pub fn conflict(&self) -> Option<&'static str> {
        match self.format {
            Format::Bin if self.firmware => Some(
                "`--firmware` needs `--format hex` or `--format uf2`: a bin is exactly the store partition",
            ),
            Format::Bin if self.address.is_some() => {
                Some("`--address` applies to `--format hex` and `--format uf2` only")
            }
            Format::Bin if self.skip_erased => {
                Some("`--skip-erased` applies to `--format hex` and `--format uf2` only")
            }
            Format::Bin | Format::Hex if self.family_id.is_some() => {
                Some("`--family-id` applies to `--format uf2` only")
            }
            _ => None,
        }
    }
}

/// The geometry an image is built for, and whose it is.
#[derive(Debug, Clone)]
pub struct Target {
    /// The platform whose geometry it is.
    pub platform: Option<String>,
    /// The geometry.
    pub geometry: StoreGeometry,
    /// Said when a platform given replaces the geometry the bundle records.
    pub note: Option<String>,
}

/// The geometry to build for: the bundle's (read from `path`), or that of
/// `chosen`, a platform given by name, which must be a store platform.
pub fn target(path: &Path, m: &BundleManifest, chosen: Option<(&str, Platform)>) -> Result<Target> {
    let recorded = m.storage.store.map(|s| StoreGeometry {
        write_size: s.write_size,
        erase_size: s.erase_size,
        partition_size: s.partition_size,
        partition_offset: s.partition_offset,
    });
    let Some((name, platform)) = chosen else {
        return match recorded {
            Some(geometry) => Ok(Target {
                platform: m.platform.clone(),
                geometry,
                note: None,
            }),
            None => Err(StoreImageError::NotStoreBundle {
                path: path.to_owned(),
                platform: m.platform.clone(),
            }
            .into()),
        };
    };
    let Some(geometry) = platform.store else {
        return Err(StoreImageError::NotStorePlatform {
            name: name.to_owned(),
            kind: platform.kind().to_owned(),
        }
        .into());
    };
    let note = (recorded != Some(geometry)).then(|| {
        format!(
            "building for platform `{name}` ({}) instead of the bundle's {}",
            describe(&geometry),
            match (&recorded, &m.platform) {
                (Some(g), Some(p)) => format!("`{p}` ({})", describe(g)),
                (Some(g), None) => describe(g),
                (None, Some(p)) => format!("`{p}` (not a store platform)"),
                (None, None) => "(no platform)".to_owned(),
            }
        )
    });
    Ok(Target {
        platform: Some(name.to_owned()),
        geometry,
        note,
    })
}

/// A geometry in words, for the note.
fn describe(g: &StoreGeometry) -> String {
    format!(
        "write size {} B, erase size {} B, partition {}{}",
        g.write_size,
        g.erase_size,
        Bytes(g.partition_size),
        g.partition_offset
            .map(|o| format!(" at {o:#x}"))
            .unwrap_or_default()
    )
}

/// The firmware merged into a hex or uf2 file.
#[derive(Debug, Clone)]
pub struct Firmware {
    /// Its entry in the bundle.
    pub file: String,
    /// Where it is placed.
    pub address: u64,
    /// Its bytes as placed.
    pub bytes: Vec<u8>,
}

/// A store image made, and its file.
#[derive(Debug)]
pub struct Made {
    /// The file's format.
    pub format: Format,
    /// The store partition.
    pub image: StoreImage,
    /// The partition's address in the file (`None` for a bin).
    pub address: Option<u64>,
    /// The firmware merged, if asked for.
    pub firmware: Option<Firmware>,
    /// The file's bytes when they are not the partition's (hex, uf2).
    encoded: Option<Vec<u8>>,
}

impl Made {
    /// The file's bytes.
    pub fn bytes(&self) -> &[u8] {
        self.encoded.as_deref().unwrap_or(&self.image.bytes)
    }

    /// For a bin of the store partition of an ESP firmware (`m` its
    /// bundle's manifest), written as `file` (displayed): the espflash
    /// command that programs it at the partition's offset.
    pub fn espflash_command(&self, m: &BundleManifest, file: &str) -> Option<String> {
        let offset = self.image.geometry.partition_offset?;
        (m.firmware.format == "esp" && self.format == Format::Bin)
            .then(|| format!("espflash write-bin {offset:#x} {file}"))
    }
}

/// Makes the file `request` asks for from the verified bundle `contents`
/// (read from `path`) for `target`.
pub fn make(path: &Path, contents: &Contents, target: &Target, request: Request) -> Result<Made> {
    let address = match request.format {
        Format::Bin => None,
        format => Some(
            request
                .address
                .or(target.geometry.partition_offset)
                .ok_or_else(|| StoreImageError::NoPartitionAddress {
                    format: format.as_str(),
                    platform: target.platform.clone().unwrap_or_else(|| "(none)".into()),
                })?,
        ),
    };
    let firmware = match request.firmware {
        true => Some(firmware(path, contents)?),
        false => None,
    };
    let image = build(path, contents, &target.geometry)?;
    let image_err = |cause| StoreImageError::Image {
        path: path.to_owned(),
        cause,
    };
    let mut segments = vec![Segment {
        name: "the store partition",
        address: address.unwrap_or(0),
        bytes: &image.bytes,
    }];
    if let Some(f) = &firmware {
        segments.push(Segment {
            name: "the firmware",
            address: f.address,
            bytes: &f.bytes,
        });
    }
    let encoded = match request.format {
        Format::Bin => None,
        Format::Hex => Some(store::intel_hex(&segments, request.skip_erased).map_err(image_err)?),
        Format::Uf2 => {
            Some(store::uf2(&segments, request.family_id, request.skip_erased).map_err(image_err)?)
        }
    };
    Ok(Made {
        format: request.format,
        image,
        address,
        firmware,
        encoded,
    })
}

/// Builds the partition from the bundle's assets, each with its recorded
/// codec, and reads it back once more before anything is written.
pub fn build(path: &Path, contents: &Contents, geometry: &StoreGeometry) -> Result<StoreImage> {
    let m = &contents.manifest;
    let bad = |reason: String| crate::Error::BadBundle {
        path: path.to_owned(),
        reason,
    };
    let mut assets = Vec::with_capacity(m.assets.len());
    let mut expected = Vec::with_capacity(m.assets.len());
    for a in &m.assets {
        let bytes = contents
            .assets
            .get(&a.name)
            .ok_or_else(|| bad(format!("`{}` is listed but not in the bundle", a.file)))?;
        let codec = a
            .stored_codec(&m.codec)
            .map_err(|e| bad(format!("`{}`: codec: {e}", a.file)))?;
        assets.push(ImageAsset {
            name: &a.name,
            bytes,
            codec,
        });
        let sha256: [u8; 32] = <sha2::Sha256 as sha2::Digest>::digest(bytes).into();
        if hex(&sha256) != a.sha256 {
            return Err(bad(format!(
                "`{}` does not hash to the sha256 manifest.json gives",
                a.file
            )));
        }
        expected.push(Expected {
            name: &a.name,
            size: a.size,
            sha256,
        });
    }
    let image_err = |cause| StoreImageError::Image {
        path: path.to_owned(),
        cause,
    };
    let image = store::build(geometry, &assets).map_err(image_err)?;
    store::check(geometry, &image.bytes, &expected).map_err(image_err)?;
    Ok(image)
}

/// The firmware's bytes and load address: a flat image at the
/// `load_address` manifest.json records, an ELF as the flat image of its
/// loadable sections (what `objcopy -O binary` writes).
pub fn firmware(path: &Path, contents: &Contents) -> Result<Firmware> {
    let fw = &contents.manifest.firmware;
    if contents.firmware.starts_with(assetota_firmware::ELF_MAGIC) {
        let elf = assetota_firmware::ElfFile::parse(path, &contents.firmware)?;
        let flat = elf.flat_image(path)?;
        return Ok(Firmware {
            file: fw.file.clone(),
            address: flat.base_address,
            bytes: flat.bytes,
        });
    }
    let address = fw
        .load_address
        .ok_or_else(|| StoreImageError::NoFirmwareAddress {
            path: path.to_owned(),
            file: fw.file.clone(),
        })?;
    Ok(Firmware {
        file: fw.file.clone(),
        address,
        bytes: contents.firmware.clone(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::manifest::sha256_hex;

    const GEOMETRY: StoreGeometry = StoreGeometry {
        write_size: 4,
        erase_size: 4096,
        partition_size: 64 * 1024,
        partition_offset: Some(0x0804_0000),
    };

    /// A bundle of one asset `a.txt`, recording `GEOMETRY` when `store`.
    fn contents(store: bool, firmware: &[u8], load_address: Option<u64>) -> Contents {
        let asset = b"hello, store".to_vec();
        let manifest = serde_json::json!({
            "format": 1, "generator": "test",
            "package": { "name": "p", "version": "1.0.0" },
            "bin": null, "target": null, "profile": null,
            "platform": "board",
            "storage": {
                "limit_total": null, "limit_single": null, "block_size": 4096,
                "per_block_overhead": 0, "per_asset_overhead": 0, "name_in_container": false,
                "store": if store { serde_json::json!({
                    "write_size": 4, "erase_size": 4096,
                    "partition_size": 65536, "partition_offset": 0x0804_0000u64,
                }) } else { serde_json::Value::Null },
            },
            "codec": { "kind": "none" },
            "firmware": {
                "file": "app.bin", "format": "bin", "size": firmware.len(),
                "sha256": sha256_hex(firmware), "manifest_offset": 0, "manifest_size": 0,
                "load_address": load_address,
            },
            "assets": [{
                "name": "a.txt", "file": "assets/a.txt", "size": asset.len(),
                "sha256": sha256_hex(&asset), "compressed_size": asset.len(),
                "stored_size": asset.len(), "storage_size": 4096,
            }],
            "total_size": asset.len(), "total_storage_size": 4096, "fits": true,
        });
        Contents {
            manifest: serde_json::from_value(manifest).unwrap(),
            firmware: firmware.to_vec(),
            assets: [("a.txt".to_owned(), asset)].into(),
        }
    }

    fn request(format: Format) -> Request {
        Request {
            format,
            address: None,
            firmware: false,
            family_id: None,
            skip_erased: false,
        }
    }

    #[test]
    fn conflicting_requests_are_named() {
        assert_eq!(request(Format::Bin).conflict(), None);
        let uf2 = Request {
            family_id: Some(0xE48B_FF56),
            skip_erased: true,
            ..request(Format::Uf2)
        };
        assert_eq!(uf2.conflict(), None);
        let hex = Request {
            family_id: Some(1),
            ..request(Format::Hex)
        };
        assert_eq!(
            hex.conflict(),
            Some("`--family-id` applies to `--format uf2` only")
        );
        let bin = Request {
            firmware: true,
            address: Some(0),
            ..request(Format::Bin)
        };
        assert!(bin.conflict().unwrap().starts_with("`--firmware` needs"));
    }

    #[test]
    fn target_is_the_recorded_geometry_or_the_platform_s() {
        let path = Path::new("b.zip");
        let c = contents(true, b"fw", None);
        let t = target(path, &c.manifest, None).unwrap();
        assert_eq!(
            (t.platform.as_deref(), t.geometry, t.note),
            (Some("board"), GEOMETRY, None)
        );

        let mut other = assetota_core::platform::unconstrained(assetota_core::Codec::None);
        other.store = Some(StoreGeometry {
            partition_offset: None,
            ..GEOMETRY
        });
        let t = target(path, &c.manifest, Some(("other", other))).unwrap();
        assert_eq!(
            t.note.as_deref(),
            Some(
                "building for platform `other` (write size 4 B, erase size 4096 B, partition 65,536 B) instead of the bundle's `board` (write size 4 B, erase size 4096 B, partition 65,536 B at 0x8040000)"
            )
        );

        let plain = assetota_core::platform::unconstrained(assetota_core::Codec::None);
        assert!(matches!(
            target(path, &c.manifest, Some(("plain", plain))),
            Err(crate::Error::StoreImage(
                StoreImageError::NotStorePlatform { .. }
            ))
        ));
        let c = contents(false, b"fw", None);
        assert!(matches!(
            target(path, &c.manifest, None),
            Err(crate::Error::StoreImage(StoreImageError::NotStoreBundle {
                platform: Some(_),
                ..
            }))
        ));
    }

    #[test]
    fn a_bin_is_the_partition_a_hex_needs_its_address() {
        let path = Path::new("b.zip");
        let c = contents(true, b"firmware", Some(0x0800_0000));
        let mut t = target(path, &c.manifest, None).unwrap();
        let made = make(path, &c, &t, request(Format::Bin)).unwrap();
        assert_eq!(made.bytes().len() as u64, GEOMETRY.partition_size);
        assert_eq!((made.address, made.image.assets.len()), (None, 1));
        assert!(
            made.summary("s.bin")
                .starts_with("s.bin (bin, 65,536 B): store ")
        );

        let with_firmware = Request {
            firmware: true,
            ..request(Format::Hex)
        };
        let made = make(path, &c, &t, with_firmware).unwrap();
        assert_eq!(made.address, Some(0x0804_0000));
        assert_eq!(made.firmware.as_ref().map(|f| f.address), Some(0x0800_0000));
        assert!(made.bytes().starts_with(b":"));

        t.geometry.partition_offset = None;
        assert!(matches!(
            make(path, &c, &t, request(Format::Uf2)),
            Err(crate::Error::StoreImage(
                StoreImageError::NoPartitionAddress { format: "uf2", .. }
            ))
        ));
    }

    #[test]
    fn damaged_assets_and_unplaced_firmware_are_refused() {
        let path = Path::new("b.zip");
        let mut c = contents(true, b"firmware", None);
        let t = target(path, &c.manifest, None).unwrap();
        assert!(matches!(
            firmware(path, &c),
            Err(crate::Error::StoreImage(
                StoreImageError::NoFirmwareAddress { .. }
            ))
        ));
        c.assets.insert("a.txt".into(), b"other bytes".to_vec());
        assert!(matches!(
            make(path, &c, &t, request(Format::Bin)),
            Err(crate::Error::BadBundle { .. })
        ));
    }
}
