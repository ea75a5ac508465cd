//! `cargo-assetota size` cold and warm against gzip and the machine's limit,
//! and its peak RSS; the corpora it runs on.

use crate::corpus::{Corpus, CorpusSpec};
use crate::proc::{Out, median, run, run_rss, secs};
use assetota_core::codec::{CountingSink, PARTICLE_DEFLATE};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use crate::report::*;
use crate::support::*;

pub(crate) fn build_tool(root: &Path) -> Res<PathBuf> {
    let mut cmd = Command::new(cargo());
    cmd.current_dir(root)
        .args(["build", "-p", "cargo-assetota", "--message-format=json"]);
    if !cfg!(debug_assertions) {
        cmd.arg("--release");
    }
    println!(
        "building cargo-assetota ({})…",
        if cfg!(debug_assertions) {
            "debug"
        } else {
            "release"
        }
    );
    let out = run(&mut cmd, Out::Capture)?.ok("cargo build -p cargo-assetota")?;
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter(|m| m["reason"] == "compiler-artifact" && m["target"]["name"] == "cargo-assetota")
        .find_map(|m| m["executable"].as_str().map(PathBuf::from))
        .ok_or_else(|| "cargo build did not report the cargo-assetota executable".into())
}

/// Generates the corpus (unless already there) and wraps it in a throwaway
/// package (its own `[workspace]`, target dir inside) that `size` can run on.
pub(crate) fn prepare(spec: CorpusSpec, dir: &Path, platform: Option<&str>) -> Res<Corpus> {
    let t = Instant::now();
    let id = spec.id;
    let corpus = io(
        format!("generate corpus ({id})"),
        crate::corpus::materialize(spec, dir),
    )?;
    if corpus.generated {
        println!(
            "corpus ({id}): generated {} files, {} in {:.1} s",
            corpus.spec.files.len(),
            mib(corpus.spec.total()),
            secs(t.elapsed())
        );
    }
    let platform = platform.map_or(String::new(), |p| format!("platform = \"{p}\"\n"));
    let manifest = format!(
        "[package]\nname = \"bench-corpus-{id}\"\nversion = \"0.0.0\"\nedition = \"2021\"\npublish = false\n\n[workspace]\n\n[package.metadata.assetota]\ndir = \"assets\"\n{platform}"
    );
    io(
        "write corpus package",
        std::fs::create_dir_all(dir.join("src")),
    )?;
    io(
        "write corpus package",
        std::fs::write(dir.join("Cargo.toml"), manifest),
    )?;
    io(
        "write corpus package",
        std::fs::write(dir.join("src/main.rs"), "fn main() {}\n"),
    )?;
    Ok(corpus)
}

pub(crate) fn package_dir(corpus: &Corpus) -> &Path {
    corpus.assets.parent().expect("assets dir has a parent")
}

/// `cargo-assetota size --json` on a corpus package, its target dir pinned.
pub(crate) fn size_cmd(tool: &Path, corpus: &Corpus) -> Command {
    let pkg = package_dir(corpus);
    let mut cmd = Command::new(tool);
    cmd.arg("size")
        .arg("--json")
        .arg("--manifest-path")
        .arg(pkg.join("Cargo.toml"))
        .env("CARGO_TARGET_DIR", pkg.join("target"))
        .env_remove("ASSETOTA_PLATFORM");
    cmd
}

pub(crate) fn clear_cache(corpus: &Corpus) -> Res<()> {
    let dir = package_dir(corpus).join("target").join("assetota");
    if dir.exists() {
        io("remove the measure cache", std::fs::remove_dir_all(&dir))?;
    }
    Ok(())
}

pub(crate) fn read_all(corpus: &Corpus) -> Res<Vec<(String, Vec<u8>)>> {
    corpus
        .paths()
        .map(|(p, f)| io(p.display(), std::fs::read(&p)).map(|b| (f.name.clone(), b)))
        .collect()
}

// --- measurements --------------------------------------------------------------

