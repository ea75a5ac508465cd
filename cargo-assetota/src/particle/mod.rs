//! Particle interoperability: `bundle`, `inspect` and `verify` for Particle
//! module binaries and bundles, over the `assetota-particle` crate (formats,
//! classification, platforms, measuring, verification, JSON models). Here
//! only the flow of each command and its output.

mod bundle;
pub mod cli;
mod inspect;
mod output;
mod verify;
