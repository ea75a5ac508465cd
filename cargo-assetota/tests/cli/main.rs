//! CLI tests: the real `cargo-assetota` binary on real projects built by the
//! real cargo. Fixture package names are unique (the target dir is shared).

mod common;

mod build;
mod bundle;
mod diff;
mod init;
mod inspect;
mod size;
mod usage;
mod verify;
mod w800;
