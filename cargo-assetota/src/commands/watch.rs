//! `cargo assetota watch`: a live budget while assets are edited, and with
//! `--build` a rebuild and a new bundle after each change. The session
//! itself is in [`crate::watch`].

use std::path::PathBuf;
use std::time::Duration;

use crate::cargo;
use crate::cli::WatchArgs;
use crate::error::{Error, Result};
use crate::shell::{Shell, Verbosity};
use crate::watch::{self, Options, PackageSpec};

use crate::platform_choice::platform_override;
pub fn run(args: WatchArgs, shell: &mut Shell) -> Result<()> {
    let metadata = cargo::metadata(args.cargo.manifest_path.as_deref())?;
    let packages = if args.cargo.workspace {
        let opted: Vec<_> = metadata
            .workspace_packages()
            .into_iter()
            .filter(|p| cargo::opted_in(p))
            .collect();
        if opted.is_empty() {
            return Err(Error::NoOptedInPackage(
                metadata.workspace_root.clone().into(),
            ));
        }
        opted
    } else {
        cargo::select_packages(&metadata, &args.cargo.package)?
    };
    let cwd = std::env::current_dir().unwrap_or_default();
    let target_dir = match &args.cargo.target_dir {
        Some(dir) => cwd.join(dir),
        None => metadata.target_directory.clone().into_std_path_buf(),
    };
    let build = if args.build {
        let program: PathBuf = std::env::current_exe().map_err(|source| Error::Spawn {
            program: "cargo-assetota".into(),
            source,
        })?;
        let quiet = shell.verbosity() == Verbosity::Quiet;
        Some((
            program,
            watch::child::build_args(
                &args.cargo,
                args.platform.as_deref(),
                shell.is_verbose(),
                quiet,
            ),
        ))
    } else {
        None
    };
    let options = Options {
        debounce: Duration::from_millis(args.debounce),
        platform_override: platform_override(args.platform.as_deref()),
        target_dir,
        build,
        report: args.report.map(|r| cwd.join(r)),
    };
    let specs = packages
        .into_iter()
        .map(|p| PackageSpec {
            name: p.name.to_string(),
            manifest_path: p.manifest_path.clone().into_std_path_buf(),
        })
        .collect();
    watch::run(specs, options, shell)
}
