//! Running a command and measuring it: wall time, CPU time and peak RSS come
//! from `wait4(2)`, the same numbers GNU time prints.

use std::io::Read;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// What one run of a command cost.
#[derive(Debug, Clone)]
pub struct Run {
    pub wall: Duration,
    pub user: Duration,
    pub sys: Duration,
    /// Peak resident set size of the child (the largest of its waited-for
    /// descendants on Linux), in KiB.
    pub max_rss_kib: u64,
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
        max_rss_kib: usage.ru_maxrss as u64,
        code,
        stdout,
        stderr,
    })
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
