//! Reading an asset back: the payload streamed out of its extent and
//! decoded through a caller-provided window.

use assetota::{Codec, Verifier};
use embedded_storage::nor_flash::NorFlash;

use crate::error::Error;
use crate::io::Partition;
use crate::store::{Extent, Store};

/// Compressed bytes read from flash per refill.
pub const INPUT_LEN: usize = 256;

/// RAM a reader or an install needs to decode: the decoder's state, a
/// window of `WIN` bytes (at least `2^window_bits` of the assets' deflate
/// streams, a power of two; at least the xz dictionary), and an input buffer.
/// About 10.5 KB + `WIN` with deflate. Put it on the stack or in a static.
#[cfg_attr(not(any(feature = "deflate", feature = "xz")), allow(dead_code))]
pub struct Scratch<const WIN: usize> {
    #[cfg(feature = "deflate")]
    inflate: miniz_oxide::inflate::core::DecompressorOxide,
    window: [u8; WIN],
    input: [u8; INPUT_LEN],
}

impl<const WIN: usize> Default for Scratch<WIN> {
    fn default() -> Self {
        Self::new()
    }
}

impl<const WIN: usize> Scratch<WIN> {
    /// A zeroed scratch.
    pub fn new() -> Self {
        Scratch {
            #[cfg(feature = "deflate")]
            inflate: miniz_oxide::inflate::core::DecompressorOxide::new(),
            window: [0; WIN],
            input: [0; INPUT_LEN],
        }
    }
}

impl<const WIN: usize> core::fmt::Debug for Scratch<WIN> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Scratch")
            .field("window", &WIN)
            .finish_non_exhaustive()
    }
}

/// Whether this build decodes `codec`.
pub(crate) fn check_codec<E>(codec: Codec) -> Result<(), Error<E>> {
    match codec {
        Codec::None => Ok(()),
        #[cfg(feature = "deflate")]
        Codec::Deflate { .. } => Ok(()),
        #[cfg(feature = "xz")]
        Codec::Xz { .. } => Ok(()),
        #[allow(unreachable_patterns)]
        other => Err(Error::UnsupportedCodec(other)),
    }
}

/// Window bytes `codec` needs.
pub(crate) fn window_needed(codec: Codec) -> usize {
    match codec {
        Codec::None => 0,
        Codec::Deflate { window_bits } => 1usize
            .checked_shl(u32::from(window_bits))
            .unwrap_or(usize::MAX),
        Codec::Xz { dict_log2 } => 1usize
            .checked_shl(u32::from(dict_log2))
            .unwrap_or(usize::MAX),
    }
}

/// The payload of an extent as a byte stream, skipping heads and DONE words.
pub(crate) struct PayloadSource {
    pub extent: Extent,
    pub pos: u64,
}

impl PayloadSource {
    pub fn remaining(&self) -> u64 {
        self.extent.head.payload_len.saturating_sub(self.pos)
    }

    /// Reads up to `out.len()` payload bytes; returns how many.
    pub fn read<F: NorFlash>(
        &mut self,
        part: &mut Partition<F>,
        out: &mut [u8],
    ) -> Result<usize, Error<F::Error>> {
        let layout = part.layout;
        let mut done = 0usize;
        while done < out.len() && self.remaining() > 0 {
            let (index, offset) = layout.locate(self.pos);
            let in_block = layout.done_offset().saturating_sub(offset) as u64;
            let n = (out.len().saturating_sub(done) as u64)
                .min(in_block)
                .min(self.remaining()) as usize;
            if n == 0 {
                break;
            }
            let block = self.extent.first.saturating_add(index as u32);
            let dest = out.get_mut(done..done.saturating_add(n)).unwrap_or(&mut []);
            part.read(block, offset, dest)?;
            done = done.saturating_add(n);
            self.pos = self.pos.saturating_add(n as u64);
        }
        Ok(done)
    }
}

