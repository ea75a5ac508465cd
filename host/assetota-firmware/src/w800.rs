//! WinnerMicro W800 firmware images, as the SDK's packer (`tools/wm/bin2img.py`
//! of wm_iot_sdk) writes them and its OTA code (`wm_ota_ops.c`) accepts them.
//!
//! - `PREFIX.img`: a 64-byte header (compress type 0, image type 1) and the
//!   app, padded with 0xFF to a multiple of 4; flashed at the app partition.
//! - `PREFIX_ota.img`: an outer header (compress type xz) and the `.xz`
//!   stream of the **whole** `PREFIX.img` (inner header included): CRC32 check,
//!   one LZMA2 filter at preset 9 | extreme with a 32 KiB dictionary.
//!
//! Header (little endian): magic 0xA0FFFF9F, attributes, run address (header
//! address + 0x400), body length, header address (0x0800_0000 + app offset),
//! update address (0x0800_0000 + app_ota offset), CRC of the padded body,
//! update number, 16-byte NUL-padded version string, bootloader flags,
//! reserved, next-header address, CRC of the 60 bytes before it. Both CRCs are
//! the reflected CRC-32 (0xEDB88320, initial 0xFFFFFFFF) without the final
//! xor, i.e. `crc32(data) ^ 0xFFFFFFFF`.
//!
//! Fit rules (the SDK's): the app at most the app partition − 0x400 (the header
//! slot before the run address); the whole `_ota.img` at most the app_ota
//! partition (the device takes a body of at most app_ota − 0x40).

use std::io::Read;
use std::path::{Path, PathBuf};

pub mod bundle;
pub mod inspect;
pub mod platform;

/// The header's magic number.
pub const MAGIC: u32 = 0xA0FF_FF9F;
/// Bytes of a header.
pub const HEADER_LEN: usize = 64;
/// Bytes reserved before the run address for the header: the app may take
/// at most the app partition minus this.
pub const HEADER_SLOT: u64 = 0x400;
/// Where the flash is mapped: header and update addresses are this plus the
/// partition's offset.
pub const FLASH_BASE: u64 = 0x0800_0000;
/// The longest version string the header holds (16 bytes with the NUL).
pub const MAX_VERSION_LEN: usize = 15;
/// The `.xz` dictionary of the OTA image.
pub const XZ_DICT_SIZE: u32 = 32 * 1024;
/// The liblzma preset of the OTA image: 9 | extreme.
pub const XZ_PRESET: u32 = 9 | liblzma::stream::PRESET_EXTREME;
/// Image type of an application (bits 3:0 of the attributes).
pub const IMAGE_TYPE_APP: u32 = 1;
/// Compress type of an xz body (bits 21:20 of the attributes).
pub const COMPRESS_XZ: u32 = 1;
/// The largest body `read` decompresses from an OTA image (the W800's flash
/// is 2 MiB; anything much larger is not an image of it).
pub const MAX_INNER_LEN: u64 = 64 << 20;

/// The app and OTA partitions of a W800 partition table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Layout {
    /// Offset of the `app` partition on the flash.
    pub app_offset: u64,
    /// Bytes of the `app` partition.
    pub app_size: u64,
    /// Offset of the `app_ota` partition on the flash.
    pub ota_offset: u64,
    /// Bytes of the `app_ota` partition.
    pub ota_size: u64,
}

impl Layout {
    /// The largest app the SDK packs: the app partition minus the header slot.
    pub fn app_limit(&self) -> u64 {
        self.app_size.saturating_sub(HEADER_SLOT)
    }

    /// The largest `_ota.img` the device takes: the whole app_ota partition.
    pub fn ota_limit(&self) -> u64 {
        self.ota_size
    }
}

/// What goes into the headers besides the addresses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Options<'a> {
    /// The version string (at most [`MAX_VERSION_LEN`] bytes, no NUL).
    pub version: &'a str,
    /// The bootloader flags of the inner header (log_level:3,
    /// skip_esc_check:1, skip_upgrade_check:1, skip_integrity_check:1); the
    /// outer header's are 0, as the SDK writes them.
    pub bootloader_flags: u32,
}

