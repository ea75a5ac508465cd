//! Exit codes: the part of the interface CI scripts branch on (cargo-assetota/README.md, "Exit codes").

/// Everything checked out.
pub const SUCCESS: u8 = 0;
/// Something went wrong that is not one of the cases below (I/O, cargo failed,
/// bad configuration, unreadable input).
pub const ERROR: u8 = 1;
/// The command line was wrong (clap's own exit code for usage errors).
pub const USAGE: u8 = 2;
/// The assets do not fit the platform's limits.
pub const OVER_BUDGET: u8 = 3;
/// Verification failed: a stale build, a bundle or manifest that does not check out.
pub const VERIFY_FAILED: u8 = 4;
