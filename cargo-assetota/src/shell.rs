//! All terminal output goes through [`Shell`]: cargo-style status lines on stderr,
//! data (tables, JSON) on stdout, progress bars only when a person is watching.
//!
//! Tests run the real binary and read its two streams; unit tests can build a
//! [`Shell::captured`] one and read what was written.

use std::io::{self, IsTerminal, Write};
#[cfg(test)]
use std::sync::{Arc, Mutex};

use anstyle::{AnsiColor, Effects, Style};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// `--color`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ColorChoice {
    Auto,
    Always,
    Never,
}

/// How much the user asked to see.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Verbosity {
    Quiet,
    Normal,
    Verbose,
}

pub const GREEN: Style = AnsiColor::Green.on_default().effects(Effects::BOLD);
pub const CYAN: Style = AnsiColor::Cyan.on_default().effects(Effects::BOLD);
pub const YELLOW: Style = AnsiColor::Yellow.on_default().effects(Effects::BOLD);
pub const RED: Style = AnsiColor::Red.on_default().effects(Effects::BOLD);
pub const BOLD: Style = Style::new().effects(Effects::BOLD);

/// The tool's only door to the terminal.
pub struct Shell {
    out: Box<dyn Write>,
    err: Box<dyn Write>,
    verbosity: Verbosity,
    /// Whether stderr is a terminal we may draw progress bars on.
    err_is_terminal: bool,
    /// Machine-readable output on stdout: no progress bars.
    json: bool,
    color: ColorChoice,
}

/// What a captured shell wrote, for unit tests.
#[cfg(test)]
#[derive(Clone, Default)]
pub struct Captured(Arc<Mutex<Vec<u8>>>);

#[cfg(test)]
impl Captured {
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap_or_else(|p| p.into_inner())).into_owned()
    }
}

