//! Running a command and measuring it: wall time and CPU time come from
//! `wait4(2)`. Peak RSS comes from GNU time (`/usr/bin/time -f %M`) in
//! [`run_rss`]: `wait4`'s `ru_maxrss` is useless here, because Linux records
//! the RSS of the address space a child execs from, and a child spawned with
//! vfork (what `posix_spawn` does) execs from its parent's: the benchmark's
//! own RSS (a corpus in memory) would show up as the child's peak.

use std::io::Read;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// What one run of a command cost.
#[derive(Debug, Clone)]
pub struct Run {
    pub wall: Duration,
    pub user: Duration,
    pub sys: Duration,
    /// Peak resident set size of the child in KiB, from GNU time; `None`
    /// from [`run`], or when `/usr/bin/time` is not installed.
    pub max_rss_kib: Option<u64>,
    pub code: i32,
    pub stdout: Vec<u8>,
    pub stderr: Vec<u8>,
}

impl Run {
    pub fn cpu(&self) -> Duration {
        self.user + self.sys
    }

    /// Fails with the command's stderr when it did not exit with 0.
    pub fn ok(self, what: &str) -> Result<Run, String> {
        if self.code == 0 {
            Ok(self)
        } else {
            Err(format!(
                "{what} exited with {}:\n{}{}",
                self.code,
                String::from_utf8_lossy(&self.stdout),
                String::from_utf8_lossy(&self.stderr)
            ))
        }
    }
}

/// Where the child's stdout goes.
pub enum Out {
    /// Captured into [`Run::stdout`].
    Capture,
    /// Discarded (`/dev/null`), so writing it costs the child nothing extra.
    Null,
}

/// Runs `cmd` to completion. Stdin is closed; stderr is captured.
pub fn run(cmd: &mut Command, out: Out) -> Result<Run, String> {
    let what = format!("{cmd:?}");
    cmd.stdin(Stdio::null()).stderr(Stdio::piped());
    match out {
        Out::Capture => cmd.stdout(Stdio::piped()),
        Out::Null => cmd.stdout(Stdio::null()),
    };
    let start = Instant::now();
    let mut child = cmd.spawn().map_err(|e| format!("cannot run {what}: {e}"))?;
    let pid = child.id() as libc::pid_t;
    let mut stdout_pipe = child.stdout.take();
    let mut stderr_pipe = child.stderr.take();
    let (stdout, stderr) = std::thread::scope(|s| {
        let o = s.spawn(move || {
            let mut buf = Vec::new();
            if let Some(p) = stdout_pipe.as_mut() {
                let _ = p.read_to_end(&mut buf);
            }
            buf
        });
        let mut err = Vec::new();
        if let Some(p) = stderr_pipe.as_mut() {
            let _ = p.read_to_end(&mut err);
        }
        (o.join().unwrap_or_default(), err)
    });
    let mut status: libc::c_int = 0;
    // SAFETY: an all-zero rusage is a valid value for the kernel to fill in.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: `pid` is our child, not yet reaped (std's `Child` is never
    // waited on), and both pointers are valid for the call.
    let reaped = loop {
        let r = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
        if r == -1 && std::io::Error::last_os_error().kind() == std::io::ErrorKind::Interrupted {
            continue;
        }
        break r;
    };
    let wall = start.elapsed();
    drop(child);
    if reaped != pid {
        return Err(format!(
            "wait4 on {what} failed: {}",
            std::io::Error::last_os_error()
        ));
    }
    let code = if libc::WIFEXITED(status) {
        libc::WEXITSTATUS(status)
    } else {
        -libc::WTERMSIG(status)
    };
    let tv = |t: libc::timeval| Duration::new(t.tv_sec as u64, t.tv_usec as u32 * 1000);
    Ok(Run {
        wall,
        user: tv(usage.ru_utime),
        sys: tv(usage.ru_stime),
        max_rss_kib: None,
        code,
        stdout,
        stderr,
    })
}

const GNU_TIME: &str = "/usr/bin/time";

/// [`run`] through `/usr/bin/time -f %M` for the peak RSS (Debian package
/// `time`); without it, the same as [`run`]. Wall and CPU time then include
/// GNU time's own start (about a millisecond): use [`run`] for short timings.
pub fn run_rss(cmd: &Command, out: Out) -> Result<Run, String> {
    if !Path::new(GNU_TIME).is_file() {
        let mut copy = rebuild(cmd, Command::new(cmd.get_program()));
        copy.args(cmd.get_args());
        return run(&mut copy, out);
    }
    let rss_file = std::env::temp_dir().join(format!("assetota-bench-rss-{}", std::process::id()));
    let mut timed = rebuild(cmd, Command::new(GNU_TIME));
    timed
        .arg("-f")
        .arg("%M")
        .arg("-o")
        .arg(&rss_file)
        .arg(cmd.get_program())
        .args(cmd.get_args());
    let mut r = run(&mut timed, out)?;
    r.max_rss_kib = std::fs::read_to_string(&rss_file)
        .ok()
        .and_then(|t| t.lines().last()?.trim().parse().ok());
    let _ = std::fs::remove_file(&rss_file);
    Ok(r)
}

/// A new command with `cmd`'s environment and working directory.
fn rebuild(cmd: &Command, mut new: Command) -> Command {
    if let Some(dir) = cmd.get_current_dir() {
        new.current_dir(dir);
    }
    for (k, v) in cmd.get_envs() {
        match v {
            Some(v) => new.env(k, v),
            None => new.env_remove(k),
        };
    }
    new
}

/// Median of the wall times (the middle run; the lower middle for an even
/// count) and the run it came from.
pub fn median(runs: &[Run]) -> &Run {
    let mut order: Vec<usize> = (0..runs.len()).collect();
    order.sort_by_key(|&i| runs[i].wall);
    &runs[order[(runs.len() - 1) / 2]]
}

pub fn secs(d: Duration) -> f64 {
    d.as_secs_f64()
}
