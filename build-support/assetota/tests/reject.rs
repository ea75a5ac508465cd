//! One test per rejection rule: start from a valid manifest, break exactly one rule
//! (re-computing the CRC where needed so that rule, not the CRC, is what fires).

mod common;

use assetota::{DecodeError as E, Manifest};
use common::*;

fn three() -> Vec<u8> {
    build(
        "p2",
        &[Raw::new("a.bin"), Raw::new("b/c.txt"), Raw::new("d")],
    )
}

fn parse(b: &[u8]) -> Result<Manifest<'_>, E> {
    Manifest::parse(b)
}

#[test]
fn baseline_is_valid() {
    let b = three();
    let m = parse(&b).unwrap();
    assert_eq!(m.len(), 3);
    assert_eq!(m.platform(), Some("p2"));
}

#[test]
fn too_short() {
    let b = three();
    for n in 0..32 {
        assert_eq!(parse(&b[..n]).unwrap_err(), E::TooShort { len: n });
    }
}

#[test]
fn bad_magic() {
    let mut b = three();
    b[0..4].copy_from_slice(b"AOTB");
    assert_eq!(parse(&b).unwrap_err(), E::BadMagic { found: *b"AOTB" });
    // An ELF header is what a wrong locator most likely hands us.
    assert_eq!(
        parse(b"\x7fELF\x02\x01\x01\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0")
            .unwrap_err(),
        E::BadMagic { found: *b"\x7fELF" }
    );
}

#[test]
fn unsupported_version() {
    for v in [0u16, 2, 0xffff] {
        let mut b = three();
        put_u16(&mut b, 4, v);
        assert_eq!(parse(&b).unwrap_err(), E::UnsupportedVersion(v));
    }
    // Reported before anything a newer layout could change (here the header length).
    let mut b = three();
    put_u16(&mut b, 4, 2);
    put_u16(&mut b, 6, 48);
    assert_eq!(parse(&b).unwrap_err(), E::UnsupportedVersion(2));
    assert_eq!(
        E::UnsupportedVersion(2).to_string(),
        "manifest format v2 is newer than this runtime supports (v1); update assetota"
    );
}

#[test]
fn header_length() {
    let mut b = three();
    put_u16(&mut b, 6, 33);
    assert_eq!(parse(&b).unwrap_err(), E::HeaderLength(33));
}

#[test]
fn entry_length() {
    let mut b = three();
    put_u16(&mut b, 16, 65);
    assert_eq!(parse(&b).unwrap_err(), E::EntryLength(65));
}

#[test]
fn flags() {
    let mut b = three();
    put_u16(&mut b, 18, 1);
    recrc(&mut b);
    assert_eq!(parse(&b).unwrap_err(), E::Flags(1));
}

#[test]
fn reserved() {
    let mut b = three();
    put_u16(&mut b, 30, 0x8000);
    recrc(&mut b);
    assert_eq!(parse(&b).unwrap_err(), E::Reserved(0x8000));
}

#[test]
fn total_length_too_small() {
    for t in [0u32, 4, 35] {
        let mut b = three();
        put_u32(&mut b, 8, t);
        assert_eq!(
            parse(&b).unwrap_err(),
            E::TotalLengthTooSmall { total_len: t }
        );
    }
}

#[test]
fn truncated() {
    let b = three();
    let n = b.len();
    assert_eq!(
        parse(&b[..n - 1]).unwrap_err(),
        E::Truncated {
            total_len: n as u32,
            available: n - 1
        }
    );
    let mut b = three();
    put_u32(&mut b, 8, u32::MAX);
    assert_eq!(
        parse(&b).unwrap_err(),
        E::Truncated {
            total_len: u32::MAX,
            available: n
        }
    );
}

#[test]
fn crc_mismatch_reports_both_values() {
    let mut b = three();
    let n = b.len();
    let stored = u32::from_le_bytes(b[n - 4..].try_into().unwrap());
    b[40] ^= 1; // entry 0's size
    let computed = crc32(&b[..n - 4]);
    assert_ne!(stored, computed);
    assert_eq!(parse(&b).unwrap_err(), E::Crc { stored, computed });
    // A corrupted trailer is the same rule.
    let mut b = three();
    b[n - 1] ^= 0x80;
    assert!(matches!(parse(&b).unwrap_err(), E::Crc { .. }));
}

