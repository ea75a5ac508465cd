//! The device's codecs. A stored size is the exact length of what these
//! encoders produce, never an estimate.

use crate::zlib_deflate::{Deflater, Params};
use std::fmt;
use std::io::{self, Write};

/// A codec with the parameters that change its output or what the device's
/// decoder must hold in RAM.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Codec {
    /// Stored as is.
    None,
    /// Raw DEFLATE (RFC 1951, no zlib or gzip header), memLevel 8: the bytes
    /// of Node's `zlib.deflateRawSync(data, { level, windowBits })`
    /// (Chromium's zlib, what Particle's cloud measures), from the pure-Rust
    /// [`crate::zlib_deflate`].
    Deflate { level: u32, window_bits: u8 },
    /// An `.xz` stream (LZMA2, CRC64 check) from liblzma, as `xz` writes it.
    Xz { preset: u32, dict_size: u32 },
}

/// Particle's setting: Node's `zlib.deflateRaw` defaults.
pub const PARTICLE_DEFLATE: Codec = Codec::Deflate {
    level: 6,
    window_bits: 15,
};
/// `xz -6`: preset 6, an 8 MiB dictionary.
pub const DEFAULT_XZ: Codec = Codec::Xz {
    preset: 6,
    dict_size: 8 << 20,
};

/// Whether this build can encode [`Codec::Xz`] (the `xz` feature: on by
/// default here, off by default in assetota-build, since liblzma is compiled
/// from C and adds 2 to 3 s to a clean build).
pub const XZ_SUPPORTED: bool = cfg!(feature = "xz");

/// Why an xz platform cannot be measured without the `xz` feature.
#[cfg(not(feature = "xz"))]
const XZ_DISABLED: &str = "this build of assetota-core has no xz encoder (its `xz` feature is off); add `features = [\"xz\"]` to the assetota-build dependency under [build-dependencies] (cargo-assetota always has it)";

/// A codec parameter outside what the encoder or the manifest can express.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CodecError {
    #[error("deflate level {0} is out of range; use 0 to 9")]
    DeflateLevel(u32),
    #[error("deflate window-bits {0} is out of range; use 9 to 15 (15 = 32 KiB window)")]
    WindowBits(u32),
    #[error("xz level {0} is out of range; use 0 to 9")]
    XzPreset(u32),
    #[error("xz dict-size {0} is not a power of two from 4 KiB to 1 GiB")]
    DictSize(u64),
    #[error("unknown codec `{0}`; use deflate, xz or none")]
    Unknown(String),
}

impl Codec {
    /// Builds a codec from its name and optional parameters, checking ranges.
    pub fn from_parts(
        kind: &str,
        level: Option<u32>,
        window_bits: Option<u32>,
        dict_size: Option<u64>,
    ) -> Result<Codec, CodecError> {
        match kind {
            "none" => Ok(Codec::None),
            "deflate" => {
                let level = level.unwrap_or(6);
                if level > 9 {
                    return Err(CodecError::DeflateLevel(level));
                }
                let bits = window_bits.unwrap_or(15);
                if !(9..=15).contains(&bits) {
                    return Err(CodecError::WindowBits(bits));
                }
                Ok(Codec::Deflate {
                    level,
                    window_bits: bits as u8,
                })
            }
            "xz" => {
                let preset = level.unwrap_or(6);
                if preset > 9 {
                    return Err(CodecError::XzPreset(preset));
                }
                let dict = dict_size.unwrap_or(8 << 20);
                if !dict.is_power_of_two() || !(4096..=(1 << 30)).contains(&dict) {
                    return Err(CodecError::DictSize(dict));
                }
                Ok(Codec::Xz {
                    preset,
                    dict_size: dict as u32,
                })
            }
            other => Err(CodecError::Unknown(other.to_owned())),
        }
    }

