//! `cargo assetota verify BUNDLE`: exit 0 only if the firmware's embedded
//! manifest, `manifest.json` and the asset bytes all agree and fit
//! (`assetota_bundle::verify`), and the firmware fits its partitions.

use crate::cli::VerifyArgs;
use crate::error::{Error, Result};
use crate::files::display_path;
use crate::shell::Shell;
use assetota_bundle::verify::report::{VerifyJson, summary};
use assetota_bundle::{self as bundle, verify::Verification};

pub fn run(args: VerifyArgs, shell: &mut Shell) -> Result<()> {
    if let Some(result) = crate::particle::verify::verify(&args, shell) {
        return result;
    }
    shell.set_json(args.json);
    let path = &args.bundle;
    let contents = bundle::read(path)?;
    let m = &contents.manifest;
    let fw = &m.firmware;
    let platform = match &args.platform {
        Some(name) => Some(crate::platform_choice::builtin_platform(name)?),
        None => None,
    };
    let Verification {
        mut problems,
        over_budget: mut budget_problems,
        warnings,
        budget,
    } = assetota_bundle::verify::verify(path, &contents, platform)?;
    for w in warnings {
        shell.warn(w);
    }
    if let Some(budget) = &budget
        && let Some(check) = assetota_firmware::fit::FirmwareCheck::run(
            &budget.platform,
            &contents.firmware,
            &m.package.version,
        )?
    {
        budget_problems.extend(
            check
                .problems()
                .into_iter()
                .map(|p| format!("`{}`: {p}", fw.file)),
        );
    }

    let over_budget_only = problems.is_empty() && !budget_problems.is_empty();
    problems.extend(budget_problems);
    if args.json {
        shell.print_json(&VerifyJson::new(display_path(path), m, &problems));
    }
    if !problems.is_empty() {
        return Err(Error::VerifyFailed {
            path: path.clone(),
            problems,
            over_budget_only,
        });
    }
    shell.status("Verified", summary(&display_path(path), m));
    Ok(())
}