#[test]
fn string_table_offset() {
    let mut b = three();
    put_u32(&mut b, 20, 32 + 64 * 3 + 4);
    recrc(&mut b);
    assert_eq!(
        parse(&b).unwrap_err(),
        E::StringTableOffset {
            expected: 224,
            found: 228
        }
    );
    // An entry count that does not match the table moves the expected offset.
    let mut b = three();
    put_u32(&mut b, 12, 2);
    recrc(&mut b);
    assert_eq!(
        parse(&b).unwrap_err(),
        E::StringTableOffset {
            expected: 160,
            found: 224
        }
    );
    // A huge count cannot overflow anything.
    let mut b = three();
    put_u32(&mut b, 12, u32::MAX);
    recrc(&mut b);
    assert_eq!(
        parse(&b).unwrap_err(),
        E::StringTableOffset {
            expected: 32 + 64 * u64::from(u32::MAX),
            found: 224
        }
    );
}

#[test]
fn layout_extra_bytes_before_crc() {
    let b = three();
    let n = b.len();
    let mut c = b[..n - 4].to_vec();
    c.extend_from_slice(&[0; 4]);
    c.extend_from_slice(&[0; 4]); // room for the new CRC
    put_u32(&mut c, 8, (n + 4) as u32);
    recrc(&mut c);
    assert_eq!(
        parse(&c).unwrap_err(),
        E::Layout {
            expected: n as u64,
            total_len: (n + 4) as u32
        }
    );
}

#[test]
fn layout_string_table_length_past_end() {
    let mut b = three();
    let len = u32::from_le_bytes(b[24..28].try_into().unwrap());
    put_u32(&mut b, 24, len + 8);
    recrc(&mut b);
    assert!(matches!(parse(&b).unwrap_err(), E::Layout { .. }));
    let mut b = three();
    put_u32(&mut b, 24, u32::MAX);
    recrc(&mut b);
    assert!(matches!(parse(&b).unwrap_err(), E::Layout { .. }));
}

#[test]
fn padding() {
    // "p2" + "a.bin" + "b/c.txt" + "d" = 15 bytes: one byte of padding at 224 + 15.
    let mut b = three();
    assert_eq!(b.len(), 224 + 16 + 4);
    b[239] = 0x20;
    recrc(&mut b);
    assert_eq!(parse(&b).unwrap_err(), E::Padding { offset: 239 });
}

#[test]
fn platform_out_of_bounds() {
    let mut b = three();
    put_u16(&mut b, 28, 16);
    recrc(&mut b);
    assert_eq!(
        parse(&b).unwrap_err(),
        E::PlatformOutOfBounds {
            platform_len: 16,
            string_table_len: 15
        }
    );
}

#[test]
fn platform_not_utf8() {
    let b = build_with(b"p\xff", &[Raw::new("a")], &[]);
    assert_eq!(parse(&b).unwrap_err(), E::PlatformNotUtf8);
}

#[test]
fn empty_name() {
    let b = build("", &[Raw::new("a"), Raw::new("")]);
    assert_eq!(parse(&b).unwrap_err(), E::EmptyName { index: 1 });
}

#[test]
fn name_out_of_bounds() {
    let mut b = three();
    put_u16(&mut b, entry(2) + 4, 2); // "d" claims 2 bytes; the table has 1 left
    recrc(&mut b);
    assert_eq!(parse(&b).unwrap_err(), E::NameOutOfBounds { index: 2 });
    let mut b = three();
    put_u32(&mut b, entry(0), u32::MAX);
    recrc(&mut b);
    assert_eq!(parse(&b).unwrap_err(), E::NameOutOfBounds { index: 0 });
}

#[test]
fn name_offset_not_contiguous() {
    // Entry 1 pointing back at the platform name: in bounds, but not where it belongs.
    let mut b = three();
    put_u32(&mut b, entry(1), 0);
    recrc(&mut b);
    assert_eq!(
        parse(&b).unwrap_err(),
        E::NameOffset {
            index: 1,
            expected: 7,
            found: 0
        }
    );
    // Names overlapping the platform name.
    let mut b = three();
    put_u32(&mut b, entry(0), 1);
    recrc(&mut b);
    assert_eq!(
        parse(&b).unwrap_err(),
        E::NameOffset {
            index: 0,
            expected: 2,
            found: 1
        }
    );
}

#[test]
fn name_not_utf8() {
    for bad in [
        &b"\xff"[..],
        b"a\xc3",
        b"\xed\xa0\x80", /* surrogate */
        b"\xc0\xaf",     /* overlong */
    ] {
        let b = build_with(b"", &[Raw::bytes(bad)], &[]);
        assert_eq!(
            parse(&b).unwrap_err(),
            E::NameNotUtf8 { index: 0 },
            "{bad:?}"
        );
    }
}

