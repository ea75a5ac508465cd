//! The helper inside a user's edit–build loop: a package whose build.rs is
//! the helper, over a copy of corpus (b), built with cargo's default dev
//! profile, where build dependencies (the helper, sha2, zlib) are compiled at
//! opt-level 0. Timed: the build after the measure cache is gone (what a
//! clean build pays on top of compiling), after one asset changed, and with
//! nothing changed; then the same with the two packages that do the work
//! (sha2, libz-sys) at opt-level 3, the profile override README suggests.

use crate::corpus::Corpus;
use crate::proc::{Out, Run, median, run, secs};
use crate::report::Report;
use crate::support::{Res, cargo, copy_dir, io, list};
use std::fmt::Write as _;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

/// What README suggests for large asset trees.
pub const OVERRIDES: &str =
    "[profile.dev.package.sha2]\nopt-level = 3\n\n[profile.dev.package.libz-sys]\nopt-level = 3\n";

pub fn edit_loop(
    root: &Path,
    scratch: &Path,
    b: &Corpus,
    runs: usize,
    report: &mut Report,
) -> Res<()> {
    report.begin("the helper in the edit-build loop on corpus (b)");
    let base = scratch.join("edit-loop");
    let assets = base.join("assets");
    if assets.exists() {
        io("clean the asset copy", std::fs::remove_dir_all(&assets))?;
    }
    // A copy: the loop edits assets, and the corpus must stay as generated.
    copy_dir(&b.assets, &assets)?;
    // Entries measured within 2 s of a file's mtime are not trusted.
    std::thread::sleep(Duration::from_millis(2500));

    let mut text = format!(
        "### The helper in the edit–build loop on (b)\n\nA package whose build.rs is `assetota_build::embed()` over a copy of (b) ({} files, {:.1} MiB), `cargo build --offline` in the default dev profile: cargo compiles build dependencies at opt-level 0, so build.rs hashes and compresses with unoptimized sha2 and zlib. Median of {runs}:\n\n| build | default dev profile | with sha2 and libz-sys at opt-level 3 |\n|---|---|---|\n",
        b.spec.files.len(),
        b.spec.total() as f64 / (1 << 20) as f64
    );
    let mut rows: Vec<[String; 3]> = vec![
        [
            "clean build (compile everything, measure every asset)".into(),
            String::new(),
            String::new(),
        ],
        [
            "measure cache removed (build.rs measures every asset)".into(),
            String::new(),
            String::new(),
        ],
        ["one asset changed (the one before is measured again: edited < 2 s before its measurement)".into(), String::new(), String::new()],
        ["nothing changed".into(), String::new(), String::new()],
    ];
    let mut cold = [Duration::ZERO; 2];
    for (col, overrides) in [(1, ""), (2, OVERRIDES)] {
        let pkg = base.join(if overrides.is_empty() {
            "default"
        } else {
            "tuned"
        });
        let results = variant(root, &pkg, &assets, b, overrides, runs)?;
        cold[col - 1] = median(&results[1]).wall;
        for (row, all) in rows.iter_mut().zip(&results) {
            let m = median(all);
            row[col] = format!(
                "{:.2} s (CPU {:.2} s; {})",
                secs(m.wall),
                secs(m.cpu()),
                list(all)
            );
        }
    }
    for row in &rows {
        let _ = writeln!(text, "| {} | {} | {} |", row[0], row[1], row[2]);
    }
    let _ = writeln!(
        text,
        "\nThe override, for `Cargo.toml` of a firmware with large assets:\n\n```toml\n{OVERRIDES}```\n"
    );
    report.detail(&text);
    report.row(
        "build.rs measuring (b) from scratch in a dev build",
        format!(
            "{:.1} s; {:.1} s with sha2 and libz-sys at opt-level 3",
            secs(cold[0]),
            secs(cold[1])
        ),
        "(report)",
        None,
    );
    Ok(())
}

/// Runs of each row's build, in row order.
fn variant(
    root: &Path,
    pkg: &Path,
    assets: &Path,
    b: &Corpus,
    overrides: &str,
    runs: usize,
) -> Res<Vec<Vec<Run>>> {
    if pkg.exists() {
        io("clean the edit-loop package", std::fs::remove_dir_all(pkg))?;
    }
    io(
        "edit-loop package",
        std::fs::create_dir_all(pkg.join("src")),
    )?;
    let support = root.join("build-support");
    let manifest = format!(
        "[package]\nname = \"edit-loop\"\nversion = \"0.0.0\"\nedition = \"2024\"\npublish = false\n\n[workspace]\n\n[package.metadata.assetota]\ndir = {:?}\n\n[dependencies]\nassetota = {{ path = {:?} }}\n\n[build-dependencies]\nassetota-build = {{ path = {:?} }}\n\n{overrides}",
        assets.display().to_string(),
        support.join("assetota").display().to_string(),
        support.join("assetota-build").display().to_string(),
    );
    let manifest_path = pkg.join("Cargo.toml");
    io(
        "edit-loop package",
        std::fs::write(&manifest_path, &manifest),
    )?;
    io(
        "edit-loop package",
        std::fs::copy(root.join("Cargo.lock"), pkg.join("Cargo.lock")),
    )?;
    io(
        "edit-loop package",
        std::fs::write(
            pkg.join("build.rs"),
            "fn main() {\n    assetota_build::embed();\n}\n",
        ),
    )?;
    io(
        "edit-loop package",
        std::fs::write(
            pkg.join("src/main.rs"),
            "assetota::manifest!();\n\nfn main() {\n    println!(\"{}\", ASSETOTA.manifest().map_or(0, |m| m.iter().count()));\n}\n",
        ),
    )?;
    let build = || -> Res<Run> {
        let mut cmd = Command::new(cargo());
        cmd.args(["build", "--offline"])
            .current_dir(pkg)
            .env("CARGO_TARGET_DIR", pkg.join("target"))
            .env_remove("RUSTFLAGS")
            .env_remove("CARGO_BUILD_TARGET")
            .env_remove("ASSETOTA_PLATFORM");
        run(&mut cmd, Out::Null)?.ok(&format!("cargo build in {}", pkg.display()))
    };

    let mut out: Vec<Vec<Run>> = vec![Vec::new(); 4];
    // The clean build runs once: compiling dominates and the build section
    // measures it properly.
    out[0].push(build()?);
    for _ in 0..runs {
        let cache = pkg.join("target").join("assetota");
        if cache.exists() {
            io("remove the measure cache", std::fs::remove_dir_all(&cache))?;
        }
        // Rewriting Cargo.toml reruns build.rs (it is a rerun-if-changed input).
        io(
            "touch Cargo.toml",
            std::fs::write(&manifest_path, &manifest),
        )?;
        out[1].push(build()?);
    }
    std::thread::sleep(Duration::from_millis(2500));
    for i in 0..runs {
        // A different asset each time, one byte flipped. The previous one is
        // measured again too: it changed less than 2 s before its measurement,
        // which the cache does not trust (as in a user's quick edits).
        let f = &b.spec.files[(i * 397 + 11) % b.spec.files.len()];
        let path = assets.join(&f.name);
        let mut bytes = io(path.display(), std::fs::read(&path))?;
        if let Some(last) = bytes.last_mut() {
            *last ^= 0x5a;
        }
        io(path.display(), std::fs::write(&path, &bytes))?;
        out[2].push(build()?);
    }
    std::thread::sleep(Duration::from_millis(2500));
    build()?;
    for _ in 0..runs {
        out[3].push(build()?);
    }
    Ok(out)
}
