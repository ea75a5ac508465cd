//! `cargo assetota bundle APP.bin --assets DIR [-o OUT.zip] [--modules DIR]`
//! for a Particle application.

use assetota_core::bytesize::Bytes;
use assetota_particle::app::App;
use assetota_particle::bundle::{self as pbundle, Names};
use assetota_particle::text::dependencies;
use assetota_particle::{Error as ParticleError, file, platform};

use crate::cli::BundleArgs;
use crate::error::{Error, Result};
use crate::files::display_path;
use crate::shell::{BarProgress, Shell};
use assetota_report::text::{budget_line, count};

/// The Particle path of `bundle`; `None` when the firmware is an ELF (the
/// command's own path), after refusing `--modules` for it.
pub fn bundle(args: &BundleArgs, bytes: &[u8], shell: &mut Shell) -> Option<Result<()>> {
    let path = &args.firmware;
    if file::is_elf(bytes) {
        return args
            .modules
            .as_ref()
            .map(|_| Err(Error::ModulesWithElf(path.clone())));
    }
    if file::sniff_module(bytes).is_none() && !file::has_bin_extension(path) {
        return None;
    }
    Some(run(args, bytes, shell))
}

fn run(args: &BundleArgs, bytes: &[u8], shell: &mut Shell) -> Result<()> {
    let path = &args.firmware;
    let modules = args.modules.as_deref();
    let app = App::check(bytes).map_err(|e| ParticleError::app(path, e))?;
    let platform = platform::choose(path, &app, args.platform.as_deref())?;
    for (given, flag) in [
        (args.format.is_some(), "--format"),
        (args.target.is_some(), "--target"),
        (args.name.is_some(), "--name"),
    ] {
        if given {
            shell.warn(format_args!(
                "{flag} does not apply to a Particle application; ignored"
            ));
        }
    }
    let names = Names::of(path, args.out.as_deref())?;

    let bar = shell.progress("Measuring", 0);
    let measured = pbundle::measure(path, &args.assets, &platform, &BarProgress(bar))?;
    let findings = assetota_bundle::budget::findings(&measured.budget);
    for message in findings.near {
        shell.warn(message);
    }
    if !findings.over.is_empty() {
        return Err(Error::OverBudget {
            package: names.stem,
            platform: platform.name.clone(),
            findings: findings.over,
        });
    }
    let written = pbundle::write(measured, bytes, &app, path, &names, modules)?;
    let budget = &written.budget;

    let placement = if app.deps_in_prefix() {
        "prefix"
    } else {
        "suffix"
    };
    shell.status(
        "Bundling",
        format_args!(
            "{} for Particle `{}` with {} ({} in the module's {placement}, {} → {})",
            display_path(path),
            platform.name,
            count(budget.assets.len(), "asset"),
            dependencies(budget.assets.len()),
            Bytes(bytes.len() as u64),
            Bytes(written.app_len)
        ),
    );
    for a in &budget.assets {
        shell.verbose(
            "Asset",
            format_args!(
                "{} ({} → module {})",
                a.measured.name,
                Bytes(a.measured.size),
                Bytes(a.stored_size)
            ),
        );
    }
    shell.status("Budget", budget_line(budget));
    if let Some(dir) = modules {
        shell.status(
            "Wrote",
            format_args!(
                "{} asset modules to {}",
                budget.assets.len(),
                display_path(dir)
            ),
        );
    }
    shell.status("Bundled", display_path(&names.out));
    Ok(())
}
