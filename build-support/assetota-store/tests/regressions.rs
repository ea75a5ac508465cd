//! Inputs the fuzzer (`fuzz/fuzz_targets/store_ops.rs`) found, as tests, and
//! the generator of that target's seeds.

#![cfg(feature = "deflate")]

mod sim;

use std::collections::BTreeMap;
use std::path::Path;

use assetota::Codec;
use assetota_store::{AssetId, Error, Layout, Scratch, Store};
use sim::*;

type Flash = SimFlash<4, 256>;

/// Sets a state word of the head block `block` as an image made elsewhere
/// (or bit rot) could have it: programmed to zeros.
fn program_word(flash: &Flash, block: usize, offset: u32) {
    let layout = Layout::new(4, 256).unwrap();
    let at = block * 256 + offset as usize;
    let mut chip = flash.chip.borrow_mut();
    chip.bytes[at..at + layout.word() as usize].fill(0);
    for w in at / 4..(at + layout.word() as usize) / 4 {
        chip.programmed[w] = true;
    }
}

/// store_ops, `fuzz/seeds/store_ops/regression-raw-size-past-payload.bin`:
/// a committed raw extent whose head gives a size other than its payload
/// length (the store never commits one: only a forged or corrupted image has
/// it). A forward seek of a raw asset skips the bytes in between and so
/// turns the size and SHA-256 check of the pass off; the reads after it then
/// ran on to the payload's end: past `size()` when the size is shorter, and
/// to `Ok(0)` before `size()` when it is longer. Fixed in `Reader::seek`:
/// a raw asset whose size is not its payload length seeks by reading, so the
/// pass stays checked.
#[test]
fn a_raw_extent_whose_size_is_not_its_payload_length_reads_no_further_than_its_size() {
    for size in [5u64, 200] {
        let flash = Flash::new(16 * 256);
        let layout = Layout::new(4, 256).unwrap();
        let payload = bytes(1, 100, false);
        let id = AssetId {
            sha256: sha256(&payload[..(size as usize).min(100)]),
            size,
            payload_len: 100,
            codec: Codec::None,
        };
        {
            let mut store = Store::<_, 8>::mount(flash.clone(), 0..16 * 256).unwrap();
            let mut inst = store.install(id).unwrap();
            inst.write(0, &payload).unwrap();
            // Not finished (it would be refused): the image then says committed.
        }
        program_word(&flash, 0, layout.commit_offset());
        let mut store = Store::<_, 8>::mount(flash, 0..16 * 256).unwrap();
        assert!(store.contains(&id.sha256));
        let mut reader = store.open_raw(&id.sha256).unwrap();
        assert_eq!(reader.size(), size);
        let mut buf = [0u8; 256];
        let mut past = Vec::new();
        let end = match reader.seek(size.min(150)) {
            Ok(()) => loop {
                match reader.read(&mut buf) {
                    Ok(0) => break Ok(reader.position()),
                    Ok(n) => past.extend_from_slice(&buf[..n]),
                    Err(e) => break Err(e),
                }
            },
            Err(e) => Err(e),
        };
        assert!(
            reader.position() <= size,
            "size {size}: read to {} past the size",
            reader.position()
        );
        assert!(
            matches!(end, Err(Error::Verify(_))),
            "size {size}: the pass ended {end:?} after {} more bytes",
            past.len()
        );
    }
}

