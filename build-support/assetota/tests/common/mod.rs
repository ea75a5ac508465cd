//! Test-side manifest writer, independent of the crate (and of assetota-core's
//! encoder): it lays bytes out as docs/manifest-format.md says and does no
//! validation, so tests can build invalid manifests on purpose.
#![allow(dead_code)]

/// One raw entry.
#[derive(Clone, Debug)]
pub struct Raw {
    pub name: Vec<u8>,
    pub codec: u8,
    pub param: u8,
    pub size: u64,
    pub compressed: u64,
    pub stored: u64,
    pub sha: [u8; 32],
}

impl Raw {
    pub fn new(name: &str) -> Raw {
        Raw::bytes(name.as_bytes())
    }

    pub fn bytes(name: &[u8]) -> Raw {
        // A content-dependent, arbitrary digest so different names differ.
        let mut sha = [0u8; 32];
        for (i, b) in name.iter().enumerate() {
            sha[i % 32] ^= b.rotate_left(i as u32 % 8);
        }
        sha[31] ^= name.len() as u8;
        Raw {
            name: name.to_vec(),
            codec: 1,
            param: 15,
            size: 100,
            compressed: 60,
            stored: 200,
            sha,
        }
    }
}

/// Bitwise CRC-32 (IEEE, reflected, poly 0xEDB88320): the zlib checksum,
/// from the std-only hostile-zip writer (as independent of the crate as this file).
pub use assetota_raw_zip::crc32;

/// Lays out a manifest; `extra` is appended to the string table after the names.
pub fn build_with(platform: &[u8], entries: &[Raw], extra: &[u8]) -> Vec<u8> {
    let n = entries.len();
    let mut strtab = platform.to_vec();
    let mut offs = Vec::new();
    for e in entries {
        offs.push(strtab.len() as u32);
        strtab.extend_from_slice(&e.name);
    }
    strtab.extend_from_slice(extra);
    let strtab_off = 32 + 64 * n;
    let padded = (strtab_off + strtab.len()).div_ceil(4) * 4;
    let total = padded + 4;
    let mut b = Vec::with_capacity(total);
    b.extend_from_slice(b"AOTA");
    b.extend_from_slice(&1u16.to_le_bytes());
    b.extend_from_slice(&32u16.to_le_bytes());
    b.extend_from_slice(&(total as u32).to_le_bytes());
    b.extend_from_slice(&(n as u32).to_le_bytes());
    b.extend_from_slice(&64u16.to_le_bytes());
    b.extend_from_slice(&0u16.to_le_bytes());
    b.extend_from_slice(&(strtab_off as u32).to_le_bytes());
    b.extend_from_slice(&(strtab.len() as u32).to_le_bytes());
    b.extend_from_slice(&(platform.len() as u16).to_le_bytes());
    b.extend_from_slice(&0u16.to_le_bytes());
    for (e, off) in entries.iter().zip(offs) {
        b.extend_from_slice(&off.to_le_bytes());
        b.extend_from_slice(&(e.name.len() as u16).to_le_bytes());
        b.push(e.codec);
        b.push(e.param);
        b.extend_from_slice(&e.size.to_le_bytes());
        b.extend_from_slice(&e.compressed.to_le_bytes());
        b.extend_from_slice(&e.stored.to_le_bytes());
        b.extend_from_slice(&e.sha);
    }
    b.extend_from_slice(&strtab);
    b.resize(padded, 0);
    let crc = crc32(&b);
    b.extend_from_slice(&crc.to_le_bytes());
    assert_eq!(b.len(), total);
    b
}

pub fn build(platform: &str, entries: &[Raw]) -> Vec<u8> {
    build_with(platform.as_bytes(), entries, &[])
}

/// Rewrites the CRC trailer (as given by the total length field) after a corruption.
pub fn recrc(b: &mut [u8]) {
    let total = u32::from_le_bytes(b[8..12].try_into().unwrap()) as usize;
    let crc = crc32(&b[..total - 4]);
    b[total - 4..total].copy_from_slice(&crc.to_le_bytes());
}

pub fn put_u16(b: &mut [u8], at: usize, v: u16) {
    b[at..at + 2].copy_from_slice(&v.to_le_bytes());
}

pub fn put_u32(b: &mut [u8], at: usize, v: u32) {
    b[at..at + 4].copy_from_slice(&v.to_le_bytes());
}

pub fn put_u64(b: &mut [u8], at: usize, v: u64) {
    b[at..at + 8].copy_from_slice(&v.to_le_bytes());
}

/// Offset of entry `i`'s first byte.
pub fn entry(i: usize) -> usize {
    32 + 64 * i
}

pub fn hex32(s: &str) -> [u8; 32] {
    assert_eq!(s.len(), 64, "{s}");
    let mut out = [0u8; 32];
    for (i, o) in out.iter_mut().enumerate() {
        *o = u8::from_str_radix(&s[2 * i..2 * i + 2], 16).unwrap();
    }
    out
}

pub fn golden(file: &str) -> Vec<u8> {
    let path = format!("{}/tests/golden/{file}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}
