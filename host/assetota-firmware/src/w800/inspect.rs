//! What `cargo assetota inspect FILE.img` reports about a W800 image read
//! back: its header fields (and those of the image inside an `_ota.img`)
//! as JSON, and the same as text.

use assetota_core::bytesize::Bytes;
use serde::Serialize;

use super::{Header, Image};

/// One header's fields, named as the report names them.
#[derive(Debug, Serialize)]
pub struct HeaderJson {
    /// 0 bootloader, 1 app, 2 partition table, 0xE CPFT.
    pub image_type: u32,
    /// 0 none, 1 xz.
    pub compress_type: u32,
    /// `compress_type` in words.
    pub compression: &'static str,
    /// The encryption attribute bit.
    pub encrypted: bool,
    /// The signature attribute bit.
    pub signed: bool,
    /// The whole attribute word.
    pub attr: u32,
    /// Where the body runs.
    pub run_address: u32,
    /// Where the header is flashed.
    pub header_address: u32,
    /// Where an update is staged.
    pub upgrade_address: u32,
    /// Bytes of the body.
    pub body_size: u32,
    /// CRC of the body.
    pub body_crc: u32,
    /// CRC of the header's first 60 bytes.
    pub header_crc: u32,
    /// The update number.
    pub upd_no: u32,
    /// The version string.
    pub version: String,
    /// The bootloader flags.
    pub bootloader_flags: u32,
    /// The next header's address.
    pub next: u32,
}

impl HeaderJson {
    /// The report of `h`.
    pub fn of(h: &Header) -> HeaderJson {
        HeaderJson {
            image_type: h.image_type(),
            compress_type: h.compress_type(),
            compression: match h.compress_type() {
                0 => "none",
                1 => "xz",
                _ => "unknown",
            },
            encrypted: h.encrypted(),
            signed: h.signed(),
            attr: h.attr,
            run_address: h.img_addr,
            header_address: h.img_header_addr,
            upgrade_address: h.upgrade_img_addr,
            body_size: h.img_len,
            body_crc: h.org_checksum,
            header_crc: h.hd_checksum,
            upd_no: h.upd_no,
            version: h.version(),
            bootloader_flags: h.flags,
            next: h.next,
        }
    }

    /// Two lines of the text report, under `label`.
    fn describe(&self, label: &str) -> String {
        format!(
            "  {label}: type {} ({}), compression {}, version `{}`, bootloader flags {:#x}\n    header at {:#x}, runs at {:#x}, update at {:#x}; body {} (CRC {:#010x} ok), header CRC {:#010x} ok{}{}\n",
            self.image_type,
            match self.image_type {
                0 => "bootloader",
                1 => "app",
                2 => "partition table",
                0xE => "CPFT",
                _ => "unknown",
            },
            self.compression,
            self.version,
            self.bootloader_flags,
            self.header_address,
            self.run_address,
            self.upgrade_address,
            Bytes(u64::from(self.body_size)),
            self.body_crc,
            self.header_crc,
            if self.encrypted { ", encrypted" } else { "" },
            if self.signed { ", signed" } else { "" },
        )
    }
}

/// The JSON of `inspect --json` for a W800 image.
#[derive(Debug, Serialize)]
pub struct InspectJson {
    /// The file, as displayed.
    pub file: String,
    /// `w800-image` or `w800-ota-image`.
    pub kind: &'static str,
    /// Bytes of the file.
    pub size: u64,
    /// The outer header.
    pub header: HeaderJson,
    /// Always true: an image whose CRCs do not match is not read.
    pub crc_ok: bool,
    /// The header of the image inside an `_ota.img`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub inner: Option<HeaderJson>,
    /// Bytes of the app (padded to 4).
    pub app_size: u64,
    /// Its SHA-256, in lowercase hex.
    pub app_sha256: String,
}

impl InspectJson {
    /// The report of `image`, read from the `size` bytes of `file` (as displayed).
    pub fn of(file: String, size: u64, image: &Image) -> InspectJson {
        let app = image.app();
        let sha256: [u8; 32] = <sha2::Sha256 as sha2::Digest>::digest(app).into();
        InspectJson {
            file,
            kind: if image.inner.is_some() {
                "w800-ota-image"
            } else {
                "w800-image"
            },
            size,
            header: HeaderJson::of(&image.header),
            crc_ok: true,
            inner: image.inner.as_ref().map(|i| HeaderJson::of(&i.header)),
            app_size: app.len() as u64,
            app_sha256: assetota::Hex(&sha256).to_string(),
        }
    }

    /// The text report: the file, each header, the app.
    pub fn render(&self) -> String {
        let mut out = format!(
            "{}: W800 {} image, {}\n",
            self.file,
            if self.inner.is_some() {
                "OTA"
            } else {
                "firmware"
            },
            Bytes(self.size)
        );
        out.push_str(&self.header.describe("header"));
        if let Some(inner) = &self.inner {
            out.push_str(&inner.describe("inner image (xz-decompressed)"));
        }
        out.push_str(&format!(
            "  app: {} (padded to 4), sha256 {}\n",
            Bytes(self.app_size),
            self.app_sha256
        ));
        out
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;
    use crate::w800::tests::LAYOUT;
    use crate::w800::{Options, pack, read};

    #[test]
    fn ota_image_reports_both_headers() {
        let options = Options {
            version: "v1",
            bootloader_flags: 0,
        };
        let images = pack(Path::new("app.bin"), &[0xAB; 10], &LAYOUT, options).unwrap();
        let image = read(Path::new("app_ota.img"), &images.ota_image).unwrap();
        let report = InspectJson::of("app_ota.img".into(), images.ota_image.len() as u64, &image);
        assert_eq!(report.kind, "w800-ota-image");
        assert_eq!(report.header.compression, "xz");
        assert_eq!(report.inner.as_ref().map(|h| h.compression), Some("none"));
        assert_eq!(report.app_size, 12);
        let text = report.render();
        assert!(text.starts_with("app_ota.img: W800 OTA image, "), "{text}");
        assert!(
            text.contains(
                "  inner image (xz-decompressed): type 1 (app), compression none, version `v1`"
            ),
            "{text}"
        );
        assert!(
            text.ends_with(&format!(
                "  app: 12 B (padded to 4), sha256 {}\n",
                report.app_sha256
            )),
            "{text}"
        );
    }
}
