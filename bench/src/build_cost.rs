//! The clean-build cost of the build.rs helper, attributed to its crates.

use crate::proc::{Out, Run, median, run, secs};
use serde_json::{Value, json};
use std::fmt::Write as _;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

use crate::report::*;
use crate::support::*;

/// Clean `cargo build` of examples/hello with the helper against a copy
/// without build.rs, `manifest!()` and the two dependencies, each in its own
/// throwaway target dir; also the helper without its `xz` feature, and which
/// dependencies the time goes to (removing one at a time from a package that
/// only has assetota-core's dependencies as build-dependencies).
pub(crate) fn build_cost(root: &Path, scratch: &Path, runs: usize, report: &mut Report) -> Res<()> {
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
            format!("{}\n{}", with_manifest(""), crate::edit_loop::OVERRIDES),
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
pub(crate) const FIRMWARE_VARIANTS: [(&str, bool, bool); 4] = [
    ("cortex-m-without", false, false),
    ("cortex-m-with", true, false),
    ("cortex-m-without-nodebug", false, true),
    ("cortex-m-with-nodebug", true, true),
];

/// What examples/cortex-m adds to its Cargo.toml so that build dependencies
/// are compiled without debug info under `--target`.
pub(crate) const NO_BUILD_DEBUG: &str = "[profile.dev.build-override]\ndebug = false\n";

/// Clean builds of `examples/cortex-m` in each of [`FIRMWARE_VARIANTS`],
/// taking turns: every run of each.
pub(crate) fn cortex_m_cost(base: &Path, root: &Path, runs: usize) -> Res<Vec<Vec<Run>>> {
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
pub(crate) fn clean_build(dir: &Path) -> Res<Run> {
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
pub(crate) const CORE_DEPS: [(&str, &str); 10] = [
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
pub(crate) fn attribute_build(
    base: &Path,
    root: &Path,
    runs: usize,
) -> Res<Vec<(String, f64, f64)>> {
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
pub(crate) fn timings(target: &Path) -> Vec<(String, f64)> {
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