/// The machine's limit for measuring corpus (b): single-core SHA-256 and
/// deflate-6 (our codec, 64 KiB writes as `measure` does) over the bytes in
/// memory, best of two, spread over the cores.
pub(crate) fn machine_limit(b: &Corpus, report: &mut Report) -> Res<Duration> {
    report.begin(&format!("machine limit on ({})", b.spec.id));
    let files = read_all(b)?;
    let total: u64 = files.iter().map(|(_, d)| d.len() as u64).sum();
    let mut best_sha = Duration::MAX;
    let mut best_deflate = Duration::MAX;
    let mut compressed = 0u64;
    for _ in 0..2 {
        let t = Instant::now();
        let mut x = 0u8;
        for (_, data) in &files {
            let mut h = Sha256::new();
            for chunk in data.chunks(64 * 1024) {
                h.update(chunk);
            }
            x ^= h.finalize()[0];
        }
        std::hint::black_box(x);
        best_sha = best_sha.min(t.elapsed());
        let t = Instant::now();
        compressed = 0;
        for (_, data) in &files {
            let mut enc = PARTICLE_DEFLATE
                .encoder(CountingSink::default())
                .map_err(|e| e.to_string())?;
            for chunk in data.chunks(64 * 1024) {
                enc.write_all(chunk).map_err(|e| e.to_string())?;
            }
            compressed += enc.finish().map_err(|e| e.to_string())?.count;
        }
        best_deflate = best_deflate.min(t.elapsed());
    }
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get()) as u32;
    let one_core = best_sha + best_deflate;
    let limit = one_core / cores;
    let mbps = |d: Duration| total as f64 / 1e6 / secs(d);
    report.detail(&format!(
        "### Machine limit on ({id})\n\nIn-process, single core, bytes already in memory, best of 2: SHA-256 {:.0} MB/s ({:.2} s), deflate-6 (zlib via our codec) {:.1} MB/s ({:.2} s, ratio {:.3}); both together {:.1} MB/s per core. Over {cores} cores: **{:.2} s** for {} ({:.1} MB/s).\n",
        mbps(best_sha),
        secs(best_sha),
        mbps(best_deflate),
        secs(best_deflate),
        compressed as f64 / total as f64,
        mbps(one_core),
        secs(limit),
        mib(total),
        mbps(limit),
        id = b.spec.id
    ));
    report.set(
        "limit",
        json!({"sha256_s": secs(best_sha), "deflate6_s": secs(best_deflate), "cores": cores, "limit_s": secs(limit), "bytes": total}),
    );
    Ok(limit)
}

/// Cold `size` (no measure cache; files in the page cache) and `gzip -6`
/// sequentially over the same files. Returns the `size --json` output.
pub(crate) fn cold_size(
    tool: &Path,
    corpus: &Corpus,
    runs: usize,
    limit: Option<Duration>,
    report: &mut Report,
) -> Res<Value> {
    let id = corpus.spec.id;
    report.begin(&format!("cold size on ({id})"));
    // Warm the page cache: every contender reads the files from memory.
    read_all(corpus)?;
    let mut size_runs = Vec::new();
    for _ in 0..runs {
        clear_cache(corpus)?;
        size_runs.push(run_rss(&size_cmd(tool, corpus), Out::Capture)?.ok("cargo-assetota size")?);
    }
    let json: Value = serde_json::from_slice(&size_runs[0].stdout)
        .map_err(|e| format!("size --json printed no JSON: {e}"))?;
    let names: Vec<String> = corpus.spec.files.iter().map(|f| f.name.clone()).collect();
    let mut gzip_runs = Vec::new();
    for _ in 0..runs {
        let mut cmd = Command::new("gzip");
        cmd.arg("-6")
            .arg("-c")
            .args(&names)
            .current_dir(&corpus.assets);
        gzip_runs.push(run(&mut cmd, Out::Null)?.ok("gzip -6")?);
    }
    let s = median(&size_runs);
    let g = median(&gzip_runs);
    let total = corpus.spec.total();
    let mbps = |d: Duration| total as f64 / 1e6 / secs(d);
    report.detail(&format!(
        "### Cold `size` on ({id})\n\n`cargo-assetota size --json`, measure cache removed before each run, files in the page cache; median of {runs}: **{:.3} s** ({:.1} MB/s), CPU {:.2} s (user+sys, {:.0} % of wall: {:.2} cores busy), peak RSS {}; runs: {}.\n\n`gzip -6 -c FILES… > /dev/null` (one process, sequential): **{:.3} s** ({:.1} MB/s); runs: {}.\n",
        secs(s.wall),
        mbps(s.wall),
        secs(s.cpu()),
        100.0 * secs(s.cpu()) / secs(s.wall),
        secs(s.cpu()) / secs(s.wall),
        rss_text(s.max_rss_kib),
        list(&size_runs),
        secs(g.wall),
        mbps(g.wall),
        list(&gzip_runs),
    ));
    report.row(
        &format!("cold `size` on ({id}) vs `gzip -6` sequential"),
        format!(
            "{} vs {}: {}",
            human(s.wall),
            human(g.wall),
            faster_or_slower(s.wall, g.wall)
        ),
        "",
        None,
    );
    if let Some(limit) = limit {
        let ratio = secs(s.wall) / secs(limit);
        report.row(
            &format!("cold `size` on ({id}) vs machine limit"),
            format!("{:.2} s vs {:.2} s: {ratio:.2}×", secs(s.wall), secs(limit)),
            "≤ 1.3×",
            Some(ratio <= 1.3),
        );
    }
    report.set(
        &format!("cold_size_{id}"),
        json!({"wall_s": secs(s.wall), "cpu_s": secs(s.cpu()), "rss_kib": s.max_rss_kib, "gzip_s": secs(g.wall)}),
    );
    Ok(json)
}

