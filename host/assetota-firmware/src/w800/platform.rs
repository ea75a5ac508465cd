//! The W800 layout of a configured platform: its partition table's `app` and
//! `app_ota` partitions, which the images are packed for.

use assetota_core::Platform;

use super::Layout;

/// A platform whose table lacks the app and OTA partitions (with offsets) a
/// W800 image is addressed to.
#[derive(Debug, thiserror::Error)]
#[error(
    "platform `{platform}` has no `app` and `app_ota` partitions with offsets, so no W800 images can be made for it"
)]
pub struct NotW800Platform {
    /// The platform's name.
    pub platform: String,
}

impl Layout {
    /// The layout of `platform`'s app and OTA partitions: both sizes and both
    /// offsets must be known, since the headers record the addresses.
    pub fn of_platform(platform: &Platform) -> Result<Layout, NotW800Platform> {
        match (platform.firmware_partitions, platform.firmware_offsets) {
            (Some((app_size, ota_size)), Some((app_offset, ota_offset))) => Ok(Layout {
                app_offset,
                app_size,
                ota_offset,
                ota_size,
            }),
            _ => Err(NotW800Platform {
                platform: platform.name.clone(),
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use assetota_core::Codec;

    fn platform(partitions: Option<(u64, u64)>, offsets: Option<(u64, u64)>) -> Platform {
        let mut p = assetota_core::platform::unconstrained(Codec::None);
        p.name = "w800".into();
        p.firmware_partitions = partitions;
        p.firmware_offsets = offsets;
        p
    }

    #[test]
    fn layout_needs_sizes_and_offsets() {
        let layout =
            Layout::of_platform(&platform(Some((0x1000, 0x2000)), Some((0xF000, 0x10_0000))))
                .unwrap();
        assert_eq!(
            (
                layout.app_offset,
                layout.app_size,
                layout.ota_offset,
                layout.ota_size
            ),
            (0xF000, 0x1000, 0x10_0000, 0x2000)
        );
        let e = Layout::of_platform(&platform(Some((0x1000, 0x2000)), None)).unwrap_err();
        assert_eq!(e.platform, "w800");
        assert!(Layout::of_platform(&platform(None, Some((0, 0)))).is_err());
    }
}
