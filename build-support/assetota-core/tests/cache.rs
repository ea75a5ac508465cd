//! The incremental cache: reused only for unchanged files, ignored when
//! corrupt or foreign, never trusted for files changed just before saving.

use assetota_core::cache::measure_all_cached;
use assetota_core::cache::{CACHE_FILE, Cache, target_dir_of};
use assetota_core::codec::{Codec, PARTICLE_DEFLATE};
use assetota_core::measure::{NoProgress, measure_all};
use assetota_core::scan::{ScanOptions, ScannedFile, scan};
use std::fs;
use std::path::Path;
use std::time::{Duration, SystemTime};

fn age(path: &Path, secs: u64) {
    let f = fs::File::options().write(true).open(path).unwrap();
    f.set_modified(SystemTime::now() - Duration::from_secs(secs))
        .unwrap();
}

fn tree(n: usize) -> (tempfile::TempDir, Vec<ScannedFile>) {
    let t = tempfile::tempdir().unwrap();
    let assets = t.path().join("assets");
    fs::create_dir(&assets).unwrap();
    for i in 0..n {
        let p = assets.join(format!("f{i}.bin"));
        fs::write(&p, format!("content {i} ").repeat(100 + i)).unwrap();
        age(&p, 60);
    }
    let files = scan(&ScanOptions {
        dir: assets,
        exclude: vec![],
        max_name_len: 255,
    })
    .unwrap();
    (t, files)
}

#[test]
fn unchanged_files_come_from_the_cache_with_identical_results() {
    let (t, files) = tree(5);
    let cache_path = t.path().join(CACHE_FILE);
    let uncached = measure_all(&files, PARTICLE_DEFLATE, &NoProgress).unwrap();

    let mut cache = Cache::load(&cache_path);
    let first = measure_all_cached(&files, PARTICLE_DEFLATE, &NoProgress, &mut cache).unwrap();
    assert_eq!(cache.stats(), (0, 5));
    cache.save(&files.iter().map(|f| f.path.clone()).collect::<Vec<_>>());

    let mut cache = Cache::load(&cache_path);
    let second = measure_all_cached(&files, PARTICLE_DEFLATE, &NoProgress, &mut cache).unwrap();
    assert_eq!(cache.stats(), (5, 0), "every file should be a hit");
    assert_eq!(first, uncached);
    assert_eq!(second, uncached);

    // Another codec is another key.
    let xz = Codec::Xz {
        preset: 6,
        dict_size: 1 << 20,
    };
    if assetota_core::codec::XZ_SUPPORTED {
        let mut cache = Cache::load(&cache_path);
        measure_all_cached(&files, xz, &NoProgress, &mut cache).unwrap();
        assert_eq!(cache.stats(), (0, 5));
    }
}

#[test]
fn a_changed_file_is_measured_again_even_at_the_same_size() {
    let (t, files) = tree(3);
    let cache_path = t.path().join(CACHE_FILE);
    let mut cache = Cache::load(&cache_path);
    measure_all_cached(&files, PARTICLE_DEFLATE, &NoProgress, &mut cache).unwrap();
    cache.save(&files.iter().map(|f| f.path.clone()).collect::<Vec<_>>());

    let victim = &files[1].path;
    let mut bytes = fs::read(victim).unwrap();
    bytes[0] ^= 0xff;
    fs::write(victim, &bytes).unwrap();
    age(victim, 30);

    let mut cache = Cache::load(&cache_path);
    let got = measure_all_cached(&files, PARTICLE_DEFLATE, &NoProgress, &mut cache).unwrap();
    assert_eq!(cache.stats(), (2, 1));
    assert_eq!(
        got,
        measure_all(&files, PARTICLE_DEFLATE, &NoProgress).unwrap()
    );
}

#[test]
fn files_changed_just_before_saving_are_not_cached() {
    let (t, files) = tree(2);
    fs::write(&files[0].path, "fresh").unwrap(); // mtime: now
    let cache_path = t.path().join(CACHE_FILE);
    let mut cache = Cache::load(&cache_path);
    measure_all_cached(&files, PARTICLE_DEFLATE, &NoProgress, &mut cache).unwrap();
    cache.save(&files.iter().map(|f| f.path.clone()).collect::<Vec<_>>());
    let mut cache = Cache::load(&cache_path);
    measure_all_cached(&files, PARTICLE_DEFLATE, &NoProgress, &mut cache).unwrap();
    assert_eq!(cache.stats(), (1, 1), "the racy file is measured again");
}

