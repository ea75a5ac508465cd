//! zlib's two match strategies: greedy with a cap on insertions (levels
//! 1 to 3) and lazy evaluation (4 to 9), with its table of parameters.

use super::trees::Blocks;
use super::window::{MIN_LOOKAHEAD, MIN_MATCH, NIL, Window};

/// A lazy match of length 3 further back than this is not worth it.
const TOO_FAR: usize = 4096;

/// Per level: (good_length, max_lazy, nice_length, max_chain, lazy).
/// good_length: a previous match this long searches a quarter of the chain;
/// max_lazy: no lazy search after a match this long (for levels 1 to 3,
/// the longest match whose strings are all inserted into the hash chains);
/// nice_length: stop searching at a match this long.
pub(crate) const CONFIG: [(usize, usize, usize, usize, bool); 10] = [
    (0, 0, 0, 0, false), // level 0: stored only
    (4, 4, 8, 4, false),
    (4, 5, 16, 8, false),
    (4, 6, 32, 32, false),
    (4, 4, 16, 16, true),
    (8, 16, 32, 32, true),
    (8, 16, 128, 128, true),
    (8, 32, 128, 256, true),
    (32, 128, 258, 1024, true),
    (32, 258, 258, 4096, true),
];

/// Ends the current block: its bytes are still in the window unless the
/// block started before the last slide.
fn flush(w: &mut Window, b: &mut Blocks, last: bool) {
    let len = (w.strstart as isize - w.block_start) as usize;
    let data = (w.block_start >= 0).then(|| {
        let start = w.block_start as usize;
        &w.buf[start..start + len]
    });
    b.flush(data, len, last);
    w.block_start = w.strstart as isize;
}

/// A running compression: the window, the block being built, and where the
/// parse stands, so it can stop when the input queued runs short and go on
/// when more comes, with the same result as with the whole input at once.
pub(crate) struct Lz {
    pub(crate) w: Window,
    pub(crate) b: Blocks,
    /// For lazy parsing, no lazy search after a match this long; for greedy
    /// parsing, the longest match whose strings all go into the hash chains.
    max_lazy: usize,
    slow: bool,
    match_length: usize,
    match_available: bool,
    done: bool,
}

impl Lz {
    pub(crate) fn new(w: Window, b: Blocks, max_lazy: usize, slow: bool) -> Self {
        Lz {
            w,
            b,
            max_lazy,
            slow,
            match_length: MIN_MATCH - 1,
            match_available: false,
            done: false,
        }
    }

    /// Compresses what is queued; to the end of the stream once the input
    /// has ended.
    pub(crate) fn run(&mut self) {
        if self.done {
            return;
        }
        let finished = if self.slow {
            self.deflate_slow()
        } else {
            self.deflate_fast()
        };
        if finished {
            self.done = true;
        }
    }

    /// Greedy matching. Returns true at the end of the stream.
    fn deflate_fast(&mut self) -> bool {
        let (w, b) = (&mut self.w, &mut self.b);
        let max_insert = self.max_lazy;
        let mut match_length = self.match_length;
        loop {
            if w.lookahead < MIN_LOOKAHEAD {
                if w.needs_input() {
                    self.match_length = match_length;
                    return false;
                }
                w.fill();
                if w.lookahead == 0 {
                    break;
                }
            }
            let mut hash_head = NIL;
            if w.lookahead >= MIN_MATCH {
                hash_head = w.insert(w.strstart);
            }
            if hash_head != NIL && w.strstart - hash_head <= w.max_dist() {
                match_length = w.longest_match(hash_head);
            }
            let full;
            if match_length >= MIN_MATCH {
                full = b.matched(w.strstart - w.match_start, match_length);
                w.lookahead -= match_length;
                if match_length <= max_insert && w.lookahead >= MIN_MATCH {
                    for _ in 1..match_length {
                        w.strstart += 1;
                        w.insert(w.strstart);
                    }
                    w.strstart += 1;
                } else {
                    w.strstart += match_length;
                }
                match_length = 0;
            } else {
                full = b.literal(w.buf[w.strstart]);
                w.lookahead -= 1;
                w.strstart += 1;
            }
            if full {
                flush(w, b, false);
            }
        }
        flush(w, b, true);
        true
    }

    /// Lazy matching: a match is only taken when the next position does
    /// not start a longer one. Returns true at the end of the stream.
    fn deflate_slow(&mut self) -> bool {
        let (w, b) = (&mut self.w, &mut self.b);
        let max_lazy = self.max_lazy;
        let mut match_length = self.match_length;
        let mut match_available = self.match_available;
        loop {
            if w.lookahead < MIN_LOOKAHEAD {
                if w.needs_input() {
                    self.match_length = match_length;
                    self.match_available = match_available;
                    return false;
                }
                w.fill();
                if w.lookahead == 0 {
                    break;
                }
            }
            let mut hash_head = NIL;
            if w.lookahead >= MIN_MATCH {
                hash_head = w.insert(w.strstart);
            }
            w.prev_length = match_length;
            let prev_match = w.match_start;
            match_length = MIN_MATCH - 1;
            if hash_head != NIL
                && w.prev_length < max_lazy
                && w.strstart - hash_head <= w.max_dist()
            {
                match_length = w.longest_match(hash_head);
                if match_length == MIN_MATCH && w.strstart.wrapping_sub(w.match_start) > TOO_FAR {
                    match_length = MIN_MATCH - 1;
                }
            }
            if w.prev_length >= MIN_MATCH && match_length <= w.prev_length {
                let max_insert = w.strstart + w.lookahead - MIN_MATCH;
                let full = b.matched(w.strstart - 1 - prev_match, w.prev_length);
                w.lookahead -= w.prev_length - 1;
                for _ in 0..w.prev_length - 2 {
                    w.strstart += 1;
                    if w.strstart <= max_insert {
                        w.insert(w.strstart);
                    }
                }
                match_available = false;
                match_length = MIN_MATCH - 1;
                w.strstart += 1;
                if full {
                    flush(w, b, false);
                }
            } else if match_available {
                if b.literal(w.buf[w.strstart - 1]) {
                    flush(w, b, false);
                }
                w.strstart += 1;
                w.lookahead -= 1;
            } else {
                match_available = true;
                w.strstart += 1;
                w.lookahead -= 1;
            }
        }
        if match_available {
            b.literal(w.buf[w.strstart - 1]);
        }
        flush(w, b, true);
        true
    }
}
