//! Property tests: no panic on any input, and lookups against simple models.

mod common;

use std::collections::BTreeMap;

use assetota::{Codec, DecodeError, Manifest};
use common::{Raw, build_with, recrc};
use proptest::collection::{btree_map, vec};
use proptest::prelude::*;

fn codec() -> impl Strategy<Value = (u8, u8)> {
    prop_oneof![
        Just((0u8, 0u8)),
        (8u8..=15).prop_map(|p| (1, p)),
        (12u8..=30).prop_map(|p| (2, p))
    ]
}

fn raw_entry() -> impl Strategy<Value = (u64, u64, u64, [u8; 32], (u8, u8))> {
    (
        any::<u64>(),
        any::<u64>(),
        any::<u64>(),
        any::<[u8; 32]>(),
        codec(),
    )
        .prop_map(|(size, a, b, sha, c)| (size, a.min(b), a.max(b), sha, c))
}

/// Name -> entry fields; a BTreeMap<String, _> iterates in byte-wise name order.
type Model = BTreeMap<String, (u64, u64, u64, [u8; 32], (u8, u8))>;

fn model() -> impl Strategy<Value = (String, Model)> {
    let name = prop_oneof![
        "[a-z]{1,3}(/[a-z0-9._-]{1,6}){0,2}",
        "\\PC{1,6}", // any printable Unicode
    ];
    ("[a-z0-9]{0,8}", btree_map(name, raw_entry(), 0..12))
}

fn encode(platform: &str, m: &Model) -> Vec<u8> {
    let raws: Vec<Raw> = m
        .iter()
        .map(
            |(name, &(size, compressed, stored, sha, (codec, param)))| Raw {
                name: name.as_bytes().to_vec(),
                codec,
                param,
                size,
                compressed,
                stored,
                sha,
            },
        )
        .collect();
    build_with(platform.as_bytes(), &raws, &[])
}

/// Internal consistency of whatever `parse` accepted.
fn assert_consistent(m: &Manifest<'_>) {
    assert_eq!(m.iter().count(), m.len());
    assert_eq!(m.iter().rev().count(), m.len());
    assert!(m.asset(m.len()).is_none());
    let mut prev: Option<&str> = None;
    for (i, a) in m.iter().enumerate() {
        assert_eq!(m.asset(i), Some(a));
        assert_eq!(m.get(a.name()), Some(a));
        assert!(!a.name().is_empty());
        assert!(prev.is_none_or(|p| p.as_bytes() < a.name().as_bytes()));
        assert!(a.stored_size() >= a.compressed_size());
        assert_eq!(
            Codec::from_parts(a.codec().id(), a.codec().param()),
            Some(a.codec())
        );
        prev = Some(a.name());
    }
    assert_eq!(m.as_bytes().len(), m.byte_len());
    let _ = m.missing(&[]).count();
}

