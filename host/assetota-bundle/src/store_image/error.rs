//! Why no store image can be made of a bundle, beyond the bundle's own
//! errors (`crate::Error::StoreImage` carries these).

use std::path::PathBuf;

use assetota_core::store_image::ImageError;

/// Why no store image can be made of a bundle.
#[derive(Debug, thiserror::Error)]
pub enum StoreImageError {
    /// The bundle records no store geometry and no platform was given.
    #[error("`{}` records no device store to image: {}", path.display(), match platform { Some(p) => format!("its platform `{p}` is not of kind \"assetota-store\""), None => "it was built without a platform".to_owned() })]
    NotStoreBundle {
        /// The bundle.
        path: PathBuf,
        /// The platform it records, if any.
        platform: Option<String>,
    },
    /// The platform given has no store partition.
    #[error(
        "platform `{name}` is of kind \"{kind}\", not \"assetota-store\": it has no store partition to image"
    )]
    NotStorePlatform {
        /// The platform.
        name: String,
        /// Its kind.
        kind: String,
    },
    /// A hex or uf2 file needs the partition's address, and none is known.
    #[error(
        "a {format} file places the store partition at an address, and platform `{platform}` sets no `partition-offset`"
    )]
    NoPartitionAddress {
        /// The file format.
        format: &'static str,
        /// The platform (`(none)` without one).
        platform: String,
    },
    /// The firmware to merge is a flat image without a load address.
    #[error("the firmware `{file}` of `{}` has no load address to place it at", path.display())]
    NoFirmwareAddress {
        /// The bundle.
        path: PathBuf,
        /// The firmware entry.
        file: String,
    },
    /// The store crate cannot build, check or encode the image.
    #[error("cannot make the store image of `{}`: {cause}", path.display())]
    Image {
        /// The bundle.
        path: PathBuf,
        /// The store crate's reason.
        cause: ImageError,
    },
}
