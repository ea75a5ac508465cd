//! The store's behaviour on a strict simulated NOR flash: install, resume,
//! read, seek, lifecycle, and every kind of bad input the issue lists.

#![cfg(feature = "deflate")]

mod sim;

use std::collections::BTreeMap;

use assetota::Codec;
use assetota_store::{AssetId, Error, Layout, ReadOnlyFlash, Scratch, SliceFlash, Store};
use sim::*;

type Flash = SimFlash<4, 4096>;
const SIZE: usize = 64 * 4096;

fn corpus() -> Vec<TestAsset> {
    vec![
        TestAsset::deflated("text.txt", bytes(1, 20_000, true), 12),
        TestAsset::deflated("big.txt", bytes(2, 90_000, true), 15),
        TestAsset::stored_raw("noise.bin", bytes(3, 5_000, false)),
        TestAsset::deflated("empty", Vec::new(), 9),
        TestAsset::stored_raw("one", vec![0x42]),
    ]
}

fn by_sha(c: &[TestAsset]) -> BTreeMap<[u8; 32], Vec<u8>> {
    c.iter().map(|a| (a.id.sha256, a.raw.clone())).collect()
}

#[test]
fn installs_read_back_byte_exact_after_a_remount() {
    let flash = Flash::new(SIZE);
    let mut scratch = Scratch::<32768>::new();
    let mut store = Store::<_, 16>::mount(flash.clone(), 0..SIZE as u32).unwrap();
    assert_eq!(store.used(), 0);
    let assets = corpus();
    for a in &assets {
        let sent = install(&mut store, a, 1000, &mut scratch).unwrap();
        assert_eq!(sent, a.payload.len() as u64);
    }
    let layout = store.layout();
    let want_used: u64 = assets
        .iter()
        .map(|a| layout.storage_size(a.id.payload_len))
        .sum();
    assert_eq!(store.used(), want_used);
    drop(store);
    let mut store = Store::<_, 16>::mount(flash, 0..SIZE as u32).unwrap();
    assert_eq!(store.used(), want_used);
    for a in &assets {
        for chunk in [1, 7, 4096, 100_000] {
            let got = read_all(&mut store, &a.id.sha256, &mut scratch, chunk).unwrap();
            assert!(got == a.raw, "{} read in chunks of {chunk}", a.name);
        }
    }
    check_invariants(&mut store, &by_sha(&assets), &mut scratch).unwrap();
}

#[test]
fn every_write_and_erase_size_in_range_works() {
    fn run<const W: usize, const B: usize>() {
        let size = 40 * B;
        let flash = SimFlash::<W, B>::new(size);
        let mut scratch = Scratch::<4096>::new();
        let mut store = Store::<_, 8>::mount(flash, 0..size as u32).unwrap();
        let a = TestAsset::deflated("a", bytes(9, 3 * B, true), 12);
        let b = TestAsset::stored_raw("b", bytes(10, 2 * B + 5, false));
        install(&mut store, &a, 33, &mut scratch).unwrap();
        install(&mut store, &b, 5, &mut scratch).unwrap();
        assert_eq!(
            read_all(&mut store, &a.id.sha256, &mut scratch, 50).unwrap(),
            a.raw
        );
        assert_eq!(
            read_all(&mut store, &b.id.sha256, &mut scratch, 50).unwrap(),
            b.raw
        );
        let l = store.layout();
        assert_eq!(
            store.used(),
            l.storage_size(a.id.payload_len) + l.storage_size(b.id.payload_len),
            "W={W} B={B}"
        );
    }
    run::<1, 256>();
    run::<2, 512>();
    run::<4, 1024>();
    run::<8, 4096>();
    run::<16, 2048>();
    run::<32, 256>();
    // Word 25: the longest head (round_up(76, 25) = 100 bytes).
    run::<25, 1000>();
    run::<32, 65536>();
    run::<4, 262144>();
}

