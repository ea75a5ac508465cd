//! Checking received asset bytes against the manifest.

use core::fmt;

use sha2::{Digest, Sha256};

use crate::hex::Hex;

/// Incremental check of an asset's raw bytes: feed chunks with [`update`](Self::update)
/// as they arrive, then [`finish`](Self::finish) checks the total length and SHA-256.
#[derive(Clone)]
pub struct Verifier {
    hasher: Sha256,
    expected_size: u64,
    expected_sha256: [u8; 32],
    received: u64,
}

impl Verifier {
    /// A verifier expecting `size` bytes hashing to `sha256`.
    pub fn new(size: u64, sha256: [u8; 32]) -> Self {
        Verifier {
            hasher: Sha256::new(),
            expected_size: size,
            expected_sha256: sha256,
            received: 0,
        }
    }

    /// Feeds the next chunk of raw bytes.
    pub fn update(&mut self, chunk: &[u8]) {
        let n = u64::try_from(chunk.len()).unwrap_or(u64::MAX);
        self.received = self.received.saturating_add(n);
        self.hasher.update(chunk);
    }

    /// Bytes fed so far.
    pub fn received(&self) -> u64 {
        self.received
    }

    /// Whether more bytes than the asset's size were fed; lets a receiver abort early.
    pub fn is_overlong(&self) -> bool {
        self.received > self.expected_size
    }

    /// Checks the length, then the SHA-256.
    pub fn finish(self) -> Result<(), VerifyError> {
        if self.received != self.expected_size {
            return Err(VerifyError::Length {
                expected: self.expected_size,
                actual: self.received,
            });
        }
        let actual: [u8; 32] = self.hasher.finalize().into();
        if actual != self.expected_sha256 {
            return Err(VerifyError::Hash {
                expected: self.expected_sha256,
                actual,
            });
        }
        Ok(())
    }
}

impl fmt::Debug for Verifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Verifier")
            .field("expected_size", &self.expected_size)
            .field(
                "expected_sha256",
                &format_args!("{}", Hex(&self.expected_sha256)),
            )
            .field("received", &self.received)
            .finish_non_exhaustive()
    }
}

/// Received bytes do not match the manifest.
#[allow(missing_docs)] // the fields are named by what they hold; the variants are documented
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum VerifyError {
    /// The number of bytes received differs from the asset's size.
    Length { expected: u64, actual: u64 },
    /// The SHA-256 of the bytes received differs from the manifest's.
    Hash {
        expected: [u8; 32],
        actual: [u8; 32],
    },
}

impl fmt::Display for VerifyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            VerifyError::Length { expected, actual } => {
                write!(
                    f,
                    "asset length mismatch: expected {expected} bytes, received {actual}"
                )
            }
            VerifyError::Hash { expected, actual } => write!(
                f,
                "asset SHA-256 mismatch: expected {}, received {}",
                Hex(expected),
                Hex(actual)
            ),
        }
    }
}

impl core::error::Error for VerifyError {}
