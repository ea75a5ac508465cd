//! The Particle side of `bundle`, `inspect` and `verify`: the commands call
//! in here first, and `None` means "not a Particle file".

pub use super::bundle::bundle;
pub use super::inspect::inspect;
pub use super::verify::verify;
