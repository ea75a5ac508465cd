//! Running an oracle process with bytes on its stdin.

use std::io::Write;
use std::process::{Command, Output, Stdio};

/// Runs `cmd` with `input` on its stdin (written on a thread, so a large
/// input never deadlocks against a full stdout pipe) and both outputs
/// captured; fails the test with `started` when the program cannot start.
pub fn output_with_input(cmd: &mut Command, input: &[u8], started: &str) -> Output {
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("{started}: {e}"));
    let mut stdin = child.stdin.take().expect("stdin piped");
    let data = input.to_vec();
    let writer = std::thread::spawn(move || stdin.write_all(&data));
    let out = child.wait_with_output().unwrap();
    writer.join().unwrap().unwrap();
    out
}