/// Why an app cannot be packed, or a file is not a valid W800 image.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum W800Error {
    /// The app has no bytes.
    #[error("`{}` is empty; pass the app binary (`.text + .rodata + .data` of the firmware, e.g. `objcopy -O binary`)", .0.display())]
    EmptyApp(PathBuf),

    /// The version string does not fit the header.
    #[error("the version string `{version}` is {len} bytes; a W800 image header holds at most {max} (16 with the NUL): pass a shorter `--package-version`", max = MAX_VERSION_LEN)]
    VersionTooLong {
        /// The version string given.
        version: String,
        /// Its length in bytes.
        len: usize,
    },

    /// The version string has a NUL byte.
    #[error("the version string `{}` contains a NUL byte, which ends it in the header; pass a version without one", .0.escape_debug())]
    VersionNul(String),

    /// An address or length does not fit the header's 32-bit fields.
    #[error("`{}`: {what} {value:#x} does not fit a 32-bit header field; check the partition table", path.display())]
    TooLarge {
        /// The app or image.
        path: PathBuf,
        /// Which value.
        what: &'static str,
        /// The value.
        value: u64,
    },

    /// liblzma failed.
    #[error("xz compression of `{}` failed: {source}", path.display())]
    Xz {
        /// The app.
        path: PathBuf,
        /// liblzma's error.
        source: std::io::Error,
    },

    /// The file does not start with a W800 header.
    #[error("`{}` is not a W800 image: {detail}", path.display())]
    NotImage {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        detail: String,
    },

    /// A header or body CRC does not match.
    #[error("`{}`: the {what} CRC is {stored:#010x}, the bytes give {computed:#010x}; the image is corrupted, write it again", path.display())]
    BadCrc {
        /// The file.
        path: PathBuf,
        /// "header", "body", "inner header", "inner body".
        what: &'static str,
        /// The CRC in the header.
        stored: u32,
        /// The CRC of the bytes.
        computed: u32,
    },

    /// The body of an OTA image is not a valid `.xz` stream.
    #[error("`{}`: the xz body does not decompress: {detail}", path.display())]
    BadXz {
        /// The file.
        path: PathBuf,
        /// liblzma's error, or the size limit.
        detail: String,
    },
}

/// The CRC of both header fields: reflected CRC-32 without the final xor.
pub fn crc(bytes: &[u8]) -> u32 {
    crc32fast::hash(bytes) ^ 0xFFFF_FFFF
}

/// A decoded 64-byte header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Header {
    /// The attributes word (image type, encryption, signature, compression…).
    pub attr: u32,
    /// The run address.
    pub img_addr: u32,
    /// Bytes of the body (padded to 4).
    pub img_len: u32,
    /// The flash address of the header.
    pub img_header_addr: u32,
    /// The flash address of the OTA partition.
    pub upgrade_img_addr: u32,
    /// The CRC of the body.
    pub org_checksum: u32,
    /// The update number.
    pub upd_no: u32,
    /// The 16 version bytes, NUL padded.
    pub ver: [u8; 16],
    /// The bootloader flags.
    pub flags: u32,
    /// Reserved word.
    pub reserved: u32,
    /// The address of a chained next header, 0 if none.
    pub next: u32,
    /// The CRC of the 60 bytes before it.
    pub hd_checksum: u32,
}

impl Header {
    /// The 64 bytes of the header (its `hd_checksum` as stored).
    pub fn to_bytes(&self) -> [u8; HEADER_LEN] {
        let mut out = [0u8; HEADER_LEN];
        let words = [
            MAGIC,
            self.attr,
            self.img_addr,
            self.img_len,
            self.img_header_addr,
            self.upgrade_img_addr,
            self.org_checksum,
            self.upd_no,
        ];
        for (i, w) in words.iter().enumerate() {
            out[i * 4..i * 4 + 4].copy_from_slice(&w.to_le_bytes());
        }
        out[0x20..0x30].copy_from_slice(&self.ver);
        for (off, w) in [
            (0x30, self.flags),
            (0x34, self.reserved),
            (0x38, self.next),
            (0x3C, self.hd_checksum),
        ] {
            out[off..off + 4].copy_from_slice(&w.to_le_bytes());
        }
        out
    }

    /// Decodes a header; `None` when `bytes` is shorter than one or the
    /// magic is not there.
    pub fn parse(bytes: &[u8]) -> Option<Header> {
        let h = bytes.get(..HEADER_LEN)?;
        let w = |off: usize| u32::from_le_bytes([h[off], h[off + 1], h[off + 2], h[off + 3]]);
        if w(0) != MAGIC {
            return None;
        }
        let mut ver = [0u8; 16];
        ver.copy_from_slice(&h[0x20..0x30]);
        Some(Header {
            attr: w(0x04),
            img_addr: w(0x08),
            img_len: w(0x0C),
            img_header_addr: w(0x10),
            upgrade_img_addr: w(0x14),
            org_checksum: w(0x18),
            upd_no: w(0x1C),
            ver,
            flags: w(0x30),
            reserved: w(0x34),
            next: w(0x38),
            hd_checksum: w(0x3C),
        })
    }

