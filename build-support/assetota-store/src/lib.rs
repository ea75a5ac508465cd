//! The device half of cargo-assetota: a power-fail-safe asset store on NOR flash.
#![no_std]
#![deny(unsafe_code)]
#![cfg_attr(
    not(test),
    deny(
        clippy::indexing_slicing,
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::panic,
        clippy::arithmetic_side_effects
    )
)]
#![warn(missing_docs)]

pub mod layout;

pub use layout::{GeometryError, Layout};
