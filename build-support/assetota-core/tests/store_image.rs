//! The factory store image: built with `store_image::build`, then read back
//! the way a device would, with the store crate mounted on a read-only flash
//! of the device's geometry; its size, its free space and what it uses
//! against the budget's own numbers; the HEX and UF2 writers against readers
//! written here from the formats' specifications.

use assetota_core::Budget;
use assetota_core::codec::{Codec, DEFAULT_XZ, XZ_SUPPORTED};
use assetota_core::measure::Measured;
use assetota_core::platform::{Origin, StoreGeometry, store_platform};
use assetota_core::store_image::{
    self, Expected, ImageAsset, ImageError, Segment, StoreImage, UF2_FLAG_FAMILY_ID,
};
use assetota_store::{Error, ReadOnlyFlash, Scratch, Store};
use sha2::{Digest, Sha256};

const DEFLATE12: Codec = Codec::Deflate {
    level: 6,
    window_bits: 12,
};
const DEFLATE15: Codec = Codec::Deflate {
    level: 9,
    window_bits: 15,
};
const XZ64K: Codec = Codec::Xz {
    preset: 6,
    dict_size: 64 << 10,
};

/// Deterministic bytes: text-like (compressible) or noise.
fn bytes(seed: u64, len: usize, text: bool) -> Vec<u8> {
    let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            if text {
                b"abcdefgh \n"[(x >> 60) as usize % 10]
            } else {
                (x >> 24) as u8
            }
        })
        .collect()
}

struct Corpus {
    assets: Vec<(String, Vec<u8>, Codec)>,
}

impl Corpus {
    fn standard() -> Corpus {
        Corpus {
            assets: vec![
                ("z-last.txt".into(), bytes(1, 30_000, true), DEFLATE12),
                ("img/logo.bin".into(), bytes(2, 9_000, false), Codec::None),
                ("big.txt".into(), bytes(3, 200_000, true), DEFLATE15),
                (
                    "config.json".into(),
                    b"{\"volume\": 3}\n".to_vec(),
                    DEFLATE12,
                ),
                ("empty".into(), Vec::new(), DEFLATE12),
                ("fonts/f.xz".into(), bytes(4, 50_000, true), XZ64K),
            ]
            .into_iter()
            // Without assetota-core's `xz` there is neither an xz encoder nor the store's decoder.
            .filter(|a| XZ_SUPPORTED || a.2.kind() != "xz")
            .collect(),
        }
    }

    fn image_assets(&self) -> Vec<ImageAsset<'_>> {
        self.assets
            .iter()
            .map(|(name, bytes, codec)| ImageAsset {
                name,
                bytes,
                codec: *codec,
            })
            .collect()
    }

    fn expected(&self) -> Vec<Expected<'_>> {
        self.assets
            .iter()
            .map(|(name, bytes, _)| Expected {
                name,
                size: bytes.len() as u64,
                sha256: Sha256::digest(bytes).into(),
            })
            .collect()
    }
}

fn geometry(write: u32, erase: u32, size: u64) -> StoreGeometry {
    StoreGeometry {
        write_size: write,
        erase_size: erase,
        partition_size: size,
        partition_offset: Some(0x10_0000),
    }
}

/// What the budget says the assets occupy on a store platform of this
/// geometry (its own arithmetic, from the platform model).
fn budget_total(g: StoreGeometry, corpus: &Corpus) -> u64 {
    let platform = store_platform("t", g, None, DEFLATE12, Origin::Unconstrained).unwrap();
    let measured = corpus
        .assets
        .iter()
        .map(|(name, raw, codec)| {
            (
                Measured {
                    name: name.clone(),
                    path: name.into(),
                    size: raw.len() as u64,
                    sha256: Sha256::digest(raw).into(),
                    compressed_size: codec.encoded_len(raw).unwrap(),
                },
                *codec,
            )
        })
        .collect();
    Budget::with_codecs(&platform, measured).total_storage_size
}