fn valid_and_position() -> impl Strategy<Value = (Vec<u8>, prop::sample::Index)> {
    (model(), any::<prop::sample::Index>()).prop_map(|((p, m), i)| (encode(&p, &m), i))
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_bytes_never_panic(bytes in vec(any::<u8>(), 0..600)) {
        if let Ok(m) = Manifest::parse(&bytes) { assert_consistent(&m); }
        if let Some((_, m)) = Manifest::find_in(&bytes) { assert_consistent(&m); }
    }

    #[test]
    fn arbitrary_bytes_behind_a_valid_header_prefix_never_panic(
        tail in vec(any::<u8>(), 0..600),
        count in 0u32..4,
    ) {
        let mut b = b"AOTA\x01\x00\x20\x00".to_vec();
        b.extend_from_slice(&((36 + 64 * count + tail.len() as u32) & !3).to_le_bytes());
        b.extend_from_slice(&count.to_le_bytes());
        b.extend_from_slice(b"\x40\x00\x00\x00");
        b.extend_from_slice(&tail);
        if b.len() >= 12 { recrc_if_possible(&mut b); }
        if let Ok(m) = Manifest::parse(&b) { assert_consistent(&m); }
        let _ = Manifest::find_in(&b);
    }

    #[test]
    fn round_trip_through_the_test_writer((platform, model) in model()) {
        let b = encode(&platform, &model);
        let m = Manifest::parse(&b).unwrap();
        prop_assert_eq!(m.platform(), (!platform.is_empty()).then_some(platform.as_str()));
        prop_assert_eq!(m.len(), model.len());
        for (a, (name, &(size, compressed, stored, sha, (id, param)))) in m.iter().zip(&model) {
            prop_assert_eq!(a.name(), name.as_str());
            prop_assert_eq!(a.size(), size);
            prop_assert_eq!(a.compressed_size(), compressed);
            prop_assert_eq!(a.stored_size(), stored);
            prop_assert_eq!(a.sha256(), &sha);
            prop_assert_eq!((a.codec().id(), a.codec().param()), (id, param));
        }
        assert_consistent(&m);
    }

    #[test]
    fn flipped_bytes_never_panic((b, i) in valid_and_position(), mask in 1u8..=255, fix_crc: bool) {
        let mut b = b;
        let at = i.index(b.len());
        b[at] ^= mask;
        if fix_crc { recrc_if_possible(&mut b); }
        match Manifest::parse(&b) {
            Ok(m) => assert_consistent(&m),
            Err(e) => { let _ = e.to_string(); }
        }
        // Without a CRC fix every single-byte flip is caught: in the header by its own
        // rule, anywhere else by the CRC (a forged shorter total length would need a
        // matching CRC at the new end: 2^-32).
        if !fix_crc {
            prop_assert!(Manifest::parse(&b).is_err());
        }
        let _ = Manifest::find_in(&b);
    }

    #[test]
    fn truncations_are_rejected((b, i) in valid_and_position()) {
        let n = i.index(b.len()); // strictly shorter
        let expected = if n < 32 {
            DecodeError::TooShort { len: n }
        } else {
            DecodeError::Truncated { total_len: b.len() as u32, available: n }
        };
        prop_assert_eq!(Manifest::parse(&b[..n]).unwrap_err(), expected);
    }

    #[test]
    fn extensions_are_ignored((b, _) in valid_and_position(), tail in vec(any::<u8>(), 1..100)) {
        let mut longer = b.clone();
        longer.extend_from_slice(&tail);
        let m = Manifest::parse(&longer).unwrap();
        prop_assert_eq!(m.as_bytes(), &b[..]);
        prop_assert_eq!(m, Manifest::parse(&b).unwrap());
    }

    #[test]
    fn get_finds_exactly_the_names((platform, model) in model(), probes in vec("\\PC{0,6}", 0..20)) {
        let b = encode(&platform, &model);
        let m = Manifest::parse(&b).unwrap();
        for name in model.keys() {
            prop_assert_eq!(m.get(name).map(|a| a.name()), Some(name.as_str()));
        }
        for p in &probes {
            prop_assert_eq!(m.get(p).is_some(), model.contains_key(p));
        }
        // The platform name is not an asset.
        if !platform.is_empty() && !model.contains_key(&platform) {
            prop_assert_eq!(m.get(&platform), None);
        }
    }

    #[test]
    fn missing_matches_brute_force(
        (platform, model) in model(),
        picks in vec((any::<prop::sample::Index>(), any::<bool>()), 0..12),
        extra in vec(("\\PC{1,6}", any::<[u8; 32]>()), 0..4),
    ) {
        let b = encode(&platform, &model);
        let m = Manifest::parse(&b).unwrap();
        let names: Vec<&String> = model.keys().collect();
        // The device holds some of the manifest's assets, some with stale content,
        // and some assets the manifest no longer lists.
        let mut stored: Vec<(&str, [u8; 32])> = Vec::new();
        if !names.is_empty() {
            for (i, stale) in &picks {
                let name = names[i.index(names.len())];
                let mut sha = model[name].3;
                if *stale { sha[0] ^= 1; }
                stored.push((name.as_str(), sha));
            }
        }
        for (n, s) in &extra { stored.push((n.as_str(), *s)); }
        let expected: Vec<&str> = model
            .iter()
            .filter(|(n, e)| !stored.iter().any(|(sn, ss)| sn == n && *ss == e.3))
            .map(|(n, _)| n.as_str())
            .collect();
        let got: Vec<&str> = m.missing(&stored).map(|a| a.name()).collect();
        prop_assert_eq!(&got, &expected);
        let mut back: Vec<&str> = m.missing(&stored).rev().map(|a| a.name()).collect();
        back.reverse();
        prop_assert_eq!(back, expected);
    }

    #[test]
    fn find_in_locates_the_manifest(
        (b, _) in valid_and_position(),
        prefix in vec(prop_oneof![any::<u8>(), Just(b'A'), Just(b'O'), Just(b'T')], 0..200),
        suffix in vec(any::<u8>(), 0..50),
    ) {
        let mut image = prefix.clone();
        image.extend_from_slice(&b);
        image.extend_from_slice(&suffix);
        let (at, m) = Manifest::find_in(&image).unwrap();
        prop_assert_eq!(at, prefix.len());
        prop_assert_eq!(m.as_bytes(), &b[..]);
    }
}

/// `recrc` when the total length field points inside the buffer; otherwise leave it.
fn recrc_if_possible(b: &mut [u8]) {
    let total = u32::from_le_bytes(b[8..12].try_into().unwrap()) as usize;
    if (4..=b.len()).contains(&total) {
        recrc(b);
    }
}

#[test]
fn iterators_are_exact_and_double_ended() {
    let b = common::build(
        "",
        &[Raw::new("a"), Raw::new("b"), Raw::new("c"), Raw::new("d")],
    );
    let m = Manifest::parse(&b).unwrap();
    let mut it = m.iter();
    assert_eq!(it.len(), 4);
    assert_eq!(it.next().unwrap().name(), "a");
    assert_eq!(it.next_back().unwrap().name(), "d");
    assert_eq!(it.len(), 2);
    assert_eq!(it.next().unwrap().name(), "b");
    assert_eq!(it.next_back().unwrap().name(), "c");
    assert_eq!(it.next(), None);
    assert_eq!(it.next_back(), None);
    assert_eq!(m.iter().nth(2).unwrap().name(), "c");
    assert_eq!(m.iter().nth(4), None);
    assert_eq!((&m).into_iter().count(), 4);
}