#[test]
fn corrupt_or_foreign_caches_are_ignored() {
    let (t, files) = tree(2);
    let cache_path = t.path().join(CACHE_FILE);
    let mut cache = Cache::load(&cache_path);
    measure_all_cached(&files, PARTICLE_DEFLATE, &NoProgress, &mut cache).unwrap();
    cache.save(&files.iter().map(|f| f.path.clone()).collect::<Vec<_>>());
    let good = fs::read_to_string(&cache_path).unwrap();

    // A lie about a compressed size, with the checksum left as it was.
    let tampered = good.replace(&format!("\t{}\t", files_compressed(&files)), "\t1\t");
    assert_ne!(tampered, good, "the tampering must change the file");
    let variants = [
        tampered,
        good.replace("assetota-cache v1", "assetota-cache v9"),
        good[..good.len() / 2].to_owned(),
        "garbage\u{0}\u{1}".to_owned(),
        String::new(),
    ];
    for (i, text) in variants.iter().enumerate() {
        fs::write(&cache_path, text).unwrap();
        let mut cache = Cache::load(&cache_path);
        let got = measure_all_cached(&files, PARTICLE_DEFLATE, &NoProgress, &mut cache).unwrap();
        assert_eq!(cache.stats(), (0, 2), "variant {i} was trusted");
        assert_eq!(
            got,
            measure_all(&files, PARTICLE_DEFLATE, &NoProgress).unwrap()
        );
    }
}

fn files_compressed(files: &[ScannedFile]) -> u64 {
    measure_all(&files[..1], PARTICLE_DEFLATE, &NoProgress).unwrap()[0].compressed_size
}

#[test]
fn finds_the_target_dir_from_out_dir() {
    let t = tempfile::tempdir().unwrap();
    let out = t
        .path()
        .join("target/thumbv7m-none-eabi/release/build/fw-0123/out");
    fs::create_dir_all(&out).unwrap();
    assert_eq!(target_dir_of(&out), None);
    fs::write(
        t.path().join("target/CACHEDIR.TAG"),
        "Signature: 8a477f597d28d172789f06886806bc55",
    )
    .unwrap();
    assert_eq!(target_dir_of(&out), Some(t.path().join("target")));
}

#[test]
fn racy_entries_are_not_trusted_in_memory_either() {
    // A long-running process (`watch`) looks entries up again: a file
    // rewritten in the same clock tick as its measured version, at the same
    // size, has an unchanged stamp and must still be measured again.
    let (_t, files) = tree(1);
    let path = &files[0].path;
    fs::write(path, "version 1").unwrap();
    let mtime = fs::metadata(path).unwrap().modified().unwrap();
    let mut cache = Cache::in_memory();
    let first = measure_all_cached(&files, PARTICLE_DEFLATE, &NoProgress, &mut cache).unwrap();

    fs::write(path, "version 2").unwrap();
    let f = fs::File::options().write(true).open(path).unwrap();
    f.set_modified(mtime).unwrap(); // the same tick, as far as the stamp can tell
    drop(f);
    let second = measure_all_cached(&files, PARTICLE_DEFLATE, &NoProgress, &mut cache).unwrap();
    assert_eq!(cache.stats(), (0, 2), "the racy entry was trusted");
    assert_ne!(first[0].sha256, second[0].sha256);
    assert_eq!(
        second,
        measure_all(&files, PARTICLE_DEFLATE, &NoProgress).unwrap()
    );

    // Once the file has been still for the racy window, its entry is trusted.
    age(path, 60);
    measure_all_cached(&files, PARTICLE_DEFLATE, &NoProgress, &mut cache).unwrap();
    measure_all_cached(&files, PARTICLE_DEFLATE, &NoProgress, &mut cache).unwrap();
    assert_eq!(cache.stats(), (1, 3));
}

/// Three settled files, measured into a fresh cache file: (dir, files,
/// cache file, the files' paths, the cache that saved it).
#[cfg(unix)]
fn saved_tree() -> (
    tempfile::TempDir,
    Vec<ScannedFile>,
    std::path::PathBuf,
    Vec<std::path::PathBuf>,
    Cache,
) {
    let (t, files) = tree(3);
    let cache_path = t.path().join(CACHE_FILE);
    let keep: Vec<_> = files.iter().map(|f| f.path.clone()).collect();
    let mut cache = Cache::load(&cache_path);
    measure_all_cached(&files, PARTICLE_DEFLATE, &NoProgress, &mut cache).unwrap();
    cache.save(&keep);
    (t, files, cache_path, keep, cache)
}

