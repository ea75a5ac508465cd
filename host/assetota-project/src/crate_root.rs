//! The firmware's crate root: the `assetota::manifest!()` call that embeds
//! the manifest build.rs wrote, and the directory the assets go in.

use std::path::Path;

use crate::files::{read, write_atomically};
use crate::{Error, Result};

/// The macro call, as the user adds it by hand.
pub const MACRO_CALL: &str = "assetota::manifest!();";

/// Adds [`MACRO_CALL`] to the crate root at `path`, after its inner
/// attributes and docs; `false` when it calls `manifest!` already.
pub fn add_macro(path: &Path) -> Result<bool> {
    let text = read(path)?;
    if text.contains("manifest!(") {
        return Ok(false);
    }
    write_atomically(path, with_macro(&text).as_bytes())?;
    Ok(true)
}

fn with_macro(text: &str) -> String {
    let at: usize = text
        .split_inclusive('\n')
        .take_while(|line| {
            let t = line.trim_start();
            t.starts_with("#![") || t.starts_with("//!")
        })
        .map(str::len)
        .sum();
    let sep = if at > 0 { "\n" } else { "" };
    format!(
        "{}{sep}// Embeds the asset manifest written by build.rs (section `.assetota`).\n{MACRO_CALL}\n\n{}",
        &text[..at],
        &text[at..]
    )
}

/// Creates the asset directory with a `.gitkeep` (hidden files are never
/// assets; this one keeps the directory in git); `false` when it exists.
pub fn create_asset_dir(dir: &Path) -> Result<bool> {
    if dir.exists() {
        return Ok(false);
    }
    std::fs::create_dir_all(dir).map_err(|source| Error::Write {
        path: dir.to_owned(),
        source,
    })?;
    let keep = dir.join(".gitkeep");
    std::fs::write(&keep, b"").map_err(|source| Error::Write { path: keep, source })?;
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn after_the_inner_docs_and_attributes() {
        assert_eq!(
            with_macro("//! Docs.\n#![no_std]\nfn main() {}\n"),
            "//! Docs.\n#![no_std]\n\n// Embeds the asset manifest written by build.rs (section `.assetota`).\nassetota::manifest!();\n\nfn main() {}\n"
        );
        assert!(with_macro("fn main() {}\n").starts_with("// Embeds"));
    }

    #[test]
    fn once() {
        let dir = tempfile::tempdir().unwrap();
        let main = dir.path().join("main.rs");
        std::fs::write(&main, "fn main() {}\n").unwrap();
        assert!(add_macro(&main).unwrap());
        assert!(!add_macro(&main).unwrap());
        let assets = dir.path().join("assets");
        assert!(create_asset_dir(&assets).unwrap());
        assert!(assets.join(".gitkeep").is_file());
        assert!(!create_asset_dir(&assets).unwrap());
    }
}
