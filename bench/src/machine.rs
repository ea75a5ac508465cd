//! What the results were measured on: the CPU, cores, memory, load.

use std::process::Command;

pub(crate) fn machine_description() -> String {
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
pub(crate) fn load_average() -> Option<String> {
    let text = std::fs::read_to_string("/proc/loadavg").ok()?;
    Some(
        text.split_whitespace()
            .take(3)
            .collect::<Vec<_>>()
            .join(" "),
    )
}
