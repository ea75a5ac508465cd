//! `watch --build`: `cargo assetota build` as a child process in its own
//! process group, so the whole build (this tool, cargo, rustc, build
//! scripts) can be stopped at once and nothing is left behind.
//!
//! The child is this very binary running `build`: the same code path as a
//! `cargo assetota build` typed by hand, with its JSON messages on stdout
//! for the bundle paths, and cargo's diagnostics straight on our stderr.

use crate::cli::CargoBuildFlags;
use std::ffi::OsString;
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, ExitStatus, Stdio};

/// What the build child reports, through the session's channel.
#[derive(Debug)]
pub enum BuildMsg {
    /// A line of its stdout (JSON messages).
    Line(String),
    /// Its stdout is closed: every line was sent.
    Eof,
    /// It exited (or could not be waited for).
    Exited(std::io::Result<ExitStatus>),
}

/// The command line of `cargo-assetota build` for the watch's flags.
pub fn build_args(
    flags: &CargoBuildFlags,
    platform: Option<&str>,
    verbose: bool,
    quiet: bool,
) -> Vec<OsString> {
    let mut args: Vec<OsString> = vec!["build".into(), "--message-format".into(), "json".into()];
    if let Some(p) = platform {
        args.push("--platform".into());
        args.push(p.into());
    }
    if verbose {
        args.push("--verbose".into());
    }
    if quiet {
        args.push("--quiet".into());
    }
    args.extend(flags.to_args());
    if !flags.extra.is_empty() {
        args.push("--".into());
        args.extend(flags.extra.iter().cloned());
    }
    args
}

/// A running build. Dropping it kills the whole group.
pub struct BuildChild {
    pid: u32,
    done: bool,
}

impl BuildChild {
    /// Starts `program args…` in a new process group, with stdin closed (a
    /// background group must not read the terminal), stdout sent to `send`
    /// line by line, stderr shared with ours. `send` returns false once
    /// nobody listens any more.
    pub fn spawn<F>(
        program: &std::path::Path,
        args: &[OsString],
        send: F,
    ) -> std::io::Result<BuildChild>
    where
        F: Fn(BuildMsg) -> bool + Send + Clone + 'static,
    {
        let mut command = Command::new(program);
        command
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit());
        #[cfg(unix)]
        {
            use std::os::unix::process::CommandExt;
            command.process_group(0);
        }
        let mut child: Child = command.spawn()?;
        let pid = child.id();
        let stdout = child.stdout.take().expect("stdout is piped");
        let lines = send.clone();
        std::thread::Builder::new()
            .name("watch build stdout".into())
            .spawn(move || {
                for line in BufReader::new(stdout).lines() {
                    let Ok(line) = line else { break };
                    if !lines(BuildMsg::Line(line)) {
                        return;
                    }
                }
                lines(BuildMsg::Eof);
            })?;
        std::thread::Builder::new()
            .name("watch build wait".into())
            .spawn(move || {
                send(BuildMsg::Exited(child.wait()));
            })?;
        Ok(BuildChild { pid, done: false })
    }

    /// The child has been reaped (its `Exited` message arrived).
    pub fn mark_done(&mut self) {
        self.done = true;
    }

    /// Asks the whole group to stop (SIGTERM): cargo, rustc and build
    /// scripts all get it, as they would get Ctrl-C in a terminal.
    pub fn terminate(&self) {
        self.signal_group(false);
    }

    /// Kills whatever is left of the group (SIGKILL).
    pub fn kill(&self) {
        self.signal_group(true);
    }

    /// Whether any process of the group is still alive.
    pub fn group_alive(&self) -> bool {
        #[cfg(unix)]
        {
            // SAFETY: kill(2) with signal 0 only checks; a negative pid names the group.
            unsafe { libc::kill(-(self.pid as libc::pid_t), 0) == 0 }
        }
        #[cfg(not(unix))]
        {
            !self.done
        }
    }

    #[cfg(unix)]
    fn signal_group(&self, kill: bool) {
        let signal = if kill { libc::SIGKILL } else { libc::SIGTERM };
        // SAFETY: plain kill(2) on the group this child leads (created with
        // process_group(0), so its id is the group's id).
        unsafe {
            libc::kill(-(self.pid as libc::pid_t), signal);
        }
    }

    #[cfg(not(unix))]
    fn signal_group(&self, _kill: bool) {
        if !self.done {
            let _ = Command::new("taskkill")
                .args(["/PID", &self.pid.to_string(), "/T", "/F"])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status();
        }
    }
}

impl Drop for BuildChild {
    fn drop(&mut self) {
        // Only while the group leader has not been reaped: afterwards its id
        // may be reused, and what is left of the group was already killed.
        if !self.done {
            self.kill();
        }
    }
}

/// How `cargo assetota build` ended, for the report.
pub fn describe_failure(status: &ExitStatus) -> String {
    match status.code() {
        Some(code) if code == i32::from(crate::exit::OVER_BUDGET) => {
            format!("over budget (exit code {code})")
        }
        Some(code) if code == i32::from(crate::exit::VERIFY_FAILED) => {
            format!("stale or unverifiable build (exit code {code})")
        }
        Some(code) => format!("exit code {code}"),
        None => "killed by a signal".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn build_args_pass_the_cargo_flags_through() {
        let flags = CargoBuildFlags {
            release: true,
            target: Some("thumbv7m-none-eabi".into()),
            package: vec!["fw".into()],
            features: vec!["a b".into()],
            manifest_path: Some("x/Cargo.toml".into()),
            extra: vec!["--timings".into()],
            ..Default::default()
        };
        let args: Vec<String> = build_args(&flags, Some("p2"), false, true)
            .into_iter()
            .map(|a| a.into_string().unwrap())
            .collect();
        assert_eq!(
            args,
            [
                "build",
                "--message-format",
                "json",
                "--platform",
                "p2",
                "--quiet",
                "--target",
                "thumbv7m-none-eabi",
                "--package",
                "fw",
                "--features",
                "a b",
                "--manifest-path",
                "x/Cargo.toml",
                "--release",
                "--",
                "--timings"
            ]
        );
        // What we pass is what `cargo assetota build` accepts.
        let mut argv = vec![OsString::from("cargo-assetota")];
        argv.extend(build_args(&flags, Some("p2"), false, true));
        let cli = crate::cli::parse_from(argv).unwrap();
        assert!(matches!(cli.command, crate::cli::Command::Build(_)));
    }
}