#[test]
fn resume_continues_after_the_last_complete_block() {
    let flash = Flash::new(SIZE);
    let mut scratch = Scratch::<32768>::new();
    let a = TestAsset::deflated("big", bytes(5, 200_000, false), 15);
    assert!(a.payload.len() > 5 * 4096);
    {
        let mut store = Store::<_, 8>::mount(flash.clone(), 0..SIZE as u32).unwrap();
        let mut inst = store.install(a.id).unwrap();
        assert_eq!(inst.resume_offset(), 0);
        // 3.5 blocks' worth, then "reboot" without finishing.
        let part = 4096 * 3 + 2000;
        inst.write(0, &a.payload[..part]).unwrap();
    }
    let mut store = Store::<_, 8>::mount(flash.clone(), 0..SIZE as u32).unwrap();
    assert!(!store.contains(&a.id.sha256));
    let mut inst = store.install(a.id).unwrap();
    let layout = Layout::new(4, 4096).unwrap();
    let resume = inst.resume_offset();
    // Blocks 0..3 are complete: head block payload + 2 full blocks.
    let want = u64::from(layout.head_payload()) + 2 * u64::from(layout.block_payload());
    assert_eq!(resume, want);
    // Writing at any other offset is refused and changes nothing.
    assert!(matches!(
        inst.write(0, &a.payload[..10]),
        Err(Error::OutOfOrder { expected, got: 0 }) if expected == resume
    ));
    inst.write(resume, &a.payload[resume as usize..]).unwrap();
    inst.finish(&mut scratch).unwrap();
    assert_eq!(
        read_all(&mut store, &a.id.sha256, &mut scratch, 4096).unwrap(),
        a.raw
    );
}

#[test]
fn reinstalling_a_stored_asset_is_free_and_a_new_version_is_a_new_extent() {
    let flash = Flash::new(SIZE);
    let mut scratch = Scratch::<32768>::new();
    let mut store = Store::<_, 8>::mount(flash.clone(), 0..SIZE as u32).unwrap();
    let v1 = TestAsset::deflated("cfg", bytes(1, 9000, true), 12);
    install(&mut store, &v1, 512, &mut scratch).unwrap();
    let before = flash.stats();
    let inst = store.install(v1.id).unwrap();
    assert!(inst.is_stored());
    assert_eq!(inst.resume_offset(), v1.id.payload_len);
    inst.finish(&mut scratch).unwrap();
    assert_eq!(flash.stats().ops(), before.ops(), "reinstall wrote nothing");

    let v2 = TestAsset::deflated("cfg", bytes(2, 9000, true), 12);
    install(&mut store, &v2, 512, &mut scratch).unwrap();
    // The old version is still there, byte-exact, until gc.
    assert_eq!(
        read_all(&mut store, &v1.id.sha256, &mut scratch, 300).unwrap(),
        v1.raw
    );
    assert_eq!(
        read_all(&mut store, &v2.id.sha256, &mut scratch, 300).unwrap(),
        v2.raw
    );
    let freed = store.gc_by(|sha| sha == &v2.id.sha256).unwrap();
    assert!(freed >= 1);
    assert!(!store.contains(&v1.id.sha256));
    let mut store = Store::<_, 8>::mount(flash, 0..SIZE as u32).unwrap();
    assert!(!store.contains(&v1.id.sha256));
    assert_eq!(
        read_all(&mut store, &v2.id.sha256, &mut scratch, 300).unwrap(),
        v2.raw
    );
}

#[test]
fn seek_forward_backward_and_past_the_end() {
    let flash = Flash::new(SIZE);
    let mut scratch = Scratch::<4096>::new();
    let mut store = Store::<_, 8>::mount(flash, 0..SIZE as u32).unwrap();
    let a = TestAsset::deflated("t", bytes(4, 50_000, true), 12);
    let r = TestAsset::stored_raw("r", bytes(5, 20_000, false));
    install(&mut store, &a, 999, &mut scratch).unwrap();
    install(&mut store, &r, 999, &mut scratch).unwrap();
    for asset in [&a, &r] {
        let mut reader = store.open(&asset.id.sha256, &mut scratch).unwrap();
        assert_eq!(reader.size(), asset.raw.len() as u64);
        let mut buf = [0u8; 100];
        for pos in [15_000u64, 10, 12_345, 0, 19_900] {
            reader.seek(pos).unwrap();
            assert_eq!(reader.position(), pos);
            let n = reader.read(&mut buf).unwrap();
            assert_eq!(&buf[..n], &asset.raw[pos as usize..pos as usize + n]);
        }
        reader.seek(10_000_000).unwrap();
        assert_eq!(reader.position(), asset.raw.len() as u64);
        assert_eq!(reader.read(&mut buf).unwrap(), 0);
    }
}

