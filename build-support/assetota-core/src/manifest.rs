//! Encoder of the binary manifest, format v1 (docs/manifest-format.md).
//!
//! The decoder lives in the `no_std` `assetota` crate and is re-exported here, so the
//! host side has one import path for both directions.

pub use assetota::{
    Asset, CRC_LEN, Codec, DecodeError, ENTRY_LEN, FORMAT_VERSION, HEADER_LEN, Hex, MAGIC,
    Manifest, Verifier, VerifyError,
};

/// One asset as it goes into the manifest.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ManifestEntry<'a> {
    /// Name relative to the assets directory, `/`-separated, NFC (not re-checked here).
    pub name: &'a str,
    /// Raw size.
    pub size: u64,
    /// Exact length of the codec output.
    pub compressed_size: u64,
    /// Compressed size plus the platform's container bytes.
    pub stored_size: u64,
    /// SHA-256 of the raw bytes.
    pub sha256: [u8; 32],
    /// Codec the device stores the asset with.
    pub codec: Codec,
}

/// Why a manifest could not be encoded. Each is a bug or limit upstream of the encoder
/// (the scanner sorts and validates names), reported rather than written as an invalid
/// manifest the device would reject.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum EncodeError {
    #[error(
        "manifest entries must be sorted byte-wise by name: {previous:?} comes before {name:?}"
    )]
    Unsorted { previous: String, name: String },
    #[error("asset name {name:?} appears twice in the manifest")]
    Duplicate { name: String },
    #[error("manifest entry {index} has an empty name")]
    EmptyName { index: usize },
    #[error("asset name {name:?} is {len} bytes; the manifest allows at most 65535")]
    NameTooLong { name: String, len: usize },
    #[error("platform name {name:?} is {len} bytes; the manifest allows at most 65535")]
    PlatformTooLong { name: String, len: usize },
    #[error("{count} assets do not fit a manifest (the entry table would pass 4 GiB)")]
    TooManyEntries { count: usize },
    #[error("the manifest would be {len} bytes; it must stay below 4 GiB")]
    TooLarge { len: u64 },
    #[error("asset {name:?}: codec parameter {param} is out of range for {codec_name}", codec_name = .codec.name())]
    InvalidCodec {
        name: String,
        codec: Codec,
        param: u8,
    },
    #[error("asset {name:?}: stored size {stored} is smaller than compressed size {compressed}")]
    StoredSmallerThanCompressed {
        name: String,
        compressed: u64,
        stored: u64,
    },
}

