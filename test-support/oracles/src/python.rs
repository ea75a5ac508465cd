//! Python's zlib as an oracle: an encoder independent of the one under test.

use std::process::Command;

use crate::process::output_with_input;

/// The raw DEFLATE length of `data` from Python's zlib (level, window bits,
/// memLevel 8), to check a budget's compressed sizes against.
pub fn raw_deflate_len(data: &[u8], level: u32, wbits: u8) -> u64 {
    let script = format!(
        "import sys,zlib; c=zlib.compressobj({level}, zlib.DEFLATED, -{wbits}, 8); d=sys.stdin.buffer.read(); print(len(c.compress(d)+c.flush()))"
    );
    let out = output_with_input(
        Command::new("python3").args(["-c", &script]),
        data,
        "python3 runs",
    );
    assert!(
        out.status.success(),
        "python3 zlib failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout)
        .unwrap()
        .trim()
        .parse()
        .unwrap()
}
