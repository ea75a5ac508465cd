//! CLI tests: the real `cargo-assetota` binary on real projects built by the
//! real cargo. Fixture package names are unique (the target dir is shared).

#[path = "../support/mod.rs"]
#[allow(dead_code)]
mod support;

mod build;
mod bundle;
mod diff;
mod init;
mod inspect;
mod size;
mod usage;
mod verify;
mod w800;
