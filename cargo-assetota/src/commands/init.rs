//! `cargo assetota init` (set up an existing package, keeping its formatting)
//! and `cargo assetota new` (a project from `templates/`).

use std::path::{Path, PathBuf};

use toml_edit::{DocumentMut, Item, Table, value};

use crate::cargo;
use crate::cli::{InitArgs, NewArgs, Template};
use crate::error::{Error, Result};
use crate::shell::Shell;

use crate::files::display_path;

/// Where the build-support crates come from: crates.io by default; a
/// checkout's `build-support/` directory when `ASSETOTA_CRATES_PATH` names one
/// (for developing cargo-assetota itself, and for its tests).
pub const CRATES_PATH_ENV: &str = "ASSETOTA_CRATES_PATH";

const BUILD_RS: &str = "fn main() {\n    assetota_build::embed();\n}\n";
const EMBED_CALL: &str = "assetota_build::embed();";
const MACRO_CALL: &str = "assetota::manifest!();";

/// The dependency value for `crate_name` (an inline table or a version string).
fn dependency(crate_name: &str) -> toml_edit::Value {
    match std::env::var_os(CRATES_PATH_ENV) {
        Some(dir) if !dir.is_empty() => {
            let mut t = toml_edit::InlineTable::new();
            let path = PathBuf::from(dir).join(crate_name);
            t.insert("path", path.display().to_string().into());
            toml_edit::Value::InlineTable(t)
        }
        _ => env!("CARGO_PKG_VERSION").into(),
    }
}

fn init_err(message: impl Into<String>) -> Error {
    Error::Init(message.into())
}

pub fn run_init(args: InitArgs, shell: &mut Shell) -> Result<()> {
    let manifest_path = match &args.manifest_path {
        Some(p) => p.clone(),
        None => {
            let metadata = cargo::metadata(None)?;
            let root = metadata.root_package().ok_or_else(|| {
                init_err("this is a virtual workspace; run `cargo assetota init` in a package directory or pass `--manifest-path`")
            })?;
            root.manifest_path.clone().into_std_path_buf()
        }
    };
    if !manifest_path.is_file() {
        return Err(Error::NotCargoProject(manifest_path));
    }
    let root = manifest_path.parent().unwrap_or(Path::new(".")).to_owned();
    let text = std::fs::read_to_string(&manifest_path).map_err(|source| Error::Read {
        path: manifest_path.clone(),
        source,
    })?;
    let mut doc: DocumentMut = text.parse().map_err(|e| {
        init_err(format!(
            "`{}` is not valid TOML: {e}",
            manifest_path.display()
        ))
    })?;
    let package = doc
        .get_mut("package")
        .and_then(Item::as_table_mut)
        .ok_or_else(|| {
            init_err(format!(
                "`{}` has no [package] table; `init` sets up a package",
                manifest_path.display()
            ))
        })?;

    // [package.metadata.assetota]
    let mut changed = Vec::new();
    let metadata = package.entry("metadata").or_insert_with(|| {
        let mut t = Table::new();
        t.set_implicit(true);
        Item::Table(t)
    });
    let metadata = metadata
        .as_table_mut()
        .ok_or_else(|| init_err("`package.metadata` is not a table"))?;
    let dir = match metadata.get("assetota") {
        Some(existing) => {
            let dir = existing
                .get("dir")
                .and_then(Item::as_str)
                .unwrap_or(&args.dir)
                .to_owned();
            shell.note(format_args!(
                "{} already has [package.metadata.assetota]; leaving it as it is",
                display_path(&manifest_path)
            ));
            dir
        }
        None => {
            let mut t = Table::new();
            t.insert("dir", value(args.dir.clone()));
            if let Some(p) = &args.platform {
                crate::platform_choice::builtin_platform(p)?;
                t.insert("platform", value(p.clone()));
            }
            metadata.insert("assetota", Item::Table(t));
            changed.push("[package.metadata.assetota]");
            args.dir.clone()
        }
    };

    // The runtime and the build.rs helper.
    for (table, crate_name) in [
        ("dependencies", "assetota"),
        ("build-dependencies", "assetota-build"),
    ] {
        let deps = doc
            .entry(table)
            .or_insert_with(|| Item::Table(Table::new()));
        let deps = deps
            .as_table_like_mut()
            .ok_or_else(|| init_err(format!("`{table}` is not a table")))?;
        if deps.get(crate_name).is_none() {
            deps.insert(crate_name, Item::Value(dependency(crate_name)));
            changed.push(if table == "dependencies" {
                "dependency `assetota`"
            } else {
                "build-dependency `assetota-build`"
            });
        }
    }
    if !changed.is_empty() {
        crate::files::write_atomically(&manifest_path, doc.to_string().as_bytes())?;
        shell.status(
            "Updated",
            format_args!("{} ({})", display_path(&manifest_path), changed.join(", ")),
        );
    }

    // build.rs: created, extended, or left alone with instructions.
    let build_rs = match doc
        .get("package")
        .and_then(|p| p.get("build"))
        .and_then(Item::as_str)
    {
        Some(custom) => root.join(custom),
        None => root.join("build.rs"),
    };
    extend_build_rs(&build_rs, shell)?;

    // The macro in the binary's main.rs.
    let main_rs = root.join("src/main.rs");
    if main_rs.is_file() {
        add_macro(&main_rs, shell)?;
    } else {
        shell.warn(format_args!("no src/main.rs: add `{MACRO_CALL}` to the firmware's crate root so the manifest is embedded"));
    }

    let assets = root.join(&dir);
    if !assets.exists() {
        std::fs::create_dir_all(&assets).map_err(|source| Error::Write {
            path: assets.clone(),
            source,
        })?;
        // Hidden files are never assets; this one keeps the directory in git.
        let keep = assets.join(".gitkeep");
        std::fs::write(&keep, b"").map_err(|source| Error::Write { path: keep, source })?;
        shell.status(
            "Created",
            format_args!("{}/ (put the assets here)", display_path(&assets)),
        );
    }
    shell.status("Finished", "run `cargo assetota build` to build and bundle");
    Ok(())
}

