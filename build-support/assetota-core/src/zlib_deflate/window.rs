//! The sliding window, the hash chains and the match finder.
//!
//! The window is two window sizes long and is refilled and slid exactly as
//! zlib does it, because what lies past the end of the input (zeros, or
//! bytes left over from before the last slide) reaches the output: the
//! four-byte hash reads one byte past the lookahead, and the match finder
//! compares past it before clamping to the lookahead.

use super::hash::Hash;

pub(crate) const MIN_MATCH: usize = 3;
pub(crate) const MAX_MATCH: usize = 258;
/// Lookahead that guarantees a full match plus the hash bytes after it.
pub(crate) const MIN_LOOKAHEAD: usize = MAX_MATCH + MIN_MATCH + 1;
/// Chromium zlib's window padding (zeroed): the four-byte hash at the very
/// end of a full window reads one byte past it.
const PADDING: usize = 8;
/// Position 0 of the window is never a match candidate: it marks "none".
pub(crate) const NIL: usize = 0;

pub(crate) struct Window {
    /// Input not yet read into the window starts at `next_in`.
    input: Vec<u8>,
    next_in: usize,
    /// No more input will come.
    pub(crate) input_end: bool,
    pub(crate) buf: Vec<u8>,
    w_size: usize,
    w_mask: usize,
    window_size: usize,
    head: Vec<u16>,
    prev: Vec<u16>,
    hash_bits: u32,
    hash: Hash,
    pub(crate) strstart: usize,
    /// Start of the current block; negative once it has slid out.
    pub(crate) block_start: isize,
    pub(crate) lookahead: usize,
    pub(crate) match_start: usize,
    pub(crate) prev_length: usize,
    pub(crate) max_chain: usize,
    pub(crate) good_match: usize,
    pub(crate) nice_match: usize,
}

impl Window {
    pub(crate) fn new(window_bits: u8, hash_bits: u32, hash: Hash) -> Self {
        let w_size = 1usize << window_bits;
        Window {
            input: Vec::new(),
            next_in: 0,
            input_end: false,
            buf: vec![0; 2 * w_size + PADDING],
            w_size,
            w_mask: w_size - 1,
            window_size: 2 * w_size,
            head: vec![0; 1 << hash_bits],
            prev: vec![0; w_size],
            hash_bits,
            hash,
            strstart: 0,
            block_start: 0,
            lookahead: 0,
            match_start: 0,
            prev_length: MIN_MATCH - 1,
            max_chain: 0,
            good_match: 0,
            nice_match: 0,
        }
    }

    /// Queues input for the window.
    pub(crate) fn push(&mut self, data: &[u8]) {
        if self.next_in > 0 && self.next_in >= self.input.len() / 2 {
            self.input.drain(..self.next_in);
            self.next_in = 0;
        }
        self.input.extend_from_slice(data);
    }

    /// Whether [`fill`](Self::fill) could now read less than it would with
    /// the whole input at hand: it reads at most two window sizes.
    pub(crate) fn needs_input(&self) -> bool {
        !self.input_end && self.input.len() - self.next_in < self.window_size
    }

    /// The farthest back a match may start.
    #[inline]
    pub(crate) fn max_dist(&self) -> usize {
        self.w_size - MIN_LOOKAHEAD
    }

    /// Reads input until the lookahead is MIN_LOOKAHEAD or the input ends,
    /// sliding the upper half down when the match position nears the end.
    pub(crate) fn fill(&mut self) {
        loop {
            let mut more = self.window_size - self.lookahead - self.strstart;
            if self.strstart >= self.w_size + self.max_dist() {
                let w = self.w_size;
                self.buf.copy_within(w..w + (w - more), 0);
                self.match_start = self.match_start.wrapping_sub(w);
                self.strstart -= w;
                self.block_start -= w as isize;
                for p in self.head.iter_mut().chain(self.prev.iter_mut()) {
                    *p = if usize::from(*p) >= w {
                        *p - w as u16
                    } else {
                        0
                    };
                }
                more += w;
            }
            if self.next_in == self.input.len() {
                break;
            }
            let n = more.min(self.input.len() - self.next_in);
            let at = self.strstart + self.lookahead;
            self.buf[at..at + n].copy_from_slice(&self.input[self.next_in..self.next_in + n]);
            self.next_in += n;
            self.lookahead += n;
            if self.lookahead >= MIN_LOOKAHEAD || self.next_in == self.input.len() {
                break;
            }
        }
    }

