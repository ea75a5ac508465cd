//! How `assetota` and `assetota-build` are written into a Cargo.toml.

use std::path::Path;

/// The dependency value for `crate_name`: the version of this release, or,
/// when `crates` names a checkout's `build-support/` directory (for
/// developing cargo-assetota itself, and for its tests), a path into it.
pub fn value(crate_name: &str, crates: Option<&Path>) -> toml_edit::Value {
    match crates {
        Some(dir) if !dir.as_os_str().is_empty() => {
            let mut t = toml_edit::InlineTable::new();
            t.insert("path", dir.join(crate_name).display().to_string().into());
            toml_edit::Value::InlineTable(t)
        }
        _ => env!("CARGO_PKG_VERSION").into(),
    }
}

/// [`value`] as it reads in a template: `"0.1.0"` or `{ path = "…" }`.
pub fn rendered(crate_name: &str, crates: Option<&Path>) -> String {
    value(crate_name, crates).to_string().trim().to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_version_without_a_checkout() {
        assert_eq!(
            rendered("assetota", None),
            format!("\"{}\"", env!("CARGO_PKG_VERSION"))
        );
        assert_eq!(
            rendered("assetota", Some(Path::new(""))),
            rendered("assetota", None)
        );
    }

    #[test]
    fn a_path_into_the_checkout() {
        let r = rendered("assetota-build", Some(Path::new("/x/build-support")));
        assert_eq!(r, "{ path = \"/x/build-support/assetota-build\" }");
    }
}
