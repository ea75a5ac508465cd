//! `cargo assetota`: build firmware through cargo, check its embedded asset
//! manifest against the assets on disk, report the flash budget, and write a
//! deterministic, self-verifying bundle for an OTA backend.

mod cargo;
mod cli;
mod commands;
mod error;
mod exit;
mod files;
mod particle;
mod platform_choice;
mod shell;
mod w800;
mod watch;

use std::fmt;
use std::process::ExitCode;

use error::Error;
use shell::{Shell, Verbosity};

fn main() -> ExitCode {
    let cli = match cli::parse_from(std::env::args_os()) {
        Ok(cli) => cli,
        Err(e) => {
            // clap prints help/version (exit 0) and usage errors (exit 2) itself.
            let _ = e.print();
            return ExitCode::from(if e.use_stderr() {
                exit::USAGE
            } else {
                exit::SUCCESS
            });
        }
    };
    let verbosity = match (cli.quiet, cli.verbose) {
        (true, _) => Verbosity::Quiet,
        (false, true) => Verbosity::Verbose,
        (false, false) => Verbosity::Normal,
    };
    let mut shell = Shell::new(cli.color, verbosity);
    let result = commands::run(cli.command, &mut shell);
    shell.flush();
    match result {
        Ok(()) => ExitCode::from(exit::SUCCESS),
        Err(error) => {
            report(&mut shell, &error);
            ExitCode::from(error.exit_code())
        }
    }
}

/// Renders an error as a miette diagnostic on stderr.
fn report(shell: &mut Shell, error: &Error) {
    let theme = if shell.err_color() {
        miette::GraphicalTheme::unicode()
    } else {
        miette::GraphicalTheme::unicode_nocolor()
    };
    let handler = miette::GraphicalReportHandler::new_themed(theme).with_wrap_lines(false);
    let mut out = String::new();
    let diagnostic = Diagnostic(error);
    if handler.render_report(&mut out, &diagnostic).is_err() {
        out = format!("error: {error}\n");
    }
    shell.write_err(&format!("error: {}", out.trim_start()));
}

/// The bridge from the commands' thiserror errors to miette.
struct Diagnostic<'a>(&'a Error);

impl fmt::Debug for Diagnostic<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.0, f)
    }
}

impl fmt::Display for Diagnostic<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self.0, f)
    }
}

impl std::error::Error for Diagnostic<'_> {
    /// The cause chain miette prints under the message, without the causes
    /// the message already spells out (`cannot read `x`: No such file…`), so
    /// that each is printed once.
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        let message = self.0.to_string();
        let mut cause = std::error::Error::source(self.0);
        while let Some(c) = cause {
            if !message.contains(&c.to_string()) {
                break;
            }
            cause = c.source();
        }
        cause
    }
}

impl miette::Diagnostic for Diagnostic<'_> {
    fn code<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        Some(Box::new(self.0.code()))
    }
    fn help<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        self.0.help().map(|h| Box::new(h) as Box<dyn fmt::Display>)
    }
}
