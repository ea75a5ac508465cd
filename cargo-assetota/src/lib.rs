//! The report renderers of `cargo-assetota` (no I/O), as a library so the
//! browser tests can render hostile and large reports without a project on
//! disk; the binary uses them from here. Not a public API: nothing here is
//! semver-stable. The formats live in their own crates (`assetota-bundle`,
//! `assetota-firmware`, `assetota-particle`).

pub mod report_html;
