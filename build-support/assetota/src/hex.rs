//! Lowercase hex rendering of a SHA-256 without allocation.

use core::fmt;

/// Displays a 32-byte digest as 64 lowercase hex characters. Honors width/alignment.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Hex<'a>(pub &'a [u8; 32]);

impl fmt::Display for Hex<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        const DIGITS: &[u8; 16] = b"0123456789abcdef";
        let mut buf = [0u8; 64];
        for (pair, byte) in buf.chunks_exact_mut(2).zip(self.0.iter()) {
            if let [hi, lo] = pair {
                *hi = DIGITS.get(usize::from(byte >> 4)).copied().unwrap_or(b'?');
                *lo = DIGITS.get(usize::from(byte & 0xf)).copied().unwrap_or(b'?');
            }
        }
        f.pad(core::str::from_utf8(&buf).map_err(|_| fmt::Error)?)
    }
}
