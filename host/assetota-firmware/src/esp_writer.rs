//! The bytes of an ESP app image, as `espflash save-image` writes them: made
//! by espflash's own library when the `esp-image` feature is on (the
//! default). Without it, the 128-crate espflash tree is not built and making
//! an image is refused with the fix; reading images needs no feature.

use std::path::Path;

use crate::error::{Error, Result};

/// The app image `espflash save-image --chip CHIP` writes for `elf` (read
/// from `path`) with its defaults (4 MiB flash, the chip's default flash
/// frequency and crystal). `chip` is one of [`CHIP_IDS`](crate::esp::CHIP_IDS).
#[cfg(feature = "esp-image")]
pub(crate) fn save_image(path: &Path, elf: &[u8], chip: &str) -> Result<Vec<u8>> {
    use espflash::flasher::{FlashData, FlashSettings, FlashSize};
    use espflash::image_format::idf::IdfBootloaderFormat;
    use espflash::target::Chip;

    let esp_chip: Chip = chip
        .parse()
        .map_err(|_| Error::UnknownChip(chip.to_owned()))?;
    let flash_data = FlashData::new(
        FlashSettings::new(None, Some(FlashSize::default()), None),
        0,
        None,
        esp_chip,
        esp_chip.default_xtal_frequency(),
    );
    let format =
        IdfBootloaderFormat::new(elf, &flash_data, None, None, None, None).map_err(|e| {
            Error::Esp {
                path: path.to_owned(),
                detail: format!("espflash cannot make its {chip} app image: {e}"),
            }
        })?;
    Ok(format
        .ota_segments()
        .next()
        .map(|s| s.data().to_vec())
        .unwrap_or_default())
}

/// Without the `esp-image` feature: refuses, with an error of its own.
#[cfg(not(feature = "esp-image"))]
pub(crate) fn save_image(path: &Path, _elf: &[u8], chip: &str) -> Result<Vec<u8>> {
    Err(Error::NoEspImageWriter {
        path: path.to_owned(),
        chip: chip.to_owned(),
    })
}

#[cfg(test)]
mod tests {
    use crate::error::Error;
    use std::path::Path;

    /// The writer is there exactly when the feature is; without it the
    /// refusal is its own error, naming the file and the chip.
    #[test]
    fn without_the_feature_the_refusal_is_its_own_error() {
        let made = super::save_image(Path::new("fw.elf"), b"\x7fELF", "esp32c3");
        match made {
            // espflash itself refuses four bytes of ELF, in its own words.
            Err(Error::Esp { detail, .. }) if cfg!(feature = "esp-image") => {
                assert!(detail.contains("espflash cannot make"), "{detail}")
            }
            Err(Error::NoEspImageWriter { path, chip }) if cfg!(not(feature = "esp-image")) => {
                assert_eq!(
                    (path.as_path(), chip.as_str()),
                    (Path::new("fw.elf"), "esp32c3")
                )
            }
            other => panic!("unexpected: {other:?}"),
        }
    }
}
