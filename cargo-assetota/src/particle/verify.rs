//! `cargo assetota verify FILE` for a Particle bundle or module.

use assetota_particle::file::{self, ParticleFile};
use assetota_particle::verdict::Verdict;

use crate::cli::VerifyArgs;
use crate::error::{Error, Result};
use crate::files::display_path;
use crate::shell::Shell;

/// The Particle path of `verify`; `None` for anything else.
pub fn verify(args: &VerifyArgs, shell: &mut Shell) -> Option<Result<()>> {
    let bytes = std::fs::read(&args.bundle).ok()?;
    let kind = file::classify(&bytes)?;
    Some(run(args, &bytes, &kind, shell))
}

fn run(args: &VerifyArgs, bytes: &[u8], kind: &ParticleFile, shell: &mut Shell) -> Result<()> {
    shell.set_json(args.json);
    let path = &args.bundle;
    let shown = display_path(path);
    let verdict = Verdict::of(path, &shown, bytes, kind, args.platform.as_deref())?;
    if let Some(name) = &verdict.stored_as {
        let file = path.file_name().unwrap_or_default().to_string_lossy();
        shell.note(format_args!(
            "the device stores this module as `{name}`, not `{file}`"
        ));
    }
    for message in &verdict.near {
        shell.warn(message);
    }
    if args.json {
        shell.print_json(&verdict.json(shown.clone()));
    }
    if !verdict.problems.is_empty() {
        return Err(Error::VerifyFailed {
            path: path.clone(),
            problems: verdict.problems,
            over_budget_only: verdict.over_budget_only,
        });
    }
    shell.status("Verified", format_args!("{shown} ({})", verdict.summary));
    Ok(())
}