    #[inline]
    fn hash_at(&self, s: usize) -> usize {
        let mask = (1u32 << self.hash_bits) - 1;
        let w = &self.buf;
        (match self.hash {
            Hash::Anzac4 => {
                let v = u32::from_le_bytes([w[s], w[s + 1], w[s + 2], w[s + 3]]);
                (v.wrapping_mul(66521).wrapping_add(66521) >> 16) & mask
            }
            Hash::Rolling3 => {
                // zlib's rolling hash, which only ever depends on three bytes.
                let shift = self.hash_bits.div_ceil(MIN_MATCH as u32);
                ((((u32::from(w[s]) << shift) ^ u32::from(w[s + 1])) << shift)
                    ^ u32::from(w[s + 2]))
                    & mask
            }
        }) as usize
    }

    /// Inserts the string at `s` into its hash chain; returns the previous
    /// head of that chain (NIL when empty).
    #[inline]
    pub(crate) fn insert(&mut self, s: usize) -> usize {
        let h = self.hash_at(s);
        let head = self.head[h];
        self.prev[s & self.w_mask] = head;
        self.head[h] = s as u16;
        usize::from(head)
    }

    /// The longest match at `strstart` along the chain from `cur`, longer
    /// than `prev_length`; sets `match_start` when it finds one. At most
    /// the lookahead.
    pub(crate) fn longest_match(&mut self, mut cur: usize) -> usize {
        let mut chain = self.max_chain;
        let scan = self.strstart;
        let mut best_len = self.prev_length;
        let mut nice = self.nice_match;
        let limit = if self.strstart > self.max_dist() {
            self.strstart - self.max_dist()
        } else {
            NIL
        };
        if self.prev_length >= self.good_match {
            chain >>= 2;
        }
        if nice > self.lookahead {
            nice = self.lookahead;
        }
        let w = &self.buf;
        let s = &w[scan..scan + MAX_MATCH + 1];
        loop {
            let m = &w[cur..cur + MAX_MATCH + 1];
            // The cheap rejections first, as zlib orders them; byte 2 is
            // checked too, since a four-byte hash does not imply it.
            if m[best_len] == s[best_len]
                && m[best_len - 1] == s[best_len - 1]
                && m[0] == s[0]
                && m[1] == s[1]
                && m[2] == s[2]
            {
                let len = 3 + common_prefix(&s[3..MAX_MATCH], &m[3..MAX_MATCH]);
                if len > best_len {
                    self.match_start = cur;
                    best_len = len;
                    if len >= nice {
                        break;
                    }
                }
            }
            cur = usize::from(self.prev[cur & self.w_mask]);
            if cur <= limit {
                break;
            }
            chain -= 1;
            if chain == 0 {
                break;
            }
        }
        best_len.min(self.lookahead)
    }
}

/// How many leading bytes `a` and `b` share.
#[inline]
fn common_prefix(a: &[u8], b: &[u8]) -> usize {
    let n = a.len().min(b.len());
    let mut i = 0;
    while i + 8 <= n {
        let x = u64::from_le_bytes(a[i..i + 8].try_into().unwrap())
            ^ u64::from_le_bytes(b[i..i + 8].try_into().unwrap());
        if x != 0 {
            return i + (x.trailing_zeros() / 8) as usize;
        }
        i += 8;
    }
    while i < n && a[i] == b[i] {
        i += 1;
    }
    i
}