#[test]
fn a_window_too_small_is_refused_before_any_byte() {
    let flash = Flash::new(SIZE);
    let mut big = Scratch::<32768>::new();
    let mut store = Store::<_, 8>::mount(flash, 0..SIZE as u32).unwrap();
    let a = TestAsset::deflated("w15", bytes(6, 40_000, true), 15);
    let raw = TestAsset::stored_raw("raw", bytes(7, 3000, false));
    install(&mut store, &a, 4096, &mut big).unwrap();
    install(&mut store, &raw, 4096, &mut big).unwrap();
    let mut small = Scratch::<4096>::new();
    let err = store.open(&a.id.sha256, &mut small).unwrap_err();
    assert_eq!(
        err,
        Error::WindowTooSmall {
            need: 32768,
            have: 4096
        }
    );
    assert!(err.to_string().contains("Scratch::<32768>"), "{err}");
    assert!(matches!(
        store.open_raw(&a.id.sha256),
        Err(Error::WindowTooSmall {
            need: 32768,
            have: 0
        })
    ));
    // An uncompressed asset needs no scratch at all.
    let mut reader = store.open_raw(&raw.id.sha256).unwrap();
    let mut out = vec![0u8; 3000];
    let mut got = 0;
    while got < out.len() {
        got += reader.read(&mut out[got..]).unwrap();
    }
    assert_eq!(out, raw.raw);
    assert_eq!(reader.read(&mut [0u8; 8]).unwrap(), 0);
}

#[test]
fn flash_full_says_what_is_needed_and_what_is_free() {
    let size = 8 * 4096;
    let flash = Flash::new(size);
    let mut scratch = Scratch::<4096>::new();
    let mut store = Store::<_, 8>::mount(flash.clone(), 0..size as u32).unwrap();
    let a = TestAsset::stored_raw("a", bytes(1, 4096 * 5, false));
    let b = TestAsset::stored_raw("b", bytes(2, 4096 * 5, false));
    install(&mut store, &a, 4096, &mut scratch).unwrap();
    let before = flash.snapshot();
    let err = store.install(b.id).unwrap_err();
    assert_eq!(
        err,
        Error::NoSpace {
            need: 6 * 4096,
            free: 2 * 4096,
            largest_run: 2 * 4096
        }
    );
    let msg = err.to_string();
    assert!(msg.contains("24576") && msg.contains("8192"), "{msg}");
    assert_eq!(flash.snapshot().bytes, before.bytes, "nothing written");
    assert_eq!(store.used(), 6 * 4096);
}

#[test]
fn longer_shorter_and_corrupted_payloads() {
    let flash = Flash::new(SIZE);
    let mut scratch = Scratch::<4096>::new();
    let mut store = Store::<_, 8>::mount(flash.clone(), 0..SIZE as u32).unwrap();
    let a = TestAsset::deflated("a", bytes(11, 30_000, true), 12);

    // Longer: refused at the write that would overrun, nothing of it written.
    let mut inst = store.install(a.id).unwrap();
    let mut long = a.payload.clone();
    long.push(0);
    assert_eq!(
        inst.write(0, &long),
        Err(Error::TooLong {
            expected: a.id.payload_len,
            got: a.id.payload_len + 1
        })
    );
    // Shorter: finish refuses and the install stays resumable.
    inst.write(0, &a.payload[..100]).unwrap();
    let err = inst.finish(&mut scratch).unwrap_err();
    assert_eq!(
        err,
        Error::Short {
            expected: a.id.payload_len,
            received: 100
        }
    );
    assert!(!store.contains(&a.id.sha256));

    // Corrupted: one flipped byte is refused at finish, and the space is freed.
    let mut bad = a.payload.clone();
    bad[a.payload.len() / 2] ^= 0x10;
    let mut inst = store.install(a.id).unwrap();
    let from = inst.resume_offset() as usize;
    inst.write(from as u64, &bad[from..]).unwrap();
    let err = inst.finish(&mut scratch).unwrap_err();
    assert!(matches!(err, Error::Verify(_) | Error::Corrupt), "{err:?}");
    assert!(!store.contains(&a.id.sha256));
    assert_eq!(store.used(), 0, "the refused extent is free again");
    // And the right bytes install afterwards.
    install(&mut store, &a, 700, &mut scratch).unwrap();
    let mut store = Store::<_, 8>::mount(flash, 0..SIZE as u32).unwrap();
    assert_eq!(
        read_all(&mut store, &a.id.sha256, &mut scratch, 512).unwrap(),
        a.raw
    );
}

