//! build.rs: created with the `embed()` call, or extended with it.

use std::path::Path;

use crate::Result;
use crate::files::{read, write_atomically};

/// The call that embeds the manifest, as the user adds it by hand.
pub const EMBED_CALL: &str = "assetota_build::embed();";

const BUILD_RS: &str = "fn main() {\n    assetota_build::embed();\n}\n";

/// What [`extend`] did to a build script.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// There was none; one that only embeds was written.
    Created,
    /// [`EMBED_CALL`] was added as the first line of its `fn main()`.
    Extended,
    /// It already uses `assetota_build`.
    Unchanged,
    /// It has no single `fn main()`, so it was left alone: the user adds the call.
    NoSingleMain,
}

/// Adds the `embed()` call to the build script at `path`, or creates one.
pub fn extend(path: &Path) -> Result<Outcome> {
    if !path.exists() {
        write_atomically(path, BUILD_RS.as_bytes())?;
        return Ok(Outcome::Created);
    }
    let text = read(path)?;
    if text.contains("assetota_build::") {
        return Ok(Outcome::Unchanged);
    }
    match with_embed_call(&text) {
        Some(out) => {
            write_atomically(path, out.as_bytes())?;
            Ok(Outcome::Extended)
        }
        None => Ok(Outcome::NoSingleMain),
    }
}

/// The script with [`EMBED_CALL`] first in its only `fn main()`.
fn with_embed_call(text: &str) -> Option<String> {
    let mains: Vec<usize> = text.match_indices("fn main()").map(|(i, _)| i).collect();
    let [at] = mains.as_slice() else {
        return None;
    };
    let b = at + text[*at..].find('{')?;
    Some(format!(
        "{}\n    {EMBED_CALL}{}",
        &text[..=b],
        &text[b + 1..]
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_call_goes_first_in_main() {
        assert_eq!(
            with_embed_call("fn main() {\n    other();\n}\n").unwrap(),
            "fn main() {\n    assetota_build::embed();\n    other();\n}\n"
        );
    }

    #[test]
    fn no_single_main_is_left_alone() {
        assert_eq!(with_embed_call("fn helper() {}\n"), None);
        assert_eq!(with_embed_call("fn main() {}\nfn main() {}\n"), None);
    }

    #[test]
    fn creates_extends_or_leaves() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("build.rs");
        assert_eq!(extend(&path).unwrap(), Outcome::Created);
        assert_eq!(std::fs::read_to_string(&path).unwrap(), BUILD_RS);
        assert_eq!(extend(&path).unwrap(), Outcome::Unchanged);
        std::fs::write(&path, "fn main() {}\n").unwrap();
        assert_eq!(extend(&path).unwrap(), Outcome::Extended);
        std::fs::write(&path, "// none\n").unwrap();
        assert_eq!(extend(&path).unwrap(), Outcome::NoSingleMain);
    }
}
