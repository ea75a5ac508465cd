//! Against the npm reference: `bundle` against `particle bundle`, and the
//! accuracy of stored sizes against bytes really produced.

use crate::corpus::{Corpus, Kind};
use crate::proc::{Out, median, run, run_rss, secs};
use assetota_core::codec::{Codec, PARTICLE_DEFLATE};
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use crate::report::*;
use crate::size_bench::*;
use crate::support::*;

pub(crate) fn oracle_dir(root: &Path) -> PathBuf {
    root.join("tests").join("oracle")
}

/// The npm oracle of tests/oracle (particle-cli 3.43.1, BVR 3.1.3), installed
/// with `npm ci` when scripts/test.sh has not done it yet.
pub(crate) fn ensure_oracle(root: &Path) -> Res<()> {
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
pub(crate) fn particle_app(root: &Path, corpus: &Corpus) -> Res<PathBuf> {
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

pub(crate) fn node_zlib_version(root: &Path) -> String {
    Command::new("node")
        .args(["-p", "process.versions.zlib"])
        .current_dir(oracle_dir(root))
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
        .unwrap_or_default()
}

/// Runs oracle.js on a batch of operations.
pub(crate) fn oracle(root: &Path, ops: Vec<Value>) -> Res<Vec<Value>> {
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
pub(crate) fn bundle_vs_particle(
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
pub(crate) fn accuracy(
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
    let files: Vec<(PathBuf, crate::corpus::FileSpec)> =
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
pub(crate) type Encoded = (u64, u64, bool, u64);

pub(crate) fn encode_for_real(codec: Codec, path: &Path) -> Res<Encoded> {
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
