//! Particle interoperability (docs/particle-formats.md): `bundle`, `inspect`
//! and `verify` for Particle module binaries and bundles, over the formats of
//! the `assetota-particle` crate.

pub mod cli;
