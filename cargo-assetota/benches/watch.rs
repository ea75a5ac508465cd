//! `cargo bench -p cargo-assetota --bench watch [-- --assets N --runs R --debounce MS]`
//!
//! 1. Latency from event to report: a real `cargo-assetota watch` (the
//!    release binary cargo just built) on a tree of N assets (2,000 by
//!    default); one asset is rewritten, and the time from the end of the
//!    write to the report's budget line on stdout is measured, R times.
//!    What is beyond `--debounce` is the cost of the watch itself
//!    (notify-debouncer-full's 10 ms window, the rescan, the report).
//! 2. The cost of a rescan where nothing changed: assetota-core's
//!    `analyze_cached` (what watch runs), in process, with a warm cache of the
//!    target dir (walk, stat, cache lookups, budget, cache save), and the
//!    walk alone.
//!
//! Prints a Markdown table for docs/benchmarks.md.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::mpsc::channel;
use std::time::{Duration, Instant, SystemTime};

use assetota_core::cache::Cache;
use assetota_core::{Config, NoProgress};

struct Args {
    assets: usize,
    runs: usize,
    debounce: u64,
    /// Pause between two edits; under 2 s the previous edits are still racy
    /// (re-measured by every rescan, see the cache's RACY_WINDOW).
    gap: u64,
}

fn args() -> Args {
    let mut a = Args {
        assets: 2000,
        runs: 30,
        debounce: 100,
        gap: 500,
    };
    let argv: Vec<String> = std::env::args().skip(1).collect();
    let mut i = 0;
    while i < argv.len() {
        let value = || argv.get(i + 1).and_then(|v| v.parse::<u64>().ok());
        match argv[i].as_str() {
            "--assets" => a.assets = value().expect("--assets N") as usize,
            "--runs" => a.runs = value().expect("--runs N") as usize,
            "--debounce" => a.debounce = value().expect("--debounce MS"),
            "--gap" => a.gap = value().expect("--gap MS"),
            _ => {} // `cargo bench` passes `--bench`
        }
        i += 1;
    }
    a
}

/// Deterministic bytes, about half compressible.
fn data(seed: u64, len: usize) -> Vec<u8> {
    let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    (0..len)
        .map(|i| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            if i % 2 == 0 {
                b"abcdefgh"[(x % 8) as usize]
            } else {
                (x >> 24) as u8
            }
        })
        .collect()
}

fn asset_len(i: usize) -> usize {
    512 + (i * 7919) % (16 * 1024)
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    let idx = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[idx.min(sorted.len() - 1)]
}

fn stats(mut v: Vec<f64>) -> (f64, f64, f64, f64) {
    v.sort_by(|a, b| a.partial_cmp(b).unwrap());
    (
        percentile(&v, 0.0),
        percentile(&v, 0.5),
        percentile(&v, 0.9),
        percentile(&v, 1.0),
    )
}

fn machine() -> String {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|c| {
            c.lines()
                .find(|l| l.starts_with("model name"))
                .map(|l| l.split(':').nth(1).unwrap_or("").trim().to_owned())
        })
        .unwrap_or_else(|| "unknown CPU".into());
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease")
        .map(|s| s.trim().to_owned())
        .unwrap_or_default();
    format!("{cores} × {cpu}, Linux {kernel}")
}

