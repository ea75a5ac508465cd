//! The two W800 images of `cargo assetota bundle APP.bin --platform P`, as
//! the SDK's packer makes them, with what the command reports about them:
//! their file names beside a prefix, the JSON of `--json` and the summary.

use std::path::{Path, PathBuf};

use assetota_core::bytesize::Bytes;
use serde::Serialize;

use super::{Images, Layout, Options, W800Error};

/// An app packed for a platform's layout, with the header fields it was
/// packed with (the report names them).
#[derive(Debug)]
pub struct Packed {
    /// The platform the layout is of.
    pub platform: String,
    /// Where the images go.
    pub layout: Layout,
    /// The version string in the headers.
    pub version: String,
    /// The bootloader flags in the headers.
    pub bootloader_flags: u32,
    /// `PREFIX.img` and `PREFIX_ota.img`.
    pub images: Images,
}

impl Packed {
    /// Packs the app `bytes` (read from `path`, named in errors) for
    /// `layout`, the layout of platform `platform`.
    pub fn new(
        path: &Path,
        bytes: &[u8],
        platform: &str,
        layout: Layout,
        options: Options<'_>,
    ) -> Result<Packed, W800Error> {
        let images = super::pack(path, bytes, &layout, options)?;
        Ok(Packed {
            platform: platform.to_owned(),
            layout,
            version: options.version.to_owned(),
            bootloader_flags: options.bootloader_flags,
            images,
        })
    }

    /// The warning that the app (displayed as `app`) was padded to a multiple
    /// of 4, as the SDK's packer pads it; `None` when it needed no padding.
    pub fn padding_warning(&self, app: &str) -> Option<String> {
        let len = self.images.app_len;
        (!len.is_multiple_of(4)).then(|| {
            format!(
                "`{app}` is {}, not a multiple of 4: padded with 0xFF to {} as the SDK's packer pads it",
                Bytes(len),
                Bytes(len.next_multiple_of(4))
            )
        })
    }

    /// What was written, for the status line: the two files (displayed as
    /// `image` and `ota_image`), the version, the platform and the addresses.
    pub fn summary(&self, image: &str, ota_image: &str) -> String {
        format!(
            "{image} ({}) and {ota_image} ({}), version `{}`, for `{}` (app at {:#x}, OTA at {:#x})",
            Bytes(self.images.image.len() as u64),
            Bytes(self.images.ota_image.len() as u64),
            self.version,
            self.platform,
            self.layout.app_offset,
            self.layout.ota_offset
        )
    }
}

/// `PREFIX.img` and `PREFIX_ota.img`, keeping whatever dots PREFIX has.
pub fn image_paths(prefix: &Path) -> (PathBuf, PathBuf) {
    let with_suffix = |suffix: &str| {
        let mut s = prefix.as_os_str().to_owned();
        s.push(suffix);
        PathBuf::from(s)
    };
    (with_suffix(".img"), with_suffix("_ota.img"))
}

/// One file written, in [`BundleJson`].
#[derive(Debug, Serialize)]
pub struct FileJson {
    /// The file, as displayed.
    pub file: String,
    /// Its bytes.
    pub size: u64,
}

/// The JSON of `bundle --json` for a W800 app.
#[derive(Debug, Serialize)]
pub struct BundleJson {
    /// The app binary, as displayed.
    pub app: String,
    /// Its bytes (before padding).
    pub app_size: u64,
    /// The package whose config defines the platform.
    pub package: String,
    /// The platform.
    pub platform: String,
    /// The version string in the headers.
    pub version: String,
    /// The bootloader flags in the headers.
    pub bootloader_flags: u32,
    /// `PREFIX.img`.
    pub image: FileJson,
    /// `PREFIX_ota.img`.
    pub ota_image: FileJson,
    /// The app partition's size.
    pub app_partition: u64,
    /// The largest app that fits it.
    pub app_limit: u64,
    /// The largest `_ota.img` that fits the OTA partition.
    pub ota_limit: u64,
    /// Whether both images fit.
    pub fits: bool,
    /// The files are written only when the images fit.
    pub written: bool,
}

impl BundleJson {
    /// The report of `packed`, for the app displayed as `app` of package
    /// `package`, written to `image` and `ota_image` (as displayed).
    pub fn new(
        packed: &Packed,
        app: String,
        package: String,
        image: String,
        ota_image: String,
    ) -> BundleJson {
        let (images, layout) = (&packed.images, &packed.layout);
        let fits = images.fits(layout);
        BundleJson {
            app,
            app_size: images.app_len,
            package,
            platform: packed.platform.clone(),
            version: packed.version.clone(),
            bootloader_flags: packed.bootloader_flags,
            image: FileJson {
                file: image,
                size: images.image.len() as u64,
            },
            ota_image: FileJson {
                file: ota_image,
                size: images.ota_image.len() as u64,
            },
            app_partition: layout.app_size,
            app_limit: layout.app_limit(),
            ota_limit: layout.ota_limit(),
            fits,
            written: fits,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::w800::tests::LAYOUT;

    fn packed(app: &[u8]) -> Packed {
        let options = Options {
            version: "1.2.3",
            bootloader_flags: 7,
        };
        Packed::new(Path::new("app.bin"), app, "w800", LAYOUT, options).unwrap()
    }

    #[test]
    fn paths_keep_the_prefix_s_dots() {
        let (image, ota) = image_paths(Path::new("out/app.v1"));
        assert_eq!(image, Path::new("out/app.v1.img"));
        assert_eq!(ota, Path::new("out/app.v1_ota.img"));
    }

    #[test]
    fn padding_is_warned_only_when_needed() {
        assert_eq!(packed(&[1; 8]).padding_warning("app.bin"), None);
        let warning = packed(&[1; 7]).padding_warning("app.bin").unwrap();
        assert!(
            warning.starts_with("`app.bin` is 7 B, not a multiple of 4"),
            "{warning}"
        );
    }

    #[test]
    fn json_and_summary_name_the_header_fields() {
        let p = packed(&[1; 8]);
        let json = BundleJson::new(
            &p,
            "app.bin".into(),
            "pkg".into(),
            "a.img".into(),
            "a_ota.img".into(),
        );
        assert_eq!((json.version.as_str(), json.bootloader_flags), ("1.2.3", 7));
        assert_eq!(json.image.size, p.images.image.len() as u64);
        assert!(json.fits && json.written);
        let summary = p.summary("a.img", "a_ota.img");
        assert!(
            summary.contains("version `1.2.3`, for `w800` (app at 0xf000, OTA at 0x131000)"),
            "{summary}"
        );
    }
}