#[test]
fn names_not_sorted_or_duplicate() {
    let b = build("", &[Raw::new("b"), Raw::new("a")]);
    assert_eq!(parse(&b).unwrap_err(), E::NotSorted { index: 1 });
    let b = build("", &[Raw::new("a"), Raw::new("b"), Raw::new("b")]);
    assert_eq!(parse(&b).unwrap_err(), E::NotSorted { index: 2 });
    // Byte-wise, not by char or case: "B" (0x42) < "a" (0x61) < "é" (0xc3 0xa9).
    let b = build("", &[Raw::new("B"), Raw::new("a"), Raw::new("é")]);
    assert!(parse(&b).is_ok());
    let b = build("", &[Raw::new("a"), Raw::new("B")]);
    assert_eq!(parse(&b).unwrap_err(), E::NotSorted { index: 1 });
    // A prefix sorts first.
    let b = build("", &[Raw::new("ab"), Raw::new("a")]);
    assert_eq!(parse(&b).unwrap_err(), E::NotSorted { index: 1 });
}

fn with_codec(id: u8, param: u8) -> Result<assetota::Codec, E> {
    let mut r = Raw::new("x");
    r.codec = id;
    r.param = param;
    let b = build("", &[r]);
    Manifest::parse(&b).map(|m| m.asset(0).unwrap().codec())
}

#[test]
fn codec_ids_and_parameters() {
    use assetota::Codec;
    assert_eq!(with_codec(0, 0), Ok(Codec::None));
    assert_eq!(with_codec(1, 8), Ok(Codec::Deflate { window_bits: 8 }));
    assert_eq!(with_codec(1, 15), Ok(Codec::Deflate { window_bits: 15 }));
    assert_eq!(with_codec(2, 12), Ok(Codec::Xz { dict_log2: 12 }));
    assert_eq!(with_codec(2, 30), Ok(Codec::Xz { dict_log2: 30 }));
    for (id, param) in [(0, 1), (1, 0), (1, 7), (1, 16), (2, 11), (2, 31), (2, 0)] {
        assert_eq!(
            with_codec(id, param),
            Err(E::CodecParameter {
                index: 0,
                id,
                param
            })
        );
    }
    for id in [3u8, 0x80, 0xff] {
        assert_eq!(with_codec(id, 0), Err(E::UnknownCodec { index: 0, id }));
    }
}

#[test]
fn stored_smaller_than_compressed() {
    let mut r = Raw::new("x");
    r.compressed = 100;
    r.stored = 99;
    let b = build("", &[Raw::new("a"), r.clone()]);
    assert_eq!(
        parse(&b).unwrap_err(),
        E::StoredSize {
            index: 1,
            compressed: 100,
            stored: 99
        }
    );
    r.stored = 100;
    assert!(parse(&build("", &[r.clone()])).is_ok());
    // Sizes are otherwise unconstrained (a codec may expand its input).
    r.size = 0;
    r.compressed = u64::MAX;
    r.stored = u64::MAX;
    assert!(parse(&build("", &[r])).is_ok());
}

#[test]
fn string_table_longer_than_names() {
    let b = build_with(b"p2", &[Raw::new("a")], b"zz");
    assert_eq!(
        parse(&b).unwrap_err(),
        E::StringTableLength {
            expected: 3,
            found: 5
        }
    );
    // Bytes nobody references, even with no entries.
    let b = build_with(b"", &[], b"x");
    assert_eq!(
        parse(&b).unwrap_err(),
        E::StringTableLength {
            expected: 0,
            found: 1
        }
    );
}

#[test]
fn longer_input_is_fine() {
    let b = three();
    let mut padded = b.clone();
    padded.extend_from_slice(&[0xff; 100]);
    let m = parse(&padded).unwrap();
    assert_eq!(m.as_bytes(), &b[..]);
    assert_eq!(m.byte_len(), b.len());
    assert_eq!(m, parse(&b).unwrap());
}

#[test]
fn every_error_displays() {
    let errs = [
        E::TooShort { len: 3 },
        E::BadMagic { found: *b"ABCD" },
        E::Crc {
            stored: 1,
            computed: 2,
        },
        E::Padding { offset: 9 },
        E::NotSorted { index: 4 },
        E::StringTableLength {
            expected: 3,
            found: 5,
        },
    ];
    for e in errs {
        let s = e.to_string();
        assert!(s.starts_with("manifest"), "{s}");
    }
    assert_eq!(
        E::Crc {
            stored: 0xdeadbeef,
            computed: 0x1
        }
        .to_string(),
        "manifest CRC-32 mismatch: stored 0xdeadbeef, computed 0x00000001"
    );
    let _: &dyn core::error::Error = &E::PlatformNotUtf8;
}

#[test]
fn bad_magic_message_shows_bytes() {
    assert_eq!(
        E::BadMagic { found: *b"\x7fELF" }.to_string(),
        "manifest magic is 7f 45 4c 46, expected 41 4f 54 41 (\"AOTA\"): not an assetota manifest"
    );
}
