//! Verifier against SHA-256 digests computed with `sha256sum`, not with our code.

mod common;

use assetota::{Hex, Verifier, VerifyError};
use common::hex32;
use proptest::prelude::*;

// printf 'hello\n' | sha256sum, etc.
const HELLO: &str = "5891b5b522d5df086d0ff0b110fbd9d21bb4fc7163af34d08286a2e846f6be03";
const HELLP: &str = "bf8c83416f31143ee2fa5db7ebbbb54589626c4c2046a91d28545bc403e3cda6";
const EMPTY: &str = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
const ABC: &str = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
// python3 -c 'import sys; sys.stdout.buffer.write(bytes(i % 251 for i in range(100000)))' | sha256sum
const BIG: &str = "cd2df694e424bc7968cc37f47751019e5ca0cd1bdf2e479ea537c3a1c32ee1aa";

fn big() -> Vec<u8> {
    (0..100_000u32).map(|i| (i % 251) as u8).collect()
}

fn verify(data: &[u8], size: u64, sha: &str) -> Result<(), VerifyError> {
    let mut v = Verifier::new(size, hex32(sha));
    v.update(data);
    v.finish()
}

#[test]
fn known_digests() {
    assert_eq!(verify(b"hello\n", 6, HELLO), Ok(()));
    assert_eq!(verify(b"", 0, EMPTY), Ok(()));
    assert_eq!(verify(b"abc", 3, ABC), Ok(()));
    assert_eq!(verify(&big(), 100_000, BIG), Ok(()));
}

#[test]
fn no_update_is_the_empty_input() {
    assert_eq!(Verifier::new(0, hex32(EMPTY)).finish(), Ok(()));
}

#[test]
fn wrong_length_short_and_long() {
    assert_eq!(
        verify(b"hello", 6, HELLO),
        Err(VerifyError::Length {
            expected: 6,
            actual: 5
        })
    );
    let mut v = Verifier::new(6, hex32(HELLO));
    v.update(b"hello\n");
    assert!(!v.is_overlong());
    v.update(b"!");
    assert!(v.is_overlong());
    assert_eq!(v.received(), 7);
    assert_eq!(
        v.finish(),
        Err(VerifyError::Length {
            expected: 6,
            actual: 7
        })
    );
}

#[test]
fn one_flipped_byte() {
    // 'o' -> 'p' at index 4; the actual digest is sha256sum's of "hellp\n".
    assert_eq!(
        verify(b"hellp\n", 6, HELLO),
        Err(VerifyError::Hash {
            expected: hex32(HELLO),
            actual: hex32(HELLP)
        })
    );
}

#[test]
fn messages() {
    assert_eq!(
        VerifyError::Length {
            expected: 6,
            actual: 5
        }
        .to_string(),
        "asset length mismatch: expected 6 bytes, received 5"
    );
    assert_eq!(
        VerifyError::Hash {
            expected: hex32(HELLO),
            actual: hex32(HELLP)
        }
        .to_string(),
        format!("asset SHA-256 mismatch: expected {HELLO}, received {HELLP}")
    );
}

#[test]
fn hex_display() {
    assert_eq!(Hex(&hex32(HELLO)).to_string(), HELLO);
    assert_eq!(Hex(&[0; 32]).to_string(), "0".repeat(64));
    assert_eq!(Hex(&[0xff; 32]).to_string(), "f".repeat(64));
    // Honors width, like any Display of a str.
    assert_eq!(
        format!("{:>66}", Hex(&[0xab; 32])),
        format!("  {}", "ab".repeat(32))
    );
}

proptest! {
    #[test]
    fn any_chunking_verifies(cuts in proptest::collection::vec(0usize..=100_000, 0..20)) {
        let data = big();
        let mut cuts = cuts;
        cuts.sort_unstable();
        let mut v = Verifier::new(100_000, hex32(BIG));
        let mut start = 0;
        for c in cuts.into_iter().chain([data.len()]) {
            v.update(&data[start..c]);
            start = c;
        }
        prop_assert_eq!(v.finish(), Ok(()));
    }

    #[test]
    fn any_flipped_bit_fails(index in 0usize..100_000, bit in 0u8..8, cut in 0usize..=100_000) {
        let mut data = big();
        data[index] ^= 1 << bit;
        let mut v = Verifier::new(100_000, hex32(BIG));
        v.update(&data[..cut]);
        v.update(&data[cut..]);
        match v.finish() {
            Err(VerifyError::Hash { expected, actual }) => {
                prop_assert_eq!(expected, hex32(BIG));
                prop_assert_ne!(actual, expected);
            }
            other => prop_assert!(false, "{:?}", other),
        }
    }

    #[test]
    fn any_wrong_length_fails(len in 0usize..100_100) {
        prop_assume!(len != 100_000);
        let data: Vec<u8> = (0..len as u32).map(|i| (i % 251) as u8).collect();
        prop_assert_eq!(
            verify(&data, 100_000, BIG),
            Err(VerifyError::Length { expected: 100_000, actual: len as u64 })
        );
    }
}