/// store_ops (with `SCRUB_HIDDEN_HEADS` off), first in under a minute:
/// mount skips each extent's blocks whole, dead ones included, so a valid
/// head record inside an extent is never seen. When the store reuses the
/// first blocks of a dead extent for a shorter extent, the next mount walks
/// into the rest of the dead extent's blocks, takes the hidden record for an
/// extent, and skips *its* blocks whole, which can cover a committed asset
/// that `finish` acknowledged: that asset is gone (its blocks are then free
/// space) and a committed asset that fails verification appears. The store
/// never writes such a record itself (payload would have to hold a head with
/// the right CRC for the block it lands on), so only a forged or foreign image
/// has one; mount "accepts any flash contents", though. Fixed in
/// `Store::create`: before reusing the first blocks of a dead extent, the
/// store erases every block of the rest of it that holds a valid record,
/// while the dead head still hides them from a mount.
#[test]
fn a_head_hidden_in_a_dead_extent_surfaces_and_swallows_a_committed_asset() {
    const SIZE: u32 = 16 * 256;
    let mut scratch = Scratch::<4096>::new();
    // Payloads of 2, 3, 4 and 5 blocks of 256 B (144 B in a head block, 248 in others).
    let asset = |seed, len| TestAsset::stored_raw("x", bytes(seed, len, false));
    let (a, hidden) = (asset(1, 500), asset(2, 1000));
    let (p, d, l, n) = (asset(3, 300), asset(4, 800), asset(5, 500), asset(6, 500));

    // A committed 5-block extent at block 3, as another store's history left it.
    let other = Flash::new(SIZE as usize);
    let mut store = Store::<_, 8>::mount(other.clone(), 0..SIZE).unwrap();
    install(&mut store, &a, 64, &mut scratch).unwrap();
    install(&mut store, &hidden, 64, &mut scratch).unwrap();
    assert_eq!(store.extents().nth(1).unwrap().first_block, 3);
    let block3 = other.chip.borrow().bytes[3 * 256..4 * 256].to_vec();

    // This store: P at 0..2, D at 2..6, L at 6..9; P and D dropped.
    let flash = Flash::new(SIZE as usize);
    let mut store = Store::<_, 8>::mount(flash.clone(), 0..SIZE).unwrap();
    for x in [&p, &d, &l] {
        install(&mut store, x, 64, &mut scratch).unwrap();
    }
    store.gc_by(|sha| sha == &l.id.sha256).unwrap();
    drop(store);
    // The record lies inside dead D: mount does not see it.
    flash.chip.borrow_mut().bytes[3 * 256..4 * 256].copy_from_slice(&block3);
    let mut store = Store::<_, 8>::mount(flash.clone(), 0..SIZE).unwrap();
    assert_eq!(state(&store).len(), 1);
    // N takes blocks 0..3 (first fit), erasing D's head.
    install(&mut store, &n, 64, &mut scratch).unwrap();
    assert_eq!(store.extents().next().unwrap().first_block, 0);
    let before = state(&store);
    drop(store);

    let mut store = Store::<_, 8>::mount(flash, 0..SIZE).unwrap();
    assert_eq!(state(&store), before, "acknowledged assets after a remount");
    let corpus: BTreeMap<_, _> = [&l, &n]
        .iter()
        .map(|x| (x.id.sha256, x.raw.clone()))
        .collect();
    check_invariants(&mut store, &corpus, &mut scratch).unwrap();
}

/// store_ops (`crash-00ce1ea7`, with hidden heads no longer scrubbed): a raw
/// asset at position 0 seeked forward past its (zero) size, then back to 0,
/// then read to the end: the jump had turned the pass's check off and the
/// seek to 0 at position 0 did not rewind, so `Ok(0)` ended a pass whose
/// bytes did not hash to the extent's SHA-256. A seek to 0 now always starts a
/// new, checked pass.
#[test]
fn a_seek_back_to_zero_always_starts_a_checked_pass() {
    const SIZE: u32 = 16 * 256;
    let flash = Flash::new(SIZE as usize);
    let layout = Layout::new(4, 256).unwrap();
    for (payload, claimed_sha) in [(Vec::new(), [0xB8; 32]), (bytes(3, 300, false), [7; 32])] {
        let id = AssetId {
            sha256: claimed_sha,
            size: payload.len() as u64,
            payload_len: payload.len() as u64,
            codec: Codec::None,
        };
        {
            let mut store = Store::<_, 8>::mount(flash.clone(), 0..SIZE).unwrap();
            let mut inst = store.install(id).unwrap();
            inst.write(0, &payload).unwrap();
        }
        // Forged: committed although its bytes do not hash to its SHA-256.
        let first = {
            let store = Store::<_, 8>::mount(flash.clone(), 0..SIZE).unwrap();
            store
                .extents()
                .find(|e| e.sha256 == claimed_sha)
                .unwrap()
                .first_block
        };
        program_word(&flash, first as usize, layout.commit_offset());
        let mut store = Store::<_, 8>::mount(flash.clone(), 0..SIZE).unwrap();
        let mut reader = store.open_raw(&claimed_sha).unwrap();
        reader.seek(10).unwrap();
        reader.seek(0).unwrap();
        let mut buf = [0u8; 64];
        let end = loop {
            match reader.read(&mut buf) {
                Ok(0) => break Ok(()),
                Ok(_) => {}
                Err(e) => break Err(e),
            }
        };
        assert!(matches!(end, Err(Error::Verify(_))), "{end:?}");
    }
}

// ---------------------------------------------------------------------------
// Seeds of fuzz/fuzz_targets/store_ops.rs