#[test]
fn a_manifest_claiming_the_wrong_size_or_hash_is_refused() {
    let flash = Flash::new(SIZE);
    let mut scratch = Scratch::<4096>::new();
    let mut store = Store::<_, 8>::mount(flash, 0..SIZE as u32).unwrap();
    let a = TestAsset::deflated("a", bytes(12, 10_000, true), 12);
    let mut wrong_size = a.clone();
    wrong_size.id.size += 1;
    let err = install(&mut store, &wrong_size, 1000, &mut scratch).unwrap_err();
    assert!(
        matches!(err, Error::Verify(assetota::VerifyError::Length { .. })),
        "{err:?}"
    );
    let mut wrong_sha = a.clone();
    wrong_sha.id.sha256[0] ^= 1;
    let err = install(&mut store, &wrong_sha, 1000, &mut scratch).unwrap_err();
    assert!(
        matches!(err, Error::Verify(assetota::VerifyError::Hash { .. })),
        "{err:?}"
    );
    assert_eq!(store.used(), 0);
}

#[test]
fn a_codec_the_build_left_out_is_refused_up_front() {
    let flash = Flash::new(SIZE);
    let mut store = Store::<_, 8>::mount(flash.clone(), 0..SIZE as u32).unwrap();
    let id = AssetId {
        sha256: [1; 32],
        size: 10,
        payload_len: 10,
        codec: Codec::Xz { dict_log2: 12 },
    };
    let result = store.install(id);
    if cfg!(feature = "xz") {
        assert!(result.is_ok());
    } else {
        assert_eq!(
            result.unwrap_err(),
            Error::UnsupportedCodec(Codec::Xz { dict_log2: 12 })
        );
        assert_eq!(flash.stats().ops(), 0);
    }
}

#[test]
fn handled_flags_are_per_asset_and_survive_a_remount() {
    let flash = Flash::new(SIZE);
    let mut scratch = Scratch::<4096>::new();
    let mut store = Store::<_, 8>::mount(flash.clone(), 0..SIZE as u32).unwrap();
    let a = TestAsset::deflated("a", bytes(1, 3000, true), 12);
    let b = TestAsset::deflated("b", bytes(2, 3000, true), 12);
    install(&mut store, &a, 512, &mut scratch).unwrap();
    install(&mut store, &b, 512, &mut scratch).unwrap();
    assert!(!store.is_handled(&a.id.sha256));
    store.mark_handled(&a.id.sha256).unwrap();
    store.mark_handled(&a.id.sha256).unwrap(); // idempotent, no second write
    assert_eq!(store.mark_handled(&[9; 32]), Err(Error::NotStored));
    let store = Store::<_, 8>::mount(flash, 0..SIZE as u32).unwrap();
    assert!(store.is_handled(&a.id.sha256));
    assert!(!store.is_handled(&b.id.sha256));
}

