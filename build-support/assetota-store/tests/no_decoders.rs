//! Built without decoders (`--no-default-features`): compressed assets are
//! refused up front with the feature to enable; raw assets still work.
#![cfg(not(any(feature = "deflate", feature = "xz")))]

mod sim;

use assetota::Codec;
use assetota_store::{AssetId, Error, Scratch, Store};
use sim::*;

#[test]
fn compressed_assets_are_refused_and_raw_ones_work() {
    let flash = SimFlash::<4, 4096>::new(16 * 4096);
    let mut store = Store::<_, 8>::mount(flash.clone(), 0..16 * 4096).unwrap();
    let deflated = AssetId {
        sha256: [1; 32],
        size: 100,
        payload_len: 50,
        codec: Codec::Deflate { window_bits: 12 },
    };
    let err = store.install(deflated).unwrap_err();
    assert_eq!(
        err,
        Error::UnsupportedCodec(Codec::Deflate { window_bits: 12 })
    );
    assert!(err.to_string().contains("`deflate` feature"), "{err}");
    assert_eq!(flash.stats().ops(), 0);
    let raw = TestAsset::stored_raw("r", bytes(1, 9000, false));
    let mut scratch = Scratch::<0>::new();
    install(&mut store, &raw, 1000, &mut scratch).unwrap();
    assert_eq!(
        read_all(&mut store, &raw.id.sha256, &mut scratch, 64).unwrap(),
        raw.raw
    );
}
