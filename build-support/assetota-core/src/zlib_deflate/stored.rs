//! Level 0: stored blocks, cut where zlib's `deflate_stored` cuts them when
//! it is called as Node calls it (the whole input, `Z_FINISH`, a fresh
//! output buffer of `chunk` bytes each call until one is left unfilled).
//! Where the cuts fall depends on the output room, so this replays the
//! calls: blocks go straight from the input to the output when a worthy
//! block fits, otherwise through the window and the pending buffer.

const MAX_STORED: usize = 65535;
/// A stored block's header: the 3 header bits padded to a byte, LEN, NLEN.
const HEADER: usize = 5;

struct Stored<'a> {
    input: &'a [u8],
    next_in: usize,
    out: Vec<u8>,
    avail_out: usize,
    pending: Vec<u8>,
    pending_at: usize,
    window: Vec<u8>,
    w_size: usize,
    strstart: usize,
    block_start: usize,
    pending_buf_size: usize,
}

enum State {
    NeedMore,
    FinishStarted,
    FinishDone,
}

impl Stored<'_> {
    fn avail_in(&self) -> usize {
        self.input.len() - self.next_in
    }

    fn flush_pending(&mut self) {
        let n = (self.pending.len() - self.pending_at).min(self.avail_out);
        self.out
            .extend_from_slice(&self.pending[self.pending_at..self.pending_at + n]);
        self.pending_at += n;
        self.avail_out -= n;
        if self.pending_at == self.pending.len() {
            self.pending.clear();
            self.pending_at = 0;
        }
    }

    fn header(buf: &mut Vec<u8>, len: usize, last: bool) {
        let len = len as u16;
        buf.push(u8::from(last));
        buf.extend_from_slice(&len.to_le_bytes());
        buf.extend_from_slice(&(!len).to_le_bytes());
    }

    fn deflate_stored(&mut self) -> State {
        let w_size = self.w_size;
        let min_block = (self.pending_buf_size - HEADER).min(w_size);
        let used_before = self.avail_in();
        let mut last = false;
        // Blocks copied directly from the input to the output.
        loop {
            if self.avail_out < HEADER {
                break;
            }
            let have = self.avail_out - HEADER;
            let left = self.strstart - self.block_start;
            let len = MAX_STORED.min(left + self.avail_in()).min(have);
            if len < min_block && len != left + self.avail_in() {
                break;
            }
            last = len == left + self.avail_in();
            Self::header(&mut self.pending, len, last);
            self.flush_pending();
            let from_window = left.min(len);
            self.out
                .extend_from_slice(&self.window[self.block_start..self.block_start + from_window]);
            self.block_start += from_window;
            let direct = len - from_window;
            self.out
                .extend_from_slice(&self.input[self.next_in..self.next_in + direct]);
            self.next_in += direct;
            self.avail_out -= len;
            if last {
                break;
            }
        }
        // Keep the window's history up to date with what was copied.
        let used = used_before - self.avail_in();
        if used > 0 {
            if used >= w_size {
                self.window[..w_size]
                    .copy_from_slice(&self.input[self.next_in - w_size..self.next_in]);
                self.strstart = w_size;
            } else {
                if 2 * w_size - self.strstart <= used {
                    self.strstart -= w_size;
                    self.window.copy_within(w_size..w_size + self.strstart, 0);
                }
                self.window[self.strstart..self.strstart + used]
                    .copy_from_slice(&self.input[self.next_in - used..self.next_in]);
                self.strstart += used;
            }
            self.block_start = self.strstart;
        }
        if last {
            return State::FinishDone;
        }
        // Fill the window with what input is left.
        let mut have = 2 * w_size - self.strstart;
        if self.avail_in() > have && self.block_start >= w_size {
            self.block_start -= w_size;
            self.strstart -= w_size;
            self.window.copy_within(w_size..w_size + self.strstart, 0);
            have += w_size;
        }
        let have = have.min(self.avail_in());
        if have > 0 {
            self.window[self.strstart..self.strstart + have]
                .copy_from_slice(&self.input[self.next_in..self.next_in + have]);
            self.next_in += have;
            self.strstart += have;
        }
        // A block through the pending buffer, when worthy or final.
        let have = (self.pending_buf_size - HEADER).min(MAX_STORED);
        let min_block = have.min(w_size);
        let left = self.strstart - self.block_start;
        if left >= min_block || (self.avail_in() == 0 && left <= have) {
            let len = left.min(have);
            last = self.avail_in() == 0 && len == left;
            Self::header(&mut self.pending, len, last);
            self.pending
                .extend_from_slice(&self.window[self.block_start..self.block_start + len]);
            self.block_start += len;
            self.flush_pending();
        }
        if last {
            State::FinishStarted
        } else {
            State::NeedMore
        }
    }
}

pub(crate) fn deflate_stored(
    input: &[u8],
    window_bits: u8,
    lit_bufsize: usize,
    chunk: usize,
) -> Vec<u8> {
    let w_size = 1usize << window_bits;
    let mut s = Stored {
        input,
        next_in: 0,
        out: Vec::with_capacity(input.len() + input.len() / 16_000 * HEADER + HEADER),
        avail_out: 0,
        pending: Vec::new(),
        pending_at: 0,
        window: vec![0; 2 * w_size],
        w_size,
        strstart: 0,
        block_start: 0,
        pending_buf_size: lit_bufsize * 4,
    };
    let mut finishing = false;
    loop {
        // One deflate(strm, Z_FINISH) call with a fresh output buffer.
        s.avail_out = chunk;
        if s.pending_at < s.pending.len() {
            s.flush_pending();
            if s.avail_out == 0 {
                continue;
            }
        }
        if !finishing {
            match s.deflate_stored() {
                State::NeedMore => {}
                State::FinishStarted | State::FinishDone => finishing = true,
            }
        }
        if s.avail_out != 0 {
            break;
        }
    }
    debug_assert!(s.pending.is_empty() && s.next_in == input.len());
    s.out
}