#[cfg(test)]
impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let plain = anstream::adapter::strip_bytes(buf).into_vec();
        self.0
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .extend_from_slice(&plain);
        Ok(buf.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl Shell {
    /// The process's stdout and stderr, styled per `color` (and `NO_COLOR`,
    /// `CLICOLOR_FORCE`, and whether each stream is a terminal, when `auto`).
    pub fn new(color: ColorChoice, verbosity: Verbosity) -> Shell {
        let choice = match color {
            ColorChoice::Auto => anstream::ColorChoice::Auto,
            ColorChoice::Always => anstream::ColorChoice::Always,
            ColorChoice::Never => anstream::ColorChoice::Never,
        };
        Shell {
            out: Box::new(anstream::AutoStream::new(io::stdout(), choice)),
            err: Box::new(anstream::AutoStream::new(io::stderr(), choice)),
            verbosity,
            err_is_terminal: io::stderr().is_terminal(),
            json: false,
            color,
        }
    }

    /// A shell writing into memory (no color, no progress bars).
    #[cfg(test)]
    pub fn captured(verbosity: Verbosity) -> (Shell, Captured, Captured) {
        let (out, err) = (Captured::default(), Captured::default());
        let shell = Shell {
            out: Box::new(out.clone()),
            err: Box::new(err.clone()),
            verbosity,
            err_is_terminal: false,
            json: false,
            color: ColorChoice::Never,
        };
        (shell, out, err)
    }

    /// Whether error reports on stderr should be colored.
    pub fn err_color(&self) -> bool {
        match self.color {
            ColorChoice::Always => true,
            ColorChoice::Never => false,
            ColorChoice::Auto => {
                anstream::AutoStream::choice(&io::stderr()) != anstream::ColorChoice::Never
            }
        }
    }

    /// Machine-readable output: progress bars stay hidden.
    pub fn set_json(&mut self, json: bool) {
        self.json = json;
    }

    pub fn verbosity(&self) -> Verbosity {
        self.verbosity
    }

    pub fn is_verbose(&self) -> bool {
        self.verbosity == Verbosity::Verbose
    }

    /// A cargo-style status line: the verb right-aligned in 12 columns, green.
    pub fn status(&mut self, verb: &str, message: impl std::fmt::Display) {
        self.status_styled(verb, GREEN, message);
    }

    /// A status line with a verb in another style (cyan for notes).
    pub fn status_styled(&mut self, verb: &str, style: Style, message: impl std::fmt::Display) {
        if self.verbosity == Verbosity::Quiet {
            return;
        }
        let _ = writeln!(self.err, "{style}{verb:>12}{style:#} {message}");
    }

    /// Only with `-v`.
    pub fn verbose(&mut self, verb: &str, message: impl std::fmt::Display) {
        if self.is_verbose() {
            self.status_styled(verb, CYAN, message);
        }
    }

    /// One line per request a server answered: the method in the verb's
    /// column, then what `line` says (path, status, bytes, range); hidden with `-q`.
    pub fn request(&mut self, method: &str, line: impl std::fmt::Display) {
        self.status_styled(method, CYAN, line);
        let _ = self.err.flush();
    }

    /// `warning: …` in yellow; shown even with `-q`, as cargo does.
    pub fn warn(&mut self, message: impl std::fmt::Display) {
        let _ = writeln!(
            self.err,
            "{YELLOW}warning{YELLOW:#}{BOLD}:{BOLD:#} {message}"
        );
    }

    /// `note: …`, hidden with `-q`.
    pub fn note(&mut self, message: impl std::fmt::Display) {
        if self.verbosity == Verbosity::Quiet {
            return;
        }
        let _ = writeln!(self.err, "{CYAN}note{CYAN:#}{BOLD}:{BOLD:#} {message}");
    }

    /// `error: …` in red, for the few errors that are not the command's result.
    pub fn error(&mut self, message: impl std::fmt::Display) {
        let _ = writeln!(self.err, "{RED}error{RED:#}{BOLD}:{BOLD:#} {message}");
    }

    /// Raw text to stderr (a rendered diagnostic).
    pub fn write_err(&mut self, text: &str) {
        let _ = self.err.write_all(text.as_bytes());
        let _ = self.err.flush();
    }

    /// Data for the user or a script: tables and JSON go to stdout, even with `-q`.
    pub fn print(&mut self, text: impl std::fmt::Display) {
        let _ = writeln!(self.out, "{text}");
    }

    /// One JSON document on stdout.
    pub fn print_json(&mut self, value: &impl serde::Serialize) {
        match serde_json::to_string_pretty(value) {
            Ok(text) => self.print(text),
            Err(e) => self.error(format_args!("cannot serialize JSON output: {e}")),
        }
    }

    /// One JSON document on a single line (a stream of messages).
    pub fn print_json_line(&mut self, value: &impl serde::Serialize) {
        match serde_json::to_string(value) {
            Ok(text) => self.print(text),
            Err(e) => self.error(format_args!("cannot serialize JSON output: {e}")),
        }
    }

    pub fn flush(&mut self) {
        let _ = self.out.flush();
        let _ = self.err.flush();
    }

    /// A progress bar for `bytes` of work, drawn on stderr only when it is a
    /// terminal, the output is not JSON and `-q` was not given; hidden otherwise.
    pub fn progress(&mut self, verb: &str, bytes: u64) -> ProgressBar {
        let visible = self.err_is_terminal && !self.json && self.verbosity != Verbosity::Quiet;
        let target = if visible {
            ProgressDrawTarget::stderr()
        } else {
            ProgressDrawTarget::hidden()
        };
        let bar = ProgressBar::with_draw_target((bytes > 0).then_some(bytes), target);
        let style = ProgressStyle::with_template(
            "{prefix:>12.cyan.bold} [{bar:27}] {binary_bytes}/{binary_total_bytes} {wide_msg}",
        )
        .unwrap_or_else(|_| ProgressStyle::default_bar())
        .progress_chars("=> ");
        bar.set_style(style);
        bar.set_prefix(verb.to_owned());
        let _ = self.err.flush();
        bar
    }
}

/// Feeds assetota-core's measuring progress into a bar.
pub struct BarProgress(pub ProgressBar);

impl assetota_core::Progress for BarProgress {
    fn start(&self, files: usize, bytes: u64) {
        self.0.set_length(bytes);
        self.0
            .set_message(assetota_report::text::count(files, "asset"));
    }
    fn advance(&self, name: &str, bytes: u64) {
        self.0.inc(bytes);
        self.0.set_message(name.to_owned());
    }
    fn finish(&self) {
        self.0.finish_and_clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_is_right_aligned_and_quiet_hides_it() {
        let (mut shell, out, err) = Shell::captured(Verbosity::Normal);
        shell.status("Finished", "done");
        shell.warn("careful");
        shell.print("data");
        assert_eq!(err.text(), "    Finished done\nwarning: careful\n");
        assert_eq!(out.text(), "data\n");

        let (mut shell, out, err) = Shell::captured(Verbosity::Quiet);
        shell.status("Finished", "done");
        shell.print("data");
        assert_eq!(err.text(), "");
        assert_eq!(out.text(), "data\n");
    }
}
