//! Watch latency, from the watch bench of cargo-assetota
//! (`cargo bench -p cargo-assetota --bench watch`, which drives a real
//! `cargo assetota watch` process), run as part of this suite so every
//! number of the performance issue comes out of one run.

use crate::proc::{Out, run, secs};
use crate::report::Report;
use crate::support::{Res, cargo};
use std::path::Path;
use std::process::Command;

pub fn watch_latency(root: &Path, runs: usize, report: &mut Report) -> Res<()> {
    report.begin("watch latency (cargo bench -p cargo-assetota --bench watch)");
    let mut cmd = Command::new(cargo());
    cmd.args([
        "bench",
        "--quiet",
        "-p",
        "cargo-assetota",
        "--bench",
        "watch",
        "--",
    ])
    .args(["--runs", &runs.to_string()])
    .current_dir(root);
    let done = run(&mut cmd, Out::Capture)?.ok("cargo bench --bench watch")?;
    let table = String::from_utf8_lossy(&done.stdout).into_owned();
    let beyond = median_of_row(&table, "| … of which beyond the debounce window |");
    report.detail(&format!(
        "### Watch latency\n\n`cargo bench -p cargo-assetota --bench watch -- --runs {runs}` ({:.0} s with its build): a real `cargo assetota watch` process on 2,000 assets, one asset rewritten per run; see the Watch section below for the method.\n\n{}\n",
        secs(done.wall),
        table.trim()
    ));
    report.row(
        "watch: edit → report, beyond the debounce window (2,000 assets)",
        beyond.map_or_else(
            || "not found in the bench output".to_owned(),
            |ms| format!("{ms} median"),
        ),
        "< 50 ms (issue 4)",
        beyond
            .and_then(|ms| ms.trim_end_matches(" ms").parse::<f64>().ok())
            .map(|ms| ms < 50.0),
    );
    Ok(())
}

/// The median column (the third cell) of the table row starting with `head`.
fn median_of_row<'a>(table: &'a str, head: &str) -> Option<&'a str> {
    let line = table.lines().find(|l| l.starts_with(head))?;
    line.split('|').map(str::trim).nth(3)
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_median_is_the_third_cell() {
        let table = "| measurement | min | median | p90 | max |\n|---|---:|---:|---:|---:|\n| … of which beyond the debounce window | 9.6 ms | 14.9 ms | 17.9 ms | 24.8 ms |\n";
        assert_eq!(
            super::median_of_row(table, "| … of which beyond the debounce window |"),
            Some("14.9 ms")
        );
        assert_eq!(super::median_of_row(table, "| nope |"), None);
    }
}