    /// Bits 3:0 of the attributes: 1 = app, 0 bootloader, 2 partition table, 0xE CPFT.
    pub fn image_type(&self) -> u32 {
        self.attr & 0xF
    }

    /// Bits 21:20 of the attributes: 0 = none, 1 = xz.
    pub fn compress_type(&self) -> u32 {
        (self.attr >> 20) & 0x3
    }

    /// Bit 4: the body is encrypted.
    pub fn encrypted(&self) -> bool {
        self.attr & (1 << 4) != 0
    }

    /// Bit 8: a 128-byte signature follows the body.
    pub fn signed(&self) -> bool {
        self.attr & (1 << 8) != 0
    }

    /// Bit 16: a legacy gzip body (the new SDK's device refuses it).
    pub fn gzip(&self) -> bool {
        self.attr & (1 << 16) != 0
    }

    /// The version string, up to its first NUL (lossy UTF-8).
    pub fn version(&self) -> String {
        let end = self.ver.iter().position(|&b| b == 0).unwrap_or(16);
        String::from_utf8_lossy(&self.ver[..end]).into_owned()
    }

    /// The CRC the 60 bytes before `hd_checksum` give.
    pub fn computed_checksum(&self) -> u32 {
        crc(&self.to_bytes()[..HEADER_LEN - 4])
    }
}

/// The two files the SDK's packer writes for an app.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Images {
    /// `PREFIX.img`: header + app padded to 4.
    pub image: Vec<u8>,
    /// `PREFIX_ota.img`: header + xz of the whole `image`, padded to 4.
    pub ota_image: Vec<u8>,
    /// Bytes of the app as given (before padding).
    pub app_len: u64,
}

impl Images {
    /// The verdict against a layout: the app within app − 0x400, the OTA
    /// image within app_ota.
    pub fn fits(&self, layout: &Layout) -> bool {
        self.app_len <= layout.app_limit() && self.ota_image.len() as u64 <= layout.ota_limit()
    }
}

/// Checks a version string against the header's 16 bytes.
pub fn check_version(version: &str) -> Result<(), W800Error> {
    if version.len() > MAX_VERSION_LEN {
        return Err(W800Error::VersionTooLong {
            version: version.to_owned(),
            len: version.len(),
        });
    }
    if version.contains('\0') {
        return Err(W800Error::VersionNul(version.to_owned()));
    }
    Ok(())
}

fn u32_field(path: &Path, what: &'static str, value: u64) -> Result<u32, W800Error> {
    u32::try_from(value).map_err(|_| W800Error::TooLarge {
        path: path.to_owned(),
        what,
        value,
    })
}

/// One image: header with `attr` and the addresses of `layout`, then `body`
/// padded with 0xFF to a multiple of 4.
fn image(
    path: &Path,
    body: &[u8],
    attr: u32,
    layout: &Layout,
    version: &str,
    flags: u32,
) -> Result<Vec<u8>, W800Error> {
    let mut padded = body.to_vec();
    padded.resize(body.len().next_multiple_of(4), 0xFF);
    let header_addr = FLASH_BASE + layout.app_offset;
    let mut ver = [0u8; 16];
    ver[..version.len()].copy_from_slice(version.as_bytes());
    let mut header = Header {
        attr,
        img_addr: u32_field(path, "the run address", header_addr + HEADER_SLOT)?,
        img_len: u32_field(path, "the body length", padded.len() as u64)?,
        img_header_addr: u32_field(path, "the header address", header_addr)?,
        upgrade_img_addr: u32_field(path, "the update address", FLASH_BASE + layout.ota_offset)?,
        org_checksum: crc(&padded),
        upd_no: 0,
        ver,
        flags,
        reserved: 0,
        next: 0,
        hd_checksum: 0,
    };
    header.hd_checksum = header.computed_checksum();
    let mut out = Vec::with_capacity(HEADER_LEN + padded.len());
    out.extend_from_slice(&header.to_bytes());
    out.extend_from_slice(&padded);
    Ok(out)
}

