//! `cargo assetota verify FILE` for a Particle bundle or module.

use assetota_core::Budget;
use assetota_core::bytesize::Bytes;
use assetota_particle::file::{self, ParticleFile};
use assetota_particle::{measure, platform, verify as check};
use serde::Serialize;

use super::output::dependencies;
use crate::cli::VerifyArgs;
use crate::error::{Error, Result};
use crate::files::display_path;
use crate::shell::Shell;
use assetota_report::text::count;

#[derive(Serialize)]
struct VerifyJson<'a> {
    bundle: String,
    ok: bool,
    kind: &'static str,
    platform: Option<String>,
    problems: &'a [String],
}

/// The Particle path of `verify`; `None` for anything else.
pub fn verify(args: &VerifyArgs, shell: &mut Shell) -> Option<Result<()>> {
    let bytes = std::fs::read(&args.bundle).ok()?;
    let kind = file::classify(&bytes)?;
    Some(run(args, &bytes, kind, shell))
}

fn run(args: &VerifyArgs, bytes: &[u8], kind: ParticleFile, shell: &mut Shell) -> Result<()> {
    shell.set_json(args.json);
    let path = &args.bundle;
    let mut problems = Vec::new();
    let mut budget_problems = Vec::new();
    let mut platform_name = None;
    let summary = match &kind {
        ParticleFile::Asset(_) => {
            let (module, p) = check::asset_module(bytes);
            problems.extend(p);
            let name = module.as_ref().map(|a| a.name_lossy()).unwrap_or_default();
            if module.is_some()
                && let Some(file) = path.file_name().and_then(|f| f.to_str())
                && file != name
            {
                shell.note(format_args!(
                    "the device stores this module as `{name}`, not `{file}`"
                ));
            }
            format!(
                "Particle asset module `{name}`, {}",
                Bytes(bytes.len() as u64)
            )
        }
        ParticleFile::App(_) => {
            let name = display_path(path);
            let (app, p) = check::app(&name, bytes);
            problems.extend(p);
            let deps = app
                .as_ref()
                .map_or(0, |a| a.module.asset_dependencies().len());
            platform_name = app.as_ref().map(|a| a.user_part.name.to_owned());
            format!(
                "Particle application for `{}`, {}; its {} can only be checked in a bundle",
                platform_name.as_deref().unwrap_or("?"),
                Bytes(bytes.len() as u64),
                dependencies(deps)
            )
        }
        ParticleFile::Bundle => {
            let b = file::read_bundle(path, bytes)?;
            let (app, p) = check::app(&b.app_name, &b.app);
            problems.extend(p);
            problems.extend(check::bundle(&b));
            // The budget, from the bytes.
            if let Some(app) = &app {
                let platform = platform::choose(path, app, args.platform.as_deref())?;
                platform_name = Some(platform.name.clone());
                let measured = measure::measure_bundle_assets(platform.codec, &b.assets).map_err(
                    |source| Error::Read {
                        path: path.clone(),
                        source,
                    },
                )?;
                let findings = measure::findings(&Budget::new(&platform, measured));
                for message in findings.near {
                    shell.warn(message);
                }
                budget_problems = findings.over;
            }
            format!(
                "Particle bundle: `{}` and {}, all matching{}",
                b.app_name,
                count(b.assets.len(), "asset"),
                platform_name
                    .as_ref()
                    .map(|p| format!(", fits `{p}`"))
                    .unwrap_or_default()
            )
        }
    };
    let mut problems: Vec<String> = problems.iter().map(ToString::to_string).collect();
    let over_budget_only = problems.is_empty() && !budget_problems.is_empty();
    problems.extend(budget_problems);
    if args.json {
        shell.print_json(&VerifyJson {
            bundle: display_path(path),
            ok: problems.is_empty(),
            kind: kind.kind(),
            platform: platform_name,
            problems: &problems,
        });
    }
    if !problems.is_empty() {
        return Err(Error::VerifyFailed {
            path: path.clone(),
            problems,
            over_budget_only,
        });
    }
    shell.status(
        "Verified",
        format_args!("{} ({summary})", display_path(path)),
    );
    Ok(())
}
