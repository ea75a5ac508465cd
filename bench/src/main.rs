//! The benchmark suite of cargo-assetota (issue 8).
//!
//! ```text
//! cargo run --release -p assetota-bench -- [--quick] [--only SECTIONS] [--runs N]
//! ```
//!
//! It generates deterministic corpora under `target/assetota-bench/` (never
//! committed), then measures, in one run, side by side:
//! - `cargo-assetota size` cold (no cache) against `gzip -6` run sequentially
//!   over the same files and against the machine's limit (single-core
//!   SHA-256 + deflate-6 throughput measured in-process, spread over the cores);
//! - warm `size` (measure cache in the target dir, nothing changed), and how
//!   much of it is `cargo metadata`; the watch latency (cargo-assetota's
//!   watch bench, run from here);
//! - `cargo-assetota bundle` against `particle bundle` (particle-cli 3.43.1)
//!   on a synthetic Particle app;
//! - the peak RSS of `size` on one 1 GiB asset;
//! - the clean-build cost of the build.rs helper on examples/hello and
//!   examples/cortex-m;
//! - the helper in a user's edit–build loop (dev profile) on corpus (b);
//! - accuracy: stored sizes against bytes really produced (ours, Node's zlib,
//!   binary-version-reader's asset modules) and against `gzip -6`.
//!
//! Results go to stdout and to `target/assetota-bench/<mode>/results.md`
//! (and `.json`). Benchmarks are not tests: nothing here asserts a timing.

mod corpus;
mod deflate_speed;
mod edit_loop;
mod proc;
mod watch_latency;
mod xz_side;

use assetota_core::codec::{Codec, CountingSink, PARTICLE_DEFLATE};
use corpus::{Corpus, CorpusSpec, Kind};
use proc::{Out, Run, median, run, run_rss, secs};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

const SECTIONS: [&str; 12] = [
    "prepare", "limit", "size", "xz", "warm", "watch", "accuracy", "bundle", "rss", "build",
    "editloop", "deflate",
];

struct Options {
    quick: bool,
    only: Vec<String>,
    runs: Option<usize>,
}

fn usage() -> ! {
    eprintln!(
        "usage: assetota-bench [--quick] [--only {}] [--runs N]\n\
         \n  --quick   small corpora (b: 200 files / 16 MiB, c: 64 MiB), fewer runs, no clean builds\
         \n  --only    comma-separated sections (default: all; `build`, `editloop` and `watch` are skipped by --quick unless named;\
         \n            `prepare` only generates the corpora)\
         \n  --runs    timed runs per measurement (default 5, 2 with --quick)",
        SECTIONS.join(",")
    );
    std::process::exit(2)
}

fn parse_args() -> Options {
    let mut opts = Options {
        quick: false,
        only: Vec::new(),
        runs: None,
    };
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--quick" => opts.quick = true,
            "--only" => {
                let list = args.next().unwrap_or_else(|| usage());
                for s in list.split(',').filter(|s| !s.is_empty()) {
                    if !SECTIONS.contains(&s) {
                        eprintln!("unknown section `{s}`");
                        usage();
                    }
                    opts.only.push(s.to_owned());
                }
            }
            "--runs" => {
                opts.runs = Some(
                    args.next()
                        .and_then(|n| n.parse().ok())
                        .filter(|&n| n > 0)
                        .unwrap_or_else(|| usage()),
                )
            }
            "-h" | "--help" => usage(),
            _ => usage(),
        }
    }
    opts
}

impl Options {
    fn wants(&self, section: &str) -> bool {
        if self.only.is_empty() {
            // They compile projects from scratch: minutes, not a smoke test.
            !(self.quick && matches!(section, "build" | "editloop" | "watch"))
        } else {
            self.only.iter().any(|s| s == section)
        }
    }

    fn runs(&self) -> usize {
        self.runs.unwrap_or(if self.quick { 2 } else { 5 })
    }
}

/// One line of the summary table.
struct Row {
    measure: String,
    value: String,
    target: String,
    met: Option<bool>,
}

struct Report {
    load: Option<String>,
    rows: Vec<Row>,
    details: String,
    json: BTreeMap<String, Value>,
}

impl Report {
    fn row(&mut self, measure: &str, value: String, target: &str, met: Option<bool>) {
        println!(
            "  {measure}: {value}{}",
            match met {
                Some(true) => format!("  [target {target}: met]"),
                Some(false) => format!("  [target {target}: MISSED]"),
                None => String::new(),
            }
        );
        self.rows.push(Row {
            measure: measure.to_owned(),
            value,
            target: target.to_owned(),
            met,
        });
    }

    /// Marks the start of a measurement: its detail records the load then.
    fn begin(&mut self, what: &str) {
        println!("\n{what} …");
        self.load = load_average();
    }

    fn detail(&mut self, text: &str) {
        let text = match (text.split_once('\n'), self.load.take()) {
            (Some((heading, rest)), Some(load)) if heading.starts_with("### ") => {
                format!("{heading}\n\n_Load average when it started: {load}._\n{rest}")
            }
            _ => text.to_owned(),
        };
        println!("{text}");
        self.details.push_str(&text);
        self.details.push('\n');
    }

    fn set(&mut self, key: &str, value: Value) {
        self.json.insert(key.to_owned(), value);
    }
}

fn main() {
    let opts = parse_args();
    if let Err(e) = real_main(&opts) {
        eprintln!("assetota-bench: {e}");
        std::process::exit(1);
    }
}

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("bench/ is inside the workspace")
        .to_owned()
}

fn cargo() -> std::ffi::OsString {
    std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into())
}

type Res<T> = Result<T, String>;

fn io<T>(what: impl std::fmt::Display, r: std::io::Result<T>) -> Res<T> {
    r.map_err(|e| format!("{what}: {e}"))
}