#[test]
fn compaction_joins_free_space_and_keeps_flags() {
    let size = 20 * 4096;
    let flash = Flash::new(size);
    let mut scratch = Scratch::<4096>::new();
    let mut store = Store::<_, 16>::mount(flash.clone(), 0..size as u32).unwrap();
    let assets: Vec<_> = (0..6)
        .map(|i| TestAsset::stored_raw(&format!("a{i}"), bytes(i, 4096 * 2, false)))
        .collect();
    for a in &assets {
        install(&mut store, a, 4096, &mut scratch).unwrap();
    }
    store.mark_handled(&assets[5].id.sha256).unwrap();
    // Each asset takes 3 blocks; drop every other one: free space in 3-block holes.
    let keep: Vec<_> = assets
        .iter()
        .skip(1)
        .step_by(2)
        .map(|a| a.id.sha256)
        .collect();
    store.gc_by(|s| keep.contains(s)).unwrap();
    assert_eq!(store.largest_free_run(), 3 * 4096);
    let big = TestAsset::stored_raw("big", bytes(99, 4096 * 7, false));
    assert!(matches!(store.install(big.id), Err(Error::NoSpace { .. })));
    let moved = store.compact(&mut scratch).unwrap();
    assert_eq!(moved, 3);
    assert_eq!(store.largest_free_run(), 11 * 4096);
    install(&mut store, &big, 4096, &mut scratch).unwrap();
    let mut store = Store::<_, 16>::mount(flash, 0..size as u32).unwrap();
    assert!(store.is_handled(&assets[5].id.sha256));
    let mut corpus = by_sha(&assets);
    corpus.insert(big.id.sha256, big.raw.clone());
    check_invariants(&mut store, &corpus, &mut scratch).unwrap();
    assert_eq!(store.extents().filter(|e| e.committed).count(), 4);
}

#[test]
fn missing_and_pending_follow_the_manifest() {
    // A real manifest, from the runtime's golden vectors' format.
    let a = TestAsset::stored_raw("config.json", bytes(1, 32, false));
    let b = TestAsset::stored_raw("logo.bin", bytes(2, 64, false));
    let manifest_bytes = manifest(&[&a, &b]);
    let manifest = assetota::Manifest::parse(&manifest_bytes).unwrap();
    let flash = Flash::new(SIZE);
    let mut scratch = Scratch::<4096>::new();
    let mut store = Store::<_, 8>::mount(flash, 0..SIZE as u32).unwrap();
    let names = |it: &mut dyn Iterator<Item = assetota::Asset<'_>>| {
        it.map(|a| a.name().to_owned()).collect::<Vec<_>>()
    };
    assert_eq!(
        names(&mut store.missing(&manifest)),
        ["config.json", "logo.bin"]
    );
    let entry = manifest.get("logo.bin").unwrap();
    let mut inst = store.install(entry).unwrap();
    inst.write(0, &b.payload).unwrap();
    inst.finish(&mut scratch).unwrap();
    assert_eq!(names(&mut store.missing(&manifest)), ["config.json"]);
    assert_eq!(names(&mut store.pending(&manifest)), ["logo.bin"]);
    store.mark_handled(entry.sha256()).unwrap();
    assert!(store.pending(&manifest).next().is_none());
    // gc with the manifest keeps what it lists.
    install(
        &mut store,
        &TestAsset::stored_raw("x", vec![1, 2, 3]),
        10,
        &mut scratch,
    )
    .unwrap();
    assert_eq!(store.gc(&[manifest]).unwrap(), 1);
    assert!(store.contains(&b.id.sha256));
}

#[test]
fn mount_accepts_any_contents_and_refuses_other_geometries() {
    // Random bytes: mounts, holds nothing.
    let flash = Flash::new(SIZE);
    flash.chip.borrow_mut().bytes = bytes(77, SIZE, false);
    let store = Store::<_, 8>::mount(flash, 0..SIZE as u32).unwrap();
    assert_eq!(store.used(), 0);

    // An image made for 4 KiB blocks mounted as 8 KiB blocks: refused.
    let mut image = vec![0xFFu8; SIZE];
    {
        let layout = Layout::new(4, 4096).unwrap();
        let mut store =
            Store::<_, 8>::mount_with(SliceFlash::new(&mut image), 0..SIZE as u32, layout).unwrap();
        let mut scratch = Scratch::<4096>::new();
        install(
            &mut store,
            &TestAsset::stored_raw("a", vec![5; 100]),
            64,
            &mut scratch,
        )
        .unwrap();
    }
    let err =
        Store::<_, 8>::mount(ReadOnlyFlash::<4, 8192>::new(&image), 0..SIZE as u32).unwrap_err();
    assert!(
        matches!(
            err,
            Error::ForeignLayout {
                block_size: 4096,
                ..
            }
        ),
        "{err:?}"
    );
    // The right geometry mounts it read-only and reads it.
    let mut store =
        Store::<_, 8>::mount(ReadOnlyFlash::<4, 4096>::new(&image), 0..SIZE as u32).unwrap();
    let mut r = store.open_raw(&sha256(&[5; 100])).unwrap();
    let mut buf = [0u8; 200];
    assert_eq!(r.read(&mut buf).unwrap(), 100);
    assert_eq!(&buf[..100], &[5; 100]);
}

