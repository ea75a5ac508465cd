//! Phrases the Particle reports share, so `bundle` and `verify` say a thing alike.

/// `N asset dependency` / `N asset dependencies`.
pub fn dependencies(n: usize) -> String {
    format!(
        "{n} asset {}",
        if n == 1 { "dependency" } else { "dependencies" }
    )
}

/// `1 asset` / `N assets`.
pub fn assets(n: usize) -> String {
    format!("{n} asset{}", if n == 1 { "" } else { "s" })
}

#[cfg(test)]
mod tests {
    #[test]
    fn singular_and_plural() {
        assert_eq!(super::dependencies(1), "1 asset dependency");
        assert_eq!(super::dependencies(0), "0 asset dependencies");
        assert_eq!(super::assets(1), "1 asset");
        assert_eq!(super::assets(2), "2 assets");
    }
}
