//! `cargo assetota init` (set up an existing package, keeping its formatting)
//! and `cargo assetota new` (a project from `templates/`), over
//! `assetota-project`.

use std::path::{Path, PathBuf};

use assetota_project::build_script::{self, EMBED_CALL, Outcome};
use assetota_project::crate_root::{self, MACRO_CALL};
use assetota_project::{manifest, template};

use crate::cargo;
use crate::cli::{InitArgs, NewArgs, Template};
use crate::error::{Error, Result};
use crate::files::display_path;
use crate::shell::Shell;

/// Where the build-support crates come from: crates.io by default; a
/// checkout's `build-support/` directory when `ASSETOTA_CRATES_PATH` names one
/// (for developing cargo-assetota itself, and for its tests).
pub const CRATES_PATH_ENV: &str = "ASSETOTA_CRATES_PATH";

fn crates_path() -> Option<PathBuf> {
    std::env::var_os(CRATES_PATH_ENV).map(PathBuf::from)
}

pub fn run_init(args: InitArgs, shell: &mut Shell) -> Result<()> {
    let manifest_path = match &args.manifest_path {
        Some(p) => p.clone(),
        None => {
            let metadata = cargo::metadata(None)?;
            let root = metadata
                .root_package()
                .ok_or(assetota_project::Error::VirtualWorkspace)?;
            root.manifest_path.clone().into_std_path_buf()
        }
    };
    if !manifest_path.is_file() {
        return Err(Error::NotCargoProject(manifest_path));
    }
    let root = manifest_path.parent().unwrap_or(Path::new("."));
    let crates = crates_path();
    let plan = manifest::plan(
        &manifest_path,
        &args.dir,
        args.platform.as_deref(),
        crates.as_deref(),
    )?;
    if plan.already_opted_in {
        shell.note(format_args!(
            "{} already has [package.metadata.assetota]; leaving it as it is",
            display_path(&manifest_path)
        ));
    }
    if plan.write(&manifest_path)? {
        shell.status(
            "Updated",
            format_args!(
                "{} ({})",
                display_path(&manifest_path),
                plan.changed.join(", ")
            ),
        );
    }

    // build.rs: created, extended, or left alone with instructions.
    let build_rs = &plan.build_script;
    match build_script::extend(build_rs)? {
        Outcome::Created => shell.status("Created", display_path(build_rs)),
        Outcome::Extended => shell.status(
            "Extended",
            format_args!("{} (calls `{EMBED_CALL}` first)", display_path(build_rs)),
        ),
        Outcome::Unchanged => {}
        Outcome::NoSingleMain => shell.warn(format_args!(
            "{} exists and has no single `fn main()`; it was not changed. Add this line to the build script's main function:\n\n    {EMBED_CALL}\n",
            display_path(build_rs)
        )),
    }

    // The macro in the binary's main.rs.
    let main_rs = root.join("src/main.rs");
    if !main_rs.is_file() {
        shell.warn(format_args!("no src/main.rs: add `{MACRO_CALL}` to the firmware's crate root so the manifest is embedded"));
    } else if crate_root::add_macro(&main_rs)? {
        shell.status(
            "Extended",
            format_args!(
                "{} (embeds the manifest with `{MACRO_CALL}`)",
                display_path(&main_rs)
            ),
        );
    }

    let assets = root.join(&plan.dir);
    if crate_root::create_asset_dir(&assets)? {
        shell.status(
            "Created",
            format_args!("{}/ (put the assets here)", display_path(&assets)),
        );
    }
    shell.status("Finished", "run `cargo assetota build` to build and bundle");
    Ok(())
}

pub fn run_new(args: NewArgs, shell: &mut Shell) -> Result<()> {
    let path = &args.path;
    let template = match args.template {
        Template::Host => template::Template::Host,
        Template::CortexM => template::Template::CortexM,
    };
    let name = template::create(
        path,
        template,
        args.name.as_deref(),
        args.platform.as_deref(),
        crates_path().as_deref(),
    )?;
    shell.status(
        "Created",
        format_args!(
            "`{name}` from the {} template in {}",
            template.name(),
            display_path(path)
        ),
    );
    shell.status(
        "Next",
        format_args!("cd {} && cargo assetota build", display_path(path)),
    );
    Ok(())
}