/// One store_ops input: header, partition image, no head fixups, operations.
fn seed(geometry: u8, blocks_byte: u8, image: &[u8], ops: &[u8]) -> Vec<u8> {
    let mut v = vec![geometry, blocks_byte];
    v.extend_from_slice(&(image.len() as u16).to_le_bytes());
    v.extend_from_slice(image);
    v.push(0);
    v.extend_from_slice(ops);
    v
}

/// store_ops operations (see its `op_*` functions).
mod op {
    pub const REMOUNT: u8 = 0;
    pub const COMPACT: u8 = 5;

    /// Open extent `sel`, read it to the end in 253-byte reads, seek back to
    /// 0, read it again in 29-byte reads.
    pub fn read(sel: u8) -> Vec<u8> {
        vec![2, sel, 0, 2, 0x10, 63, 2, 0, 0x10, 7]
    }

    pub fn mark_handled(sel: u8) -> Vec<u8> {
        vec![3, sel]
    }

    pub fn gc(mask: u8) -> Vec<u8> {
        vec![4, mask]
    }

    pub fn cut(after: u8, torn: u8) -> Vec<u8> {
        vec![6, after, torn]
    }

    /// Install a raw asset of the input's `raw` bytes in `chunk`-byte writes,
    /// then finish.
    pub fn install_raw(raw: &[u8], chunk: u16) -> Vec<u8> {
        let mut v = vec![1, 0];
        v.extend_from_slice(&(raw.len() as u16).to_le_bytes());
        v.extend_from_slice(raw);
        let writes = raw.len().div_ceil(usize::from(chunk.max(1))).min(8);
        v.push(writes as u8);
        for _ in 0..writes {
            v.push(0);
            v.extend_from_slice(&chunk.to_le_bytes());
        }
        v.push(0);
        v
    }

    /// Install the xz asset `which` (0..3) of the target's pool whole, then finish.
    pub fn install_xz(which: u8) -> Vec<u8> {
        vec![1, 2 + 8 * which, 1, 0, 0xFF, 0xFF, 0]
    }
}

fn image_of<const W: usize, const B: usize>(flash: &SimFlash<W, B>) -> Vec<u8> {
    flash.chip.borrow().bytes.clone()
}