fn real_main(opts: &Options) -> Res<()> {
    let root = workspace_root();
    let mode = if opts.quick { "quick" } else { "full" };
    let scratch = root.join("target").join("assetota-bench").join(mode);
    io("create the scratch dir", std::fs::create_dir_all(&scratch))?;
    let mut report = Report {
        load: None,
        rows: Vec::new(),
        details: String::new(),
        json: BTreeMap::new(),
    };

    let machine = machine_description();
    report.detail(&format!("## Machine\n\n{machine}"));
    report.set("machine", json!(machine));
    report.set("mode", json!(mode));
    if cfg!(debug_assertions) {
        report.detail("**Debug build of the bench and of cargo-assetota: numbers are not representative; use `--release`.**\n");
    }

    if opts.wants("deflate") {
        deflate_speed::deflate_speed(opts.runs(), &mut report)?;
    }
    // `--only deflate` needs no cargo-assetota.
    let tool = if !opts.only.is_empty() && opts.only.iter().all(|s| s == "deflate") {
        PathBuf::new()
    } else {
        let tool = build_tool(&root)?;
        println!("cargo-assetota: {}", tool.display());
        tool
    };

    let runs = opts.runs();
    let (b_files, b_total, c_total) = if opts.quick {
        (200, 16u64 << 20, 64u64 << 20)
    } else {
        (2000, 200u64 << 20, 1u64 << 30)
    };
    let need_a = ["prepare", "size", "xz", "accuracy", "bundle"]
        .iter()
        .any(|s| opts.wants(s));
    let need_b = [
        "prepare", "limit", "size", "xz", "warm", "accuracy", "editloop",
    ]
    .iter()
    .any(|s| opts.wants(s));
    let a = if need_a {
        Some(prepare(
            corpus::particle_size(),
            &scratch.join("a"),
            Some("p2"),
        )?)
    } else {
        None
    };
    let b = if need_b {
        Some(prepare(
            corpus::large(b_files, b_total),
            &scratch.join("b"),
            None,
        )?)
    } else {
        None
    };
    let c = if opts.wants("rss") || opts.wants("prepare") {
        Some(prepare(corpus::huge(c_total), &scratch.join("c"), None)?)
    } else {
        None
    };
    let mut corpora_md = String::from(
        "## Corpora\n\nGenerated by `bench/src/corpus.rs` from fixed seeds (SplitMix64); the fingerprint is SHA-256 over every file's name, length and SHA-256.\n\n| corpus | files | bytes | by kind | fingerprint |\n|---|---|---|---|---|\n",
    );
    for corpus in [&a, &b, &c].into_iter().flatten() {
        let mut kinds: BTreeMap<Kind, (usize, u64)> = BTreeMap::new();
        for f in &corpus.spec.files {
            let e = kinds.entry(f.kind).or_default();
            e.0 += 1;
            e.1 += f.len as u64;
        }
        let by_kind = kinds
            .iter()
            .map(|(k, (n, bytes))| format!("{} {n} ({})", k.name(), mib(*bytes)))
            .collect::<Vec<_>>()
            .join(", ");
        let _ = writeln!(
            corpora_md,
            "| ({}) | {} | {} ({}) | {by_kind} | `{}…` |",
            corpus.spec.id,
            corpus.spec.files.len(),
            thousands(corpus.spec.total()),
            mib(corpus.spec.total()),
            &corpus.fingerprint[..16]
        );
    }
    report.detail(&corpora_md);
    // The measure cache refuses entries for files modified within 2 s of
    // being measured; let freshly written corpora settle first.
    if [&a, &b, &c].into_iter().flatten().any(|c| c.generated) {
        std::thread::sleep(Duration::from_millis(2500));
    }

    let mut limit_time = None;
    if let (true, Some(b)) = (opts.wants("limit") || opts.wants("size"), &b) {
        limit_time = Some(machine_limit(b, &mut report)?);
    }
    let mut size_json_b = None;
    let mut size_json_a = None;
    if opts.wants("size") || opts.wants("accuracy") {
        if let Some(a) = &a {
            size_json_a = Some(cold_size(&tool, a, runs, None, &mut report)?);
        }
        if let Some(b) = &b {
            size_json_b = Some(cold_size(&tool, b, runs, limit_time, &mut report)?);
        }
    }
    if opts.wants("xz") {
        if let Some(a) = &a {
            xz_side::xz_side(&tool, &scratch, a, runs, true, &mut report)?;
        }
        if let Some(b) = &b {
            // xz -6 takes over a minute on 200 MiB: one run each.
            let n = if opts.quick { runs } else { 1 };
            xz_side::xz_side(&tool, &scratch, b, n, false, &mut report)?;
        }
    }
    if opts.wants("warm")
        && let Some(b) = &b
    {
        warm_size(
            &tool,
            b,
            runs.max(if opts.quick { 5 } else { 10 }),
            &mut report,
        )?;
    }
    if opts.wants("watch") {
        watch_latency::watch_latency(&root, runs.max(20), &mut report)?;
    }
    if opts.wants("rss")
        && let Some(c) = &c
    {
        peak_rss(&tool, c, if opts.quick { 1 } else { 2 }, &mut report)?;
    }
    if opts.wants("bundle")
        && let Some(a) = &a
    {
        bundle_vs_particle(&root, &tool, a, runs, &mut report)?;
    }
    if opts.wants("accuracy") {
        if let (Some(a), Some(json)) = (&a, &size_json_a) {
            accuracy(&root, &tool, a, json, true, &mut report)?;
        }
        if let (Some(b), Some(json)) = (&b, &size_json_b) {
            accuracy(&root, &tool, b, json, false, &mut report)?;
        }
    }
    if opts.wants("editloop")
        && let Some(b) = &b
    {
        edit_loop::edit_loop(&root, &scratch, b, runs.min(3), &mut report)?;
    }
    if opts.wants("build") {
        build_cost(
            &root,
            &scratch,
            if opts.quick { 1 } else { runs.min(5) },
            &mut report,
        )?;
    }

    let mut md =
        String::from("## Results\n\n| measure | result | target | met |\n|---|---|---|---|\n");
    for r in &report.rows {
        let _ = writeln!(
            md,
            "| {} | {} | {} | {} |",
            r.measure,
            r.value,
            r.target,
            match r.met {
                Some(true) => "yes",
                Some(false) => "**no**",
                None => "",
            }
        );
    }
    let md = format!("{md}\n{}", report.details);
    io(
        "write results.md",
        std::fs::write(scratch.join("results.md"), &md),
    )?;
    let rows: Vec<Value> = report
        .rows
        .iter()
        .map(|r| json!({"measure": r.measure, "value": r.value, "target": r.target, "met": r.met}))
        .collect();
    report.set("rows", json!(rows));
    io(
        "write results.json",
        std::fs::write(
            scratch.join("results.json"),
            serde_json::to_string_pretty(&report.json).unwrap_or_default(),
        ),
    )?;
    println!("\nresults: {}", scratch.join("results.md").display());
    Ok(())
}

// --- setup -------------------------------------------------------------------

fn machine_description() -> String {
    let read = |p: &str| std::fs::read_to_string(p).unwrap_or_default();
    let cpu = read("/proc/cpuinfo")
        .lines()
        .find_map(|l| {
            l.strip_prefix("model name")
                .map(|r| r.trim_start_matches([' ', '\t', ':']).to_owned())
        })
        .unwrap_or_else(|| "unknown CPU".into());
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let mem_kib: u64 = read("/proc/meminfo")
        .lines()
        .find_map(|l| l.strip_prefix("MemTotal:"))
        .and_then(|r| r.trim().trim_end_matches(" kB").parse().ok())
        .unwrap_or(0);
    let os = read("/etc/os-release")
        .lines()
        .find_map(|l| {
            l.strip_prefix("PRETTY_NAME=")
                .map(|s| s.trim_matches('"').to_owned())
        })
        .unwrap_or_else(|| "unknown OS".into());
    let cmd_out = |cmd: &str, args: &[&str]| {
        Command::new(cmd)
            .args(args)
            .output()
            .ok()
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
            .unwrap_or_default()
    };
    let rustc = cmd_out("rustc", &["-V"]);
    let gzip = cmd_out("gzip", &["--version"]);
    let gzip = gzip.lines().next().unwrap_or("");
    let node = cmd_out("node", &["--version"]);
    let date = cmd_out("date", &["-u", "+%Y-%m-%d %H:%M UTC"]);
    let load = read("/proc/loadavg");
    let load: Vec<&str> = load.split_whitespace().take(3).collect();
    format!(
        "- CPU: {cpu}, {cores} vCPU\n- memory: {:.1} GiB\n- OS: {os}\n- {rustc}; {gzip}; node {node}\n- date: {date}; load average at start: {}\n",
        mem_kib as f64 / (1u64 << 20) as f64,
        load.join(" ")
    )
}