/// Reads every asset back as firmware would: the store mounted on a
/// read-only flash whose WRITE_SIZE and ERASE_SIZE are the device's.
fn read_back<const W: usize, const E: usize>(
    image: &[u8],
    usable: u32,
) -> Vec<([u8; 32], Vec<u8>)> {
    // A scratch for an 8 MiB xz dictionary does not fit a test thread's stack.
    let image = image.to_vec();
    std::thread::Builder::new()
        .stack_size(64 << 20)
        .spawn(move || {
            let mut scratch = Box::new(Scratch::<{ 8 << 20 }>::new());
            let mut store = Store::<_, 32>::mount(ReadOnlyFlash::<W, E>::new(&image), 0..usable)
                .expect("the image mounts read-only");
            let shas: Vec<[u8; 32]> = store.extents().map(|e| e.sha256).collect();
            let mut out = Vec::new();
            for sha in shas {
                let mut reader = store.open(&sha, &mut scratch).unwrap();
                let mut bytes = Vec::new();
                let mut buf = [0u8; 777];
                loop {
                    let n = reader.read(&mut buf).unwrap();
                    if n == 0 {
                        break;
                    }
                    bytes.extend_from_slice(&buf[..n]);
                }
                out.push((sha, bytes));
            }
            out
        })
        .unwrap()
        .join()
        .unwrap()
}

fn build(g: &StoreGeometry, corpus: &Corpus) -> StoreImage {
    store_image::build(g, &corpus.image_assets()).unwrap()
}

#[test]
fn the_image_is_reproducible_and_reads_back_on_the_device_geometry() {
    let corpus = Corpus::standard();
    // Not a whole number of blocks: the tail is not the store's, and stays erased.
    let size = 64 * 4096 + 1000;
    let g = geometry(4, 4096, size);
    let image = build(&g, &corpus);
    let again = build(&g, &corpus);
    assert!(image.bytes == again.bytes, "two builds differ");
    assert_eq!(image.bytes.len() as u64, size);
    assert_eq!(image.capacity, 64 * 4096);
    assert!(image.bytes[64 * 4096..].iter().all(|&b| b == 0xFF));

    // Installed in name order, back to back from the first block.
    let names: Vec<&str> = image.assets.iter().map(|a| a.name.as_str()).collect();
    let mut sorted = names.clone();
    sorted.sort();
    assert_eq!(names, sorted);
    let mut next = 0;
    for a in &image.assets {
        assert_eq!(a.offset, next, "{}", a.name);
        next += a.storage_size;
    }
    assert_eq!(image.used, next);
    assert!(image.bytes[next as usize..].iter().all(|&b| b == 0xFF));

    // What it uses is what the budget says.
    assert_eq!(image.used, budget_total(g, &corpus));

    let mut got = read_back::<4, 4096>(&image.bytes, 64 * 4096);
    got.sort();
    let mut want: Vec<([u8; 32], Vec<u8>)> = corpus
        .assets
        .iter()
        .map(|(_, raw, _)| (Sha256::digest(raw).into(), raw.clone()))
        .collect();
    want.sort();
    assert!(got == want, "the device reads back other bytes");

    let report = store_image::check(&g, &image.bytes, &corpus.expected()).unwrap();
    assert_eq!((report.used, report.capacity), (image.used, image.capacity));
    let n = corpus.assets.len();
    assert_eq!((report.assets, report.extents), (n, n));
}

#[test]
fn other_geometries_build_and_read_back() {
    let corpus = Corpus::standard();
    let g = geometry(1, 256, 2000 * 256);
    let image = build(&g, &corpus);
    assert_eq!(image.used, budget_total(g, &corpus));
    let n = corpus.assets.len();
    assert_eq!(read_back::<1, 256>(&image.bytes, 2000 * 256).len(), n);
    let g = geometry(16, 65536, 8 * 65536);
    let image = build(&g, &corpus);
    assert_eq!(image.used, budget_total(g, &corpus));
    assert_eq!(read_back::<16, 65536>(&image.bytes, 8 * 65536).len(), n);
    store_image::check(&g, &image.bytes, &corpus.expected()).unwrap();
}

