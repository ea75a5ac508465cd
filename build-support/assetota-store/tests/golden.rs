//! The golden flash images of docs/store-format.md.
//!
//! `tests/golden/*.bin` were written by `tests/golden/gen.py`, a Python
//! implementation of the document that shares no code with this crate. Here
//! the store builds the same images through its public API and must produce
//! them byte for byte; then it mounts each golden file and must report what
//! the document says it holds; and the document's hex dumps must be the
//! files' bytes.

use std::ops::Range;

use assetota::Codec;
use assetota_store::{
    AssetId, Error, Layout, ReadOnlyFlash, Scratch, SliceFlash, Store, StoredAsset,
};
use sha2::{Digest, Sha256};

const MAX: usize = 8;
/// The deflate asset's window is 2^10.
type Win = Scratch<1024>;

fn golden(name: &str) -> Vec<u8> {
    let path = format!("{}/tests/golden/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn hex32(s: &str) -> [u8; 32] {
    let mut out = [0u8; 32];
    for (i, o) in out.iter_mut().enumerate() {
        *o = u8::from_str_radix(&s[2 * i..2 * i + 2], 16).unwrap();
    }
    out
}

/// One asset file of `tests/golden/assets/`, pinned by its SHA-256.
struct Asset {
    raw: Vec<u8>,
    payload: Vec<u8>,
    id: AssetId,
}

fn asset(file: &str, sha256: &str, codec: Codec, payload_file: Option<&str>) -> Asset {
    let raw = golden(&format!("assets/{file}"));
    let digest: [u8; 32] = Sha256::digest(&raw).into();
    assert_eq!(digest, hex32(sha256), "assets/{file} changed");
    let payload = payload_file.map_or_else(|| raw.clone(), |p| golden(&format!("assets/{p}")));
    let id = AssetId {
        sha256: digest,
        size: raw.len() as u64,
        payload_len: payload.len() as u64,
        codec,
    };
    Asset { raw, payload, id }
}

// SHA-256s as docs/store-format.md lists them.
fn hello() -> Asset {
    let sha = "5891b5b522d5df086d0ff0b110fbd9d21bb4fc7163af34d08286a2e846f6be03";
    asset("hello.txt", sha, Codec::None, None)
}

fn text() -> Asset {
    let sha = "a8fc0e886d9128264873df5a76527bed160b5f82dbcd60efe9531e942e7809da";
    let codec = Codec::Deflate { window_bits: 10 };
    asset("text.txt", sha, codec, Some("text.deflate"))
}

fn config() -> Asset {
    let sha = "154165c86f69247d98122e4c76d04af1922b26d0410fb323b630cb3033b633d3";
    asset("config.json", sha, Codec::None, None)
}

fn noise() -> Asset {
    let sha = "e1ffd29ef4a917651967f94120c3d771ce05b3d957c107d6c0774cce1c3a0db3";
    asset("noise.bin", sha, Codec::None, None)
}

fn big() -> Asset {
    let sha = "7e891457f3d9cd5be5468309264f3694188fa69e507c86396b7483ff60a87fdd";
    asset("big.bin", sha, Codec::None, None)
}

/// An image: file, write size, erase size, blocks.
type Img = (&'static str, u32, u32, u32);

/// The three images.
const A: Img = ("one-raw.bin", 4, 256, 4);
const B: Img = ("mixed.bin", 8, 512, 8);
const C: Img = ("interrupted.bin", 32, 512, 6);

fn layout(img: Img) -> Layout {
    Layout::new(img.1, img.2).unwrap()
}

fn range(img: Img) -> Range<u32> {
    0..img.2 * img.3
}

fn blank(img: Img) -> Vec<u8> {
    vec![0xFF; (img.2 * img.3) as usize]
}

type Slice<'a> = Store<SliceFlash<'a>, MAX>;

fn mount(image: &mut [u8], img: Img) -> Slice<'_> {
    Store::mount_with(SliceFlash::new(image), range(img), layout(img)).unwrap()
}

/// Installs `a` in chunks of `chunk` payload bytes and finishes.
fn install(store: &mut Slice<'_>, a: &Asset, chunk: usize, scratch: &mut Win) {
    let mut inst = store.install(a.id).unwrap();
    assert_eq!(inst.resume_offset(), 0);
    for (i, c) in a.payload.chunks(chunk).enumerate() {
        inst.write((i * chunk) as u64, c).unwrap();
    }
    inst.finish(scratch).unwrap();
}

fn read_all<F: embedded_storage::nor_flash::NorFlash>(
    store: &mut Store<F, MAX>,
    sha: &[u8; 32],
    scratch: &mut Win,
) -> Vec<u8>
where
    F::Error: std::fmt::Debug,
{
    let mut r = store.open(sha, scratch).unwrap();
    let mut out = Vec::new();
    let mut buf = [0u8; 77];
    loop {
        let n = r.read(&mut buf).unwrap();
        if n == 0 {
            return out;
        }
        out.extend_from_slice(&buf[..n]);
    }
}

fn assert_same(built: &[u8], file: &str) {
    let want = golden(file);
    assert_eq!(built.len(), want.len(), "{file}: length");
    if let Some(at) = built.iter().zip(&want).position(|(a, b)| a != b) {
        panic!(
            "{file}: the store wrote {:#04x} at {at:#x}, gen.py {:#04x}",
            built[at], want[at]
        );
    }
}

fn build_a() -> Vec<u8> {
    let mut image = blank(A);
    let mut scratch = Win::new();
    let mut store = mount(&mut image, A);
    install(&mut store, &hello(), 1, &mut scratch);
    image
}

fn build_b() -> Vec<u8> {
    let mut image = blank(B);
    let mut scratch = Win::new();
    let (text, config, noise) = (text(), config(), noise());
    let mut store = mount(&mut image, B);
    install(&mut store, &text, 100, &mut scratch);
    store.mark_handled(&text.id.sha256).unwrap();
    install(&mut store, &config, 5, &mut scratch);
    install(&mut store, &noise, 600, &mut scratch);
    let freed = store.gc_by(|sha| sha != &noise.id.sha256).unwrap();
    assert_eq!(freed, 2);
    image
}

fn build_c() -> Vec<u8> {
    let mut image = blank(C);
    let mut scratch = Win::new();
    let big = big();
    let mut store = mount(&mut image, C);
    install(&mut store, &hello(), 6, &mut scratch);
    let mut inst = store.install(big.id).unwrap();
    inst.write(0, &big.payload[..500]).unwrap();
    inst.write(500, &big.payload[500..808]).unwrap();
    // Power lost here: the install is never finished.
    image
}

#[test]
fn the_store_writes_the_golden_images() {
    assert_same(&build_a(), A.0);
    assert_same(&build_b(), B.0);
    assert_same(&build_c(), C.0);
}

#[test]
fn geometry_numbers_are_the_documented_ones() {
    // (word, head_len, container, DONE offset, head-block payload, block payload)
    let table = [
        (A, (8, 80, 104, 248, 144, 248)),
        (B, (8, 80, 104, 504, 400, 504)),
        (C, (32, 96, 192, 480, 288, 480)),
    ];
    for (img, (word, head_len, container, done, head_payload, block_payload)) in table {
        let l = layout(img);
        assert_eq!(l.word(), word, "{}", img.0);
        assert_eq!(l.head_len(), head_len, "{}", img.0);
        assert_eq!(l.commit_offset(), head_len, "{}", img.0);
        assert_eq!(l.handled_offset(), head_len + word, "{}", img.0);
        assert_eq!(l.dead_offset(), head_len + 2 * word, "{}", img.0);
        assert_eq!(l.container(), container, "{}", img.0);
        assert_eq!(l.per_block_overhead(), word, "{}", img.0);
        assert_eq!(l.done_offset(), done, "{}", img.0);
        assert_eq!(l.head_payload(), head_payload, "{}", img.0);
        assert_eq!(l.block_payload(), block_payload, "{}", img.0);
    }
    // storage_size = max(1, ceil((payload + container) / (block − word))) × block
    assert_eq!(layout(A).storage_size(6), 256);
    assert_eq!(layout(B).storage_size(1069), 3 * 512);
    assert_eq!(layout(B).storage_size(904), 2 * 512);
    assert_eq!(layout(B).storage_size(905), 3 * 512);
    assert_eq!(layout(B).storage_size(0), 512);
    assert_eq!(layout(C).storage_size(1000), 3 * 512);
}

fn summary(store: &Store<impl embedded_storage::nor_flash::NorFlash, MAX>) -> Vec<StoredAsset> {
    store.extents().collect()
}

fn extent(
    a: &Asset,
    first_block: u32,
    blocks: u32,
    seq: u32,
    committed: bool,
    handled: bool,
) -> StoredAsset {
    StoredAsset {
        sha256: a.id.sha256,
        size: a.id.size,
        payload_len: a.id.payload_len,
        codec: a.id.codec,
        first_block,
        blocks,
        seq,
        committed,
        handled,
    }
}

#[test]
fn image_a_mounts_and_reads_back() {
    let image = golden(A.0);
    let hello = hello();
    let mut scratch = Win::new();
    // A device with this flash: its own WRITE_SIZE and ERASE_SIZE give the layout.
    let mut store = Store::<_, MAX>::mount(ReadOnlyFlash::<4, 256>::new(&image), range(A)).unwrap();
    assert_eq!(summary(&store), [extent(&hello, 0, 1, 0, true, false)]);
    assert_eq!((store.used(), store.free()), (256, 3 * 256));
    assert_eq!(
        read_all(&mut store, &hello.id.sha256, &mut scratch),
        hello.raw
    );
    let mut r = store.open_raw(&hello.id.sha256).unwrap();
    let mut buf = [0u8; 16];
    assert_eq!(r.read(&mut buf).unwrap(), 6);
    assert_eq!(&buf[..6], b"hello\n");
    assert_eq!(r.read(&mut buf).unwrap(), 0);
}

#[test]
fn image_b_mounts_and_reads_back() {
    let image = golden(B.0);
    let (text, config, noise) = (text(), config(), noise());
    let mut scratch = Win::new();
    let mut store = Store::<_, MAX>::mount(ReadOnlyFlash::<8, 512>::new(&image), range(B)).unwrap();
    assert_eq!(
        summary(&store),
        [
            extent(&text, 0, 3, 0, true, true),
            extent(&config, 3, 1, 1, true, false),
        ]
    );
    // The DEAD extent (blocks 4..6) is free space.
    assert_eq!((store.used(), store.free()), (4 * 512, 4 * 512));
    assert_eq!(store.largest_free_run(), 4 * 512);
    assert!(!store.contains(&noise.id.sha256));
    assert!(store.is_handled(&text.id.sha256));
    assert!(!store.is_handled(&config.id.sha256));
    assert_eq!(
        read_all(&mut store, &text.id.sha256, &mut scratch),
        text.raw
    );
    assert_eq!(
        read_all(&mut store, &config.id.sha256, &mut scratch),
        config.raw
    );

    // The next extent goes to the lowest free run, the DEAD one, with seq 3:
    // one more than the highest seq of any head, the DEAD one's included.
    let mut copy = image.clone();
    let mut store = mount(&mut copy, B);
    let hello = hello();
    install(&mut store, &hello, 3, &mut scratch);
    assert_eq!(summary(&store)[2], extent(&hello, 4, 1, 3, true, false));
}

#[test]
fn image_c_mounts_and_resumes() {
    let image = golden(C.0);
    let (hello, big) = (hello(), big());
    let mut scratch = Win::new();
    let mut store =
        Store::<_, MAX>::mount(ReadOnlyFlash::<32, 512>::new(&image), range(C)).unwrap();
    assert_eq!(
        summary(&store),
        [
            extent(&hello, 0, 1, 0, true, false),
            extent(&big, 1, 3, 1, false, false),
        ]
    );
    // An install in progress occupies its blocks but is not stored.
    assert_eq!((store.used(), store.free()), (4 * 512, 2 * 512));
    assert!(!store.contains(&big.id.sha256));
    assert_eq!(
        store.open_raw(&big.id.sha256).unwrap_err(),
        Error::NotStored
    );
    assert_eq!(
        read_all(&mut store, &hello.id.sha256, &mut scratch),
        hello.raw
    );

    // Resume: extent blocks 0 and 1 have their DONE word, so the install
    // continues at payload_in_blocks(2) = 288 + 480, and extent block 2
    // (partition block 3), which holds one word of payload, is erased.
    let mut copy = image.clone();
    let mut store = mount(&mut copy, C);
    let mut inst = store.install(big.id).unwrap();
    assert_eq!(inst.resume_offset(), 768);
    inst.write(768, &big.payload[768..]).unwrap();
    inst.finish(&mut scratch).unwrap();
    assert_eq!(read_all(&mut store, &big.id.sha256, &mut scratch), big.raw);
    let mut store = mount(&mut copy, C);
    assert_eq!(summary(&store)[1], extent(&big, 1, 3, 1, true, false));
    assert_eq!(read_all(&mut store, &big.id.sha256, &mut scratch), big.raw);

    let mut copy = image.clone();
    let mut store = mount(&mut copy, C);
    assert_eq!(store.install(big.id).unwrap().resume_offset(), 768);
    assert_eq!(copy[..3 * 512], image[..3 * 512]);
    assert!(copy[3 * 512..].iter().all(|&b| b == 0xFF));
}

/// Offset of the DONE word of partition block `block`.
fn done_at(img: Img, block: u32) -> usize {
    (block * img.2 + layout(img).done_offset()) as usize
}

#[test]
fn done_counts_only_as_the_exact_pattern() {
    let big = big();
    // A torn DONE word, one bit anywhere not yet programmed, is not DONE:
    // extent block 1 (partition block 2) is then the first unfinished one.
    for at in [0, 3, 4, 8, 31] {
        let mut copy = golden(C.0);
        copy[done_at(C, 2) + at] |= 0x10;
        let mut store = mount(&mut copy, C);
        assert_eq!(store.install(big.id).unwrap().resume_offset(), 288, "{at}");
    }
    // The head block's DONE torn: the extent is rewritten from the start, with
    // a new seq.
    let mut copy = golden(C.0);
    copy[done_at(C, 1) + 4] |= 0x10;
    let mut store = mount(&mut copy, C);
    assert_eq!(store.install(big.id).unwrap().resume_offset(), 0);
    assert_eq!(summary(&store)[1].seq, 2);
}

#[test]
fn commit_handled_dead_count_as_set_with_any_programmed_byte() {
    let l = layout(A);
    let hello = hello();
    for (off, what) in [
        (l.commit_offset(), "commit"),
        (l.handled_offset(), "handled"),
        (l.dead_offset(), "dead"),
    ] {
        for byte in [0, 7] {
            let mut copy = golden(A.0);
            let word = off as usize..(off + l.word()) as usize;
            copy[word.clone()].fill(0xFF);
            let mut cleared = copy.clone();
            let store = mount(&mut cleared, A);
            let e = summary(&store);
            match what {
                "commit" => assert!(!e[0].committed),
                "handled" => assert!(!e[0].handled),
                _ => assert_eq!(e.len(), 1),
            }
            copy[word.start + byte] = 0xEF;
            let store = mount(&mut copy, A);
            let e = summary(&store);
            match what {
                "commit" => assert!(e[0].committed, "{byte}"),
                "handled" => assert!(e[0].handled, "{byte}"),
                _ => assert!(e.is_empty(), "{byte}"),
            }
            if what != "dead" {
                assert_eq!(e[0].sha256, hello.id.sha256);
            }
        }
    }
}

#[test]
fn the_head_crc_covers_the_block_index() {
    let image = golden(A.0);
    // The head block copied to block 2: not a head there.
    let mut moved = blank(A);
    moved[512..768].copy_from_slice(&image[..256]);
    assert!(summary(&mount(&mut moved, A)).is_empty());
    // The same partition at another flash offset: the index is relative to
    // the partition, so it still mounts.
    let mut shifted = vec![0xFF; 2048];
    shifted[1024..].copy_from_slice(&image);
    let store =
        Store::<_, MAX>::mount_with(SliceFlash::new(&mut shifted), 1024..2048, layout(A)).unwrap();
    assert_eq!(summary(&store).len(), 1);
}

#[test]
fn other_geometries_and_newer_versions_refuse_the_mount() {
    let mut image = golden(A.0);
    // 512-byte blocks: the head at byte 0 is block 0 in its own 256-byte units.
    let err = Store::<_, MAX>::mount(ReadOnlyFlash::<4, 512>::new(&image), 0..1024).unwrap_err();
    assert!(
        matches!(
            err,
            Error::ForeignLayout {
                block_size: 256,
                word: 8,
                expected_block_size: 512,
                expected_word: 8
            }
        ),
        "{err:?}"
    );
    // Word 16: another geometry too.
    let err = Store::<_, MAX>::mount(ReadOnlyFlash::<16, 256>::new(&image), 0..1024).unwrap_err();
    assert!(
        matches!(err, Error::ForeignLayout { word: 8, .. }),
        "{err:?}"
    );
    // Layout version 2 with a valid CRC: refused, not skipped.
    image[4..6].copy_from_slice(&2u16.to_le_bytes());
    let mut h = crc32fast::Hasher::new();
    h.update(&image[..72]);
    h.update(&0u32.to_le_bytes());
    image[72..76].copy_from_slice(&h.finalize().to_le_bytes());
    let err = Store::<_, MAX>::mount(ReadOnlyFlash::<4, 256>::new(&image), 0..1024).unwrap_err();
    assert_eq!(err, Error::UnsupportedLayout(2));
}

/// The hex dumps of docs/store-format.md: (file, start offset, bytes). A `*`
/// row repeats the row before it up to the next row's offset.
fn doc_dumps() -> Vec<(String, usize, Vec<u8>)> {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/store-format.md");
    let doc = std::fs::read_to_string(path).expect("docs/store-format.md");
    let mut dumps = Vec::new();
    let mut lines = doc.lines();
    while let Some(line) = lines.next() {
        let Some(spec) = line.strip_prefix("```hex golden/") else {
            continue;
        };
        let (file, start) = match spec.trim().split_once('@') {
            Some((f, at)) => (
                f,
                usize::from_str_radix(at.trim_start_matches("0x"), 16).unwrap(),
            ),
            None => (spec.trim(), 0),
        };
        let mut bytes: Vec<u8> = Vec::new();
        let mut last: Vec<u8> = Vec::new();
        let mut repeat = false;
        for row in lines.by_ref() {
            if row.starts_with("```") {
                break;
            }
            if row.trim() == "*" {
                repeat = true;
                continue;
            }
            let data = row.split('|').next().unwrap();
            let mut tokens = data.split_whitespace();
            let offset = usize::from_str_radix(tokens.next().unwrap(), 16).unwrap();
            if repeat {
                assert!(!last.is_empty(), "{file}: `*` with no row before it");
                while start + bytes.len() < offset {
                    bytes.extend_from_slice(&last);
                }
                repeat = false;
            }
            assert_eq!(
                offset,
                start + bytes.len(),
                "{file}: offset column drifted at {row:?}"
            );
            last.clear();
            for t in tokens {
                assert_eq!(t.len(), 2, "{file}: {row:?}");
                last.push(u8::from_str_radix(t, 16).unwrap());
            }
            bytes.extend_from_slice(&last);
        }
        dumps.push((file.to_string(), start, bytes));
    }
    dumps
}

#[test]
fn doc_hex_dumps_match_golden_files() {
    let dumps = doc_dumps();
    let names: Vec<_> = dumps.iter().map(|(f, at, _)| (f.as_str(), *at)).collect();
    assert_eq!(
        names,
        [(A.0, 0), (C.0, 0x200), (C.0, 0x3e0)],
        "the dumps docs/store-format.md shows"
    );
    for (file, start, bytes) in dumps {
        let image = golden(&file);
        assert_eq!(
            bytes,
            image[start..start + bytes.len()],
            "docs/store-format.md dump of {file} at {start:#x}"
        );
    }
    // The dump of image (a) is its whole first block.
    assert_eq!(doc_dumps()[0].2.len(), 256);
}
