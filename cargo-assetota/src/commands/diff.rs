//! `cargo assetota diff OLD NEW`: the OTA transfer plan under the (name, SHA-256)
//! identity: what to send, what the device keeps, what it can remove.

use crate::cli::{DiffArgs, OutputFormat};
use crate::error::Result;
use crate::shell::Shell;
use assetota_bundle::input;
use assetota_report::diff::{Plan, Side, plan_section, plan_text};
use assetota_report::{self as report_html, Report};

pub fn run(args: DiffArgs, shell: &mut Shell) -> Result<()> {
    let format = if args.json {
        OutputFormat::Json
    } else {
        args.format.unwrap_or(OutputFormat::Human)
    };
    shell.set_json(format == OutputFormat::Json);
    let old = Side::of(&input::load(&args.old)?)?;
    let new = Side::of(&input::load(&args.new)?)?;
    let plan = Plan::new(&old, &new);
    if plan.version_goes_down {
        shell.warn(format_args!(
            "the package version goes down from {} to {}; devices that refuse downgrades will reject this update",
            old.version.as_deref().unwrap_or("?"),
            new.version.as_deref().unwrap_or("?")
        ));
    }

    if args.report.is_some() || format == OutputFormat::Markdown {
        let section = plan_section(&args.old, &args.new, &plan);
        let page = Report {
            title: format!("OTA plan: {}", section.heading),
            date: report_html::report_date(),
            refresh_seconds: None,
            sections: vec![section],
        };
        if let Some(path) = &args.report {
            crate::files::write_atomically(path, report_html::page::render(&page).as_bytes())?;
        }
        if format == OutputFormat::Markdown {
            shell.print(report_html::markdown::render(&page));
            return Ok(());
        }
    }
    if format == OutputFormat::Json {
        shell.print_json(&plan);
        return Ok(());
    }
    shell.print(plan_text(&args.old, &args.new, &plan));
    Ok(())
}
