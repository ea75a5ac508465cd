//! `cargo assetota new`: a project written from `templates/`.

use std::path::Path;

use crate::dependency;
use crate::files::check_platform;
use crate::{Error, Result};

/// The project to start from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Template {
    /// A program for the host.
    Host,
    /// Bare-metal Cortex-M firmware with a flat image.
    CortexM,
}

impl Template {
    /// Its name, as `--template` takes it.
    pub fn name(self) -> &'static str {
        match self {
            Template::Host => "host",
            Template::CortexM => "cortex-m",
        }
    }

    /// Its files: relative path and text (`Cargo.toml.in` and `gitignore`
    /// are renamed when written).
    fn files(self) -> &'static [(&'static str, &'static str)] {
        match self {
            Template::Host => HOST,
            Template::CortexM => CORTEX_M,
        }
    }
}

macro_rules! files {
    ($dir:literal: $($file:literal),+ $(,)?) => {
        &[$(($file, include_str!(concat!("../../../templates/", $dir, "/", $file)))),+]
    };
}

const HOST: &[(&str, &str)] =
    files!("host": "Cargo.toml.in", "build.rs", "src/main.rs", "assets/hello.txt", "gitignore");

const CORTEX_M: &[(&str, &str)] = files!("cortex-m":
    "Cargo.toml.in",
    "build.rs",
    "src/main.rs",
    "memory.x",
    ".cargo/config.toml",
    "assets/hello.txt",
    "gitignore",
);

/// Writes a new project from `template` into `path`, which must not exist
/// or be empty; the package is `name`, else the directory's name. `platform`
/// (checked to be built in) goes into `[package.metadata.assetota]`, the
/// dependencies as [`dependency::value`] writes them for `crates`. Returns
/// the package name.
pub fn create(
    path: &Path,
    template: Template,
    name: Option<&str>,
    platform: Option<&str>,
    crates: Option<&Path>,
) -> Result<String> {
    if path.exists()
        && std::fs::read_dir(path)
            .map(|mut d| d.next().is_some())
            .unwrap_or(true)
    {
        return Err(Error::NotEmpty(path.to_owned()));
    }
    let name = match name {
        Some(n) => n.to_owned(),
        None => path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .ok_or_else(|| Error::NoName(path.to_owned()))?,
    };
    if !is_package_name(&name) {
        return Err(Error::BadName(name));
    }
    let platform = match platform {
        Some(p) => {
            check_platform(p)?;
            format!("platform = \"{p}\"\n")
        }
        None => String::new(),
    };
    for (rel, text) in template.files() {
        let (rel, text) = match *rel {
            "Cargo.toml.in" => (
                "Cargo.toml",
                text.replace("{{name}}", &name)
                    .replace("{{platform}}", &platform)
                    .replace("{{assetota}}", &dependency::rendered("assetota", crates))
                    .replace(
                        "{{assetota_build}}",
                        &dependency::rendered("assetota-build", crates),
                    ),
            ),
            "gitignore" => (".gitignore", (*text).to_owned()),
            other => (other, (*text).to_owned()),
        };
        let file = path.join(rel);
        if let Some(parent) = file.parent() {
            std::fs::create_dir_all(parent).map_err(|source| Error::Write {
                path: parent.to_owned(),
                source,
            })?;
        }
        std::fs::write(&file, text).map_err(|source| Error::Write { path: file, source })?;
    }
    Ok(name)
}

/// Letters, digits, `-` and `_`, not starting with a digit.
fn is_package_name(name: &str) -> bool {
    !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        && !name.starts_with(|c: char| c.is_ascii_digit())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn package_names() {
        assert!(is_package_name("my-fw_2"));
        assert!(!is_package_name(""));
        assert!(!is_package_name("2fw"));
        assert!(!is_package_name("my fw"));
    }

    #[test]
    fn writes_a_project_and_never_overwrites() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("blinky");
        let name = create(&path, Template::CortexM, None, None, None).unwrap();
        assert_eq!(name, "blinky");
        let manifest = std::fs::read_to_string(path.join("Cargo.toml")).unwrap();
        assert!(manifest.contains("name = \"blinky\""), "{manifest}");
        assert!(!manifest.contains("{{"), "{manifest}");
        assert!(path.join(".gitignore").is_file());
        assert!(path.join(".cargo/config.toml").is_file());
        let again = create(&path, Template::Host, None, None, None);
        assert!(matches!(again, Err(Error::NotEmpty(_))));
    }

    #[test]
    fn refuses_a_bad_name_or_platform() {
        let dir = tempfile::tempdir().unwrap();
        let bad = create(&dir.path().join("1x"), Template::Host, None, None, None);
        assert!(matches!(bad, Err(Error::BadName(_))));
        let bad = create(
            &dir.path().join("x"),
            Template::Host,
            None,
            Some("nope"),
            None,
        );
        assert!(matches!(bad, Err(Error::UnknownPlatform { .. })));
    }
}
