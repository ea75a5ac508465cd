//! One asset as listed in the manifest.

use crate::codec::Codec;
use crate::hex::Hex;
use crate::verify::Verifier;

/// An asset the firmware depends on. Its identity is (name, SHA-256 of the raw bytes).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Asset<'a> {
    pub(crate) name: &'a str,
    pub(crate) size: u64,
    pub(crate) compressed_size: u64,
    pub(crate) stored_size: u64,
    pub(crate) sha256: &'a [u8; 32],
    pub(crate) codec: Codec,
}

impl<'a> Asset<'a> {
    /// Path relative to the assets directory, `/`-separated, UTF-8 NFC.
    pub fn name(&self) -> &'a str {
        self.name
    }

    /// Size of the raw (uncompressed) bytes.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// Exact length of the codec's output.
    pub fn compressed_size(&self) -> u64 {
        self.compressed_size
    }

    /// What the device stores: compressed size plus the platform's container bytes.
    pub fn stored_size(&self) -> u64 {
        self.stored_size
    }

    /// SHA-256 of the raw bytes.
    pub fn sha256(&self) -> &'a [u8; 32] {
        self.sha256
    }

    /// The SHA-256 as a `Display`able lowercase hex string.
    pub fn sha256_hex(&self) -> Hex<'a> {
        Hex(self.sha256)
    }

    /// The codec the asset is stored with.
    pub fn codec(&self) -> Codec {
        self.codec
    }

    /// A verifier for this asset's raw bytes (length and SHA-256).
    pub fn verifier(&self) -> Verifier {
        Verifier::new(self.size, *self.sha256)
    }
}
