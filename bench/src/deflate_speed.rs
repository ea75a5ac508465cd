//! The pure-Rust deflate (`assetota_core::zlib_deflate`, what every deflate
//! codec now encodes with) against C zlib (flate2 over libz-sys, canonical
//! zlib 1.3.1) at level 6, window 15, on a few MiB of mixed data: each of
//! the four asset kinds, 1 MiB each, and a firmware image (this bench's own
//! executable, its first 2 MiB). Single thread, in process, whole input in
//! one call; the median of `runs` passes over the corpus.
//!
//! Three encoders: ours as Node's zlib (the four-byte hash, Codec::Deflate),
//! ours as canonical zlib (the rolling hash), and C zlib. The canonical mode
//! must give C zlib's bytes exactly; it is checked here on every input.

use crate::corpus::{Kind, generate};
use crate::report::Report;
use crate::support::{Res, human, mib};
use assetota_core::zlib_deflate::{Params, deflate_raw};
use serde_json::json;
use std::fmt::Write as _;
use std::time::{Duration, Instant};

fn c_zlib(data: &[u8]) -> Vec<u8> {
    let mut c = flate2::Compress::new_with_window_bits(flate2::Compression::new(6), false, 15);
    let mut out = Vec::with_capacity(data.len() + data.len() / 100 + 1024);
    c.compress_vec(data, &mut out, flate2::FlushCompress::Finish)
        .expect("zlib deflate");
    out
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

pub fn deflate_speed(runs: usize, report: &mut Report) -> Res<()> {
    report.begin("deflate: pure Rust against C zlib, level 6");
    let mut inputs: Vec<(String, Vec<u8>)> = Kind::ALL
        .iter()
        .enumerate()
        .map(|(i, k)| {
            (
                k.name().to_owned(),
                generate(*k, 1 << 20, 0xdef1 + i as u64),
            )
        })
        .collect();
    let exe = std::env::current_exe().map_err(|e| format!("own executable: {e}"))?;
    let elf = std::fs::read(&exe).map_err(|e| format!("{}: {e}", exe.display()))?;
    inputs.push((
        "firmware (ELF)".into(),
        elf[..elf.len().min(2 << 20)].to_vec(),
    ));
    let total: u64 = inputs.iter().map(|(_, d)| d.len() as u64).sum();

    type Enc = fn(&[u8]) -> Vec<u8>;
    let encoders: [(&str, Enc); 3] = [
        ("ours, Node's zlib (Codec::Deflate)", |d| {
            deflate_raw(d, Params::node(6, 15))
        }),
        ("ours, canonical zlib's hash", |d| {
            deflate_raw(d, Params::canonical(6, 15))
        }),
        ("C zlib 1.3.1 (flate2, libz-sys)", c_zlib),
    ];
    for (label, data) in &inputs {
        if deflate_raw(data, Params::canonical(6, 15)) != c_zlib(data) {
            return Err(format!(
                "{label}: the canonical mode differs from C zlib's bytes"
            ));
        }
    }
    let mut md = format!(
        "### Deflate speed: pure Rust against C zlib\n\n{} of input ({}), level 6, window 15, one thread, median of {runs} passes (the encoders take turns in each pass).\n\n| encoder | time | MiB/s | output | vs C zlib |\n|---|---|---|---|---|\n",
        mib(total),
        inputs
            .iter()
            .map(|(l, d)| format!("{l} {}", mib(d.len() as u64)))
            .collect::<Vec<_>>()
            .join(", ")
    );
    // The encoders take turns within each pass, so a change in the
    // machine's load falls on all three alike.
    let mut times = vec![Vec::new(); encoders.len()];
    let mut out_lens = vec![0u64; encoders.len()];
    for _ in 0..runs.max(1) {
        for (i, (_, enc)) in encoders.iter().enumerate() {
            let start = Instant::now();
            out_lens[i] = inputs.iter().map(|(_, d)| enc(d).len() as u64).sum::<u64>();
            times[i].push(start.elapsed());
        }
    }
    let results: Vec<(&str, Duration, u64)> = encoders
        .iter()
        .zip(times)
        .zip(out_lens)
        .map(|(((name, _), t), o)| (*name, median(t), o))
        .collect();
    let c_time = results[2].1;
    for (name, t, out) in &results {
        let speed = total as f64 / (1 << 20) as f64 / t.as_secs_f64();
        let _ = writeln!(
            md,
            "| {name} | {} | {speed:.1} | {out} B | {:.2}× the time |",
            human(*t),
            t.as_secs_f64() / c_time.as_secs_f64()
        );
        report.row(
            &format!("deflate-6 speed: {name}"),
            format!("{speed:.1} MiB/s ({})", human(*t)),
            "",
            None,
        );
    }
    report.set(
        "deflate_speed",
        json!(results
            .iter()
            .map(|(n, t, o)| json!({"encoder": n, "seconds": t.as_secs_f64(), "output": o, "input": total}))
            .collect::<Vec<_>>()),
    );
    report.detail(&md);
    Ok(())
}
