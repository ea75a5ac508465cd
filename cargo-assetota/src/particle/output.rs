//! What the Particle commands print alike.

use std::path::Path;

/// A path as the user would like to read it: relative to the current
/// directory when it is below it.
pub fn display(path: &Path) -> String {
    let cwd = std::env::current_dir().unwrap_or_default();
    path.strip_prefix(&cwd)
        .unwrap_or(path)
        .display()
        .to_string()
}

/// `N asset dependency` / `N asset dependencies`.
pub fn dependencies(n: usize) -> String {
    format!(
        "{n} asset {}",
        if n == 1 { "dependency" } else { "dependencies" }
    )
}
