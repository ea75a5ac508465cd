//! Codec, Embedded and the fixed constants.

use assetota::{Codec, Embedded, FORMAT_VERSION, MAGIC, SECTION, SYMBOL};

#[test]
fn constants() {
    assert_eq!(SECTION, ".assetota");
    assert_eq!(SYMBOL, "__ASSETOTA_MANIFEST");
    assert_eq!(&MAGIC, b"AOTA");
    assert_eq!(FORMAT_VERSION, 1);
}

#[test]
fn codec_from_parts_accepts_exactly_the_documented_ranges() {
    for id in 0..=255u8 {
        for param in 0..=255u8 {
            let expected = match (id, param) {
                (0, 0) => Some(Codec::None),
                (1, 8..=15) => Some(Codec::Deflate { window_bits: param }),
                (2, 12..=30) => Some(Codec::Xz { dict_log2: param }),
                _ => None,
            };
            let got = Codec::from_parts(id, param);
            assert_eq!(got, expected, "({id}, {param})");
            if let Some(c) = got {
                assert_eq!((c.id(), c.param()), (id, param));
                assert!(c.is_valid());
            }
        }
    }
    assert!(!Codec::Deflate { window_bits: 16 }.is_valid());
    assert!(!Codec::Xz { dict_log2: 31 }.is_valid());
}

#[test]
fn codec_display() {
    assert_eq!(Codec::None.to_string(), "none");
    assert_eq!(
        Codec::Deflate { window_bits: 15 }.to_string(),
        "deflate (window 15)"
    );
    assert_eq!(
        Codec::Xz { dict_log2: 23 }.to_string(),
        "xz (dictionary 2^23)"
    );
    assert_eq!(Codec::Xz { dict_log2: 23 }.name(), "xz");
}

static GOLDEN: Embedded<112> = Embedded::new(*include_bytes!("golden/one-asset-p2.bin"));
static PADDED: Embedded<120> = Embedded::new({
    let mut b = [0xffu8; 120];
    let src = include_bytes!("golden/one-asset-p2.bin");
    let mut i = 0;
    while i < src.len() {
        b[i] = src[i];
        i += 1;
    }
    b
});

#[test]
fn embedded() {
    assert_eq!(GOLDEN.bytes(), include_bytes!("golden/one-asset-p2.bin"));
    let m = GOLDEN.manifest().unwrap();
    assert_eq!(m.platform(), Some("p2"));
    assert_eq!(m.get("hello.txt").unwrap().size(), 6);
    // A section padded past the manifest (alignment, erased flash).
    let m = PADDED.manifest().unwrap();
    assert_eq!(m.byte_len(), 112);
    assert_eq!(PADDED.bytes().len(), 120);
}
