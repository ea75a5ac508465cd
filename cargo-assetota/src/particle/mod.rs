//! Particle interoperability: `bundle`, `inspect` and `verify` for Particle
//! module binaries and bundles, over the `assetota-particle` crate (formats,
//! classification, platforms, measuring, verification, JSON models). Here
//! only the flow of each command and its output; each command calls in here
//! first, and `None` means "not a Particle file".

pub mod bundle;
pub mod inspect;
pub mod verify;