#[test]
fn partition_bounds_are_checked() {
    let flash = Flash::new(SIZE);
    assert!(matches!(
        Store::<_, 8>::mount(flash.clone(), 100..4096),
        Err(Error::Geometry(_))
    ));
    assert!(matches!(
        Store::<_, 8>::mount(flash.clone(), 0..SIZE as u32 + 4096),
        Err(Error::Geometry(_))
    ));
    assert!(matches!(
        Store::<_, 8>::mount(flash.clone(), 4096..4096),
        Err(Error::Geometry(_))
    ));
    // A partition in the middle of the flash leaves the rest untouched.
    let mut store = Store::<_, 8>::mount(flash.clone(), 8192..(8192 + 16 * 4096)).unwrap();
    let mut scratch = Scratch::<4096>::new();
    install(
        &mut store,
        &TestAsset::stored_raw("a", vec![1; 20_000]),
        999,
        &mut scratch,
    )
    .unwrap();
    let chip = flash.snapshot();
    assert!(chip.bytes[..8192].iter().all(|&b| b == 0xFF));
    assert!(chip.bytes[8192 + 16 * 4096..].iter().all(|&b| b == 0xFF));
}

#[test]
fn table_full_is_an_error_not_a_loss() {
    let flash = Flash::new(SIZE);
    let mut scratch = Scratch::<4096>::new();
    let mut store = Store::<_, 2>::mount(flash.clone(), 0..SIZE as u32).unwrap();
    for i in 0..2 {
        install(
            &mut store,
            &TestAsset::stored_raw("a", vec![i; 10]),
            10,
            &mut scratch,
        )
        .unwrap();
    }
    let third = TestAsset::stored_raw("c", vec![7; 10]);
    assert_eq!(
        store.install(third.id).unwrap_err(),
        Error::TableFull { max: 2 }
    );
    assert!(matches!(
        Store::<_, 1>::mount(flash, 0..SIZE as u32),
        Err(Error::TableFull { max: 1 })
    ));
}

#[test]
fn a_codec_parameter_out_of_range_is_refused_before_anything_is_written() {
    let flash = Flash::new(SIZE);
    let mut store = Store::<_, 8>::mount(flash.clone(), 0..SIZE as u32).unwrap();
    for codec in [
        Codec::Deflate { window_bits: 16 },
        Codec::Deflate { window_bits: 7 },
        Codec::Xz { dict_log2: 31 },
    ] {
        let id = AssetId {
            sha256: [3; 32],
            size: 10,
            payload_len: 10,
            codec,
        };
        assert_eq!(store.install(id).unwrap_err(), Error::InvalidCodec(codec));
    }
    assert_eq!(flash.stats().ops(), 0);
    Store::<_, 8>::mount(flash, 0..SIZE as u32).unwrap();
}

