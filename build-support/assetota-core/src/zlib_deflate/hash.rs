//! Which hash chains the window's strings: Node's or canonical zlib's.

/// The hash that chains strings in the window.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Hash {
    /// Chromium zlib's (Node's) hash of the next four bytes:
    /// `((u32le * 66521 + 66521) >> 16) & mask`, at least 15 bits.
    Anzac4,
    /// Canonical zlib's rolling hash of the next three bytes.
    Rolling3,
}