/// The 1-, 5- and 15-minute load averages.
fn load_average() -> Option<String> {
    let text = std::fs::read_to_string("/proc/loadavg").ok()?;
    Some(
        text.split_whitespace()
            .take(3)
            .collect::<Vec<_>>()
            .join(" "),
    )
}

fn build_tool(root: &Path) -> Res<PathBuf> {
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
fn prepare(spec: CorpusSpec, dir: &Path, platform: Option<&str>) -> Res<Corpus> {
    let t = Instant::now();
    let id = spec.id;
    let corpus = io(
        format!("generate corpus ({id})"),
        corpus::materialize(spec, dir),
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

fn package_dir(corpus: &Corpus) -> &Path {
    corpus.assets.parent().expect("assets dir has a parent")
}

/// `cargo-assetota size --json` on a corpus package, its target dir pinned.
fn size_cmd(tool: &Path, corpus: &Corpus) -> Command {
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

fn clear_cache(corpus: &Corpus) -> Res<()> {
    let dir = package_dir(corpus).join("target").join("assetota");
    if dir.exists() {
        io("remove the measure cache", std::fs::remove_dir_all(&dir))?;
    }
    Ok(())
}

fn read_all(corpus: &Corpus) -> Res<Vec<(String, Vec<u8>)>> {
    corpus
        .paths()
        .map(|(p, f)| io(p.display(), std::fs::read(&p)).map(|b| (f.name.clone(), b)))
        .collect()
}

// --- measurements --------------------------------------------------------------

/// The machine's limit for measuring corpus (b): single-core SHA-256 and
/// deflate-6 (our codec, 64 KiB writes as `measure` does) over the bytes in
/// memory, best of two, spread over the cores.
fn machine_limit(b: &Corpus, report: &mut Report) -> Res<Duration> {
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
fn cold_size(
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
fn warm_size(tool: &Path, corpus: &Corpus, runs: usize, report: &mut Report) -> Res<()> {
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
fn peak_rss(tool: &Path, corpus: &Corpus, runs: usize, report: &mut Report) -> Res<()> {
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
fn own_peak_rss(cmd: &mut Command) -> Res<Option<u64>> {
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

fn oracle_dir(root: &Path) -> PathBuf {
    root.join("tests").join("oracle")
}

/// The npm oracle of tests/oracle (particle-cli 3.43.1, BVR 3.1.3), installed
/// with `npm ci` when scripts/test.sh has not done it yet.
fn ensure_oracle(root: &Path) -> Res<()> {
    let dir = oracle_dir(root);
    let version = |pkg: &str| -> Option<String> {
        let text = std::fs::read_to_string(dir.join("node_modules").join(pkg).join("package.json"))
            .ok()?;
        let v: Value = serde_json::from_str(&text).ok()?;
        v["version"].as_str().map(str::to_owned)
    };
    if version("particle-cli").is_none() || version("binary-version-reader").is_none() {
        println!("installing the npm oracle (npm ci in tests/oracle) …");
        let mut cmd = Command::new("npm");
        cmd.args([
            "ci",
            "--ignore-scripts",
            "--no-audit",
            "--no-fund",
            "--loglevel=error",
        ])
        .current_dir(&dir);
        run(&mut cmd, Out::Capture)?.ok("npm ci")?;
    }
    match version("particle-cli").as_deref() {
        Some("3.43.1") => Ok(()),
        other => Err(format!(
            "tests/oracle holds particle-cli {other:?}, not 3.43.1"
        )),
    }
}

/// A synthetic p2 application from binary-version-reader's own test helper
/// (`createFirmwareBinary`), beside the corpus.
fn particle_app(root: &Path, corpus: &Corpus) -> Res<PathBuf> {
    ensure_oracle(root)?;
    let app = package_dir(corpus).join("app.bin");
    if !app.is_file() {
        oracle(
            root,
            vec![
                json!({"op": "mkapp", "platformId": 32, "moduleStartAddress": 0x85fe000, "out": app}),
            ],
        )?;
    }
    Ok(app)
}

fn node_zlib_version(root: &Path) -> String {
    Command::new("node")
        .args(["-p", "process.versions.zlib"])
        .current_dir(oracle_dir(root))
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
        .unwrap_or_default()
}

/// Runs oracle.js on a batch of operations.
fn oracle(root: &Path, ops: Vec<Value>) -> Res<Vec<Value>> {
    let mut child = Command::new("node")
        .arg("oracle.js")
        .current_dir(oracle_dir(root))
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot run node: {e}"))?;
    let request = serde_json::to_vec(&json!({ "ops": ops })).unwrap_or_default();
    let mut stdin = child.stdin.take().expect("piped");
    let writer = std::thread::spawn(move || stdin.write_all(&request));
    let out = child.wait_with_output().map_err(|e| e.to_string())?;
    let _ = writer.join();
    if !out.status.success() {
        return Err(format!(
            "oracle.js failed: {}",
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    let v: Value = serde_json::from_slice(&out.stdout).map_err(|e| e.to_string())?;
    let results = v["results"].as_array().cloned().unwrap_or_default();
    for r in &results {
        if let Some(e) = r.get("error") {
            return Err(format!("oracle op failed: {e}"));
        }
    }
    Ok(results)
}

/// `cargo-assetota bundle APP.bin` against `particle bundle APP.bin`, end to
/// end (process start included), on a synthetic p2 app from BVR's own test
/// helper and corpus (a).
fn bundle_vs_particle(
    root: &Path,
    tool: &Path,
    corpus: &Corpus,
    runs: usize,
    report: &mut Report,
) -> Res<()> {
    let id = corpus.spec.id;
    report.begin(&format!("bundle vs particle-cli on ({id})"));
    let dir = package_dir(corpus);
    let app = particle_app(root, corpus)?;
    let home = dir.join("particle-home");
    io("particle home", std::fs::create_dir_all(&home))?;
    let particle_js = oracle_dir(root).join("node_modules/particle-cli/src/index.js");
    let particle = || {
        let mut cmd = Command::new("node");
        cmd.arg(&particle_js)
            .arg("bundle")
            .arg(&app)
            .arg("--assets")
            .arg(&corpus.assets)
            .arg("--saveTo")
            .arg(dir.join("particle.zip"))
            .current_dir(dir)
            .env("HOME", &home)
            .env("PARTICLE_DISABLE_UPDATE", "true")
            .env("NO_COLOR", "1")
            .env("FORCE_COLOR", "0");
        cmd
    };
    let ours = || {
        let mut cmd = Command::new(tool);
        cmd.arg("bundle")
            .arg(&app)
            .arg("--assets")
            .arg(&corpus.assets)
            .arg("-o")
            .arg(dir.join("ours.zip"))
            .current_dir(dir);
        cmd
    };
    run(&mut particle(), Out::Capture)?.ok("particle bundle")?;
    let probe = run(&mut ours(), Out::Capture)?;
    if probe.code != 0 {
        let why = String::from_utf8_lossy(&probe.stderr)
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .take(2)
            .collect::<Vec<_>>()
            .join(" ");
        report.detail(&format!(
            "### Bundling ({id})\n\n`cargo-assetota bundle app.bin` cannot bundle a Particle module yet: {why}\n"
        ));
        report.row(
            &format!("bundling on ({id}) vs particle-cli"),
            "not measured: Particle modules not supported by `bundle` yet".into(),
            "≥ 20× faster",
            None,
        );
        return Ok(());
    }
    let mut p_runs = Vec::new();
    let mut o_runs = Vec::new();
    for _ in 0..runs {
        p_runs.push(run(&mut particle(), Out::Capture)?.ok("particle bundle")?);
    }
    for _ in 0..runs.max(10) {
        o_runs.push(run(&mut ours(), Out::Capture)?.ok("cargo-assetota bundle")?);
    }
    // Peak RSS once each, through GNU time (not in the timed runs).
    let p_rss = run_rss(&particle(), Out::Capture)?
        .ok("particle bundle")?
        .max_rss_kib;
    let o_rss = run_rss(&ours(), Out::Capture)?
        .ok("cargo-assetota bundle")?
        .max_rss_kib;
    // Both zips must hold the same app and assets for the comparison to be fair.
    let unpacked = oracle(
        root,
        vec![
            json!({"op": "unpack", "path": dir.join("particle.zip")}),
            json!({"op": "unpack", "path": dir.join("ours.zip")}),
        ],
    )?;
    let same = unpacked[0] == unpacked[1];
    let p = median(&p_runs);
    let o = median(&o_runs);
    let ratio = secs(p.wall) / secs(o.wall);
    let ms = |d: Duration| secs(d) * 1000.0;
    report.detail(&format!(
        "### Bundling ({id})\n\nA synthetic p2 application (binary-version-reader's `createFirmwareBinary`) and the 40 assets of ({id}), end to end including process start. `particle bundle` (particle-cli 3.43.1, node {}), median of {runs}: **{:.0} ms** (CPU {:.0} ms, peak RSS {}); runs: {}. `cargo-assetota bundle`, median of {}: **{:.1} ms** (CPU {:.1} ms, peak RSS {}); runs: {}. BVR's `unpackApplicationAndAssetBundle` reads {} from both zips.\n",
        Command::new("node").arg("--version").output().map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned()).unwrap_or_default(),
        ms(p.wall),
        ms(p.cpu()),
        rss_text(p_rss),
        list(&p_runs),
        o_runs.len(),
        ms(o.wall),
        ms(o.cpu()),
        rss_text(o_rss),
        list(&o_runs),
        if same { "the same application and assets" } else { "**different contents**" }
    ));
    report.row(
        &format!("bundling on ({id}) vs `particle bundle`"),
        format!(
            "{:.1} ms vs {:.0} ms: {ratio:.0}× faster",
            ms(o.wall),
            ms(p.wall)
        ),
        "≥ 20× faster",
        Some(ratio >= 20.0 && same),
    );
    report.set(
        &format!("bundle_{id}"),
        json!({"ours_ms": ms(o.wall), "particle_ms": ms(p.wall), "same_contents": same}),
    );
    Ok(())
}

/// Stored sizes against bytes really produced, and the error of `gzip -6`.
fn accuracy(
    root: &Path,
    tool: &Path,
    corpus: &Corpus,
    json: &Value,
    particle: bool,
    report: &mut Report,
) -> Res<()> {
    let id = corpus.spec.id;
    report.begin(&format!("accuracy on ({id})"));
    let assets = json["assets"]
        .as_array()
        .ok_or("size --json has no assets")?;
    let by_name: BTreeMap<&str, &Value> = assets
        .iter()
        .filter_map(|a| Some((a["name"].as_str()?, a)))
        .collect();
    if by_name.len() != corpus.spec.files.len() {
        return Err(format!(
            "size reported {} assets for ({id}), the corpus has {}",
            by_name.len(),
            corpus.spec.files.len()
        ));
    }
    let codec = PARTICLE_DEFLATE;
    // Per file: (raw, ours compressed, produced, inflated back ok, gzip -6 size)
    let files: Vec<(PathBuf, corpus::FileSpec)> =
        corpus.paths().map(|(p, f)| (p, f.clone())).collect();
    let results: Mutex<Vec<Option<Res<Encoded>>>> = Mutex::new(vec![None; files.len()]);
    let next = AtomicUsize::new(0);
    std::thread::scope(|s| {
        for _ in 0..std::thread::available_parallelism().map_or(1, |n| n.get()) {
            s.spawn(|| {
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some((path, _)) = files.get(i) else { break };
                    let r = encode_for_real(codec, path);
                    results.lock().unwrap()[i] = Some(r);
                }
            });
        }
    });
    let results: Vec<Encoded> = results
        .into_inner()
        .unwrap()
        .into_iter()
        .map(|r| r.expect("every file"))
        .collect::<Res<_>>()?;
    let mut mismatched = 0usize;
    let mut roundtrip_failed = 0usize;
    let mut sum_raw = 0u64;
    let mut sum_ours = 0u64;
    let mut sum_stored = 0u64;
    let mut sum_gzip = 0u64;
    let mut worst_gzip: (f64, String) = (0.0, String::new());
    let mut per_kind: BTreeMap<Kind, (u64, u64, u64, u64)> = BTreeMap::new();
    for ((_, f), (raw, produced, roundtrip, gzip)) in files.iter().zip(&results) {
        let a = by_name[f.name.as_str()];
        let compressed = a["compressed_size"].as_u64().unwrap_or(u64::MAX);
        let stored = a["stored_size"].as_u64().unwrap_or(compressed);
        if compressed != *produced || a["size"].as_u64() != Some(*raw) {
            mismatched += 1;
        }
        if !roundtrip {
            roundtrip_failed += 1;
        }
        sum_raw += raw;
        sum_ours += compressed;
        sum_stored += stored;
        sum_gzip += gzip;
        let err = (*gzip as f64 - stored as f64) / stored as f64;
        if err.abs() > worst_gzip.0.abs() {
            worst_gzip = (err, f.name.clone());
        }
        let k = per_kind.entry(f.kind).or_default();
        k.0 += raw;
        k.1 += compressed;
        k.2 += stored;
        k.3 += gzip;
    }
    let pct = |x: u64, of: u64| 100.0 * (x as f64 - of as f64) / of as f64;
    let mut text = format!(
        "### Accuracy on ({id})\n\nEvery asset encoded for real into memory with the same codec (zlib raw deflate, level 6, window 15), inflated back and compared with the raw bytes: {} of {} encoded lengths differ from `size`'s `compressed_size`, {} round trips failed; Σ compressed {} B for Σ raw {} B (ratio {:.4}).\n\n",
        mismatched,
        files.len(),
        roundtrip_failed,
        thousands(sum_ours),
        thousands(sum_raw),
        sum_ours as f64 / sum_raw as f64
    );
    let mut difference_zero = mismatched == 0 && roundtrip_failed == 0;
    let mut reference_row = None;
    if particle {
        // The asset modules our bundler writes for the device (`--modules`).
        let ours_dir = package_dir(corpus).join("our-modules");
        if ours_dir.exists() {
            io("clear our-modules", std::fs::remove_dir_all(&ours_dir))?;
        }
        let app = particle_app(root, corpus)?;
        let mut cmd = Command::new(tool);
        cmd.arg("bundle")
            .arg(&app)
            .arg("--assets")
            .arg(&corpus.assets)
            .arg("-o")
            .arg(package_dir(corpus).join("modules.zip"))
            .arg("--modules")
            .arg(&ours_dir);
        run(&mut cmd, Out::Capture)?.ok("cargo-assetota bundle --modules")?;
        let mut our_module_diff = 0usize;
        let mut our_module_sum = 0u64;
        for (_, f) in &files {
            let len = std::fs::metadata(ours_dir.join(&f.name)).map_or(0, |m| m.len());
            our_module_sum += len;
            if Some(len) != by_name[f.name.as_str()]["stored_size"].as_u64() {
                our_module_diff += 1;
            }
        }
        difference_zero &= our_module_diff == 0;
        mismatched += our_module_diff;
        let _ = writeln!(
            text,
            "The asset modules `cargo-assetota bundle --modules` writes for the device (platform p2): Σ {} B against Σ `stored_size` {} B; {} of {} differ.\n",
            thousands(our_module_sum),
            thousands(sum_stored),
            our_module_diff,
            files.len()
        );
        // What Particle's own tools produce: Node's zlib and BVR's asset modules.
        let paths: Vec<String> = files.iter().map(|(p, _)| p.display().to_string()).collect();
        let module_dir = package_dir(corpus).join("modules");
        let mut ops = vec![json!({"op": "deflate", "paths": paths})];
        for (p, f) in &files {
            ops.push(
                json!({"op": "module", "path": p, "name": f.name, "out": module_dir.join(&f.name)}),
            );
        }
        let r = oracle(root, ops)?;
        let node = r[0].as_array().cloned().unwrap_or_default();
        let mut node_diff = 0usize;
        let mut module_diff = 0usize;
        let mut node_sum = 0u64;
        let mut module_sum = 0u64;
        for (i, (_, f)) in files.iter().enumerate() {
            let a = by_name[f.name.as_str()];
            let n = node
                .get(i)
                .and_then(|v| v["compressed"].as_u64())
                .unwrap_or(0);
            let m = r[i + 1]["size"].as_u64().unwrap_or(0);
            node_sum += n;
            module_sum += m;
            if Some(n) != a["compressed_size"].as_u64() {
                node_diff += 1;
            }
            if Some(m) != a["stored_size"].as_u64() {
                module_diff += 1;
            }
        }
        let _ = writeln!(
            text,
            "Against Particle's own tools (issue 6 owns this): Node's `zlib.deflateRawSync` (Chromium's zlib, `process.versions.zlib` {}) gives Σ {} B, {} of {} lengths differ from ours; binary-version-reader's `createAssetModule` gives Σ {} B against our Σ `stored_size` {} B ({:+.2} %), {} of {} differ. Both are valid deflate streams of the same bytes; the difference is the match finder of Chromium's zlib fork, not our accounting.\n",
            node_zlib_version(root),
            thousands(node_sum),
            node_diff,
            files.len(),
            thousands(module_sum),
            thousands(sum_stored),
            pct(module_sum, sum_stored),
            module_diff,
            files.len()
        );
        reference_row = Some(format!(
            "Σ {:+.2} % ({} of {} assets differ)",
            pct(module_sum, sum_stored),
            module_diff,
            files.len()
        ));
    }
    let _ = writeln!(
        text,
        "The `gzip -6` rule of thumb (`gzip -6 -c FILE | wc -c` per file) against our `stored_size`: Σ {} B vs Σ {} B, **{:+.2} %** overall; worst single asset {:+.1} % (`{}`).\n\n| kind | raw | ours compressed | ours stored | gzip -6 | gzip vs stored |\n|---|---|---|---|---|---|",
        thousands(sum_gzip),
        thousands(sum_stored),
        pct(sum_gzip, sum_stored),
        100.0 * worst_gzip.0,
        worst_gzip.1
    );
    for (k, (raw, comp, stored, gzip)) in &per_kind {
        let _ = writeln!(
            text,
            "| {} | {} | {} ({:.3}) | {} | {} | {:+.2} % |",
            k.name(),
            thousands(*raw),
            thousands(*comp),
            *comp as f64 / *raw as f64,
            thousands(*stored),
            thousands(*gzip),
            pct(*gzip, *stored)
        );
    }
    report.detail(&text);
    report.row(
        &format!("stored sizes vs bytes produced on ({id})"),
        format!(
            "{} of {} differ{}",
            mismatched + roundtrip_failed,
            files.len(),
            if particle {
                " (real encoding and the modules `bundle --modules` writes)"
            } else {
                " (real encoding)"
            }
        ),
        "0 difference",
        Some(difference_zero),
    );
    if let Some(value) = reference_row {
        report.row(
            &format!("our stored sizes vs Particle's modules (BVR, Node's zlib) on ({id})"),
            value,
            "(report; issue 6)",
            None,
        );
    }
    report.row(
        &format!("`gzip -6` vs our stored sizes on ({id})"),
        format!(
            "{:+.2} % overall, worst asset {:+.1} %",
            pct(sum_gzip, sum_stored),
            100.0 * worst_gzip.0
        ),
        "(report)",
        None,
    );
    report.set(
        &format!("accuracy_{id}"),
        json!({"mismatched": mismatched, "roundtrip_failed": roundtrip_failed, "gzip_vs_stored_pct": pct(sum_gzip, sum_stored), "zero_difference": difference_zero}),
    );
    Ok(())
}

/// (raw length, encoded length, inflates back to the raw bytes, gzip -6 length)
type Encoded = (u64, u64, bool, u64);

fn encode_for_real(codec: Codec, path: &Path) -> Res<Encoded> {
    let raw = io(path.display(), std::fs::read(path))?;
    let mut enc = codec.encoder(Vec::new()).map_err(|e| e.to_string())?;
    enc.write_all(&raw).map_err(|e| e.to_string())?;
    let produced = enc.finish().map_err(|e| e.to_string())?;
    let mut back = Vec::with_capacity(raw.len());
    let ok = flate2::read::DeflateDecoder::new(&produced[..])
        .read_to_end(&mut back)
        .is_ok()
        && back == raw;
    let gz = Command::new("gzip")
        .arg("-6")
        .arg("-c")
        .arg(path)
        .output()
        .map_err(|e| format!("gzip: {e}"))?;
    if !gz.status.success() {
        return Err(format!("gzip -6 {} failed", path.display()));
    }
    Ok((
        raw.len() as u64,
        produced.len() as u64,
        ok,
        gz.stdout.len() as u64,
    ))
}

/// Clean `cargo build` of examples/hello with the helper against a copy
/// without build.rs, `manifest!()` and the two dependencies, each in its own
/// throwaway target dir; also the helper without its `xz` feature, and which
/// dependencies the time goes to (removing one at a time from a package that
/// only has assetota-core's dependencies as build-dependencies).
fn build_cost(root: &Path, scratch: &Path, runs: usize, report: &mut Report) -> Res<()> {
    report.begin("clean build of examples/hello with and without the helper");
    let base = scratch
        .parent()
        .expect("scratch has a parent")
        .join("hello");
    let hello = root.join("examples").join("hello");
    let path_of = |krate: &str| root.join("build-support").join(krate).display().to_string();
    let header = "[package]\nname = \"hello\"\nversion = \"0.1.0\"\nedition = \"2024\"\npublish = false\n\n[workspace]\n";
    let with_manifest = |build_dep_extra: &str| {
        format!(
            "{header}\n[package.metadata.assetota]\ndir = \"assets\"\n\n[dependencies]\nassetota = {{ path = {:?} }}\n\n[build-dependencies]\nassetota-build = {{ path = {:?}{build_dep_extra} }}\n",
            path_of("assetota"),
            path_of("assetota-build")
        )
    };
    let variants = [
        ("without", header.to_owned(), false),
        ("with", with_manifest(""), true),
        ("with-xz", with_manifest(", features = [\"xz\"]"), true),
        (
            "with-tuned",
            format!("{}\n{}", with_manifest(""), edit_loop::OVERRIDES),
            true,
        ),
    ];
    for (name, manifest, helper) in &variants {
        let d = base.join(name);
        if d.exists() {
            io("clean the hello copies", std::fs::remove_dir_all(&d))?;
        }
        io("hello copy", std::fs::create_dir_all(d.join("src")))?;
        io(
            "hello copy",
            std::fs::copy(root.join("Cargo.lock"), d.join("Cargo.lock")),
        )?;
        io("hello copy", std::fs::write(d.join("Cargo.toml"), manifest))?;
        copy_dir(&hello.join("assets"), &d.join("assets"))?;
        if *helper {
            io(
                "hello copy",
                std::fs::copy(hello.join("build.rs"), d.join("build.rs")),
            )?;
            io(
                "hello copy",
                std::fs::copy(hello.join("src/main.rs"), d.join("src/main.rs")),
            )?;
        } else {
            io(
                "hello copy",
                std::fs::write(
                    d.join("src/main.rs"),
                    "//! examples/hello without the asset manifest.\nfn main() {\n    println!(\"hello\");\n}\n",
                ),
            )?;
        }
    }

    let mut results: Vec<Vec<Run>> = vec![Vec::new(); variants.len()];
    for _ in 0..runs {
        for (i, (name, ..)) in variants.iter().enumerate() {
            results[i].push(clean_build(&base.join(name))?);
        }
    }
    let medians: Vec<&Run> = results.iter().map(|r| median(r)).collect();
    let (wo, w, w_xz) = (medians[0], medians[1], medians[2]);
    let extra = w.wall.saturating_sub(wo.wall);
    let extra_xz = w_xz.wall.saturating_sub(wo.wall);
    let extra_tuned = medians[3].wall.saturating_sub(wo.wall);
    let mut text = format!(
        "### Clean build of examples/hello\n\n`cargo build --offline --timings` (dev profile) in a fresh target dir for each run, median of {runs}:\n\n| variant | wall | CPU (user+sys) | runs |\n|---|---|---|---|\n"
    );
    for ((name, ..), (m, all)) in variants.iter().zip(medians.iter().zip(&results)) {
        let _ = writeln!(
            text,
            "| {} | {:.1} s | {:.1} s | {} |",
            match *name {
                "without" => "hello without build.rs, `manifest!()`, assetota, assetota-build",
                "with" => "hello as it is (helper with default features: no xz)",
                "with-xz" => "hello, helper with `features = [\"xz\"]`",
                _ =>
                    "hello with sha2 and libz-sys at opt-level 3 (README's override for large assets)",
            },
            secs(m.wall),
            secs(m.cpu()),
            list(all)
        );
    }
    let _ = writeln!(
        text,
        "\nThe helper's extra clean-build time: **{:.1} s** ({:.1} s with the `xz` feature, {:.1} s with the opt-level override).",
        secs(extra),
        secs(extra_xz),
        secs(extra_tuned)
    );
    let units = timings(&base.join("with").join("target"));
    if !units.is_empty() {
        let total: f64 = units.iter().map(|(_, d)| d).sum();
        let _ = writeln!(
            text,
            "\nPer unit (`--timings` of the last run with the helper; a unit's duration while sharing 2 cores, {total:.1} s in all):\n\n| unit | s | share |\n|---|---|---|"
        );
        for (name, d) in units.iter().take(15) {
            let _ = writeln!(text, "| {name} | {d:.2} | {:.0} % |", 100.0 * d / total);
        }
    }
    let firmware = cortex_m_cost(&base, root, runs)?;
    let fw: Vec<&Run> = firmware.iter().map(|r| median(r)).collect();
    let firmware_extra = fw[1].wall.saturating_sub(fw[0].wall);
    let firmware_extra_nodebug = fw[3].wall.saturating_sub(fw[2].wall);
    let _ = writeln!(
        text,
        "\nThe same on a real firmware, `examples/cortex-m` (thumbv7m-none-eabi, cortex-m-rt, semihosting), built clean with and without the helper and the runtime, median of {runs}. A firmware build always has a `--target`, and then cargo compiles build dependencies with full debug info (it only drops it for builds without `--target`); `[profile.dev.build-override] debug = false`, which the example and the `cortex-m` template now set, turns that off:\n\n| variant | wall | CPU (user+sys) | units | runs |\n|---|---|---|---|---|"
    );
    for ((name, helper, no_debug), (m, all)) in
        FIRMWARE_VARIANTS.iter().zip(fw.iter().zip(&firmware))
    {
        let _ = writeln!(
            text,
            "| {} the helper{} | {:.1} s | {:.1} s | {} | {} |",
            if *helper { "with" } else { "without" },
            if *no_debug {
                ", build-override `debug = false`"
            } else {
                ", cargo's defaults"
            },
            secs(m.wall),
            secs(m.cpu()),
            timings(&base.join(name).join("target")).len(),
            list(all)
        );
    }
    let _ = writeln!(
        text,
        "\nThe helper's extra clean-build time on the firmware: **{:.1} s** with cargo's defaults, **{:.1} s** with build dependencies compiled without debug info.",
        secs(firmware_extra),
        secs(firmware_extra_nodebug)
    );
    let attribution = attribute_build(&base, root, runs)?;
    if !attribution.is_empty() {
        let _ = writeln!(
            text,
            "\nBy dependency: packages whose only build-dependencies are the helper's own (assetota-core's direct dependencies, same versions and features, so the same build-override profile as a build.rs helper): all of them, then with liblzma added, then without one group at a time, every package built clean in turn, {runs} rounds; what a group costs is the difference to the first row (median of {runs}; CPU is user+sys of cargo and every compiler process it ran):\n\n| build-dependencies | wall | the group costs | CPU | the group costs |\n|---|---|---|---|---|"
        );
        let (all_wall, all_cpu) = (attribution[0].1, attribution[0].2);
        for (i, (label, wall, cpu)) in attribution.iter().enumerate() {
            // Row 1 adds a group, the others remove one.
            let cost = |all: f64, x: f64| match i {
                0 => String::new(),
                1 => format!("{:.1} s", x - all),
                _ => format!("{:.1} s", all - x),
            };
            let _ = writeln!(
                text,
                "| {label} | {wall:.1} s | {} | {cpu:.1} s | {} |",
                cost(all_wall, *wall),
                cost(all_cpu, *cpu)
            );
        }
    }
    report.detail(&text);
    report.row(
        "build.rs helper's extra clean-build time on hello",
        format!(
            "{:.1} s ({:.1} s vs {:.1} s); {:.1} s with the `xz` feature",
            secs(extra),
            secs(w.wall),
            secs(wo.wall),
            secs(extra_xz)
        ),
        "< 10 s",
        Some(extra < Duration::from_secs(10)),
    );
    report.row(
        "… on examples/cortex-m (thumbv7m firmware)",
        format!(
            "{:.1} s ({:.1} s vs {:.1} s); {:.1} s with build-override `debug = false` ({:.1} s vs {:.1} s)",
            secs(firmware_extra),
            secs(fw[1].wall),
            secs(fw[0].wall),
            secs(firmware_extra_nodebug),
            secs(fw[3].wall),
            secs(fw[2].wall)
        ),
        "< 10 s",
        Some(firmware_extra_nodebug < Duration::from_secs(10)),
    );
    report.set(
        "build_cost",
        json!({"cortex_m_with_s": secs(fw[1].wall), "cortex_m_without_s": secs(fw[0].wall), "cortex_m_with_nodebug_s": secs(fw[3].wall), "cortex_m_without_nodebug_s": secs(fw[2].wall), "with_s": secs(w.wall), "without_s": secs(wo.wall), "with_xz_s": secs(w_xz.wall), "extra_s": secs(extra), "extra_xz_s": secs(extra_xz), "units": units, "attribution": attribution}),
    );
    Ok(())
}

/// The firmware variants of [`cortex_m_cost`]: directory, with the helper,
/// with `[profile.dev.build-override] debug = false`.
const FIRMWARE_VARIANTS: [(&str, bool, bool); 4] = [
    ("cortex-m-without", false, false),
    ("cortex-m-with", true, false),
    ("cortex-m-without-nodebug", false, true),
    ("cortex-m-with-nodebug", true, true),
];

/// What examples/cortex-m adds to its Cargo.toml so that build dependencies
/// are compiled without debug info under `--target`.
const NO_BUILD_DEBUG: &str = "[profile.dev.build-override]\ndebug = false\n";

/// Clean builds of `examples/cortex-m` in each of [`FIRMWARE_VARIANTS`],
/// taking turns: every run of each.
fn cortex_m_cost(base: &Path, root: &Path, runs: usize) -> Res<Vec<Vec<Run>>> {
    let example = root.join("examples").join("cortex-m");
    // src/main.rs includes `../../firmware-shared/report.rs`.
    let shared = base.join("firmware-shared");
    if !shared.exists() {
        copy_dir(&root.join("examples").join("firmware-shared"), &shared)?;
    }
    let manifest = io(
        "examples/cortex-m/Cargo.toml",
        std::fs::read_to_string(example.join("Cargo.toml")),
    )?
    .replace(
        "path = \"../../build-support/",
        &format!("path = \"{}/", root.join("build-support").display()),
    );
    // The example's manifest without its build-override section.
    let Some(plain) = manifest.find(NO_BUILD_DEBUG).map(|at| {
        format!(
            "{}{}",
            &manifest[..at],
            &manifest[at + NO_BUILD_DEBUG.len()..]
        )
    }) else {
        return Err(format!(
            "examples/cortex-m/Cargo.toml no longer has `{}`; update the bench",
            NO_BUILD_DEBUG.trim()
        ));
    };
    let mut dirs = Vec::new();
    for (name, helper, no_debug) in FIRMWARE_VARIANTS {
        let d = base.join(name);
        if d.exists() {
            io("clean the firmware copies", std::fs::remove_dir_all(&d))?;
        }
        for sub in [".cargo", "assets", "src"] {
            copy_dir(&example.join(sub), &d.join(sub))?;
        }
        for file in ["Cargo.lock", "memory.x", "build.rs"] {
            io(file, std::fs::copy(example.join(file), d.join(file)))?;
        }
        let mut toml = if helper {
            plain.clone()
        } else {
            plain
                .lines()
                .filter(|l| !l.starts_with("assetota") && *l != "[build-dependencies]")
                .map(|l| format!("{l}\n"))
                .collect()
        };
        if no_debug {
            toml = format!("{toml}\n{NO_BUILD_DEBUG}");
        }
        io("firmware copy", std::fs::write(d.join("Cargo.toml"), toml))?;
        if !helper {
            let build_rs = io("build.rs", std::fs::read_to_string(d.join("build.rs")))?
                .replace(
                    "\n    // The manifest, and the store partition with every asset installed.\n    assetota_build::Builder::from_env().store_image().emit();\n",
                    "",
                );
            io(
                "firmware copy",
                std::fs::write(d.join("build.rs"), build_rs),
            )?;
            io(
                "firmware copy",
                std::fs::write(
                    d.join("src/main.rs"),
                    "//! examples/cortex-m without the asset manifest.\n#![no_std]\n#![no_main]\n\nuse cortex_m as _;\nuse cortex_m_rt::entry;\nuse cortex_m_semihosting::{debug, hprintln};\nuse panic_halt as _;\n\n#[entry]\nfn main() -> ! {\n    hprintln!(\"hello\");\n    debug::exit(debug::EXIT_SUCCESS);\n    loop {}\n}\n",
                ),
            )?;
        }
        dirs.push(d);
    }
    let mut all: Vec<Vec<Run>> = vec![Vec::new(); dirs.len()];
    for _ in 0..runs {
        for (i, d) in dirs.iter().enumerate() {
            all[i].push(clean_build(d)?);
        }
    }
    Ok(all)
}

/// `cargo build --offline --timings` of `dir` in a fresh `dir/target`.
fn clean_build(dir: &Path) -> Res<Run> {
    let target = dir.join("target");
    if target.exists() {
        io(
            "remove a throwaway target dir",
            std::fs::remove_dir_all(&target),
        )?;
    }
    let mut cmd = Command::new(cargo());
    cmd.args(["build", "--offline", "--timings"])
        .current_dir(dir)
        .env("CARGO_TARGET_DIR", &target)
        .env_remove("RUSTFLAGS")
        .env_remove("CARGO_BUILD_TARGET");
    run(&mut cmd, Out::Null)?.ok(&format!("cargo build in {}", dir.display()))
}

/// assetota-core's direct dependencies, as build-dependencies, with the
/// workspace's versions and features.
const CORE_DEPS: [(&str, &str); 10] = [
    ("sha2", "{ version = \"0.11\", default-features = false }"),
    (
        "crc32fast",
        "{ version = \"1.5\", default-features = false, features = [\"std\"] }",
    ),
    (
        "flate2",
        "{ version = \"1.1\", default-features = false, features = [\"zlib\"] }",
    ),
    (
        "libz-sys",
        "{ version = \"1.1\", default-features = false, features = [\"libc\", \"static\"] }",
    ),
    (
        "liblzma",
        "{ version = \"0.4\", default-features = false, features = [\"static\"] }",
    ),
    ("ignore", "\"0.4.34\""),
    (
        "toml_edit",
        "{ version = \"0.25\", default-features = false, features = [\"parse\"] }",
    ),
    ("thiserror", "\"2\""),
    ("unicode-normalization", "\"0.1.24\""),
    ("unicase", "\"2.8\""),
];

/// (label, wall s, CPU s): the helper's dependencies ([`CORE_DEPS`] but
/// liblzma, as the helper's default features have it), then with liblzma
/// added and without each other group. The groups' clean builds take turns
/// run after run, so a slow spell of the machine lands on all of them.
fn attribute_build(base: &Path, root: &Path, runs: usize) -> Res<Vec<(String, f64, f64)>> {
    let groups: [(&str, &[&str], &[&str]); 8] = [
        ("the helper's dependencies (no liblzma)", &[], &[]),
        ("with liblzma (the `xz` feature)", &[], &["liblzma"]),
        (
            "without ignore (regex-automata, globset, crossbeam…)",
            &["ignore"],
            &[],
        ),
        (
            "without thiserror (syn, quote, proc-macro2)",
            &["thiserror"],
            &[],
        ),
        ("without toml_edit (winnow, indexmap…)", &["toml_edit"], &[]),
        (
            "without flate2 + libz-sys (zlib from C)",
            &["flate2", "libz-sys"],
            &[],
        ),
        ("without sha2 (digest, typenum…)", &["sha2"], &[]),
        (
            "without unicode-normalization + unicase",
            &["unicode-normalization", "unicase"],
            &[],
        ),
    ];
    let mut dirs = Vec::new();
    for (i, (_, drop, add)) in groups.iter().enumerate() {
        let dir = base.join(format!("deps-{i}"));
        if dir.exists() {
            io("clean the deps package", std::fs::remove_dir_all(&dir))?;
        }
        io("deps package", std::fs::create_dir_all(dir.join("src")))?;
        io(
            "deps package",
            std::fs::copy(root.join("Cargo.lock"), dir.join("Cargo.lock")),
        )?;
        let mut manifest = String::from(
            "[package]\nname = \"helper-deps\"\nversion = \"0.0.0\"\nedition = \"2024\"\npublish = false\n\n[workspace]\n\n[build-dependencies]\n",
        );
        for (name, spec) in CORE_DEPS {
            let wanted = if name == "liblzma" {
                add.contains(&name)
            } else {
                !drop.contains(&name)
            };
            if wanted {
                let _ = writeln!(manifest, "{name} = {spec}");
            }
        }
        io(
            "deps package",
            std::fs::write(dir.join("Cargo.toml"), manifest),
        )?;
        io(
            "deps package",
            std::fs::write(dir.join("build.rs"), "fn main() {}\n"),
        )?;
        io(
            "deps package",
            std::fs::write(dir.join("src/main.rs"), "fn main() {}\n"),
        )?;
        dirs.push(dir);
    }
    let mut all: Vec<Vec<Run>> = vec![Vec::new(); groups.len()];
    for _ in 0..runs {
        for (i, dir) in dirs.iter().enumerate() {
            all[i].push(clean_build(dir)?);
        }
    }
    Ok(groups
        .iter()
        .zip(&all)
        .map(|((label, ..), runs)| {
            let r = median(runs);
            (label.to_string(), secs(r.wall), secs(r.cpu()))
        })
        .collect())
}

/// Per-unit durations from the newest `cargo-timing*.html`, longest first.
fn timings(target: &Path) -> Vec<(String, f64)> {
    let dir = target.join("cargo-timings");
    let Some(html) = std::fs::read_dir(&dir)
        .ok()
        .into_iter()
        .flatten()
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "html"))
        .max()
        .and_then(|p| std::fs::read_to_string(p).ok())
    else {
        return Vec::new();
    };
    let Some(start) = html.find("const UNIT_DATA = ") else {
        return Vec::new();
    };
    let rest = &html[start + "const UNIT_DATA = ".len()..];
    let Some(end) = rest.find(";\n") else {
        return Vec::new();
    };
    let Ok(Value::Array(units)) = serde_json::from_str::<Value>(&rest[..end]) else {
        return Vec::new();
    };
    let mut out: Vec<(String, f64)> = units
        .iter()
        .filter_map(|u| {
            let name = format!(
                "{} {}{}",
                u["name"].as_str()?,
                u["version"].as_str().unwrap_or(""),
                u["target"].as_str().filter(|t| !t.is_empty()).unwrap_or("")
            );
            Some((name, u["duration"].as_f64()?))
        })
        .collect();
    out.sort_by(|a, b| b.1.total_cmp(&a.1));
    out
}

fn copy_dir(from: &Path, to: &Path) -> Res<()> {
    io(to.display(), std::fs::create_dir_all(to))?;
    for entry in io(from.display(), std::fs::read_dir(from))? {
        let entry = io(from.display(), entry)?;
        let dest = to.join(entry.file_name());
        if entry.path().is_dir() {
            copy_dir(&entry.path(), &dest)?;
        } else {
            io(dest.display(), std::fs::copy(entry.path(), &dest))?;
        }
    }
    Ok(())
}

// --- formatting ----------------------------------------------------------------

fn list(runs: &[Run]) -> String {
    runs.iter()
        .map(|r| human(r.wall))
        .collect::<Vec<_>>()
        .join(", ")
}

fn rss_text(kib: Option<u64>) -> String {
    kib.map_or_else(
        || "n/a (install GNU time, Debian package `time`)".to_owned(),
        |k| format!("{:.1} MiB", k as f64 / 1024.0),
    )
}

/// How `ours` compares with `theirs`: "2.0× faster" or "1.4× slower".
fn faster_or_slower(ours: Duration, theirs: Duration) -> String {
    if theirs >= ours {
        format!("{:.1}× faster", secs(theirs) / secs(ours))
    } else {
        format!("{:.1}× slower", secs(ours) / secs(theirs))
    }
}

fn human(d: Duration) -> String {
    if d < Duration::from_secs(1) {
        format!("{:.1} ms", secs(d) * 1000.0)
    } else {
        format!("{:.2} s", secs(d))
    }
}

fn mib(bytes: u64) -> String {
    let m = bytes as f64 / (1u64 << 20) as f64;
    if m >= 1024.0 {
        format!("{:.1} GiB", m / 1024.0)
    } else {
        format!("{m:.1} MiB")
    }
}

fn thousands(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}