/// Warm `size` (cache filled, nothing changed), and the share of
/// `cargo metadata` in it.
pub(crate) fn warm_size(tool: &Path, corpus: &Corpus, runs: usize, report: &mut Report) -> Res<()> {
    let id = corpus.spec.id;
    report.begin(&format!("warm size on ({id})"));
    clear_cache(corpus)?;
    let fill = run(&mut size_cmd(tool, corpus), Out::Null)?.ok("cargo-assetota size")?;
    let cache_file = package_dir(corpus)
        .join("target")
        .join(assetota_core::cache::CACHE_FILE);
    let cached = cache_file.is_file();
    let mut warm = Vec::new();
    for _ in 0..runs {
        warm.push(run(&mut size_cmd(tool, corpus), Out::Null)?.ok("cargo-assetota size")?);
    }
    let mut meta = Vec::new();
    for _ in 0..runs {
        let mut cmd = Command::new(cargo());
        cmd.args([
            "metadata",
            "--no-deps",
            "--format-version",
            "1",
            "--manifest-path",
        ])
        .arg(package_dir(corpus).join("Cargo.toml"));
        meta.push(run(&mut cmd, Out::Null)?.ok("cargo metadata")?);
    }
    let w = median(&warm);
    let m = median(&meta);
    let ms = |d: Duration| secs(d) * 1000.0;
    report.detail(&format!(
        "### Warm `size` on ({id})\n\nFirst run (fills the cache): {:.2} s; cache file {}. Then, nothing changed, median of {runs}: **{:.1} ms** (CPU {:.1} ms); runs: {}. Of that, `cargo metadata --no-deps` alone takes {:.1} ms (median of {runs}).\n",
        secs(fill.wall),
        if cached { "written" } else { "**not written** (size does not use the cache)" },
        ms(w.wall),
        ms(w.cpu()),
        list(&warm),
        ms(m.wall),
    ));
    report.row(
        &format!("warm `size` on ({id}), nothing changed"),
        format!(
            "{:.1} ms (`cargo metadata`: {:.1} ms)",
            ms(w.wall),
            ms(m.wall)
        ),
        "< 100 ms",
        Some(w.wall < Duration::from_millis(100)),
    );
    report.set(
        &format!("warm_size_{id}"),
        json!({"wall_ms": ms(w.wall), "cargo_metadata_ms": ms(m.wall), "cache_written": cached}),
    );
    Ok(())
}

/// Peak RSS of a cold `size` on the one big asset.
pub(crate) fn peak_rss(tool: &Path, corpus: &Corpus, runs: usize, report: &mut Report) -> Res<()> {
    let id = corpus.spec.id;
    report.begin(&format!("peak RSS on ({id})"));
    let mut all = Vec::new();
    for _ in 0..runs {
        clear_cache(corpus)?;
        all.push(run_rss(&size_cmd(tool, corpus), Out::Null)?.ok("cargo-assetota size")?);
    }
    let rss = all.iter().filter_map(|r| r.max_rss_kib).max();
    clear_cache(corpus)?;
    let own = own_peak_rss(&mut size_cmd(tool, corpus))?;
    let r = median(&all);
    report.detail(&format!(
        "### Peak RSS on ({id})\n\nCold `size` on one {} asset ({runs} run(s), GNU time `%M`, which counts the largest of the process and the children it waited for, here `cargo metadata`): **{}** peak. The `cargo-assetota` process alone (its `VmHWM`, sampled every 10 ms): {}. {:.2} s ({:.1} MB/s: one file is one thread).\n",
        mib(corpus.spec.total()),
        rss_text(rss),
        rss_text(own),
        secs(r.wall),
        corpus.spec.total() as f64 / 1e6 / secs(r.wall)
    ));
    report.row(
        &format!("peak RSS of `size` on ({id})"),
        rss_text(rss),
        "< 64 MiB",
        rss.map(|r| r < 64 * 1024),
    );
    report.set(
        &format!("rss_{id}"),
        json!({"max_rss_kib": rss, "own_vmhwm_kib": own, "wall_s": secs(r.wall)}),
    );
    Ok(())
}

/// The peak RSS of the process itself (not its children): its `VmHWM`,
/// read from /proc until it exits.
pub(crate) fn own_peak_rss(cmd: &mut Command) -> Res<Option<u64>> {
    let mut child = cmd
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .map_err(|e| e.to_string())?;
    let status = format!("/proc/{}/status", child.id());
    let mut peak = None;
    loop {
        if let Some(kib) = std::fs::read_to_string(&status).ok().and_then(|t| {
            t.lines()
                .find_map(|l| l.strip_prefix("VmHWM:"))
                .and_then(|v| v.trim().trim_end_matches(" kB").trim().parse::<u64>().ok())
        }) {
            peak = peak.max(Some(kib));
        }
        if child.try_wait().map_err(|e| e.to_string())?.is_some() {
            return Ok(peak);
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}
