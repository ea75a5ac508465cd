//! Cargo build-script directives, written to any `Write` so tests can read them.

use std::io::Write;
use std::path::Path;

pub(crate) struct Directives<'w, W: Write> {
    out: &'w mut W,
}

impl<'w, W: Write> Directives<'w, W> {
    pub(crate) fn new(out: &'w mut W) -> Self {
        Directives { out }
    }

    // A failed write to cargo's pipe cannot be reported anywhere better.
    fn line(&mut self, key: &str, value: &str) {
        // Directives are line-based: a newline in a message would end it early.
        let value = value.replace(['\r', '\n'], " ");
        let _ = writeln!(self.out, "cargo::{key}={value}");
    }

    pub(crate) fn rerun_if_changed(&mut self, path: &Path) {
        self.line("rerun-if-changed", &path.display().to_string());
    }

    pub(crate) fn rerun_if_env_changed(&mut self, var: &str) {
        self.line("rerun-if-env-changed", var);
    }

    pub(crate) fn warning(&mut self, message: &str) {
        self.line("warning", message);
    }

    pub(crate) fn error(&mut self, message: &str) {
        self.line("error", message);
    }
}
