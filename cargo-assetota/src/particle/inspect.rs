//! `cargo assetota inspect FILE` for a Particle module or bundle.

use assetota_core::bytesize::Bytes;
use assetota_particle::file::{self, ParticleFile};
use assetota_particle::inspect::InspectJson;
use assetota_particle::json::Status;
use assetota_particle::module::function;

use crate::cli::InspectArgs;
use crate::error::Result;
use crate::files::display_path;
use crate::shell::Shell;
use assetota_report::text::{Table, count};

/// The Particle path of `inspect`; `None` for anything else.
pub fn inspect(args: &InspectArgs, shell: &mut Shell) -> Option<Result<()>> {
    let bytes = std::fs::read(&args.file).ok()?;
    let kind = file::classify(&bytes)?;
    Some(run(args, &bytes, &kind, shell))
}

fn run(args: &InspectArgs, bytes: &[u8], kind: &ParticleFile, shell: &mut Shell) -> Result<()> {
    shell.set_json(args.json);
    let path = &args.file;
    let report = InspectJson::new(display_path(path), path, bytes, kind)?;
    if args.json {
        shell.print_json(&report);
        return Ok(());
    }
    shell.print(text(&report).trim_end());
    Ok(())
}

/// The report as text.
fn text(report: &InspectJson) -> String {
    let m = &report.module;
    let bundle = report.is_bundle();
    let mut text = format!(
        "{} ({})\n",
        report.file,
        match report.kind {
            "particle-bundle" => "Particle bundle",
            "particle-asset-module" => "Particle asset module",
            _ => "Particle application",
        }
    );
    if let Some(app) = &report.application {
        text.push_str(&format!("  application: {app}\n"));
    }
    let target = match (m.function_id, &m.platform) {
        (function::ASSET, _) => "any platform".to_owned(),
        (_, Some(name)) => format!("{name} (platform {})", m.platform_id),
        (_, None) => format!("platform {}, which has no asset OTA", m.platform_id),
    };
    text.push_str(&format!(
        "  module:      {} for {target}, {}, {}..{}, flags {:#04x}\n  checksums:   CRC-32 {}, SHA-256 {}\n",
        m.function,
        Bytes(m.size as u64),
        m.start_address,
        m.end_address,
        m.flags,
        if m.crc_ok { "ok" } else { "FAILED" },
        if m.sha256_ok { "ok" } else { "FAILED" },
    ));
    if m.function_id == function::USER_PART {
        text.push_str(&format!(
            "  device os:   module version {} or newer\n",
            m.device_os_dependency
        ));
    }
    if let Some(a) = &report.asset {
        text.push_str(&format!(
            "  asset:       `{}`, {} raw, sha256 {}\n  device:      {}\n",
            a.name,
            Bytes(a.original_size),
            a.sha256,
            a.problem
                .as_deref()
                .map(|p| format!("would delete it: {p}"))
                .unwrap_or_else(|| "accepts it".into())
        ));
    }
    if m.function_id == function::USER_PART {
        text.push_str(&format!(
            "  depends on:  {}\n",
            count(report.dependencies.len(), "asset")
        ));
        if !report.dependencies.is_empty() {
            let mut t = Table::new(if bundle {
                &["ASSET", "SHA-256", "IN BUNDLE"]
            } else {
                &["ASSET", "SHA-256"]
            })
            .left_aligned(3);
            for d in &report.dependencies {
                let mut row = vec![d.name.clone(), d.sha256.clone()];
                if bundle {
                    row.push(match (d.status, &d.actual_sha256) {
                        (Some(Status::Mismatch), Some(actual)) => {
                            format!("MISMATCH (is {actual})")
                        }
                        (Some(Status::Missing), _) => "MISSING".into(),
                        (Some(s), _) => s.as_str().into(),
                        (None, _) => String::new(),
                    });
                }
                t.row(row);
            }
            text.push_str(&t.render());
        }
    }
    for n in &report.unused_assets {
        text.push_str(&format!(
            "\n  unused:      `assets/{n}` (the application does not depend on it)"
        ));
    }
    for n in &report.ignored_entries {
        text.push_str(&format!(
            "\n  ignored:     `{n}` (Particle's tools skip it)"
        ));
    }
    text
}
