//! Side by side with `xz`: cold `cargo-assetota size` on a platform whose
//! codec is xz (preset 6, 8 MiB dictionary: what `xz -6` uses) against
//! `xz -6 -T1` run sequentially over the same files, and every asset's
//! stored size against the length of `xz -6`'s own output for it.

use crate::corpus::Corpus;
use crate::proc::{Out, Run, median, run, secs};
use crate::report::Report;
use crate::support::{Res, faster_or_slower, human, io, list};
use serde_json::Value;
use std::path::Path;
use std::process::Command;

pub fn xz_side(
    tool: &Path,
    scratch: &Path,
    corpus: &Corpus,
    runs: usize,
    sizes_too: bool,
    report: &mut Report,
) -> Res<()> {
    let id = corpus.spec.id;
    report.begin(&format!("xz side by side on ({id})"));
    let pkg = scratch.join(format!("xz-{id}"));
    io("xz package", std::fs::create_dir_all(pkg.join("src")))?;
    io(
        "xz package",
        std::fs::write(
            pkg.join("Cargo.toml"),
            format!(
                "[package]\nname = \"bench-xz-{id}\"\nversion = \"0.0.0\"\nedition = \"2021\"\npublish = false\n\n[workspace]\n\n[package.metadata.assetota]\ndir = {:?}\ncodec = \"xz\"\n",
                corpus.assets.display().to_string()
            ),
        ),
    )?;
    io(
        "xz package",
        std::fs::write(pkg.join("src/main.rs"), "fn main() {}\n"),
    )?;
    let cache = pkg.join("target").join("assetota");
    let mut ours: Vec<Run> = Vec::new();
    for _ in 0..runs {
        if cache.exists() {
            io("remove the measure cache", std::fs::remove_dir_all(&cache))?;
        }
        let mut cmd = Command::new(tool);
        cmd.args(["size", "--json", "--manifest-path"])
            .arg(pkg.join("Cargo.toml"))
            .env("CARGO_TARGET_DIR", pkg.join("target"))
            .env_remove("ASSETOTA_PLATFORM");
        ours.push(run(&mut cmd, Out::Capture)?.ok("cargo-assetota size (xz)")?);
    }
    let names: Vec<&str> = corpus.spec.files.iter().map(|f| f.name.as_str()).collect();
    let mut theirs: Vec<Run> = Vec::new();
    for _ in 0..runs {
        let mut cmd = Command::new("xz");
        cmd.args(["-6", "-T1", "-c"])
            .args(&names)
            .current_dir(&corpus.assets);
        theirs.push(run(&mut cmd, Out::Null)?.ok("xz -6")?);
    }
    let (o, t) = (median(&ours), median(&theirs));
    let mut text = format!(
        "### xz on ({id})\n\nA package with `codec = \"xz\"` (preset 6, 8 MiB dictionary) over the same files. `cargo-assetota size --json`, cache removed, median of {runs}: **{}** (CPU {:.2} s; runs: {}). `xz -6 -T1 -c FILES… > /dev/null`, one process: **{}** (runs: {}).\n",
        human(o.wall),
        secs(o.cpu()),
        list(&ours),
        human(t.wall),
        list(&theirs)
    );
    let mut sizes_text = String::from("not compared");
    if sizes_too {
        let json: Value = serde_json::from_slice(&ours[0].stdout)
            .map_err(|e| format!("size --json printed no JSON: {e}"))?;
        let assets = json["assets"].as_array().cloned().unwrap_or_default();
        let mut differ = 0usize;
        for a in &assets {
            let name = a["name"].as_str().unwrap_or_default();
            let out = Command::new("xz")
                .args(["-6", "-T1", "-c", name])
                .current_dir(&corpus.assets)
                .output()
                .map_err(|e| format!("xz: {e}"))?;
            if !out.status.success() || Some(out.stdout.len() as u64) != a["stored_size"].as_u64() {
                differ += 1;
            }
        }
        sizes_text = format!("{differ} of {} differ", assets.len());
        text.push_str(&format!(
            "\nEvery asset's `stored_size` against the length of `xz -6 -T1 -c FILE` (XZ Utils, the same .xz container with a CRC64 check): {sizes_text}.\n"
        ));
    }
    report.detail(&text);
    report.row(
        &format!("cold `size` with xz on ({id}) vs `xz -6` sequential"),
        format!(
            "{} vs {}: {}; sizes vs `xz -6`: {sizes_text}",
            human(o.wall),
            human(t.wall),
            faster_or_slower(o.wall, t.wall)
        ),
        "(report)",
        None,
    );
    Ok(())
}
