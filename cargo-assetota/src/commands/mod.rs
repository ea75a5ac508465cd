//! One module per subcommand.

mod build;
mod bundle;
mod diff;
mod esp_slots;
mod export;
mod image;
mod init;
mod inspect;
mod platforms;
mod serve;
mod size;
mod verify;
pub mod watch;

use std::path::Path;

use assetota_core::config::PLATFORM_ENV;

use crate::cli::Command;
use crate::error::{Error, Result};
use crate::shell::Shell;

pub fn run(command: Command, shell: &mut Shell) -> Result<()> {
    match command {
        Command::Build(args) => build::run(args, shell),
        Command::Size(args) => size::run(args, shell),
        Command::Inspect(args) => inspect::run(args, shell),
        Command::Verify(args) => verify::run(args, shell),
        Command::Diff(args) => diff::run(args, shell),
        Command::Bundle(args) => bundle::run(args, shell),
        Command::Platforms(args) => platforms::run(args, shell),
        Command::Init(args) => init::run_init(args, shell),
        Command::New(args) => init::run_new(args, shell),
        Command::Watch(args) => watch::run(args, shell),
        Command::Export(args) => export::run(args, shell),
        Command::Serve(args) => serve::run(args, shell),
        Command::Image(args) => image::run(args, shell),
    }
}

/// `--platform`, else `ASSETOTA_PLATFORM`, with where it came from.
fn platform_override(flag: Option<&str>) -> Option<(String, String)> {
    if let Some(name) = flag {
        return Some((name.to_owned(), "--platform".to_owned()));
    }
    match std::env::var(PLATFORM_ENV) {
        Ok(name) if !name.is_empty() => {
            Some((name, format!("the {PLATFORM_ENV} environment variable")))
        }
        _ => None,
    }
}

/// A path as the user would like to read it: relative to the current
/// directory when it is below it.
fn display_path(path: &Path) -> String {
    let cwd = std::env::current_dir().unwrap_or_default();
    path.strip_prefix(&cwd)
        .unwrap_or(path)
        .display()
        .to_string()
}

/// A built-in platform by name, or a clear error.
fn builtin_platform(name: &str) -> Result<assetota_core::Platform> {
    assetota_core::platform::builtin(name).ok_or_else(|| Error::UnknownPlatform {
        name: name.to_owned(),
        known: assetota_core::platform::builtin_names()
            .into_iter()
            .map(str::to_owned)
            .collect(),
    })
}

/// Writes `bytes` to `path` atomically (see [`assetota_core::atomic`]).
pub(crate) fn write_atomically(path: &Path, bytes: &[u8]) -> Result<()> {
    assetota_core::atomic::write_bytes(path, bytes).map_err(|source| Error::Write {
        path: path.to_owned(),
        source,
    })
}
