//! `cargo assetota init` and `cargo assetota new`.

use crate::cli::{InitArgs, NewArgs};
use crate::error::{Error, Result};
use crate::shell::Shell;

pub fn run_init(_args: InitArgs, _shell: &mut Shell) -> Result<()> {
    Err(Error::Init("`init` is not implemented yet".into()))
}

pub fn run_new(_args: NewArgs, _shell: &mut Shell) -> Result<()> {
    Err(Error::Init("`new` is not implemented yet".into()))
}
