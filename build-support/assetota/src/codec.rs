//! The codec an asset is stored with, as recorded in its manifest entry.

use core::fmt;

/// How an asset's bytes are compressed on the device.
///
/// The parameter ranges are the ones the v1 format accepts: deflate window bits 8..=15
/// (raw RFC 1951 stream), xz dictionary size 2^12..=2^30 bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Codec {
    /// Stored as is.
    None,
    /// Raw deflate (RFC 1951, no zlib/gzip wrapper) with a `2^window_bits` byte window.
    Deflate {
        /// log2 of the window size, 8..=15.
        window_bits: u8,
    },
    /// xz with a `2^dict_log2` byte dictionary.
    Xz {
        /// log2 of the dictionary size, 12..=30.
        dict_log2: u8,
    },
}

impl Codec {
    /// Codec id of [`Codec::None`] in an entry.
    pub const ID_NONE: u8 = 0;
    /// Codec id of [`Codec::Deflate`] in an entry.
    pub const ID_DEFLATE: u8 = 1;
    /// Codec id of [`Codec::Xz`] in an entry.
    pub const ID_XZ: u8 = 2;

    /// The id byte stored in an entry.
    pub const fn id(self) -> u8 {
        match self {
            Codec::None => Self::ID_NONE,
            Codec::Deflate { .. } => Self::ID_DEFLATE,
            Codec::Xz { .. } => Self::ID_XZ,
        }
    }

    /// The parameter byte stored in an entry (0 for [`Codec::None`]).
    pub const fn param(self) -> u8 {
        match self {
            Codec::None => 0,
            Codec::Deflate { window_bits } => window_bits,
            Codec::Xz { dict_log2 } => dict_log2,
        }
    }

    /// Decode an (id, parameter) pair; `None` for an unknown id or a parameter out of range.
    pub const fn from_parts(id: u8, param: u8) -> Option<Codec> {
        match (id, param) {
            (Self::ID_NONE, 0) => Some(Codec::None),
            (Self::ID_DEFLATE, 8..=15) => Some(Codec::Deflate { window_bits: param }),
            (Self::ID_XZ, 12..=30) => Some(Codec::Xz { dict_log2: param }),
            _ => None,
        }
    }

    /// Whether the parameter is in the range the format allows.
    pub const fn is_valid(self) -> bool {
        Self::from_parts(self.id(), self.param()).is_some()
    }

    /// Short lowercase name: `none`, `deflate` or `xz`.
    pub const fn name(self) -> &'static str {
        match self {
            Codec::None => "none",
            Codec::Deflate { .. } => "deflate",
            Codec::Xz { .. } => "xz",
        }
    }
}

impl fmt::Display for Codec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Codec::None => f.write_str("none"),
            Codec::Deflate { window_bits } => write!(f, "deflate (window {window_bits})"),
            Codec::Xz { dict_log2 } => write!(f, "xz (dictionary 2^{dict_log2})"),
        }
    }
}
