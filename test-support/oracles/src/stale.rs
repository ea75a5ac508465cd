//! The e2e and CLI tests share one target dir, kept between runs: what a
//! test reads must have been written by this run.

use std::path::Path;

/// Deletes files an earlier run may have left at `paths` (the target
/// directory is shared and kept between runs), so that what a test reads
/// next was written by this run: a build that silently wrote nothing then
/// fails the test instead of passing on an old bundle.
pub fn remove_stale(paths: &[&Path]) {
    for path in paths {
        match std::fs::remove_file(path) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => panic!("cannot remove the stale {}: {e}", path.display()),
        }
    }
}