    /// The short name used in config and JSON: `deflate`, `xz`, `none`.
    pub fn kind(&self) -> &'static str {
        match self {
            Codec::None => "none",
            Codec::Deflate { .. } => "deflate",
            Codec::Xz { .. } => "xz",
        }
    }

    /// What the device needs to know to decode (the manifest's codec field).
    pub fn device_codec(&self) -> assetota::Codec {
        match *self {
            Codec::None => assetota::Codec::None,
            Codec::Deflate { window_bits, .. } => assetota::Codec::Deflate { window_bits },
            Codec::Xz { dict_size, .. } => assetota::Codec::Xz {
                dict_log2: dict_size.trailing_zeros() as u8,
            },
        }
    }

    /// A streaming encoder that writes the encoded bytes to `sink`.
    pub fn encoder<W: Write>(&self, sink: W) -> io::Result<Encoder<W>> {
        Ok(match *self {
            Codec::None => Encoder::None(sink),
            Codec::Deflate { level, window_bits } => Encoder::Deflate {
                stream: Box::new(Deflater::new(Params::node(level, window_bits))),
                sink,
            },
            #[cfg(not(feature = "xz"))]
            Codec::Xz { .. } => {
                return Err(io::Error::new(io::ErrorKind::Unsupported, XZ_DISABLED));
            }
            #[cfg(feature = "xz")]
            Codec::Xz { preset, dict_size } => {
                let mut options =
                    liblzma::stream::LzmaOptions::new_preset(preset).map_err(io::Error::other)?;
                options.dict_size(dict_size);
                let mut filters = liblzma::stream::Filters::new();
                filters.lzma2(&options);
                let stream = liblzma::stream::Stream::new_stream_encoder(
                    &filters,
                    liblzma::stream::Check::Crc64,
                )
                .map_err(io::Error::other)?;
                Encoder::Xz(Box::new(liblzma::write::XzEncoder::new_stream(
                    sink, stream,
                )))
            }
        })
    }

    /// The exact encoded length of `data` (convenience for small inputs).
    pub fn encoded_len(&self, data: &[u8]) -> io::Result<u64> {
        let mut encoder = self.encoder(CountingSink::default())?;
        encoder.write_all(data)?;
        Ok(encoder.finish()?.count)
    }
}

impl fmt::Display for Codec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Codec::None => f.write_str("none"),
            Codec::Deflate { level, window_bits } => {
                write!(f, "deflate (level {level}, window {window_bits})")
            }
            Codec::Xz { preset, dict_size } => {
                write!(f, "xz (level {preset}, dict {} KiB)", dict_size / 1024)
            }
        }
    }
}

/// A running encoder; `finish` flushes the end of the stream and returns the sink.
pub enum Encoder<W: Write> {
    None(W),
    Deflate {
        stream: Box<Deflater>,
        sink: W,
    },
    #[cfg(feature = "xz")]
    Xz(Box<liblzma::write::XzEncoder<W>>),
}

impl<W: Write> Encoder<W> {
    /// Ends the stream and returns the sink.
    pub fn finish(self) -> io::Result<W> {
        match self {
            Encoder::None(sink) => Ok(sink),
            Encoder::Deflate { stream, mut sink } => {
                sink.write_all(&stream.finish())?;
                Ok(sink)
            }
            #[cfg(feature = "xz")]
            Encoder::Xz(encoder) => encoder.finish(),
        }
    }
}

impl<W: Write> Write for Encoder<W> {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        match self {
            Encoder::None(sink) => sink.write(data),
            Encoder::Deflate { stream, sink } => {
                stream.write(data);
                stream.drain_into(sink)?;
                Ok(data.len())
            }
            #[cfg(feature = "xz")]
            Encoder::Xz(encoder) => encoder.write(data),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// A sink that only counts, so sizing never holds the encoded bytes.
#[derive(Debug, Default)]
pub struct CountingSink {
    pub count: u64,
}

impl Write for CountingSink {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        self.count += data.len() as u64;
        Ok(data.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

#[cfg(all(test, not(feature = "xz")))]
mod without_xz {
    #[test]
    fn xz_is_a_clear_error_naming_the_feature() {
        let err = super::DEFAULT_XZ.encoded_len(b"asset").unwrap_err();
        assert_eq!(err.kind(), std::io::ErrorKind::Unsupported);
        assert!(err.to_string().contains("features = [\"xz\"]"), "{err}");
    }
}