// The xz state is large by nature (xz4rust's decoder); a reader holds one decoder.
#[allow(clippy::large_enum_variant)]
enum Decoder<'s> {
    Raw,
    #[cfg(feature = "deflate")]
    Inflate(Inflate<'s>),
    #[cfg(feature = "xz")]
    Xz(XzState<'s>),
    #[allow(dead_code)]
    Unused(core::marker::PhantomData<&'s ()>),
}

#[cfg(feature = "deflate")]
struct Inflate<'s> {
    core: &'s mut miniz_oxide::inflate::core::DecompressorOxide,
    window: &'s mut [u8],
    input: &'s mut [u8; INPUT_LEN],
    in_start: usize,
    in_end: usize,
    /// Next write position in the window.
    win_pos: usize,
    /// Decoded bytes in the window not yet handed out.
    avail_start: usize,
    avail_len: usize,
    done: bool,
}

#[cfg(feature = "xz")]
struct XzState<'s> {
    decoder: xz4rust::XzDecoder<'s>,
    input: &'s mut [u8; INPUT_LEN],
    in_start: usize,
    in_end: usize,
    done: bool,
}

/// Streams an asset's raw bytes out of the store.
///
/// Bytes come out in order; [`seek`](Self::seek) forward decodes and drops,
/// backward rewinds to the start. A pass that reads from the start to the
/// end checks the size and SHA-256 at the end and returns an error, not
/// end-of-file, if they do not match.
pub struct Reader<'s, F: NorFlash> {
    part: &'s mut Partition<F>,
    source: PayloadSource,
    decoder: Decoder<'s>,
    /// Raw bytes produced so far (the read position).
    pos: u64,
    verifier: Option<Verifier>,
}

impl<F: NorFlash> core::fmt::Debug for Reader<'_, F> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Reader")
            .field("size", &self.size())
            .field("position", &self.pos)
            .finish_non_exhaustive()
    }
}

impl<F: NorFlash, const MAX: usize> Store<F, MAX> {
    /// Opens a committed asset for reading, decoding through `scratch`.
    /// A window too small for the asset's stream is refused here, before any byte.
    pub fn open<'s, const WIN: usize>(
        &'s mut self,
        sha256: &[u8; 32],
        scratch: &'s mut Scratch<WIN>,
    ) -> Result<Reader<'s, F>, Error<F::Error>> {
        let i = self.find_committed(sha256).ok_or(Error::NotStored)?;
        let extent = self.live().get(i).copied().ok_or(Error::NotStored)?;
        Reader::new(&mut self.part, extent, Some(scratch))
    }

    /// Opens an asset stored uncompressed, with no scratch at all; an asset
    /// that needs a window is refused with [`Error::WindowTooSmall`].
    pub fn open_raw(&mut self, sha256: &[u8; 32]) -> Result<Reader<'_, F>, Error<F::Error>> {
        let i = self.find_committed(sha256).ok_or(Error::NotStored)?;
        let extent = self.live().get(i).copied().ok_or(Error::NotStored)?;
        Reader::new::<0>(&mut self.part, extent, None)
    }
}

/// Decodes an extent from flash to its end and checks size and SHA-256.
pub(crate) fn verify_extent<F: NorFlash, const MAX: usize, const WIN: usize>(
    store: &mut Store<F, MAX>,
    extent: &Extent,
    scratch: &mut Scratch<WIN>,
) -> Result<(), Error<F::Error>> {
    let mut reader = Reader::new(&mut store.part, *extent, Some(scratch))?;
    let mut buf = [0u8; 128];
    while reader.read(&mut buf)? > 0 {}
    Ok(())
}