/// A flash error that is not a power cut (the store keeps running, on the
/// same mount): whatever operation fails and however it is torn, retrying
/// through `install` again never programs a word twice (the simulator
/// panics if it does), and the assets end up stored and readable.
#[test]
fn retrying_after_a_transient_flash_error_never_programs_a_word_twice() {
    let assets = [
        TestAsset::deflated("a", bytes(1, 12_000, true), 12),
        TestAsset::stored_raw("b", bytes(2, 9_000, false)),
    ];
    let size = 16 * 4096;
    let clean = Flash::new(size);
    let mut scratch = Scratch::<4096>::new();
    {
        let mut store = Store::<_, 8>::mount(clean.clone(), 0..size as u32).unwrap();
        for a in &assets {
            install(&mut store, a, 1000, &mut scratch).unwrap();
        }
        store.mark_handled(&assets[0].id.sha256).unwrap();
    }
    let n = clean.stats().ops();
    for k in 1..=n {
        for torn in sim::TORN {
            let flash = Flash::new(size);
            let mut store = Store::<_, 8>::mount(flash.clone(), 0..size as u32).unwrap();
            flash.chip.borrow_mut().cut_at(k, torn);
            let mut failed = false;
            for a in &assets {
                let mut inst = match store.install(a.id) {
                    Ok(inst) => inst,
                    Err(_) => {
                        failed = true;
                        flash.chip.borrow_mut().power_on();
                        store.install(a.id).unwrap()
                    }
                };
                let mut off = inst.resume_offset() as usize;
                while off < a.payload.len() {
                    let end = (off + 1000).min(a.payload.len());
                    if inst.write(off as u64, &a.payload[off..end]).is_err() {
                        failed = true;
                        flash.chip.borrow_mut().power_on();
                        assert_eq!(
                            inst.write(off as u64, &a.payload[off..end]),
                            Err(Error::Interrupted)
                        );
                        inst = store.install(a.id).unwrap();
                        off = inst.resume_offset() as usize;
                        continue;
                    }
                    off = end;
                }
                if inst.finish(&mut scratch).is_err() {
                    failed = true;
                    flash.chip.borrow_mut().power_on();
                    install(&mut store, a, 1000, &mut scratch).unwrap();
                }
            }
            if store.mark_handled(&assets[0].id.sha256).is_err() {
                failed = true;
                flash.chip.borrow_mut().power_on();
                store.mark_handled(&assets[0].id.sha256).unwrap();
            }
            assert!(failed, "op {k} ({torn:?}) did not fail");
            let mut store = Store::<_, 8>::mount(flash, 0..size as u32).unwrap();
            for a in &assets {
                assert_eq!(
                    read_all(&mut store, &a.id.sha256, &mut scratch, 500).unwrap(),
                    a.raw,
                    "op {k} {torn:?}"
                );
            }
            assert!(store.is_handled(&assets[0].id.sha256));
        }
    }
}

#[test]
fn an_asset_that_rotted_after_commit_stops_compaction_and_can_be_removed() {
    let size = 16 * 4096;
    let flash = Flash::new(size);
    let mut scratch = Scratch::<4096>::new();
    let mut store = Store::<_, 8>::mount(flash.clone(), 0..size as u32).unwrap();
    let gap = TestAsset::stored_raw("gap", bytes(1, 3000, false));
    let rot = TestAsset::stored_raw("rot", bytes(2, 3000, false));
    install(&mut store, &gap, 1000, &mut scratch).unwrap();
    install(&mut store, &rot, 1000, &mut scratch).unwrap();
    store.gc_by(|s| s == &rot.id.sha256).unwrap();
    drop(store);
    // Bit rot in the committed payload of `rot` (block 1).
    flash.chip.borrow_mut().bytes[4096 + 500] ^= 0x40;
    let mut store = Store::<_, 8>::mount(flash.clone(), 0..size as u32).unwrap();
    assert!(matches!(
        read_all(&mut store, &rot.id.sha256, &mut scratch, 512),
        Err(Error::Verify(_))
    ));
    // Compaction would move it into block 0: the copy fails verification,
    // compaction stops with the error and keeps the original.
    assert!(matches!(
        store.compact(&mut scratch),
        Err(Error::Verify(_) | Error::Corrupt)
    ));
    assert!(store.contains(&rot.id.sha256));
    // remove() drops it; it installs again and compaction goes through.
    assert!(store.remove(&rot.id.sha256).unwrap() >= 1);
    install(&mut store, &rot, 1000, &mut scratch).unwrap();
    assert_eq!(
        read_all(&mut store, &rot.id.sha256, &mut scratch, 512).unwrap(),
        rot.raw
    );
    store.compact(&mut scratch).unwrap();
    assert_eq!(
        read_all(&mut store, &rot.id.sha256, &mut scratch, 512).unwrap(),
        rot.raw
    );
    // remove() drops a stored asset so it can be installed again.
    assert!(store.remove(&rot.id.sha256).unwrap() >= 1);
    assert!(!store.contains(&rot.id.sha256));
}