fn main() {
    let args = args();
    let t = tempfile::Builder::new()
        .prefix("assetota-watch-bench")
        .tempdir()
        .unwrap();
    let root = t.path();
    std::fs::write(
        root.join("Cargo.toml"),
        "[package]\nname = \"watch-bench\"\nversion = \"0.1.0\"\nedition = \"2024\"\n\n\
         [package.metadata.assetota]\ndir = \"assets\"\nplatform = \"bench-board\"\n\n\
         [package.metadata.assetota.platforms.bench-board]\ntotal = \"256 MiB\"\nmax-asset = \"1 MiB\"\n\
         block-size = 4096\nper-block-overhead = 8\nper-asset-overhead = 64\n\n[workspace]\n",
    )
    .unwrap();
    std::fs::create_dir_all(root.join("src")).unwrap();
    std::fs::write(root.join("src/main.rs"), "fn main() {}\n").unwrap();
    let old = SystemTime::now() - Duration::from_secs(3600);
    let mut total = 0;
    for i in 0..args.assets {
        let path = root.join(format!("assets/dir{:02}/asset{i:05}.bin", i % 20));
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        let bytes = data(i as u64, asset_len(i));
        total += bytes.len();
        std::fs::write(&path, &bytes).unwrap();
        // Settled files, as in a real tree: the cache trusts them.
        std::fs::File::options()
            .write(true)
            .open(&path)
            .unwrap()
            .set_modified(old)
            .unwrap();
    }
    eprintln!(
        "tree: {} assets, {:.1} MiB, in {}",
        args.assets,
        total as f64 / 1048576.0,
        root.display()
    );

    // --- 2. rescan cost, in process ---------------------------------------
    let config = Config::load(&root.join("Cargo.toml")).unwrap().unwrap();
    let platform = config.resolve_platform(None).unwrap();
    let target = root.join("target");
    std::fs::create_dir_all(&target).unwrap();
    let mut cache = Cache::for_target_dir(&target);
    let cold = Instant::now();
    assetota_core::analyze_cached(&config, &platform, &NoProgress, &mut cache).unwrap();
    let cold = cold.elapsed().as_secs_f64() * 1e3;
    let mut warm = Vec::new();
    let mut walk = Vec::new();
    let (mut lookups, mut saves) = (Vec::new(), Vec::new());
    for _ in 0..args.runs {
        // The steps of analyze_cached, timed one by one.
        let files = assetota_core::scan(&config, &platform).unwrap();
        let s = Instant::now();
        let measured = assetota_core::cache::measure_all_cached(
            &files,
            platform.codec,
            &NoProgress,
            &mut cache,
        )
        .unwrap();
        let _ = assetota_core::Budget::new(&platform, measured);
        lookups.push(s.elapsed().as_secs_f64() * 1e3);
        let s = Instant::now();
        cache.save(&files.iter().map(|f| f.path.clone()).collect::<Vec<_>>());
        saves.push(s.elapsed().as_secs_f64() * 1e3);

        let s = Instant::now();
        let budget =
            assetota_core::analyze_cached(&config, &platform, &NoProgress, &mut cache).unwrap();
        warm.push(s.elapsed().as_secs_f64() * 1e3);
        assert_eq!(budget.assets.len(), args.assets);
        let s = Instant::now();
        assetota_core::scan(&config, &platform).unwrap();
        walk.push(s.elapsed().as_secs_f64() * 1e3);
    }
    let (hits, misses) = cache.stats();
    assert_eq!(
        misses, args.assets,
        "only the cold run measures ({hits} hits)"
    );
    let (lk_min, lk_med, lk_p90, lk_max) = stats(lookups);
    let (sv_min, sv_med, sv_p90, sv_max) = stats(saves);
    // A fresh process with the cache file the runs above saved.
    let mut reloaded = Cache::for_target_dir(&target);
    let s = Instant::now();
    assetota_core::analyze_cached(&config, &platform, &NoProgress, &mut reloaded).unwrap();
    let from_file = s.elapsed().as_secs_f64() * 1e3;
    assert_eq!(reloaded.stats().1, 0, "the saved cache serves every file");

    // --- 1. latency through a real watch process ----------------------------
    let mut child = Command::new(env!("CARGO_BIN_EXE_cargo-assetota"))
        .args(["watch", "-v", "--debounce", &args.debounce.to_string()])
        .current_dir(root)
        .env("CARGO_TERM_COLOR", "never")
        .env_remove("ASSETOTA_PLATFORM")
        .env_remove("CARGO_TARGET_DIR")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let (tx, rx) = channel::<(bool, String, Instant)>();
    for (is_out, pipe) in [
        (
            true,
            Box::new(child.stdout.take().unwrap()) as Box<dyn std::io::Read + Send>,
        ),
        (false, Box::new(child.stderr.take().unwrap())),
    ] {
        let tx = tx.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(pipe).lines().map_while(Result::ok) {
                let _ = tx.send((is_out, line, Instant::now()));
            }
        });
    }
    let wait_for = |pred: &dyn Fn(bool, &str) -> bool| -> Instant {
        loop {
            let (is_out, line, at) = rx
                .recv_timeout(Duration::from_secs(120))
                .expect("watch answers");
            if pred(is_out, &line) {
                return at;
            }
        }
    };
    wait_for(&|out, l| !out && l.contains("Watching"));
    let mut latencies = Vec::new();
    let mut rescans = Vec::new();
    for run in 0..=args.runs {
        std::thread::sleep(Duration::from_millis(args.debounce + args.gap));
        while rx.try_recv().is_ok() {} // the previous report is complete
        let i = (run * 397) % args.assets;
        let path = root.join(format!("assets/dir{:02}/asset{i:05}.bin", i % 20));
        let bytes = data(1_000_000 + run as u64, asset_len(i) + 100);
        std::fs::write(&path, &bytes).unwrap();
        let written = Instant::now();
        let mut rescan_ms = None;
        let reported = loop {
            let (is_out, line, at) = rx.recv_timeout(Duration::from_secs(60)).expect("a report");
            if !is_out && line.contains("Rescanned") {
                rescan_ms = line
                    .rsplit("in ")
                    .next()
                    .and_then(|s| s.trim_end_matches(" ms").parse::<f64>().ok());
            }
            if is_out && line.starts_with("budget:") {
                break at;
            }
        };
        if run > 0 {
            // Run 0 warms up (page cache, the first cache save).
            latencies.push(reported.duration_since(written).as_secs_f64() * 1e3);
            rescans.extend(rescan_ms);
        }
    }
    #[cfg(unix)]
    // SAFETY: kill(2) on our own child's pid.
    unsafe {
        libc::kill(child.id() as libc::pid_t, libc::SIGINT);
    }
    let status = child.wait().unwrap();
    assert!(status.success(), "watch exits cleanly: {status:?}");

    let (lmin, lmed, lp90, lmax) = stats(latencies);
    let (rmin, rmed, rp90, rmax) = stats(rescans);
    let (wmin, wmed, wp90, wmax) = stats(warm);
    let (kmin, kmed, kp90, kmax) = stats(walk);
    let d = args.debounce as f64;
    println!(
        "Machine: {}; {} assets ({:.1} MiB) in {} directories; {} runs.\n",
        machine(),
        args.assets,
        total as f64 / 1048576.0,
        20,
        args.runs
    );
    println!("| measurement | min | median | p90 | max |");
    println!("|---|---:|---:|---:|---:|");
    println!(
        "| event → report, one asset rewritten (`--debounce {}`, {} ms between edits) | {lmin:.1} ms | {lmed:.1} ms | {lp90:.1} ms | {lmax:.1} ms |",
        args.debounce, args.gap
    );
    println!(
        "| … of which beyond the debounce window | {:.1} ms | {:.1} ms | {:.1} ms | {:.1} ms |",
        lmin - d,
        lmed - d,
        lp90 - d,
        lmax - d
    );
    println!(
        "| … of which the rescan in `watch` (1 asset measured) | {rmin:.1} ms | {rmed:.1} ms | {rp90:.1} ms | {rmax:.1} ms |"
    );
    println!(
        "| rescan, nothing changed (`analyze_cached`, warm, with cache save) | {wmin:.1} ms | {wmed:.1} ms | {wp90:.1} ms | {wmax:.1} ms |"
    );
    println!(
        "| … the walk (`assetota_core::scan`) | {kmin:.1} ms | {kmed:.1} ms | {kp90:.1} ms | {kmax:.1} ms |"
    );
    println!(
        "| … stat + cache lookups + budget | {lk_min:.1} ms | {lk_med:.1} ms | {lk_p90:.1} ms | {lk_max:.1} ms |"
    );
    println!(
        "| … saving the cache file | {sv_min:.1} ms | {sv_med:.1} ms | {sv_p90:.1} ms | {sv_max:.1} ms |"
    );
    println!(
        "\nFor scale: the first, cold scan measured all {} assets in {cold:.0} ms; a new process with the saved cache file: {from_file:.1} ms.",
        args.assets
    );
}