/// Writes `fuzz/seeds/store_ops/`: images the store wrote itself on the
/// target's geometries, each followed by a few operations.
/// `cargo test -p assetota-store --test regressions -- --ignored store_ops_seeds`
#[test]
#[ignore = "writes fuzz/seeds/store_ops; run by hand"]
fn store_ops_seeds() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz/seeds/store_ops");
    std::fs::create_dir_all(&dir).unwrap();
    let mut scratch = Scratch::<4096>::new();
    let text = |seed, len| TestAsset::deflated("t", bytes(seed, len, true), 12);
    let raw = |seed, len| TestAsset::stored_raw("r", bytes(seed, len, false));
    let mut seeds: Vec<(&str, Vec<u8>)> = Vec::new();
    // Raw bytes an operation sends hold no `A` (store_ops keeps the head magic
    // out of the payloads it makes up, so it would change them).
    let no_a = |mut v: Vec<u8>| {
        v.iter_mut().filter(|b| **b == b'A').for_each(|b| *b = b'a');
        v
    };
    let small_raw = no_a(bytes(9, 40, false));

    // Geometry 0 (WRITE_SIZE 4, 256-byte blocks), 16 blocks, erased.
    let ops = [
        op::install_raw(&small_raw, 16),
        op::install_xz(1),
        op::read(0),
        op::read(1),
        vec![op::REMOUNT],
        op::mark_handled(0),
        op::gc(0b10),
        vec![op::COMPACT, op::REMOUNT],
    ]
    .concat();
    seeds.push(("erased-16.bin", seed(0, 0, &[], &ops)));

    // Geometry 0, 24 blocks: three assets, one handled.
    let flash = SimFlash::<4, 256>::new(24 * 256);
    let mut store = Store::<_, 8>::mount(flash.clone(), 0..24 * 256).unwrap();
    let (a, b, c) = (text(1, 3000), raw(2, 700), text(3, 200));
    for x in [&a, &b, &c] {
        install(&mut store, x, 97, &mut scratch).unwrap();
    }
    store.mark_handled(&b.id.sha256).unwrap();
    drop(store);
    let ops = [
        op::read(0),
        op::read(1),
        op::read(2),
        op::mark_handled(2),
        vec![op::REMOUNT],
        op::cut(3, 2),
        vec![op::COMPACT, op::REMOUNT],
        op::read(1),
    ]
    .concat();
    seeds.push(("three-assets-24.bin", seed(0, 8, &image_of(&flash), &ops)));

    // Geometry 0, 20 blocks: an install cut after 20 flash operations (a
    // partial extent), next to a committed asset; the operations resume it.
    let flash = SimFlash::<4, 256>::new(20 * 256);
    let mut store = Store::<_, 8>::mount(flash.clone(), 0..20 * 256).unwrap();
    install(&mut store, &c, 64, &mut scratch).unwrap();
    flash.chip.borrow_mut().cut_at(20, Torn::Prefix);
    let big = TestAsset::stored_raw("r", no_a(bytes(4, 1400, false)));
    assert!(install(&mut store, &big, 100, &mut scratch).is_err());
    drop(store);
    flash.chip.borrow_mut().power_on();
    let ops = [
        op::install_raw(&big.raw, 1400),
        op::read(1),
        vec![op::REMOUNT],
        op::gc(0b01),
    ]
    .concat();
    seeds.push((
        "partial-install-20.bin",
        seed(0, 4, &image_of(&flash), &ops),
    ));

    // Geometry 0, 32 blocks: dead extents and holes (gc), a superseded copy
    // left by a cut compaction.
    let flash = SimFlash::<4, 256>::new(32 * 256);
    let mut store = Store::<_, 8>::mount(flash.clone(), 0..32 * 256).unwrap();
    let assets = [
        raw(5, 300),
        text(6, 4000),
        raw(7, 900),
        text(8, 100),
        raw(9, 50),
    ];
    for x in &assets {
        install(&mut store, x, 200, &mut scratch).unwrap();
    }
    let keep = [
        assets[1].id.sha256,
        assets[3].id.sha256,
        assets[4].id.sha256,
    ];
    store.gc_by(|sha| keep.contains(sha)).unwrap();
    flash.chip.borrow_mut().cut_at(40, Torn::Garbage);
    let _ = store.compact(&mut scratch);
    drop(store);
    flash.chip.borrow_mut().power_on();
    let ops = [
        vec![op::COMPACT],
        op::read(0),
        op::read(1),
        op::gc(0b11),
        vec![op::REMOUNT],
    ]
    .concat();
    seeds.push((
        "dead-and-copies-32.bin",
        seed(0, 16, &image_of(&flash), &ops),
    ));

    // A store written for WRITE_SIZE 16 mounted as geometry 0: a foreign layout.
    let flash = SimFlash::<16, 256>::new(16 * 256);
    let mut store = Store::<_, 8>::mount(flash.clone(), 0..16 * 256).unwrap();
    install(&mut store, &b, 64, &mut scratch).unwrap();
    drop(store);
    seeds.push(("foreign-16.bin", seed(0, 0, &image_of(&flash), &[])));

    // Geometries 1 and 2 (WRITE_SIZE 16 and 32) and 3 (512-byte blocks, 8-byte
    // words on a flash erasing 256 B), each with two assets.
    let ops = [op::read(0), op::read(1), vec![op::COMPACT, op::REMOUNT]].concat();
    let flash = SimFlash::<16, 256>::new(16 * 256);
    let mut store = Store::<_, 8>::mount(flash.clone(), 0..16 * 256).unwrap();
    install(&mut store, &c, 64, &mut scratch).unwrap();
    install(&mut store, &b, 64, &mut scratch).unwrap();
    drop(store);
    seeds.push(("write16-16.bin", seed(1, 0, &image_of(&flash), &ops)));
    let flash = SimFlash::<32, 256>::new(20 * 256);
    let mut store = Store::<_, 8>::mount(flash.clone(), 0..20 * 256).unwrap();
    install(&mut store, &c, 64, &mut scratch).unwrap();
    install(&mut store, &raw(10, 400), 64, &mut scratch).unwrap();
    drop(store);
    seeds.push(("write32-20.bin", seed(2, 4, &image_of(&flash), &ops)));
    let flash = SimFlash::<1, 256>::new(12 * 512);
    let layout = Layout::new(8, 512).unwrap();
    let mut store = Store::<_, 8>::mount_with(flash.clone(), 0..12 * 512, layout).unwrap();
    install(&mut store, &a, 300, &mut scratch).unwrap();
    install(&mut store, &b, 300, &mut scratch).unwrap();
    drop(store);
    seeds.push(("block512-12.bin", seed(3, 4, &image_of(&flash), &ops)));

    for (name, bytes) in seeds {
        std::fs::write(dir.join(name), bytes).unwrap();
    }
}