/// Encodes a v1 manifest. `entries` must be sorted byte-wise by name with no
/// duplicates (the scanner's order); an empty `platform` is the same as `None`.
/// The output is deterministic and decodes with [`Manifest::parse`].
pub fn encode(
    platform: Option<&str>,
    entries: &[ManifestEntry<'_>],
) -> Result<Vec<u8>, EncodeError> {
    let platform = platform.unwrap_or("");
    let platform_len = u16::try_from(platform.len()).map_err(|_| EncodeError::PlatformTooLong {
        name: platform.to_owned(),
        len: platform.len(),
    })?;
    check_entries(entries)?;

    let count = u32::try_from(entries.len()).map_err(|_| EncodeError::TooManyEntries {
        count: entries.len(),
    })?;
    let strtab_off = (HEADER_LEN as u64) + (ENTRY_LEN as u64) * u64::from(count);
    let strtab_len: u64 =
        platform.len() as u64 + entries.iter().map(|e| e.name.len() as u64).sum::<u64>();
    let total = (strtab_off + strtab_len).next_multiple_of(4) + CRC_LEN as u64;
    // total < 2^32 also bounds every offset and length below, so the casts are exact.
    let total_len = u32::try_from(total).map_err(|_| EncodeError::TooLarge { len: total })?;
    if strtab_off > u64::from(u32::MAX) {
        return Err(EncodeError::TooManyEntries {
            count: entries.len(),
        });
    }

    let mut out = Vec::with_capacity(total as usize);
    out.extend_from_slice(&MAGIC);
    out.extend_from_slice(&FORMAT_VERSION.to_le_bytes());
    out.extend_from_slice(&(HEADER_LEN as u16).to_le_bytes());
    out.extend_from_slice(&total_len.to_le_bytes());
    out.extend_from_slice(&count.to_le_bytes());
    out.extend_from_slice(&(ENTRY_LEN as u16).to_le_bytes());
    out.extend_from_slice(&0u16.to_le_bytes()); // flags
    out.extend_from_slice(&(strtab_off as u32).to_le_bytes());
    out.extend_from_slice(&(strtab_len as u32).to_le_bytes());
    out.extend_from_slice(&platform_len.to_le_bytes());
    out.extend_from_slice(&0u16.to_le_bytes()); // reserved
    debug_assert_eq!(out.len(), HEADER_LEN);

    let mut name_off = platform.len() as u32;
    for e in entries {
        out.extend_from_slice(&name_off.to_le_bytes());
        out.extend_from_slice(&(e.name.len() as u16).to_le_bytes());
        out.push(e.codec.id());
        out.push(e.codec.param());
        out.extend_from_slice(&e.size.to_le_bytes());
        out.extend_from_slice(&e.compressed_size.to_le_bytes());
        out.extend_from_slice(&e.stored_size.to_le_bytes());
        out.extend_from_slice(&e.sha256);
        name_off += e.name.len() as u32;
    }
    out.extend_from_slice(platform.as_bytes());
    for e in entries {
        out.extend_from_slice(e.name.as_bytes());
    }
    out.resize(total as usize - CRC_LEN, 0);
    let crc = crc32fast::hash(&out);
    out.extend_from_slice(&crc.to_le_bytes());
    debug_assert_eq!(out.len() as u64, total);
    Ok(out)
}

/// The per-entry rules the decoder enforces, checked up front with useful messages.
fn check_entries(entries: &[ManifestEntry<'_>]) -> Result<(), EncodeError> {
    let mut previous: Option<&str> = None;
    for (index, e) in entries.iter().enumerate() {
        if e.name.is_empty() {
            return Err(EncodeError::EmptyName { index });
        }
        if u16::try_from(e.name.len()).is_err() {
            return Err(EncodeError::NameTooLong {
                name: e.name.to_owned(),
                len: e.name.len(),
            });
        }
        if let Some(p) = previous {
            match p.as_bytes().cmp(e.name.as_bytes()) {
                std::cmp::Ordering::Less => {}
                std::cmp::Ordering::Equal => {
                    return Err(EncodeError::Duplicate {
                        name: e.name.to_owned(),
                    });
                }
                std::cmp::Ordering::Greater => {
                    return Err(EncodeError::Unsorted {
                        previous: p.to_owned(),
                        name: e.name.to_owned(),
                    });
                }
            }
        }
        if !e.codec.is_valid() {
            return Err(EncodeError::InvalidCodec {
                name: e.name.to_owned(),
                codec: e.codec,
                param: e.codec.param(),
            });
        }
        if e.stored_size < e.compressed_size {
            return Err(EncodeError::StoredSmallerThanCompressed {
                name: e.name.to_owned(),
                compressed: e.compressed_size,
                stored: e.stored_size,
            });
        }
        previous = Some(e.name);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::collection::btree_map;
    use proptest::prelude::*;

    const GOLDEN: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../assetota/tests/golden/");

    fn golden(file: &str) -> Vec<u8> {
        std::fs::read(format!("{GOLDEN}{file}")).unwrap()
    }

    fn sha(hex: &str) -> [u8; 32] {
        let v: Vec<u8> = (0..32)
            .map(|i| u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).unwrap())
            .collect();
        v.try_into().unwrap()
    }

    fn entry(name: &str) -> ManifestEntry<'_> {
        ManifestEntry {
            name,
            size: 10,
            compressed_size: 8,
            stored_size: 140,
            sha256: [7; 32],
            codec: Codec::Deflate { window_bits: 15 },
        }
    }

    // The documented inputs of docs/manifest-format.md, golden vectors (a)-(c).
    #[test]
    fn golden_empty() {
        assert_eq!(encode(None, &[]).unwrap(), golden("empty.bin"));
        assert_eq!(encode(Some(""), &[]).unwrap(), golden("empty.bin"));
    }

    #[test]
    fn golden_one_asset_p2() {
        let e = ManifestEntry {
            name: "hello.txt",
            size: 6,
            compressed_size: 8,
            stored_size: 141,
            sha256: sha("5891b5b522d5df086d0ff0b110fbd9d21bb4fc7163af34d08286a2e846f6be03"),
            codec: Codec::Deflate { window_bits: 15 },
        };
        assert_eq!(
            encode(Some("p2"), &[e]).unwrap(),
            golden("one-asset-p2.bin")
        );
    }

    #[test]
    fn golden_three_assets() {
        let entries = [
            ManifestEntry {
                name: "config.json",
                size: 32,
                compressed_size: 32,
                stored_size: 32,
                sha256: sha("fe74d2c98d53a893cce51f9dffead8025baf7c1c2211c905ed2b4d8d1287544d"),
                codec: Codec::None,
            },
            ManifestEntry {
                name: "fonts/small.bin",
                size: 512,
                compressed_size: 304,
                stored_size: 304,
                sha256: sha("110009dcee21620b166f3abfecb5eff7a873be729d1c2d53822e7acc5f34eb9b"),
                codec: Codec::Xz { dict_log2: 23 },
            },
            ManifestEntry {
                name: "sounds/caf\u{e9}.wav",
                size: 100,
                compressed_size: 105,
                stored_size: 105,
                sha256: sha("2b4c818d9ad41a3c1d116803699206cfb7688fbb96a7a7b9601b2aef659af7e7"),
                codec: Codec::Deflate { window_bits: 15 },
            },
        ];
        assert_eq!(encode(None, &entries).unwrap(), golden("three-assets.bin"));
    }

    #[test]
    fn rejects_unsorted_and_duplicates() {
        assert_eq!(
            encode(None, &[entry("b"), entry("a")]).unwrap_err(),
            EncodeError::Unsorted {
                previous: "b".into(),
                name: "a".into()
            }
        );
        // Byte-wise: "é" (c3 a9) sorts after "z".
        assert!(encode(None, &[entry("z"), entry("é")]).is_ok());
        assert!(encode(None, &[entry("é"), entry("z")]).is_err());
        assert_eq!(
            encode(None, &[entry("a"), entry("a")]).unwrap_err(),
            EncodeError::Duplicate { name: "a".into() }
        );
    }

    #[test]
    fn rejects_empty_and_long_names() {
        assert_eq!(
            encode(None, &[entry("")]).unwrap_err(),
            EncodeError::EmptyName { index: 0 }
        );
        let long = "x".repeat(65_536);
        assert!(matches!(
            encode(None, &[entry(&long)]).unwrap_err(),
            EncodeError::NameTooLong { len: 65_536, .. }
        ));
        let max = "x".repeat(65_535);
        let m = encode(None, &[entry(&max)]).unwrap();
        assert_eq!(
            Manifest::parse(&m).unwrap().get(&max).unwrap().name().len(),
            65_535
        );
        assert!(matches!(
            encode(Some(&long), &[]).unwrap_err(),
            EncodeError::PlatformTooLong { len: 65_536, .. }
        ));
    }

    #[test]
    fn rejects_invalid_codec_and_sizes() {
        let mut e = entry("a");
        e.codec = Codec::Deflate { window_bits: 16 };
        assert_eq!(
            encode(None, &[e.clone()]).unwrap_err().to_string(),
            "asset \"a\": codec parameter 16 is out of range for deflate"
        );
        e.codec = Codec::Xz { dict_log2: 11 };
        assert!(matches!(
            encode(None, &[e.clone()]).unwrap_err(),
            EncodeError::InvalidCodec { param: 11, .. }
        ));
        e.codec = Codec::None;
        e.stored_size = 7;
        assert_eq!(
            encode(None, &[e]).unwrap_err(),
            EncodeError::StoredSmallerThanCompressed {
                name: "a".into(),
                compressed: 8,
                stored: 7
            }
        );
    }

    fn codec() -> impl Strategy<Value = Codec> {
        prop_oneof![
            Just(Codec::None),
            (8u8..=15).prop_map(|window_bits| Codec::Deflate { window_bits }),
            (12u8..=30).prop_map(|dict_log2| Codec::Xz { dict_log2 }),
        ]
    }

    proptest! {
        #[test]
        fn round_trips(
            platform in proptest::option::of("\\PC{0,10}"),
            model in btree_map("\\PC{1,12}", (any::<u64>(), any::<u64>(), any::<u64>(), any::<[u8; 32]>(), codec()), 0..16),
            tail in proptest::collection::vec(any::<u8>(), 0..8),
        ) {
            let entries: Vec<ManifestEntry<'_>> = model
                .iter()
                .map(|(name, &(size, a, b, sha256, codec))| ManifestEntry {
                    name, size, compressed_size: a.min(b), stored_size: a.max(b), sha256, codec,
                })
                .collect();
            let mut bytes = encode(platform.as_deref(), &entries).unwrap();
            prop_assert_eq!(bytes.len() % 4, 0);
            let len = bytes.len();
            bytes.extend_from_slice(&tail);
            let m = Manifest::parse(&bytes).unwrap();
            prop_assert_eq!(m.byte_len(), len);
            prop_assert_eq!(m.platform(), platform.as_deref().filter(|p| !p.is_empty()));
            prop_assert_eq!(m.len(), entries.len());
            for (a, e) in m.iter().zip(&entries) {
                prop_assert_eq!(a.name(), e.name);
                prop_assert_eq!(a.size(), e.size);
                prop_assert_eq!(a.compressed_size(), e.compressed_size);
                prop_assert_eq!(a.stored_size(), e.stored_size);
                prop_assert_eq!(a.sha256(), &e.sha256);
                prop_assert_eq!(a.codec(), e.codec);
                prop_assert_eq!(m.get(e.name), Some(a));
            }
        }
    }
}
