//! Deterministic inputs for the oracle comparisons, the same bytes on every
//! run so that a difference found once is found again.

/// `len` bytes of xorshift64 from `seed` (its high bits, which mix best):
/// incompressible, reproducible input.
pub fn noise(len: usize, mut seed: u64) -> Vec<u8> {
    seed |= 1;
    (0..len)
        .map(|_| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            (seed >> 24) as u8
        })
        .collect()
}