/// Adds the `embed()` call to a build script, or creates one. A script whose
/// `fn main` cannot be found is left untouched and the user is told what to add.
fn extend_build_rs(path: &Path, shell: &mut Shell) -> Result<()> {
    if !path.exists() {
        crate::files::write_atomically(path, BUILD_RS.as_bytes())?;
        shell.status("Created", display_path(path));
        return Ok(());
    }
    let text = std::fs::read_to_string(path).map_err(|source| Error::Read {
        path: path.to_owned(),
        source,
    })?;
    if text.contains("assetota_build::") {
        return Ok(());
    }
    let mains: Vec<usize> = text.match_indices("fn main()").map(|(i, _)| i).collect();
    let brace = match mains.as_slice() {
        [at] => text[*at..].find('{').map(|b| at + b),
        _ => None,
    };
    match brace {
        Some(b) => {
            let mut out = String::with_capacity(text.len() + 40);
            out.push_str(&text[..=b]);
            out.push_str("\n    ");
            out.push_str(EMBED_CALL);
            out.push_str(&text[b + 1..]);
            crate::files::write_atomically(path, out.as_bytes())?;
            shell.status("Extended", format_args!("{} (calls `{EMBED_CALL}` first)", display_path(path)));
        }
        None => shell.warn(format_args!(
            "{} exists and has no single `fn main()`; it was not changed. Add this line to the build script's main function:\n\n    {EMBED_CALL}\n",
            display_path(path)
        )),
    }
    Ok(())
}

/// Adds `assetota::manifest!();` after the crate's inner attributes and docs.
fn add_macro(path: &Path, shell: &mut Shell) -> Result<()> {
    let text = std::fs::read_to_string(path).map_err(|source| Error::Read {
        path: path.to_owned(),
        source,
    })?;
    if text.contains("manifest!(") {
        return Ok(());
    }
    let mut at = 0;
    for line in text.split_inclusive('\n') {
        let t = line.trim_start();
        if t.starts_with("#![") || t.starts_with("//!") {
            at += line.len();
        } else {
            break;
        }
    }
    let sep = if at > 0 { "\n" } else { "" };
    let out = format!(
        "{}{sep}// Embeds the asset manifest written by build.rs (section `.assetota`).\n{MACRO_CALL}\n\n{}",
        &text[..at],
        &text[at..]
    );
    crate::files::write_atomically(path, out.as_bytes())?;
    shell.status(
        "Extended",
        format_args!(
            "{} (embeds the manifest with `{MACRO_CALL}`)",
            display_path(path)
        ),
    );
    Ok(())
}