/// The `.xz` stream of the OTA image: CRC32 check, LZMA2 at preset 9e with a
/// 32 KiB dictionary.
pub fn xz(path: &Path, data: &[u8]) -> Result<Vec<u8>, W800Error> {
    let err = |source: std::io::Error| W800Error::Xz {
        path: path.to_owned(),
        source,
    };
    let mut options =
        liblzma::stream::LzmaOptions::new_preset(XZ_PRESET).map_err(|e| err(e.into()))?;
    options.dict_size(XZ_DICT_SIZE);
    let mut filters = liblzma::stream::Filters::new();
    filters.lzma2(&options);
    let stream =
        liblzma::stream::Stream::new_stream_encoder(&filters, liblzma::stream::Check::Crc32)
            .map_err(|e| err(e.into()))?;
    let mut out = Vec::with_capacity(data.len() / 2 + 1024);
    liblzma::read::XzEncoder::new_stream(data, stream)
        .read_to_end(&mut out)
        .map_err(err)?;
    Ok(out)
}

/// Packs `app` (read from `path`, named in errors) as the SDK's packer does:
/// `PREFIX.img` and `PREFIX_ota.img`. An app whose length is not a multiple
/// of 4 is padded with 0xFF, as the packer pads it; an app over the app
/// partition is packed all the same (see [`Images::fits`]).
pub fn pack(
    path: &Path,
    app: &[u8],
    layout: &Layout,
    options: Options<'_>,
) -> Result<Images, W800Error> {
    if app.is_empty() {
        return Err(W800Error::EmptyApp(path.to_owned()));
    }
    check_version(options.version)?;
    let inner = image(
        path,
        app,
        IMAGE_TYPE_APP,
        layout,
        options.version,
        options.bootloader_flags,
    )?;
    let compressed = xz(path, &inner)?;
    let ota = image(
        path,
        &compressed,
        IMAGE_TYPE_APP | (COMPRESS_XZ << 20),
        layout,
        options.version,
        0,
    )?;
    Ok(Images {
        image: inner,
        ota_image: ota,
        app_len: app.len() as u64,
    })
}

/// A W800 image read back, its CRCs checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Image {
    /// The header.
    pub header: Header,
    /// The body (`img_len` bytes after the header).
    pub body: Vec<u8>,
    /// Bytes after the body (a signature when the image is signed).
    pub trailing: u64,
    /// For an xz-compressed image: the image inside it.
    pub inner: Option<Box<Image>>,
}

impl Image {
    /// The app: the body of the innermost image.
    pub fn app(&self) -> &[u8] {
        match &self.inner {
            Some(inner) => inner.app(),
            None => &self.body,
        }
    }
}

/// Whether `bytes` starts with a W800 header's magic.
pub fn is_image(bytes: &[u8]) -> bool {
    bytes.len() >= 4 && bytes[..4] == MAGIC.to_le_bytes()
}

/// Reads a W800 image: the header and its CRC, the body and its CRC, and for
/// an xz-compressed one the image inside it, checked the same way.
pub fn read(path: &Path, bytes: &[u8]) -> Result<Image, W800Error> {
    read_level(path, bytes, false)
}

fn read_level(path: &Path, bytes: &[u8], inner: bool) -> Result<Image, W800Error> {
    let not_image = |detail: String| W800Error::NotImage {
        path: path.to_owned(),
        detail: if inner {
            format!("the image inside the xz body: {detail}")
        } else {
            detail
        },
    };
    if bytes.len() < HEADER_LEN {
        return Err(not_image(format!(
            "{} bytes, shorter than a {HEADER_LEN}-byte header",
            bytes.len()
        )));
    }
    let header = Header::parse(bytes).ok_or_else(|| {
        not_image(format!(
            "it does not start with the magic {MAGIC:#010x} (little endian)"
        ))
    })?;
    let computed = header.computed_checksum();
    if computed != header.hd_checksum {
        return Err(W800Error::BadCrc {
            path: path.to_owned(),
            what: if inner { "inner header" } else { "header" },
            stored: header.hd_checksum,
            computed,
        });
    }
    let len = header.img_len as usize;
    let body = bytes.get(HEADER_LEN..HEADER_LEN + len).ok_or_else(|| {
        not_image(format!(
            "the header gives a body of {len} bytes, the file has {} after the header",
            bytes.len() - HEADER_LEN
        ))
    })?;
    let computed = crc(body);
    if computed != header.org_checksum {
        return Err(W800Error::BadCrc {
            path: path.to_owned(),
            what: if inner { "inner body" } else { "body" },
            stored: header.org_checksum,
            computed,
        });
    }
    let trailing = (bytes.len() - HEADER_LEN - len) as u64;
    let nested = if header.compress_type() == COMPRESS_XZ && !inner {
        let decoded = unxz(path, body)?;
        Some(Box::new(read_level(path, &decoded, true)?))
    } else {
        None
    };
    Ok(Image {
        header,
        body: body.to_vec(),
        trailing,
        inner: nested,
    })
}