#[test]
fn equal_bytes_are_stored_once() {
    let mut corpus = Corpus::standard();
    let copy = corpus.assets[0].1.clone();
    corpus.assets.push(("a-copy.txt".into(), copy, DEFLATE12));
    let g = geometry(4, 4096, 64 * 4096);
    let image = build(&g, &corpus);
    // In name order the copy comes first: the later one costs nothing.
    let dup = image
        .assets
        .iter()
        .find(|a| a.name == "z-last.txt")
        .unwrap();
    assert_eq!(dup.same_as.as_deref(), Some("a-copy.txt"));
    let first = image
        .assets
        .iter()
        .find(|a| a.name == "a-copy.txt")
        .unwrap();
    assert_eq!((first.same_as.as_deref(), first.offset), (None, dup.offset));
    let without = budget_total(g, &Corpus::standard());
    assert_eq!(image.used, without);
    assert_eq!(budget_total(g, &corpus), without + dup.storage_size);
    let n = corpus.assets.len();
    assert_eq!(read_back::<4, 4096>(&image.bytes, 64 * 4096).len(), n - 1);
    let report = store_image::check(&g, &image.bytes, &corpus.expected()).unwrap();
    assert_eq!((report.assets, report.extents), (n, n - 1));
}

#[test]
#[cfg_attr(not(feature = "xz"), ignore = "needs assetota-core's `xz`")]
fn a_large_xz_dictionary_works() {
    let corpus = Corpus {
        assets: vec![("x.txt".into(), bytes(9, 20_000, true), DEFAULT_XZ)],
    };
    let g = geometry(8, 4096, 16 * 4096);
    let image = build(&g, &corpus);
    assert_eq!(image.assets[0].codec, DEFAULT_XZ);
    assert_eq!(
        read_back::<8, 4096>(&image.bytes, 16 * 4096)[0].1,
        corpus.assets[0].1
    );
    store_image::check(&g, &image.bytes, &corpus.expected()).unwrap();
}

#[cfg(not(feature = "xz"))]
#[test]
fn without_xz_an_xz_asset_is_an_encode_error() {
    let a = ImageAsset {
        name: "x",
        bytes: b"some bytes",
        codec: XZ64K,
    };
    let err = store_image::build(&geometry(4, 4096, 8 * 4096), &[a]).unwrap_err();
    assert!(
        matches!(&err, ImageError::Encode { asset, .. } if asset == "x"),
        "{err:?}"
    );
}

#[test]
fn an_empty_corpus_is_an_erased_partition() {
    let g = geometry(4, 4096, 8 * 4096);
    let image = store_image::build(&g, &[]).unwrap();
    assert!(image.bytes.iter().all(|&b| b == 0xFF));
    assert_eq!(image.used, 0);
    store_image::check(&g, &image.bytes, &[]).unwrap();
}

#[test]
fn too_small_a_partition_names_the_asset_and_the_numbers() {
    let corpus = Corpus::standard();
    let g = geometry(4, 4096, 8 * 4096);
    let total = budget_total(g, &corpus);
    assert!(total > 8 * 4096);
    let err = store_image::build(&g, &corpus.image_assets()).unwrap_err();
    let ImageError::NoSpace {
        asset,
        need,
        free,
        capacity,
        total: all,
        ..
    } = &err
    else {
        panic!("{err:?}")
    };
    assert_eq!(*capacity, 8 * 4096);
    assert_eq!(*all, total);
    assert!(need > free);
    let msg = err.to_string();
    for part in [
        format!("`{asset}`"),
        format!("needs {need} B"),
        format!("{free} B are free"),
        format!("{total} B"),
        format!("{} B more", total - 8 * 4096),
    ] {
        assert!(msg.contains(&part), "{msg} lacks {part}");
    }
}

#[test]
fn geometries_the_store_refuses_are_errors() {
    let corpus = Corpus::standard();
    for g in [
        geometry(4, 128, 4096),
        geometry(64, 4096, 65536),
        geometry(4, 4096, 4000),
    ] {
        let err = store_image::build(&g, &corpus.image_assets()).unwrap_err();
        assert!(matches!(err, ImageError::Geometry { .. }), "{err:?}");
    }
    let err = store_image::build(&geometry(4, 4096, 1 << 33), &[]).unwrap_err();
    assert!(
        matches!(err, ImageError::PartitionTooLarge { .. }),
        "{err:?}"
    );
}

