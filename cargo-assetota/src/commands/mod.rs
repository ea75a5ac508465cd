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

use crate::cli::Command;
use crate::error::Result;
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