/// Decompresses an `.xz` body (padding after the stream is allowed), at
/// most [`MAX_INNER_LEN`] bytes.
fn unxz(path: &Path, body: &[u8]) -> Result<Vec<u8>, W800Error> {
    let bad = |detail: String| W800Error::BadXz {
        path: path.to_owned(),
        detail,
    };
    let stream =
        liblzma::stream::Stream::new_stream_decoder(u64::MAX, 0).map_err(|e| bad(e.to_string()))?;
    let mut out = Vec::new();
    liblzma::read::XzDecoder::new_stream(body, stream)
        .take(MAX_INNER_LEN + 1)
        .read_to_end(&mut out)
        .map_err(|e| bad(e.to_string()))?;
    if out.len() as u64 > MAX_INNER_LEN {
        return Err(bad(format!("it expands past {MAX_INNER_LEN} bytes")));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A W800 SDK's layout, for the tests of this module and its children.
    pub(super) const LAYOUT: Layout = Layout {
        app_offset: 0xF000,
        app_size: 0x122000,
        ota_offset: 0x131000,
        ota_size: 0xAF000,
    };

    #[test]
    fn round_trip_and_limits() {
        let app: Vec<u8> = (0..4097u32).map(|i| (i * 7 % 251) as u8).collect();
        let opts = Options {
            version: "1.2.3",
            bootloader_flags: 3,
        };
        let images = pack(Path::new("a.bin"), &app, &LAYOUT, opts).unwrap();
        assert_eq!(images.image.len(), HEADER_LEN + 4100);
        assert_eq!(&images.image[HEADER_LEN + 4097..], &[0xFF; 3]);
        let outer = read(Path::new("a_ota.img"), &images.ota_image).unwrap();
        assert_eq!(outer.header.compress_type(), COMPRESS_XZ);
        assert_eq!(outer.header.version(), "1.2.3");
        let inner = outer.inner.as_ref().unwrap();
        assert_eq!(inner.header.flags, 3);
        assert_eq!(outer.header.flags, 0);
        assert_eq!(&outer.app()[..4097], &app[..]);
        assert_eq!(LAYOUT.app_limit(), 0x121C00);
        assert!(images.fits(&LAYOUT));
    }

    #[test]
    fn reading_damaged_images_never_panics() {
        let app: Vec<u8> = (0..3000u32).map(|i| (i % 13) as u8).collect();
        let opts = Options {
            version: "9",
            bootloader_flags: 0,
        };
        let ota = pack(Path::new("a.bin"), &app, &LAYOUT, opts)
            .unwrap()
            .ota_image;
        for len in 0..ota.len() {
            assert!(read(Path::new("t"), &ota[..len]).is_err());
        }
        let mut x = 0x1234_5678u32;
        for _ in 0..2000 {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            let mut bad = ota.clone();
            bad[x as usize % ota.len()] ^= (x >> 24) as u8 | 1;
            let _ = read(Path::new("t"), &bad);
        }
    }

    #[test]
    fn refuses_bad_input() {
        let opts = |version| Options {
            version,
            bootloader_flags: 0,
        };
        let e = pack(Path::new("e.bin"), &[], &LAYOUT, opts("1")).unwrap_err();
        assert!(e.to_string().contains("`e.bin` is empty"), "{e}");
        let e = pack(
            Path::new("a.bin"),
            &[0; 4],
            &LAYOUT,
            opts("0123456789abcdef"),
        )
        .unwrap_err();
        assert!(e.to_string().contains("at most 15"), "{e}");
        assert!(
            pack(
                Path::new("a.bin"),
                &[0; 4],
                &LAYOUT,
                opts("0123456789abcde")
            )
            .is_ok()
        );
        let mut images = pack(Path::new("a.bin"), &[1; 64], &LAYOUT, opts("1")).unwrap();
        images.image[HEADER_LEN] ^= 1;
        let e = read(Path::new("a.img"), &images.image).unwrap_err();
        assert!(matches!(e, W800Error::BadCrc { what: "body", .. }), "{e}");
        images.image[0x20] ^= 1;
        let e = read(Path::new("a.img"), &images.image).unwrap_err();
        assert!(matches!(e, W800Error::BadCrc { what: "header", .. }), "{e}");
        assert!(matches!(
            read(Path::new("x"), &[0; 80]).unwrap_err(),
            W800Error::NotImage { .. }
        ));
    }
}
