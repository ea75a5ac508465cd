//! RFC 1951 §3.2.5: length and distance codes and their extra bits.

/// Length codes 257..=285 as 0..=28, for a match length minus 3 (0..=255).
/// Length 258 always uses code 285 (no extra bits), never 284 + 31.
#[inline]
pub(crate) fn length_code(lc: usize) -> usize {
    if lc < 8 {
        lc
    } else if lc == 255 {
        28
    } else {
        let b = usize::BITS as usize - 1 - lc.leading_zeros() as usize;
        4 * (b - 1) + ((lc >> (b - 2)) & 3)
    }
}

/// Extra bits after length code `code` (0..=28).
pub(crate) fn length_extra(code: usize) -> u32 {
    if code < 8 || code == 28 {
        0
    } else {
        (code / 4 - 1) as u32
    }
}

/// The smallest length minus 3 of length code `code`.
pub(crate) fn length_base(code: usize) -> usize {
    if code < 8 {
        code
    } else if code == 28 {
        255
    } else {
        (4 + (code & 3)) << (code / 4 - 1)
    }
}

/// Distance code 0..=29 for a distance minus 1 (0..=32767).
#[inline]
pub(crate) fn dist_code(d: usize) -> usize {
    if d < 4 {
        d
    } else {
        let b = usize::BITS as usize - 1 - d.leading_zeros() as usize;
        2 * b + ((d >> (b - 1)) & 1)
    }
}

pub(crate) fn dist_extra(code: usize) -> u32 {
    if code < 4 { 0 } else { (code / 2 - 1) as u32 }
}

pub(crate) fn dist_base(code: usize) -> usize {
    if code < 4 {
        code
    } else {
        (2 + (code & 1)) << (code / 2 - 1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_cover_rfc1951_ranges() {
        for lc in 0..=255 {
            let c = length_code(lc);
            let (base, extra) = (length_base(c), length_extra(c));
            assert!(lc >= base && lc - base < 1 << extra, "lc {lc} code {c}");
        }
        assert_eq!(length_code(0), 0); // 3 -> 257
        assert_eq!(length_code(8), 8); // 11 -> 265
        assert_eq!(length_code(254), 27); // 257 -> 284
        for d in 0..32768 {
            let c = dist_code(d);
            assert!(c < 30);
            assert!(
                d >= dist_base(c) && d - dist_base(c) < 1 << dist_extra(c),
                "d {d}"
            );
        }
        assert_eq!(dist_code(32767), 29);
    }
}
