//! Fuzzes the device-side decoder: nothing may panic, and whatever `parse` accepts
//! must be internally consistent.
//!
//! Run: cargo +nightly fuzz run manifest_decode fuzz/seeds/manifest_decode -- -max_total_time=60
#![no_main]

use assetota::{Codec, Manifest};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(m) = Manifest::parse(data) {
        exercise(&m, data);
    }
    if let Some((at, m)) = Manifest::find_in(data) {
        assert_eq!(data.get(at..at + m.byte_len()), Some(m.as_bytes()));
        exercise(&m, data);
    }
    // Almost every mutation breaks the CRC, which would keep the fuzzer in front of the
    // structural rules; a copy with the CRC recomputed gets past it.
    let mut fixed = data.to_vec();
    if fix_crc(&mut fixed) {
        if let Ok(m) = Manifest::parse(&fixed) {
            exercise(&m, &fixed);
        }
    }
});

/// Rewrites the CRC trailer where the total length field says it is, if that is inside
/// the buffer. The CRC is computed here bitwise, independently of the crate.
fn fix_crc(b: &mut [u8]) -> bool {
    let Some(total) = b
        .get(8..12)
        .map(|t| u32::from_le_bytes(t.try_into().unwrap()) as usize)
    else {
        return false;
    };
    if total < 4 || total > b.len() {
        return false;
    }
    let mut crc = 0xFFFF_FFFFu32;
    for &byte in &b[..total - 4] {
        crc ^= u32::from(byte);
        for _ in 0..8 {
            crc = if crc & 1 != 0 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    b[total - 4..total].copy_from_slice(&(!crc).to_le_bytes());
    true
}

fn exercise(m: &Manifest<'_>, data: &[u8]) {
    assert_eq!(m.iter().len(), m.len());
    assert_eq!(m.iter().count(), m.len());
    assert_eq!(m.iter().rev().count(), m.len());
    assert!(m.asset(m.len()).is_none());
    let _ = m.platform();

    let mut prev: Option<&str> = None;
    let mut stored: [(&str, [u8; 32]); 4] = [("", [0; 32]); 4];
    for (i, a) in m.iter().enumerate() {
        assert_eq!(m.asset(i), Some(a));
        // Names taken from the input itself, found by binary search.
        assert_eq!(m.get(a.name()), Some(a));
        assert!(prev.is_none_or(|p| p.as_bytes() < a.name().as_bytes()));
        assert!(a.stored_size() >= a.compressed_size());
        assert_eq!(
            Codec::from_parts(a.codec().id(), a.codec().param()),
            Some(a.codec())
        );
        prev = Some(a.name());
        if let Some(slot) = stored.get_mut(i) {
            // Even slots hold the asset as is, odd ones a stale copy.
            let mut sha = *a.sha256();
            if i % 2 == 1 {
                sha[0] ^= 1;
            }
            *slot = (a.name(), sha);
        }
    }
    // Names that are not in the manifest: prefixes and extensions of real ones.
    if let Some(a) = m.asset(0) {
        let n = a.name();
        for cut in 0..n.len() {
            if let Some(p) = n.get(..cut) {
                let _ = m.get(p);
            }
        }
    }

    // missing(): everything except the even slots among the first four assets.
    let used = m.len().min(stored.len());
    let missing: usize = m.missing(&stored[..used]).count();
    assert_eq!(missing, m.len() - used.div_ceil(2));
    assert_eq!(m.missing(&stored[..used]).rev().count(), missing);

    // Verifier: the manifest bytes themselves as a payload, split at an input-chosen point.
    if let Some(a) = m.asset(m.len().saturating_sub(1)) {
        let split = data.first().map_or(0, |&b| usize::from(b)).min(data.len());
        let mut v = a.verifier();
        v.update(&data[..split]);
        v.update(&data[split..]);
        let _ = v.finish().map_err(|e| e.to_string());
        let _ = a.sha256_hex().to_string();
    }
}
