//! Node as an oracle: its zlib (Chromium's, what Particle's cloud measures
//! asset modules with) and the npm packages in `tests/oracle`.

use std::path::Path;
use std::process::Command;

use crate::process::output_with_input;
use crate::skip::skipping;

/// Whether to compare with Node: `false` only when `ASSETOTA_SKIP_NODE=1`
/// asks to skip (saying so); fails the test with the reason when `node`
/// cannot run, since Node is the oracle.
pub fn available() -> bool {
    if skipping(
        "ASSETOTA_SKIP_NODE",
        "skipping the comparison with Node's zlib",
    ) {
        return false;
    }
    match Command::new("node").arg("--version").output() {
        Ok(o) if o.status.success() => true,
        Ok(o) => panic!(
            "`node --version` failed ({}): Node's zlib is the oracle of these tests; install Node or set ASSETOTA_SKIP_NODE=1 to skip",
            o.status
        ),
        Err(e) => panic!(
            "cannot run `node` ({e}): Node's zlib is the oracle of these tests; install Node or set ASSETOTA_SKIP_NODE=1 to skip"
        ),
    }
}

/// `node ARGS` (a script file or `-e SCRIPT`, then its arguments), in `dir`
/// when given, with `input` on stdin: its stdout. A run that fails fails the
/// test with `what` and Node's stderr.
pub fn run(what: &str, args: &[&str], dir: Option<&Path>, input: &[u8]) -> Vec<u8> {
    let mut cmd = Command::new("node");
    cmd.args(args);
    if let Some(dir) = dir {
        cmd.current_dir(dir);
    }
    let out = output_with_input(
        &mut cmd,
        input,
        "cannot run `node`; install Node.js 20 (scripts/test.sh needs it too)",
    );
    assert!(
        out.status.success(),
        "{what} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}
