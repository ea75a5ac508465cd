//! What the Particle commands print alike.

/// `N asset dependency` / `N asset dependencies`.
pub fn dependencies(n: usize) -> String {
    format!(
        "{n} asset {}",
        if n == 1 { "dependency" } else { "dependencies" }
    )
}