/// Each write of the cache renames a new file in, with a new inode.
#[cfg(unix)]
fn inode_of(path: &Path) -> u64 {
    use std::os::unix::fs::MetadataExt;
    fs::metadata(path).unwrap().ino()
}

#[cfg(unix)]
#[test]
fn saving_again_with_nothing_new_does_not_rewrite_the_file() {
    let (_t, files, cache_path, keep, mut cache) = saved_tree();
    let inode = || inode_of(&cache_path);
    let first = inode();
    measure_all_cached(&files, PARTICLE_DEFLATE, &NoProgress, &mut cache).unwrap(); // all hits
    cache.save(&keep);
    assert_eq!(inode(), first, "nothing new: not written again");

    // Another file set, but the third file still exists, so its entry stays
    // (another package sharing the target dir may own it): the same bytes,
    // not written either.
    cache.save(&keep[..2]);
    let second = inode();
    assert_eq!(second, first);
    let mut reloaded = Cache::load(&cache_path);
    measure_all_cached(&files, PARTICLE_DEFLATE, &NoProgress, &mut reloaded).unwrap();
    assert_eq!(reloaded.stats(), (3, 0));

    fs::write(&files[0].path, "new").unwrap(); // modified just now: racy
    measure_all_cached(&files, PARTICLE_DEFLATE, &NoProgress, &mut cache).unwrap();
    cache.save(&keep[..2]);
    assert_eq!(
        inode(),
        second,
        "a racy measurement is not saved, so not written"
    );

    age(&files[0].path, 60);
    measure_all_cached(&files, PARTICLE_DEFLATE, &NoProgress, &mut cache).unwrap(); // one settled insert
    cache.save(&keep);
    assert_ne!(inode(), second, "a new measurement is written");
}

#[cfg(unix)]
#[test]
fn a_new_process_with_nothing_new_leaves_the_file_alone() {
    let (_t, files, cache_path, keep, _) = saved_tree();
    let inode = || inode_of(&cache_path);
    let first = inode();

    // What `size` or build.rs does: load, look everything up, save.
    let mut cache = Cache::load(&cache_path);
    measure_all_cached(&files, PARTICLE_DEFLATE, &NoProgress, &mut cache).unwrap();
    assert_eq!(cache.stats(), (3, 0));
    cache.save(&keep);
    assert_eq!(inode(), first, "the same bytes are not written again");

    fs::write(&files[1].path, "changed").unwrap();
    age(&files[1].path, 60);
    let mut cache = Cache::load(&cache_path);
    measure_all_cached(&files, PARTICLE_DEFLATE, &NoProgress, &mut cache).unwrap();
    assert_eq!(cache.stats(), (2, 1));
    cache.save(&keep);
    assert_ne!(inode(), first, "a new measurement is written");
    let mut cache = Cache::load(&cache_path);
    measure_all_cached(&files, PARTICLE_DEFLATE, &NoProgress, &mut cache).unwrap();
    assert_eq!(cache.stats(), (3, 0), "and found by the next process");
}

#[test]
fn packages_sharing_a_target_dir_keep_each_others_entries() {
    let (a, files_a) = tree(3);
    let (_b, files_b) = tree(2);
    let cache_path = a.path().join(CACHE_FILE);
    let paths = |files: &[ScannedFile]| files.iter().map(|f| f.path.clone()).collect::<Vec<_>>();

    let mut cache = Cache::load(&cache_path);
    measure_all_cached(&files_a, PARTICLE_DEFLATE, &NoProgress, &mut cache).unwrap();
    cache.save(&paths(&files_a));
    let mut cache = Cache::load(&cache_path);
    measure_all_cached(&files_b, PARTICLE_DEFLATE, &NoProgress, &mut cache).unwrap();
    cache.save(&paths(&files_b));

    let mut cache = Cache::load(&cache_path);
    measure_all_cached(&files_a, PARTICLE_DEFLATE, &NoProgress, &mut cache).unwrap();
    assert_eq!(
        cache.stats(),
        (3, 0),
        "package A's entries survived B's save"
    );

    // A deleted file drops out at the next save.
    fs::remove_file(&files_a[0].path).unwrap();
    cache.save(&paths(&files_b));
    let text = fs::read_to_string(&cache_path).unwrap();
    assert!(!text.contains(files_a[0].path.to_str().unwrap()));
    assert!(text.contains(files_a[1].path.to_str().unwrap()));
}