impl<'s, F: NorFlash> Reader<'s, F> {
    fn new<const WIN: usize>(
        part: &'s mut Partition<F>,
        extent: Extent,
        scratch: Option<&'s mut Scratch<WIN>>,
    ) -> Result<Self, Error<F::Error>> {
        let codec = extent.head.codec;
        check_codec::<F::Error>(codec)?;
        let need = window_needed(codec);
        let decoder = match (codec, scratch) {
            (Codec::None, _) => Decoder::Raw,
            (_, None) => return Err(Error::WindowTooSmall { need, have: 0 }),
            (_, Some(_)) if WIN < need => return Err(Error::WindowTooSmall { need, have: WIN }),
            #[cfg(feature = "deflate")]
            (Codec::Deflate { .. }, Some(s)) => {
                if !WIN.is_power_of_two() {
                    return Err(Error::WindowNotPowerOfTwo(WIN));
                }
                s.inflate.init();
                Decoder::Inflate(Inflate {
                    core: &mut s.inflate,
                    window: &mut s.window,
                    input: &mut s.input,
                    in_start: 0,
                    in_end: 0,
                    win_pos: 0,
                    avail_start: 0,
                    avail_len: 0,
                    done: false,
                })
            }
            #[cfg(feature = "xz")]
            (Codec::Xz { .. }, Some(s)) => Decoder::Xz(XzState {
                decoder: xz4rust::XzDecoder::with_fixed_size_dict(&mut s.window),
                input: &mut s.input,
                in_start: 0,
                in_end: 0,
                done: false,
            }),
            #[allow(unreachable_patterns)]
            (other, _) => return Err(Error::UnsupportedCodec(other)),
        };
        Ok(Reader {
            part,
            source: PayloadSource { extent, pos: 0 },
            decoder,
            pos: 0,
            verifier: Some(Verifier::new(extent.head.size, extent.head.sha256)),
        })
    }

    /// The asset's raw size.
    pub fn size(&self) -> u64 {
        self.source.extent.head.size
    }

    /// The read position in raw bytes.
    pub fn position(&self) -> u64 {
        self.pos
    }

    /// Reads raw bytes into `buf`; `Ok(0)` only at the end of a verified pass
    /// (or at the end after a seek skipped the check), or for an empty `buf`.
    pub fn read(&mut self, buf: &mut [u8]) -> Result<usize, Error<F::Error>> {
        if buf.is_empty() {
            return Ok(0);
        }
        let n = self.produce(buf)?;
        let out = buf.get(..n).unwrap_or(&[]);
        if let Some(v) = &mut self.verifier {
            v.update(out);
            if v.is_overlong() {
                return Err(Error::Verify(assetota::VerifyError::Length {
                    expected: self.source.extent.head.size,
                    actual: v.received(),
                }));
            }
        }
        self.pos = self.pos.saturating_add(n as u64);
        if n == 0
            && let Some(v) = self.verifier.take()
        {
            v.finish().map_err(Error::Verify)?;
        }
        Ok(n)
    }

    /// Fills `buf` with the next decoded bytes; 0 at the end of the stream.
    fn produce(&mut self, buf: &mut [u8]) -> Result<usize, Error<F::Error>> {
        match &mut self.decoder {
            Decoder::Raw => self.source.read(self.part, buf),
            #[cfg(feature = "deflate")]
            Decoder::Inflate(state) => state.produce(self.part, &mut self.source, buf),
            #[cfg(feature = "xz")]
            Decoder::Xz(state) => state.produce(self.part, &mut self.source, buf),
            Decoder::Unused(_) => Ok(0),
        }
    }

    /// Moves to raw position `pos`: forward by decoding (or, uncompressed,
    /// directly), backward by rewinding and decoding again. Past the end
    /// stops at the end.
    pub fn seek(&mut self, pos: u64) -> Result<(), Error<F::Error>> {
        // Back to 0 always rewinds: a new pass, checked again from its start.
        if pos < self.pos || pos == 0 {
            self.rewind()?;
        }
        if let Decoder::Raw = self.decoder
            && pos > self.pos
            && self.size() == self.source.extent.head.payload_len
        {
            let to = pos.min(self.size());
            if to > self.pos {
                self.source.pos = to;
                self.pos = to;
                // The bytes in between were not hashed: this pass is not verified.
                self.verifier = None;
            }
            return Ok(());
        }
        let mut sink = [0u8; 64];
        while self.pos < pos {
            let want = (pos.saturating_sub(self.pos)).min(sink.len() as u64) as usize;
            if self.read(sink.get_mut(..want).unwrap_or(&mut []))? == 0 {
                break;
            }
        }
        Ok(())
    }

