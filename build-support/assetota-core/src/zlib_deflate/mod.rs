//! A raw DEFLATE encoder (RFC 1951) in pure Rust whose output is the same,
//! byte for byte, as zlib's `deflate()` given the whole input at once with
//! `Z_FINISH`: Node's `zlib.deflateRawSync` (Chromium's zlib, the four-byte
//! hash [`Hash::Anzac4`]) or canonical zlib (the three-byte rolling hash,
//! [`Hash::Rolling3`]), for levels 1 to 9, window bits 9 to 15 and memLevel
//! 1 to 9; level 0 writes stored blocks cut where zlib cuts them when
//! called as Node calls it (16 KiB of output room per call).
//!
//! It re-implements zlib's algorithm, not its code: the same window and
//! hash chains, the same match search (chain limits, good and nice lengths),
//! greedy (levels 1 to 3) or lazy (4 to 9) parsing, blocks ended when the
//! symbol buffer is full, trees built with the same heap order, and the
//! same choice of stored, static or dynamic block. Any difference in any of
//! these changes the bytes, so the tests compare with Node itself.

mod bits;
mod hash;
mod lz;
mod stored;
mod tables;
mod trees;
mod window;

pub use hash::Hash;

/// The output buffer size Node gives each `deflate()` call
/// (`zlib.Z_DEFAULT_CHUNK`); only where level 0 cuts its blocks depends on it.
const NODE_CHUNK: usize = 16 * 1024;

/// What determines the output.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Params {
    /// 0 to 9.
    pub level: u32,
    /// 9 to 15 (8 is taken as 9, as zlib does for raw deflate).
    pub window_bits: u8,
    /// 1 to 9 (zlib's default is 8).
    pub mem_level: u8,
    pub hash: Hash,
}

impl Params {
    /// Node's `zlib.deflateRawSync(data, { level, windowBits })`.
    pub const fn node(level: u32, window_bits: u8) -> Params {
        Params {
            level,
            window_bits,
            mem_level: 8,
            hash: Hash::Anzac4,
        }
    }

    /// Canonical zlib's `deflateInit2(level, Z_DEFLATED, -window_bits, 8)`.
    pub const fn canonical(level: u32, window_bits: u8) -> Params {
        Params {
            hash: Hash::Rolling3,
            ..Params::node(level, window_bits)
        }
    }
}

/// The raw DEFLATE stream of `data`.
///
/// # Panics
/// When a parameter is out of range.
pub fn deflate_raw(data: &[u8], params: Params) -> Vec<u8> {
    let mut d = Deflater::new(params);
    d.write(data);
    d.finish()
}

/// A streaming encoder: input may come in pieces of any size, and the
/// output is the same as [`deflate_raw`] of the whole input. It holds the
/// window and at most the last piece written plus two window sizes of input
/// (all of it at level 0, whose block cuts depend on the whole input).
pub struct Deflater {
    inner: Inner,
}

enum Inner {
    Lz(Box<lz::Lz>),
    Stored {
        data: Vec<u8>,
        window_bits: u8,
        lit_bufsize: usize,
    },
}

impl Deflater {
    /// # Panics
    /// When a parameter is out of range.
    pub fn new(params: Params) -> Deflater {
        assert!(params.level <= 9, "deflate level {}", params.level);
        assert!(
            (8..=15).contains(&params.window_bits),
            "window bits {}",
            params.window_bits
        );
        assert!(
            (1..=9).contains(&params.mem_level),
            "memLevel {}",
            params.mem_level
        );
        let window_bits = params.window_bits.max(9);
        let lit_bufsize = 1usize << (params.mem_level + 6);
        let mut hash_bits = u32::from(params.mem_level) + 7;
        if params.hash == Hash::Anzac4 {
            // Chromium's zlib never hashes into fewer than 15 bits.
            hash_bits = hash_bits.max(15);
        }
        if params.level == 0 {
            return Deflater {
                inner: Inner::Stored {
                    data: Vec::new(),
                    window_bits,
                    lit_bufsize,
                },
            };
        }
        let (good, lazy, nice, chain, slow) = lz::CONFIG[params.level as usize];
        let mut w = window::Window::new(window_bits, hash_bits, params.hash);
        w.good_match = good;
        w.nice_match = nice;
        w.max_chain = chain;
        let b = trees::Blocks::new(lit_bufsize, 64 * 1024);
        Deflater {
            inner: Inner::Lz(Box::new(lz::Lz::new(w, b, lazy, slow))),
        }
    }

    /// Compresses `data` as far as it can without the input that follows.
    pub fn write(&mut self, data: &[u8]) {
        match &mut self.inner {
            Inner::Lz(lz) => {
                lz.w.push(data);
                lz.run();
            }
            Inner::Stored { data: all, .. } => all.extend_from_slice(data),
        }
    }

    /// Moves the output completed so far to `sink`.
    pub fn drain_into<W: std::io::Write>(&mut self, sink: &mut W) -> std::io::Result<()> {
        if let Inner::Lz(lz) = &mut self.inner {
            sink.write_all(&lz.b.out.out)?;
            lz.b.out.out.clear();
        }
        Ok(())
    }

    /// Ends the stream; returns the output not yet drained.
    pub fn finish(self) -> Vec<u8> {
        match self.inner {
            Inner::Lz(mut lz) => {
                lz.w.input_end = true;
                lz.run();
                lz.b.out.finish()
            }
            Inner::Stored {
                data,
                window_bits,
                lit_bufsize,
            } => stored::deflate_stored(&data, window_bits, lit_bufsize, NODE_CHUNK),
        }
    }
}