const HOST: &[(&str, &str)] = &[
    (
        "Cargo.toml.in",
        include_str!("../../../templates/host/Cargo.toml.in"),
    ),
    ("build.rs", include_str!("../../../templates/host/build.rs")),
    (
        "src/main.rs",
        include_str!("../../../templates/host/src/main.rs"),
    ),
    (
        "assets/hello.txt",
        include_str!("../../../templates/host/assets/hello.txt"),
    ),
    (
        "gitignore",
        include_str!("../../../templates/host/gitignore"),
    ),
];

const CORTEX_M: &[(&str, &str)] = &[
    (
        "Cargo.toml.in",
        include_str!("../../../templates/cortex-m/Cargo.toml.in"),
    ),
    (
        "build.rs",
        include_str!("../../../templates/cortex-m/build.rs"),
    ),
    (
        "src/main.rs",
        include_str!("../../../templates/cortex-m/src/main.rs"),
    ),
    (
        "memory.x",
        include_str!("../../../templates/cortex-m/memory.x"),
    ),
    (
        ".cargo/config.toml",
        include_str!("../../../templates/cortex-m/.cargo/config.toml"),
    ),
    (
        "assets/hello.txt",
        include_str!("../../../templates/cortex-m/assets/hello.txt"),
    ),
    (
        "gitignore",
        include_str!("../../../templates/cortex-m/gitignore"),
    ),
];

pub fn run_new(args: NewArgs, shell: &mut Shell) -> Result<()> {
    let path = &args.path;
    if path.exists()
        && std::fs::read_dir(path)
            .map(|mut d| d.next().is_some())
            .unwrap_or(true)
    {
        return Err(init_err(format!(
            "`{}` already exists and is not empty; `new` never overwrites (use `cargo assetota init` inside it)",
            path.display()
        )));
    }
    let name = match &args.name {
        Some(n) => n.clone(),
        None => path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .ok_or_else(|| {
                init_err(format!(
                    "cannot take a package name from `{}`; pass `--name`",
                    path.display()
                ))
            })?,
    };
    let valid = !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        && !name.starts_with(|c: char| c.is_ascii_digit());
    if !valid {
        return Err(init_err(format!(
            "`{name}` is not a valid package name (letters, digits, `-` and `_`, not starting with a digit); pass `--name`"
        )));
    }
    let platform = match &args.platform {
        Some(p) => {
            crate::platform_choice::builtin_platform(p)?;
            format!("platform = \"{p}\"\n")
        }
        None => String::new(),
    };
    let render = |dep: &str| dependency(dep).to_string().trim().to_owned();
    let files = match args.template {
        Template::Host => HOST,
        Template::CortexM => CORTEX_M,
    };
    for (rel, text) in files {
        let (rel, text) = match *rel {
            "Cargo.toml.in" => (
                "Cargo.toml".to_owned(),
                text.replace("{{name}}", &name)
                    .replace("{{platform}}", &platform)
                    .replace("{{assetota}}", &render("assetota"))
                    .replace("{{assetota_build}}", &render("assetota-build")),
            ),
            "gitignore" => (".gitignore".to_owned(), (*text).to_owned()),
            other => (other.to_owned(), (*text).to_owned()),
        };
        let file = path.join(&rel);
        if let Some(parent) = file.parent() {
            std::fs::create_dir_all(parent).map_err(|source| Error::Write {
                path: parent.to_owned(),
                source,
            })?;
        }
        std::fs::write(&file, text).map_err(|source| Error::Write {
            path: file.clone(),
            source,
        })?;
    }
    let template = match args.template {
        Template::Host => "host",
        Template::CortexM => "cortex-m",
    };
    shell.status(
        "Created",
        format_args!(
            "`{name}` from the {template} template in {}",
            display_path(path)
        ),
    );
    shell.status(
        "Next",
        format_args!("cd {} && cargo assetota build", display_path(path)),
    );
    Ok(())
}
