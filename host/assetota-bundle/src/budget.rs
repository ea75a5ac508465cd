//! A budget's findings split into what fails a bundle and what only warns,
//! alike for every kind of bundle.

use assetota_core::{Budget, Verdict};

/// A budget's findings as messages: those over a limit, and those near one.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Findings {
    /// Each limit the assets break, worst first.
    pub over: Vec<String>,
    /// Each limit they come near.
    pub near: Vec<String>,
}

/// The findings of `budget`, their messages naming its platform.
pub fn findings(budget: &Budget) -> Findings {
    let name = &budget.platform.name;
    let mut out = Findings::default();
    for f in budget.findings() {
        match f.verdict() {
            Verdict::Over => out.over.push(f.message(name)),
            _ => out.near.push(f.message(name)),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use assetota_core::measure::Measured;

    #[test]
    fn assets_over_the_platform_fail() {
        let p = assetota_core::platform::builtin("argon").unwrap();
        let limit = p.limits.as_ref().unwrap().total;
        let measured = vec![Measured {
            name: "a.bin".into(),
            path: "a.bin".into(),
            size: limit * 2,
            sha256: [0; 32],
            compressed_size: limit * 2,
        }];
        let f = findings(&Budget::new(&p, measured));
        assert_eq!(f.over.len(), 2, "{f:?}");
        assert!(f.near.is_empty(), "{f:?}");
        assert!(f.over[0].contains("argon"), "{f:?}");
    }
}
