//! Cargo.toml: `[package.metadata.assetota]`, the `assetota` dependency and
//! the `assetota-build` build-dependency, each added only when missing.

use std::path::{Path, PathBuf};

use toml_edit::{DocumentMut, Item, Table, value};

use crate::dependency;
use crate::files::{check_platform, read, write_atomically};
use crate::{Error, Result};

/// What setting the package up changes in its Cargo.toml; nothing is
/// written until [`Plan::write`].
#[derive(Debug)]
pub struct Plan {
    /// The package had `[package.metadata.assetota]` already; it is kept as it is.
    pub already_opted_in: bool,
    /// The asset directory, relative to the package: the table's `dir`, else the one asked for.
    pub dir: String,
    /// What is added, in the words the user reads (empty: nothing).
    pub changed: Vec<&'static str>,
    /// The package's build script (`package.build`, else `build.rs`).
    pub build_script: PathBuf,
    text: String,
}

/// Plans the edit of the manifest at `path`: the asset directory `dir` and,
/// when given (and checked to be built in), the `platform` go into a new
/// `[package.metadata.assetota]`; the dependencies as [`dependency::value`]
/// writes them for `crates`.
pub fn plan(path: &Path, dir: &str, platform: Option<&str>, crates: Option<&Path>) -> Result<Plan> {
    let root = path.parent().unwrap_or(Path::new("."));
    let mut doc: DocumentMut = read(path)?.parse().map_err(|source| Error::InvalidToml {
        path: path.to_owned(),
        source,
    })?;
    let package = doc
        .get_mut("package")
        .and_then(Item::as_table_mut)
        .ok_or_else(|| Error::NoPackage(path.to_owned()))?;

    let mut changed = Vec::new();
    let metadata = package
        .entry("metadata")
        .or_insert_with(|| {
            let mut t = Table::new();
            t.set_implicit(true);
            Item::Table(t)
        })
        .as_table_mut()
        .ok_or(Error::NotATable("package.metadata"))?;
    let (already_opted_in, dir) = match metadata.get("assetota") {
        Some(existing) => {
            let kept = existing.get("dir").and_then(Item::as_str).unwrap_or(dir);
            (true, kept.to_owned())
        }
        None => {
            let mut t = Table::new();
            t.insert("dir", value(dir));
            if let Some(p) = platform {
                check_platform(p)?;
                t.insert("platform", value(p));
            }
            metadata.insert("assetota", Item::Table(t));
            changed.push("[package.metadata.assetota]");
            (false, dir.to_owned())
        }
    };

    // The runtime and the build.rs helper.
    for (table, crate_name, what) in [
        ("dependencies", "assetota", "dependency `assetota`"),
        (
            "build-dependencies",
            "assetota-build",
            "build-dependency `assetota-build`",
        ),
    ] {
        let deps = doc
            .entry(table)
            .or_insert_with(|| Item::Table(Table::new()))
            .as_table_like_mut()
            .ok_or(Error::NotATable(table))?;
        if deps.get(crate_name).is_none() {
            deps.insert(
                crate_name,
                Item::Value(dependency::value(crate_name, crates)),
            );
            changed.push(what);
        }
    }

    let build = doc
        .get("package")
        .and_then(|p| p.get("build"))
        .and_then(Item::as_str)
        .unwrap_or("build.rs");
    Ok(Plan {
        already_opted_in,
        dir,
        changed,
        build_script: root.join(build),
        text: doc.to_string(),
    })
}

impl Plan {
    /// Writes the edited manifest to `path`, atomically, when anything
    /// changed; says whether it did.
    pub fn write(&self, path: &Path) -> Result<bool> {
        if self.changed.is_empty() {
            return Ok(false);
        }
        write_atomically(path, self.text.as_bytes())?;
        Ok(true)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn manifest(text: &str) -> (tempfile::TempDir, PathBuf) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("Cargo.toml");
        std::fs::write(&path, text).unwrap();
        (dir, path)
    }

    #[test]
    fn adds_what_is_missing_and_keeps_the_rest() {
        let (_dir, path) =
            manifest("[package]\nname = \"x\" # mine\n\n[dependencies]\nassetota = \"9\"\n");
        let plan = plan(&path, "assets", None, None).unwrap();
        assert!(!plan.already_opted_in);
        assert_eq!(
            plan.changed,
            [
                "[package.metadata.assetota]",
                "build-dependency `assetota-build`"
            ]
        );
        assert_eq!(plan.build_script, path.with_file_name("build.rs"));
        assert!(plan.write(&path).unwrap());
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(text.contains("name = \"x\" # mine"), "{text}");
        assert!(
            text.contains("[package.metadata.assetota]\ndir = \"assets\""),
            "{text}"
        );
        assert!(text.contains("assetota = \"9\""), "{text}");
    }

    #[test]
    fn an_opted_in_package_keeps_its_table_and_dir() {
        let (_dir, path) = manifest(
            "[package]\nname = \"x\"\nbuild = \"b.rs\"\n[package.metadata.assetota]\ndir = \"data\"\n[dependencies]\nassetota = \"1\"\n[build-dependencies]\nassetota-build = \"1\"\n",
        );
        let plan = plan(&path, "assets", Some("no-such-platform"), None).unwrap();
        assert!(plan.already_opted_in);
        assert_eq!(plan.dir, "data");
        assert!(plan.changed.is_empty());
        assert_eq!(plan.build_script, path.with_file_name("b.rs"));
        assert!(!plan.write(&path).unwrap());
    }

    #[test]
    fn refuses_what_it_cannot_edit() {
        let (_dir, path) = manifest("[workspace]\n");
        assert!(matches!(
            plan(&path, "a", None, None),
            Err(Error::NoPackage(_))
        ));
        let (_dir, path) = manifest("[package\n");
        assert!(matches!(
            plan(&path, "a", None, None),
            Err(Error::InvalidToml { .. })
        ));
        let (_dir, path) = manifest("[package]\nmetadata = 1\n");
        let e = plan(&path, "a", None, None).unwrap_err();
        assert_eq!(e.to_string(), "`package.metadata` is not a table");
        let (_dir, path) = manifest("[package]\n");
        let e = plan(&path, "a", Some("no-such-platform"), None).unwrap_err();
        assert!(matches!(e, Error::UnknownPlatform { .. }));
    }
}
