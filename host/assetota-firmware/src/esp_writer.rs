//! The bytes of an ESP app image, as `espflash save-image` writes them: made
//! by espflash's own library when the `esp-image` feature is on (the
//! default). Without it, the 128-crate espflash tree is not built and making
//! an image is refused with the fix; reading images needs no feature.

/// The app image `espflash save-image --chip CHIP` writes for `elf` with its
/// defaults (4 MiB flash, the chip's default flash frequency and crystal), or
/// why not, in words. `chip` is one of [`CHIP_IDS`](crate::esp::CHIP_IDS).
#[cfg(feature = "esp-image")]
pub(crate) fn save_image(elf: &[u8], chip: &str) -> Result<Vec<u8>, String> {
    use espflash::flasher::{FlashData, FlashSettings, FlashSize};
    use espflash::image_format::idf::IdfBootloaderFormat;
    use espflash::target::Chip;

    let esp_chip: Chip = chip
        .parse()
        .map_err(|_| format!("espflash does not know the chip {chip}"))?;
    let flash_data = FlashData::new(
        FlashSettings::new(None, Some(FlashSize::default()), None),
        0,
        None,
        esp_chip,
        esp_chip.default_xtal_frequency(),
    );
    let format = IdfBootloaderFormat::new(elf, &flash_data, None, None, None, None)
        .map_err(|e| format!("espflash cannot make its {chip} app image: {e}"))?;
    Ok(format
        .ota_segments()
        .next()
        .map(|s| s.data().to_vec())
        .unwrap_or_default())
}

/// Without the `esp-image` feature: refuses, naming the fix.
#[cfg(not(feature = "esp-image"))]
pub(crate) fn save_image(_elf: &[u8], chip: &str) -> Result<Vec<u8>, String> {
    Err(format!(
        "this cargo-assetota was built without ESP app image support, so it cannot make the {chip} image; reinstall it with its default features (`cargo install cargo-assetota`), or enable the `esp` feature"
    ))
}

#[cfg(test)]
mod tests {
    /// The writer is there exactly when the feature is, and its absence
    /// names the fix.
    #[test]
    fn without_the_feature_the_refusal_names_the_fix() {
        let made = super::save_image(b"\x7fELF", "esp32c3");
        if cfg!(feature = "esp-image") {
            // espflash itself refuses four bytes of ELF, in its own words.
            let message = made.unwrap_err();
            assert!(message.contains("espflash cannot make"), "{message}");
        } else {
            let message = made.unwrap_err();
            assert!(
                message.contains("esp32c3") && message.contains("cargo install cargo-assetota"),
                "{message}"
            );
        }
    }
}
