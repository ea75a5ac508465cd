//! The store's benchmark (docs/benchmarks.md, "Device store"):
//!
//! * write amplification: flash bytes programmed and erased per stored byte,
//!   installing a 2,000-asset corpus and then updating 10 % of it;
//! * install and read speed on the host against the same data's plain
//!   inflate + SHA-256;
//! * mount time against the number of blocks.
//!
//! `cargo bench -p assetota-store --bench store [-- --quick]`

#[path = "../tests/sim/mod.rs"]
mod sim;

use std::time::{Duration, Instant};

use assetota_store::{Layout, Scratch, SliceFlash, Store};
use sha2::{Digest, Sha256};
use sim::{SimFlash, TestAsset, bytes, install, read_all};

fn corpus(n: usize, seed: u64) -> Vec<TestAsset> {
    (0..n)
        .map(|i| {
            let s = seed.wrapping_mul(1_000_003).wrapping_add(i as u64);
            // Sizes from 100 B to 64 KiB, log-spread; every third asset incompressible.
            let size = 100usize << (s % 10) as usize;
            let size = size.min(64 * 1024) + (s as usize % 97);
            if i % 3 == 0 {
                TestAsset::stored_raw(&format!("raw/{i}"), bytes(s, size, false))
            } else {
                TestAsset::deflated(&format!("text/{i}"), bytes(s, size, true), 12)
            }
        })
        .collect()
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn write_amplification(n: usize) {
    const W: usize = 4;
    const B: usize = 4096;
    let assets = corpus(n, 1);
    let payload: u64 = assets.iter().map(|a| a.id.payload_len).sum();
    let layout = Layout::new(W as u32, B as u32).unwrap();
    let storage: u64 = assets
        .iter()
        .map(|a| layout.storage_size(a.id.payload_len))
        .sum();
    let size = (storage as usize * 2).next_multiple_of(B);
    let flash = SimFlash::<W, B>::new(size);
    let mut scratch = Scratch::<4096>::new();
    let mut store = Box::new(Store::<_, 4096>::mount(flash.clone(), 0..size as u32).unwrap());
    for a in &assets {
        install(&mut store, a, 1024, &mut scratch).unwrap();
    }
    let s = flash.stats();
    println!(
        "write amplification, install {n} assets ({payload} B of payload, {storage} B of storage): programmed {} B = {:.4} B per payload byte, erased {} B = {:.4} B per payload byte, {} writes, {} erases",
        s.bytes_written,
        s.bytes_written as f64 / payload as f64,
        s.bytes_erased,
        s.bytes_erased as f64 / payload as f64,
        s.writes,
        s.erases
    );
    // Update 10 %: new versions of every tenth asset, then gc the old ones.
    let updated: Vec<TestAsset> = corpus(n, 2).into_iter().step_by(10).collect();
    let upd_payload: u64 = updated.iter().map(|a| a.id.payload_len).sum();
    let before = flash.stats();
    for a in &updated {
        install(&mut store, a, 1024, &mut scratch).unwrap();
    }
    let keep: std::collections::BTreeSet<[u8; 32]> = assets
        .iter()
        .enumerate()
        .filter(|(i, _)| i % 10 != 0)
        .map(|(_, a)| a.id.sha256)
        .chain(updated.iter().map(|a| a.id.sha256))
        .collect();
    let freed = store.gc_by(|s| keep.contains(s)).unwrap();
    let s = flash.stats();
    let (w, e) = (
        s.bytes_written - before.bytes_written,
        s.bytes_erased - before.bytes_erased,
    );
    println!(
        "write amplification, update {} assets ({upd_payload} B of new payload), gc freed {freed} blocks: programmed {w} B = {:.4} B per new payload byte, erased {e} B = {:.4}",
        updated.len(),
        w as f64 / upd_payload as f64,
        e as f64 / upd_payload as f64
    );
    let wear = flash.snapshot().wear;
    println!(
        "wear after both: max {} erases of one block, {} of {} blocks erased at least once",
        wear.iter().max().unwrap(),
        wear.iter().filter(|&&w| w > 0).count(),
        wear.len()
    );
}

fn speed(n: usize, runs: usize) {
    let assets = corpus(n, 3);
    let raw: u64 = assets.iter().map(|a| a.id.size).sum();
    let layout = Layout::new(4, 4096).unwrap();
    let storage: u64 = assets
        .iter()
        .map(|a| layout.storage_size(a.id.payload_len))
        .sum();
    let size = (storage as usize + 4096 * 16).next_multiple_of(4096);
    let mut baseline = Vec::new();
    let mut installs = Vec::new();
    let mut reads = Vec::new();
    let mut image = vec![0xFFu8; size];
    for _ in 0..runs {
        // Plain inflate + SHA-256 of the same payloads, in memory.
        let t = Instant::now();
        for a in &assets {
            let out = match a.id.codec {
                assetota::Codec::None => a.payload.clone(),
                _ => miniz_oxide::inflate::decompress_to_vec(&a.payload).unwrap(),
            };
            let d: [u8; 32] = Sha256::digest(&out).into();
            assert_eq!(d, a.id.sha256);
        }
        baseline.push(t.elapsed());

        image.fill(0xFF);
        let mut scratch = Scratch::<4096>::new();
        let t = Instant::now();
        let mut store = Box::new(
            Store::<_, 1024>::mount_with(SliceFlash::new(&mut image), 0..size as u32, layout)
                .unwrap(),
        );
        for a in &assets {
            install(&mut store, a, 4096, &mut scratch).unwrap();
        }
        installs.push(t.elapsed());
        let t = Instant::now();
        for a in &assets {
            let out = read_all(&mut store, &a.id.sha256, &mut scratch, 4096).unwrap();
            assert_eq!(out.len() as u64, a.id.size);
        }
        reads.push(t.elapsed());
    }
    let (b, i, r) = (median(baseline), median(installs), median(reads));
    println!(
        "speed, {n} assets, {raw} B raw: plain inflate + SHA-256 {:.1} ms; store install (write + verify from flash) {:.1} ms = {:.2}x; store read (decode from flash + SHA-256) {:.1} ms = {:.2}x (medians of {runs})",
        b.as_secs_f64() * 1e3,
        i.as_secs_f64() * 1e3,
        i.as_secs_f64() / b.as_secs_f64(),
        r.as_secs_f64() * 1e3,
        r.as_secs_f64() / b.as_secs_f64()
    );
}

fn mount_time(sizes: &[u32], runs: usize) {
    let layout = Layout::new(4, 4096).unwrap();
    for &blocks in sizes {
        let size = blocks as usize * 4096;
        let mut image = vec![0xFFu8; size];
        // Half full, with 8-block assets.
        let assets = (blocks / 2 / 8) as usize;
        {
            let mut store = Box::new(
                Store::<_, 4096>::mount_with(SliceFlash::new(&mut image), 0..size as u32, layout)
                    .unwrap(),
            );
            let mut scratch = Scratch::<4096>::new();
            for i in 0..assets {
                let a = TestAsset::stored_raw("a", bytes(i as u64, 8 * 4088 - 200, false));
                install(&mut store, &a, 65536, &mut scratch).unwrap();
            }
        }
        let mut times = Vec::new();
        for _ in 0..runs {
            let t = Instant::now();
            let store = Box::new(
                Store::<_, 4096>::mount_with(SliceFlash::new(&mut image), 0..size as u32, layout)
                    .unwrap(),
            );
            times.push(t.elapsed());
            assert_eq!(store.extents().count(), assets);
        }
        println!(
            "mount, {blocks} blocks of 4 KiB ({} MiB), {assets} assets: {:.3} ms (median of {runs})",
            size >> 20,
            median(times).as_secs_f64() * 1e3
        );
    }
}

fn main() {
    let quick = std::env::args().any(|a| a == "--quick");
    if quick {
        write_amplification(100);
        speed(50, 1);
        mount_time(&[256, 1024], 1);
    } else {
        write_amplification(2000);
        speed(400, 5);
        mount_time(&[256, 1024, 4096, 16384, 65536], 5);
    }
}
