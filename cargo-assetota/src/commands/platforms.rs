//! `cargo assetota platforms`: built-in and configured platforms.

use assetota_core::Config;
use assetota_core::platform::Platform;

use crate::cargo;
use crate::cli::PlatformsArgs;
use crate::error::{Error, Result};
use crate::shell::Shell;
use assetota_report::platforms::{PlatformJson, platforms_text};

pub fn run(args: PlatformsArgs, shell: &mut Shell) -> Result<()> {
    shell.set_json(args.json);
    let mut platforms = assetota_core::platform::builtin_platforms();
    // Custom platforms of the current package, when there is one that opted in.
    let explicit = args.packages.manifest_path.is_some() || !args.packages.package.is_empty();
    match cargo::metadata(args.packages.manifest_path.as_deref()).and_then(|m| {
        let mut customs = Vec::new();
        for p in cargo::select_packages(&m, &args.packages.package)? {
            if let Some(config) = Config::load(p.manifest_path.as_std_path())? {
                for c in config.custom_platforms {
                    if !customs.iter().any(|x: &Platform| x.name == c.name) {
                        customs.push(c);
                    }
                }
            }
        }
        Ok(customs)
    }) {
        Ok(customs) => platforms.extend(customs),
        Err(e) if explicit => return Err(e),
        Err(Error::NotCargoProject(_) | Error::NotOptedIn { .. } | Error::NoOptedInPackage(_)) => {}
        Err(e) => return Err(e),
    }

    let list: Vec<PlatformJson> = platforms.iter().map(PlatformJson::of).collect();
    if args.json {
        shell.print_json(&list);
        return Ok(());
    }
    shell.print(platforms_text(&platforms, &list));
    Ok(())
}
