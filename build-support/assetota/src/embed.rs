//! The manifest as a static in the firmware, and the macro that places it.

use crate::decode::Manifest;
use crate::error::DecodeError;

/// The manifest bytes as embedded by [`manifest!`](crate::manifest). `N` is the length
/// of the manifest file written by the build script.
#[repr(transparent)]
pub struct Embedded<const N: usize>([u8; N]);

impl<const N: usize> Embedded<N> {
    /// Wraps the manifest bytes (used by the macro).
    pub const fn new(bytes: [u8; N]) -> Self {
        Embedded(bytes)
    }

    /// For [`manifest!`](crate::manifest): copies a slice of exactly `N` bytes. Only
    /// meant for static initialisers, where a length mismatch is a compile error.
    #[doc(hidden)]
    #[allow(clippy::panic)] // const evaluation only; the macro passes N = bytes.len()
    pub const fn __from_slice(bytes: &[u8]) -> Self {
        match bytes.first_chunk::<N>() {
            Some(array) if bytes.len() == N => Embedded(*array),
            _ => panic!("assetota: manifest length does not match the static's size"),
        }
    }

    /// The embedded bytes, read through an opaque pointer.
    pub fn bytes(&'static self) -> &'static [u8] {
        // With LTO, plain reads of an immutable static are folded into immediates at
        // compile time, so the firmware would use the bytes it was compiled with even
        // if post-link tooling rewrote or re-read the section; `cargo assetota` checks
        // the section, so the firmware must really read it. `black_box` on the fat
        // reference hides both the address and the length from the optimizer.
        core::hint::black_box(self.0.as_slice())
    }

    /// Parses the embedded manifest.
    pub fn manifest(&'static self) -> Result<Manifest<'static>, DecodeError> {
        Manifest::parse(self.bytes())
    }
}

/// Embeds the manifest written by the build script into the firmware.
///
/// `assetota::manifest!()` defines `static ASSETOTA: assetota::Embedded<N>` in the
/// calling module; `assetota::manifest!(NAME)` (or `manifest!(pub NAME)`) picks the
/// name and visibility. The static is `#[used]`, placed in the `.assetota` section
/// (`__DATA,__assetota` on macOS) and exported as `__ASSETOTA_MANIFEST`, which is how
/// `cargo assetota` finds it in the ELF; invoke the macro once per firmware (a second
/// invocation is a duplicate-symbol link error).
///
/// **The crate's `build.rs` must call `assetota_build::embed()`**, which writes
/// `$OUT_DIR/assetota.manifest`. Without a build script the error is "environment
/// variable `OUT_DIR` not defined"; with one that does not call `embed()` it is
/// "couldn't read `…/assetota.manifest`".
///
/// ```ignore
/// assetota::manifest!();
///
/// fn list() {
///     let manifest = ASSETOTA.manifest().expect("manifest embedded by build.rs");
///     for asset in manifest.iter() { /* asset.name(), asset.size(), ... */ }
/// }
/// ```
#[macro_export]
macro_rules! manifest {
    () => {
        $crate::manifest!(ASSETOTA);
    };
    ($vis:vis $name:ident) => {
        // One `include_bytes!` (one error if the file is missing), its length as `N`.
        #[doc(hidden)]
        const __ASSETOTA_MANIFEST_BYTES: &[u8] = ::core::include_bytes!(::core::concat!(
            ::core::env!(
                "OUT_DIR",
                "assetota::manifest!() needs a build.rs that calls assetota_build::embed()"
            ),
            "/assetota.manifest"
        ));
        #[used]
        #[cfg_attr(not(target_os = "macos"), unsafe(link_section = ".assetota"))]
        #[cfg_attr(target_os = "macos", unsafe(link_section = "__DATA,__assetota"))]
        #[unsafe(export_name = "__ASSETOTA_MANIFEST")]
        $vis static $name: $crate::Embedded<{ __ASSETOTA_MANIFEST_BYTES.len() }> =
            $crate::Embedded::__from_slice(__ASSETOTA_MANIFEST_BYTES);
    };
}
