//! What can go wrong, with enough in each variant to say what to do about it.

use core::fmt;

use assetota::{Codec, VerifyError};

use crate::layout::GeometryError;

/// An error of the store, generic over the flash driver's error.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Error<E> {
    /// The flash driver failed.
    Flash(E),
    /// The flash or partition geometry cannot hold a store.
    Geometry(GeometryError),
    /// The partition holds a store written for another geometry (a factory
    /// image made for another flash, say): it is not mounted.
    ForeignLayout {
        /// Erase block size the store on flash was written with.
        block_size: u32,
        /// Word size the store on flash was written with.
        word: u32,
        /// Erase block size of this mount.
        expected_block_size: u32,
        /// Word size of this mount.
        expected_word: u32,
    },
    /// The store on flash has a head with a valid CRC that this version
    /// cannot read (a newer layout version, or a codec or field it does not
    /// know): it is not mounted, so nothing of it is taken for free space.
    UnsupportedLayout(u16),
    /// No run of free blocks is long enough for the asset.
    NoSpace {
        /// Bytes the asset needs, in whole blocks.
        need: u64,
        /// Free bytes in the partition.
        free: u64,
        /// Longest run of free bytes.
        largest_run: u64,
    },
    /// More extents on flash (or to install) than the store's table holds.
    TableFull {
        /// The table's capacity (the `MAX` parameter of [`Store`](crate::Store)).
        max: usize,
    },
    /// The asset's codec was left out of this build (feature `deflate` or `xz`).
    UnsupportedCodec(Codec),
    /// The caller's window is too small for the asset's stream; nothing was read.
    WindowTooSmall {
        /// Bytes of window the stream needs.
        need: usize,
        /// Bytes of window supplied.
        have: usize,
    },
    /// A deflate window must be a power of two.
    WindowNotPowerOfTwo(usize),
    /// No committed asset with this SHA-256 is stored.
    NotStored,
    /// Payload written at another offset than the next one expected.
    OutOfOrder {
        /// The offset the installer expects next.
        expected: u64,
        /// The offset given.
        got: u64,
    },
    /// More payload than the manifest's compressed size; nothing was written.
    TooLong {
        /// The payload length the manifest gives.
        expected: u64,
        /// The length the write would have reached.
        got: u64,
    },
    /// `finish` before the whole payload was written; the install can resume.
    Short {
        /// The payload length the manifest gives.
        expected: u64,
        /// Payload bytes received.
        received: u64,
    },
    /// The stored payload decodes to other bytes than the manifest's.
    Verify(VerifyError),
    /// The stored payload is not a valid stream of its codec.
    Corrupt,
    /// A codec parameter outside what the format allows (deflate window bits
    /// 8 to 15, xz dictionary 2^12 to 2^30); nothing was written.
    InvalidCodec(Codec),
    /// A flash error interrupted this install; what it wrote may be torn.
    /// Call `install` again: it resumes after the last complete block.
    Interrupted,
}

impl<E> From<GeometryError> for Error<E> {
    fn from(e: GeometryError) -> Self {
        Error::Geometry(e)
    }
}

impl<E: fmt::Debug> fmt::Display for Error<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Flash(e) => write!(f, "flash error: {e:?}"),
            Error::Geometry(e) => e.fmt(f),
            Error::ForeignLayout {
                block_size,
                word,
                expected_block_size,
                expected_word,
            } => write!(
                f,
                "the partition holds a store for {block_size}-byte blocks and {word}-byte words, not this flash's {expected_block_size} and {expected_word}; write an image made for this flash's geometry, or erase the partition"
            ),
            Error::UnsupportedLayout(v) => write!(
                f,
                "the store on flash has a head this assetota-store cannot read (layout v{v}; this version reads v{}): update assetota-store, or erase the partition",
                crate::layout::LAYOUT_VERSION
            ),
            Error::NoSpace {
                need,
                free,
                largest_run,
            } => write!(
                f,
                "no room for the asset: it needs {need} B of contiguous blocks, {free} B are free and the largest free run is {largest_run} B; run gc() to drop assets no firmware needs, or compact() to join free space"
            ),
            Error::TableFull { max } => write!(
                f,
                "the store tracks at most {max} stored assets; mount it as Store<_, N> with a larger N"
            ),
            Error::UnsupportedCodec(c) => write!(
                f,
                "asset is stored as {c}, which this build of assetota-store cannot decode; enable its `{}` feature",
                c.name()
            ),
            Error::WindowTooSmall { need, have } => write!(
                f,
                "the asset's stream needs a {need}-byte window, the scratch has {have}; use Scratch::<{need}> or larger"
            ),
            Error::WindowNotPowerOfTwo(n) => {
                write!(f, "a deflate window must be a power of two, not {n} bytes")
            }
            Error::NotStored => f.write_str("no committed asset with this SHA-256 in the store"),
            Error::OutOfOrder { expected, got } => write!(
                f,
                "payload written at offset {got}, expected {expected}; resume from resume_offset()"
            ),
            Error::TooLong { expected, got } => write!(
                f,
                "payload would reach {got} bytes, longer than the manifest's {expected}; the source does not match the firmware's manifest"
            ),
            Error::Short { expected, received } => write!(
                f,
                "only {received} of {expected} payload bytes received; send the rest from resume_offset()"
            ),
            Error::Verify(e) => write!(f, "stored payload failed verification: {e}"),
            Error::Corrupt => f.write_str(
                "stored payload is not a valid stream of its codec (wrong or corrupted source)",
            ),
            Error::InvalidCodec(c) => write!(
                f,
                "codec {c} has a parameter the store format cannot hold (deflate window bits 8 to 15, xz dictionary 2^12 to 2^30); the asset id does not come from a valid manifest"
            ),
            Error::Interrupted => f.write_str(
                "a flash error interrupted this install; call install() again to resume after the last complete block",
            ),
        }
    }
}

impl<E: fmt::Debug> core::error::Error for Error<E> {}
