//! The test helpers more than one test crate needs, written once: the
//! independent oracles the tests compare against (`espflash save-image`,
//! Node, Python's zlib) and deterministic inputs for them, the rules for
//! when a test may skip instead of failing, and the removal of stale
//! outputs from the shared target dir.
//!
//! Test code only (`publish = false`; a dev-dependency, and a dependency of
//! the e2e harness in `tests/`): its helpers panic, since a panic is how a
//! test fails.
#![warn(missing_docs)]

pub mod espflash;
pub mod inputs;
pub mod node;
pub mod process;
pub mod python;
pub mod skip;
pub mod stale;

pub use skip::{ALLOW_SKIP, cannot_run};
pub use stale::remove_stale;