#[test]
fn an_image_for_another_geometry_is_refused_at_mount() {
    let corpus = Corpus::standard();
    let size = 32 * 8192;
    let image = build(&geometry(4, 4096, size), &corpus);
    // The store itself, on a device whose flash erases 8 KiB.
    let err = Store::<_, 32>::mount(ReadOnlyFlash::<4, 8192>::new(&image.bytes), 0..size as u32)
        .unwrap_err();
    assert!(
        matches!(
            err,
            Error::ForeignLayout {
                block_size: 4096,
                expected_block_size: 8192,
                ..
            }
        ),
        "{err:?}"
    );
    // And by the check, for another erase size or another write size (word).
    for other in [geometry(4, 8192, size), geometry(16, 4096, size)] {
        let err = store_image::check(&other, &image.bytes, &corpus.expected()).unwrap_err();
        assert!(
            matches!(
                err,
                ImageError::Mount {
                    source: Error::ForeignLayout { .. }
                }
            ),
            "{err:?}"
        );
    }
}

#[test]
fn the_check_refuses_damage_missing_and_extra_assets() {
    let corpus = Corpus::standard();
    let g = geometry(4, 4096, 64 * 4096);
    let image = build(&g, &corpus);
    let expected = corpus.expected();

    let big = image.assets.iter().find(|a| a.name == "big.txt").unwrap();
    let mut damaged = image.bytes.clone();
    damaged[(big.offset + 4096 + 100) as usize] ^= 0x04;
    let err = store_image::check(&g, &damaged, &expected).unwrap_err();
    assert!(
        matches!(&err, ImageError::Mismatch { asset, .. } if asset == "big.txt"),
        "{err:?}"
    );

    let mut more = expected.clone();
    let absent = [7u8; 32];
    more.push(Expected {
        name: "absent",
        size: 1,
        sha256: absent,
    });
    let err = store_image::check(&g, &image.bytes, &more).unwrap_err();
    assert!(
        matches!(&err, ImageError::Missing { asset, .. } if asset == "absent"),
        "{err:?}"
    );

    let fewer = &expected[1..];
    let err = store_image::check(&g, &image.bytes, fewer).unwrap_err();
    assert!(
        matches!(
            err,
            ImageError::Unexpected {
                committed: true,
                ..
            }
        ),
        "{err:?}"
    );

    let err = store_image::check(&g, &image.bytes[..4096], &expected).unwrap_err();
    assert!(matches!(err, ImageError::ImageSize { .. }), "{err:?}");
}

#[test]
fn duplicate_names_are_refused() {
    let a = ImageAsset {
        name: "a",
        bytes: b"1",
        codec: Codec::None,
    };
    let err = store_image::build(&geometry(4, 4096, 8 * 4096), &[a, a]).unwrap_err();
    assert!(matches!(err, ImageError::DuplicateName(n) if n == "a"));
}

/// An Intel HEX reader from the format's specification: every record's
/// checksum, extended linear (04) and extended segment (02) addresses, data
/// records (00), end of file (01) last.
fn parse_hex(text: &str) -> Vec<(u64, u8)> {
    let mut base = 0u64;
    let mut out = Vec::new();
    let mut ended = false;
    for line in text.split("\r\n").filter(|l| !l.is_empty()) {
        assert!(!ended, "a record after the end of file");
        let raw: Vec<u8> = (1..line.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&line[i..i + 2], 16).unwrap())
            .collect();
        assert_eq!(&line[..1], ":");
        assert_eq!(
            raw.iter().fold(0u8, |a, b| a.wrapping_add(*b)),
            0,
            "checksum of {line}"
        );
        let len = raw[0] as usize;
        assert_eq!(raw.len(), len + 5);
        let offset = u64::from(u16::from_be_bytes([raw[1], raw[2]]));
        let data = &raw[4..4 + len];
        match raw[3] {
            0 => {
                assert!(len <= 16, "records of at most 16 data bytes");
                for (i, b) in data.iter().enumerate() {
                    out.push((base + offset + i as u64, *b));
                }
            }
            1 => ended = true,
            2 => base = u64::from(u16::from_be_bytes([data[0], data[1]])) << 4,
            4 => base = u64::from(u16::from_be_bytes([data[0], data[1]])) << 16,
            t => panic!("record type {t}"),
        }
    }
    assert!(ended);
    out
}