    /// Back to the first byte.
    pub fn rewind(&mut self) -> Result<(), Error<F::Error>> {
        self.source.pos = 0;
        self.pos = 0;
        self.verifier = Some(Verifier::new(self.size(), self.source.extent.head.sha256));
        match &mut self.decoder {
            Decoder::Raw | Decoder::Unused(_) => {}
            #[cfg(feature = "deflate")]
            Decoder::Inflate(s) => {
                s.core.init();
                s.in_start = 0;
                s.in_end = 0;
                s.win_pos = 0;
                s.avail_start = 0;
                s.avail_len = 0;
                s.done = false;
            }
            #[cfg(feature = "xz")]
            Decoder::Xz(s) => {
                s.decoder.reset();
                s.in_start = 0;
                s.in_end = 0;
                s.done = false;
            }
        }
        Ok(())
    }
}

#[cfg(feature = "deflate")]
impl Inflate<'_> {
    fn produce<F: NorFlash>(
        &mut self,
        part: &mut Partition<F>,
        source: &mut PayloadSource,
        buf: &mut [u8],
    ) -> Result<usize, Error<F::Error>> {
        use miniz_oxide::inflate::TINFLStatus;
        use miniz_oxide::inflate::core::inflate_flags::TINFL_FLAG_HAS_MORE_INPUT;
        loop {
            if self.avail_len > 0 {
                let n = self.avail_len.min(buf.len());
                let src = self
                    .window
                    .get(self.avail_start..self.avail_start.saturating_add(n))
                    .unwrap_or(&[]);
                if let Some(d) = buf.get_mut(..src.len()) {
                    d.copy_from_slice(src);
                }
                self.avail_start = self.avail_start.saturating_add(src.len());
                self.avail_len = self.avail_len.saturating_sub(src.len());
                return Ok(src.len());
            }
            if self.done {
                return Ok(0);
            }
            if self.in_start >= self.in_end && source.remaining() > 0 {
                self.in_end = source.read(part, self.input.as_mut_slice())?;
                self.in_start = 0;
            }
            let more = source.remaining() > 0;
            let flags = if more { TINFL_FLAG_HAS_MORE_INPUT } else { 0 };
            let input = self.input.get(self.in_start..self.in_end).unwrap_or(&[]);
            let (status, consumed, written) = miniz_oxide::inflate::core::decompress(
                self.core,
                input,
                self.window,
                self.win_pos,
                flags,
            );
            self.in_start = self.in_start.saturating_add(consumed);
            self.avail_start = self.win_pos;
            self.avail_len = written;
            let mask = self.window.len().saturating_sub(1);
            self.win_pos = self.win_pos.saturating_add(written) & mask;
            match status {
                TINFLStatus::Done => {
                    // Trailing bytes after the stream: not what the build wrote.
                    if self.in_start < self.in_end || source.remaining() > 0 {
                        return Err(Error::Corrupt);
                    }
                    self.done = true;
                }
                TINFLStatus::NeedsMoreInput if more => {}
                TINFLStatus::HasMoreOutput => {}
                _ => return Err(Error::Corrupt),
            }
            if consumed == 0 && written == 0 && !self.done && self.in_start < self.in_end {
                return Err(Error::Corrupt);
            }
        }
    }
}

#[cfg(feature = "xz")]
impl XzState<'_> {
    fn produce<F: NorFlash>(
        &mut self,
        part: &mut Partition<F>,
        source: &mut PayloadSource,
        buf: &mut [u8],
    ) -> Result<usize, Error<F::Error>> {
        loop {
            if self.done {
                return Ok(0);
            }
            if self.in_start >= self.in_end && source.remaining() > 0 {
                self.in_end = source.read(part, self.input.as_mut_slice())?;
                self.in_start = 0;
            }
            let input = self.input.get(self.in_start..self.in_end).unwrap_or(&[]);
            let result = self
                .decoder
                .decode(input, buf)
                .map_err(|_| Error::Corrupt)?;
            self.in_start = self.in_start.saturating_add(result.input_consumed());
            let produced = result.output_produced();
            if result.is_end_of_stream() {
                if self.in_start < self.in_end || source.remaining() > 0 {
                    return Err(Error::Corrupt);
                }
                self.done = true;
            } else if !result.made_progress()
                && self.in_start >= self.in_end
                && source.remaining() == 0
            {
                // Input exhausted before the stream ended.
                return Err(Error::Corrupt);
            }
            if produced > 0 {
                return Ok(produced);
            }
        }
    }
}
