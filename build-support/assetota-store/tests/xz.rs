//! xz assets (feature `xz`), encoded by the `xz` command as the build
//! encodes them (LZMA2, CRC64 check), installed and read back.
#![cfg(feature = "xz")]

mod sim;

use std::io::Write;
use std::process::{Command, Stdio};

use assetota::Codec;
use assetota_store::{AssetId, Error, Scratch, Store};
use sim::*;

fn xz(raw: &[u8], dict_log2: u8) -> Vec<u8> {
    let mut child = Command::new("xz")
        .args([
            "--format=xz",
            "--check=crc64",
            &format!("--lzma2=preset=6,dict={}KiB", (1u32 << dict_log2) / 1024),
            "-c",
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("xz is installed by scripts/test.sh");
    let mut stdin = child.stdin.take().unwrap();
    let input = raw.to_vec();
    let writer = std::thread::spawn(move || stdin.write_all(&input).unwrap());
    let out = child.wait_with_output().unwrap();
    writer.join().unwrap();
    assert!(out.status.success());
    out.stdout
}

fn asset(raw: Vec<u8>, dict_log2: u8) -> TestAsset {
    let payload = xz(&raw, dict_log2);
    TestAsset {
        name: "x".into(),
        id: AssetId {
            sha256: sha256(&raw),
            size: raw.len() as u64,
            payload_len: payload.len() as u64,
            codec: Codec::Xz { dict_log2 },
        },
        raw,
        payload,
    }
}

#[test]
fn xz_assets_install_read_and_seek() {
    let flash = SimFlash::<4, 4096>::new(64 * 4096);
    let mut scratch = Scratch::<65536>::new();
    let mut store = Store::<_, 8>::mount(flash.clone(), 0..64 * 4096).unwrap();
    let small = asset(bytes(1, 30_000, true), 12);
    let large = asset(bytes(2, 120_000, true), 16);
    for a in [&small, &large] {
        install(&mut store, a, 777, &mut scratch).unwrap();
    }
    let mut store = Store::<_, 8>::mount(flash, 0..64 * 4096).unwrap();
    for a in [&small, &large] {
        assert_eq!(
            read_all(&mut store, &a.id.sha256, &mut scratch, 333).unwrap(),
            a.raw
        );
        let mut r = store.open(&a.id.sha256, &mut scratch).unwrap();
        let mut buf = [0u8; 50];
        for pos in [20_000u64, 5, 29_000] {
            r.seek(pos).unwrap();
            let n = r.read(&mut buf).unwrap();
            assert_eq!(&buf[..n], &a.raw[pos as usize..pos as usize + n]);
        }
    }
    // A 4 KiB buffer cannot hold the 64 KiB dictionary: refused up front.
    let mut small_scratch = Scratch::<4096>::new();
    assert_eq!(
        store
            .open(&large.id.sha256, &mut small_scratch)
            .unwrap_err(),
        Error::WindowTooSmall {
            need: 65536,
            have: 4096
        }
    );
    // The 4 KiB-dictionary stream decodes with 4 KiB.
    assert_eq!(
        read_all(&mut store, &small.id.sha256, &mut small_scratch, 100).unwrap(),
        small.raw
    );
}

#[test]
fn a_corrupted_xz_payload_is_refused_at_finish() {
    let flash = SimFlash::<4, 4096>::new(16 * 4096);
    let mut scratch = Scratch::<4096>::new();
    let mut store = Store::<_, 8>::mount(flash, 0..16 * 4096).unwrap();
    let mut a = asset(bytes(3, 20_000, true), 12);
    let mid = a.payload.len() / 2;
    a.payload[mid] ^= 0x01;
    let err = install(&mut store, &a, 1000, &mut scratch).unwrap_err();
    assert!(matches!(err, Error::Corrupt | Error::Verify(_)), "{err:?}");
    assert_eq!(store.used(), 0);
}
