//! When a test may pass without running its check: only when a variable set
//! to `1` asks for it, and always saying so; otherwise a missing tool or
//! privilege fails the test with the reason, so that a pass means the check ran.

/// The variable that lets a test that cannot run here (no root, no tmpfs, no
/// fanotify, no bind mount, no `mknod`) pass after saying so. Unset, such a
/// test fails with the reason: a pass means the check ran. `.ci/run` and
/// `scripts/test.sh` never set it.
pub const ALLOW_SKIP: &str = "ASSETOTA_ALLOW_SKIP";

/// A check that cannot run here, and why: fails the test, unless
/// `ASSETOTA_ALLOW_SKIP=1` asks to skip it, in which case it says so loudly
/// (run with `--nocapture` to see it) and the caller returns.
#[track_caller]
pub fn cannot_run(why: &str) {
    if asked(ALLOW_SKIP) {
        eprintln!("\n*** SKIPPED ({ALLOW_SKIP}=1): {why} ***\n");
    } else {
        panic!(
            "this test cannot run here: {why}\n\
             (run it as root, or set {ALLOW_SKIP}=1 to skip it knowingly)"
        );
    }
}

/// Whether `var=1` asks to skip an oracle; if so, says what is not checked
/// (`VAR=1: what`), so a skipped comparison is never silent.
pub fn skipping(var: &str, what: &str) -> bool {
    let skip = asked(var);
    if skip {
        eprintln!("{var}=1: {what}");
    }
    skip
}

fn asked(var: &str) -> bool {
    std::env::var_os(var).is_some_and(|v| v == "1")
}