#[test]
fn intel_hex_places_every_byte_at_its_address() {
    let store = bytes(5, 70_000, false);
    let fw: Vec<u8> = bytes(6, 1000, false);
    // The store crosses a 64 KiB boundary; the firmware sits below it.
    let segments = [
        Segment {
            name: "store partition",
            address: 0x0801_8000,
            bytes: &store,
        },
        Segment {
            name: "firmware",
            address: 0x0800_0003,
            bytes: &fw,
        },
    ];
    let text = String::from_utf8(store_image::intel_hex(&segments, false).unwrap()).unwrap();
    let got = parse_hex(&text);
    let mut want: Vec<(u64, u8)> = (0..fw.len())
        .map(|i| (0x0800_0003 + i as u64, fw[i]))
        .collect();
    want.extend((0..store.len()).map(|i| (0x0801_8000 + i as u64, store[i])));
    assert!(got == want);
    assert!(text.ends_with(":00000001FF\r\n"));

    // Skipping erased records keeps every other byte where it was.
    let mut sparse = vec![0xFFu8; 4096];
    sparse[100] = 1;
    sparse[4000] = 2;
    let seg = [Segment {
        name: "store partition",
        address: 0x1000,
        bytes: &sparse,
    }];
    let text = String::from_utf8(store_image::intel_hex(&seg, true).unwrap()).unwrap();
    let got = parse_hex(&text);
    assert_eq!(got.len(), 32);
    assert!(got.contains(&(0x1000 + 100, 1)) && got.contains(&(0x1000 + 4000, 2)));
    assert!(
        got.iter()
            .all(|&(a, b)| b == 0xFF || a == 0x1064 || a == 0x1FA0)
    );
}

#[test]
fn overlapping_or_unaddressable_segments_are_refused() {
    let a = [0u8; 100];
    let overlap = [
        Segment {
            name: "store partition",
            address: 0x1000,
            bytes: &a,
        },
        Segment {
            name: "firmware",
            address: 0x1000 + 99,
            bytes: &a,
        },
    ];
    let err = store_image::intel_hex(&overlap, false).unwrap_err();
    assert!(matches!(err, ImageError::Overlap { .. }), "{err:?}");
    assert!(err.to_string().contains("0x1063"), "{err}");
    assert!(matches!(
        store_image::uf2(&overlap, None, false),
        Err(ImageError::Overlap { .. })
    ));
    let high = [Segment {
        name: "store partition",
        address: 0xFFFF_FFF0,
        bytes: &a,
    }];
    assert!(matches!(
        store_image::intel_hex(&high, false),
        Err(ImageError::AddressRange { .. })
    ));
}

#[test]
fn uf2_blocks_follow_the_specification() {
    let store = bytes(7, 3 * 256 + 10, false);
    let mut erased = store.clone();
    erased[256..512].fill(0xFF);
    let segments = [Segment {
        name: "store partition",
        address: 0x2000_0000,
        bytes: &erased,
    }];
    for (family, skip) in [(None, false), (Some(0xE48B_FF56), true)] {
        let file = store_image::uf2(&segments, family, skip).unwrap();
        assert_eq!(file.len() % 512, 0);
        let blocks: Vec<&[u8]> = file.chunks(512).collect();
        assert_eq!(blocks.len(), if skip { 3 } else { 4 });
        let word = |b: &[u8], i: usize| u32::from_le_bytes(b[i * 4..i * 4 + 4].try_into().unwrap());
        let mut image = vec![0xFFu8; 4 * 256];
        for (n, b) in blocks.iter().enumerate() {
            assert_eq!((word(b, 0), word(b, 1)), (0x0A32_4655, 0x9E5D_5157));
            assert_eq!(
                u32::from_le_bytes(b[508..].try_into().unwrap()),
                0x0AB1_6F30
            );
            assert_eq!(word(b, 4), 256);
            assert_eq!(word(b, 5), n as u32);
            assert_eq!(word(b, 6), blocks.len() as u32);
            match family {
                Some(id) => assert_eq!((word(b, 2), word(b, 7)), (UF2_FLAG_FAMILY_ID, id)),
                None => assert_eq!((word(b, 2), word(b, 7)), (0, 0)),
            }
            let at = (word(b, 3) - 0x2000_0000) as usize;
            assert_eq!(at % 256, 0);
            image[at..at + 256].copy_from_slice(&b[32..288]);
            assert!(b[288..508].iter().all(|&x| x == 0));
        }
        assert_eq!(&image[..erased.len()], &erased[..]);
        assert!(image[erased.len()..].iter().all(|&b| b == 0xFF));
    }
}
