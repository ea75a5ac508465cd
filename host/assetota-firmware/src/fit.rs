//! Whether a W800 app fits its platform's partitions, with the SDK's exact
//! numbers; the model `size --json` and `bundle` print as `firmware`.

use std::path::Path;

use assetota_core::budget::percent;
use assetota_core::bytesize::Bytes;
use assetota_core::platform::Platform;
use serde::Serialize;

use crate::w800::{self, W800Error};
use crate::{ELF_MAGIC, ElfFile};

/// The W800 firmware check of a partition-table platform, with the SDK's
/// exact numbers: the app against the app partition − 0x400, the whole
/// `_ota.img` the SDK's packer makes of it against the OTA partition.
#[derive(Debug, Clone, Serialize)]
pub struct FirmwareCheck {
    /// Bytes of the app.
    pub image_size: u64,
    /// Bytes of the app partition.
    pub app_partition: u64,
    /// The largest app the SDK packs: `app_partition` − 0x400.
    pub app_limit: u64,
    /// Bytes of the `.xz` stream inside the OTA image (kept for scripts that
    /// read it; earlier releases put an estimate here).
    pub xz_size: u64,
    /// Bytes of the whole `_ota.img` (64-byte header + xz stream).
    pub ota_image_size: u64,
    /// Bytes of the OTA partition.
    pub ota_partition: u64,
    /// Both within their limits.
    pub fits: bool,
}

/// Fraction of a limit at which the check warns.
const NEAR_PERCENT: u64 = 90;

impl FirmwareCheck {
    /// The check of `image` on `platform` (`None` when the platform has no app
    /// and OTA partitions): the OTA image is packed as the SDK packs it, with
    /// the version string `version` (cut to the header's 15 bytes as the
    /// packer cuts it) and bootloader flags 0, which do not change its size.
    pub fn run(
        platform: &Platform,
        image: &[u8],
        version: &str,
    ) -> Result<Option<FirmwareCheck>, W800Error> {
        let Some((app, ota)) = platform.firmware_partitions else {
            return Ok(None);
        };
        let (app_offset, ota_offset) = platform.firmware_offsets.unwrap_or((0, 0));
        let layout = w800::Layout {
            app_offset,
            app_size: app,
            ota_offset,
            ota_size: ota,
        };
        let mut cut = version.len().min(w800::MAX_VERSION_LEN);
        while !version.is_char_boundary(cut) {
            cut -= 1;
        }
        let version = version[..cut].replace('\0', "");
        let images = w800::pack(
            Path::new("firmware"),
            image,
            &layout,
            w800::Options {
                version: &version,
                bootloader_flags: 0,
            },
        )?;
        Ok(Some(FirmwareCheck::of(&images, &layout)))
    }

    /// The check of images already packed.
    pub fn of(images: &w800::Images, layout: &w800::Layout) -> FirmwareCheck {
        let ota_image_size = images.ota_image.len() as u64;
        FirmwareCheck {
            image_size: images.app_len,
            app_partition: layout.app_size,
            app_limit: layout.app_limit(),
            xz_size: ota_image_size - w800::HEADER_LEN as u64,
            ota_image_size,
            ota_partition: layout.ota_limit(),
            fits: images.fits(layout),
        }
    }

    /// The limits exceeded, one sentence each (empty when it fits).
    pub fn problems(&self) -> Vec<String> {
        let mut out = Vec::new();
        if self.image_size > self.app_limit {
            out.push(format!(
                "the app is {}, over the {} it may take of the {} app partition (the SDK keeps 0x400 for the header) by {}",
                Bytes(self.image_size),
                Bytes(self.app_limit),
                Bytes(self.app_partition),
                Bytes(self.image_size - self.app_limit)
            ));
        }
        if self.ota_image_size > self.ota_partition {
            out.push(format!(
                "the OTA image (_ota.img) is {}, over the OTA partition of {} by {}",
                Bytes(self.ota_image_size),
                Bytes(self.ota_partition),
                Bytes(self.ota_image_size - self.ota_partition)
            ));
        }
        out
    }

    /// The limits at 90 % or more and not over: a `warning:` each.
    pub fn warnings(&self) -> Vec<String> {
        let near = |used: u64, limit: u64| used <= limit && used * 100 >= limit * NEAR_PERCENT;
        let mut out = Vec::new();
        if near(self.image_size, self.app_limit) {
            out.push(format!(
                "the app is {} of the {} it may take of the app partition ({}%), near the limit",
                Bytes(self.image_size),
                Bytes(self.app_limit),
                percent(self.image_size, self.app_limit)
            ));
        }
        if near(self.ota_image_size, self.ota_partition) {
            out.push(format!(
                "the OTA image (_ota.img) is {} of the {} OTA partition ({}%), near the limit",
                Bytes(self.ota_image_size),
                Bytes(self.ota_partition),
                percent(self.ota_image_size, self.ota_partition)
            ));
        }
        out
    }

    /// One line for the human output and the report: both numbers and their
    /// share of the limit.
    pub fn summary(&self) -> String {
        format!(
            "app {} of {} (app partition − 0x400, {}%), OTA image {} of {} OTA partition ({}%)",
            Bytes(self.image_size),
            Bytes(self.app_limit),
            percent(self.image_size, self.app_limit),
            Bytes(self.ota_image_size),
            Bytes(self.ota_partition),
            percent(self.ota_image_size, self.ota_partition)
        )
    }
}

/// The app to check against the partitions (`size --firmware`): a flat image
/// as is, an ELF as the flat binary of its loadable sections.
pub fn app_image(path: &Path, bytes: Vec<u8>) -> crate::Result<Vec<u8>> {
    if bytes.starts_with(ELF_MAGIC) {
        let elf = ElfFile::parse(path, &bytes)?;
        return Ok(elf.flat_image(path)?.bytes);
    }
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(image_size: u64, ota_image_size: u64) -> FirmwareCheck {
        FirmwareCheck {
            image_size,
            app_partition: 0x1400,
            app_limit: 0x1000,
            xz_size: ota_image_size - w800::HEADER_LEN as u64,
            ota_image_size,
            ota_partition: 0x1000,
            fits: image_size <= 0x1000 && ota_image_size <= 0x1000,
        }
    }

    #[test]
    fn a_flat_image_is_checked_as_it_is() {
        let bytes = vec![1, 2, 3];
        assert_eq!(
            app_image(Path::new("app.bin"), bytes.clone()).unwrap(),
            bytes
        );
    }

    #[test]
    fn within_both_limits_is_neither_a_problem_nor_a_warning() {
        let c = check(0x100, 0x100);
        assert!(c.problems().is_empty());
        assert!(c.warnings().is_empty());
    }

    #[test]
    fn ninety_percent_warns_and_over_is_a_problem() {
        let near = check(0x0F00, 0x100);
        assert_eq!(near.warnings().len(), 1);
        assert!(near.problems().is_empty());
        let over = check(0x1001, 0x1001);
        assert_eq!(over.problems().len(), 2);
        assert!(over.warnings().is_empty());
    }
}
