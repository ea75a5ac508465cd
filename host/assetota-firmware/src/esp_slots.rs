//! ESP targets: which chip a firmware is for, and the app image against the
//! app slots (`factory`, `ota_N`) of the platform's partition table.
//!
//! A firmware is an ESP one, and its bundle carries the ESP app image that
//! `espflash save-image` writes, when (first match wins):
//! 1. its platform says `chip = "esp32c3"` (or another chip);
//! 2. the ELF names its chip (esp-hal writes `build_info.CHIP_NAME` into an
//!    `.espressif.metadata` section);
//! 3. the target triple names one (`xtensa-esp32-none-elf`,
//!    `xtensa-esp32s3-none-elf`, …; the RISC-V triples are shared with other
//!    chips and name none).

use assetota_core::Platform;
use assetota_core::budget::percent;
use assetota_core::bytesize::Bytes;
use assetota_core::esp::AppSlot;
use serde::Serialize;

use crate::ElfFile;

/// Percent of a slot from which the image is near the limit (a warning).
const NEAR_PERCENT: u64 = 90;

/// The chip the firmware is for, if it is an ESP firmware.
pub fn chip(platform: &Platform, elf: &ElfFile<'_>, target: Option<&str>) -> Option<String> {
    platform
        .esp
        .as_ref()
        .map(|e| e.chip.clone())
        .or_else(|| crate::esp::elf_chip(elf))
        .or_else(|| {
            target
                .and_then(assetota_core::esp::chip_of_target)
                .map(str::to_owned)
        })
}

/// One app slot against the image.
#[derive(Debug, Clone, Serialize)]
pub struct SlotFit {
    /// The partition's name.
    pub name: String,
    /// Where it starts on the flash.
    pub offset: u64,
    /// Its size.
    pub size: u64,
    /// How much of it the image takes.
    pub percent: u64,
    /// Whether the image fits it.
    pub fits: bool,
}

/// The app image against every `factory` / `ota_N` slot of the table.
#[derive(Debug, Clone, Serialize)]
pub struct SlotCheck {
    /// The platform's chip.
    pub chip: String,
    /// Bytes of the app image.
    pub image_size: u64,
    /// Each app slot, in table order.
    pub slots: Vec<SlotFit>,
    /// Whether the image fits every slot.
    pub fits: bool,
}

impl SlotCheck {
    /// `None` when the platform has no app slots to check against.
    pub fn run(platform: &Platform, image_size: u64) -> Option<SlotCheck> {
        let esp = platform.esp.as_ref()?;
        if esp.app_slots.is_empty() {
            return None;
        }
        let slots: Vec<SlotFit> = esp
            .app_slots
            .iter()
            .map(|s: &AppSlot| SlotFit {
                name: s.name.clone(),
                offset: s.offset,
                size: s.size,
                percent: percent(image_size, s.size),
                fits: image_size <= s.size,
            })
            .collect();
        Some(SlotCheck {
            chip: esp.chip.clone(),
            image_size,
            fits: slots.iter().all(|s| s.fits),
            slots,
        })
    }

    /// One line per slot the image does not fit.
    pub fn problems(&self) -> Vec<String> {
        self.slots
            .iter()
            .filter(|s| !s.fits)
            .map(|s| {
                format!(
                    "the ESP app image is {}, over the app partition `{}` ({} at {:#x}) by {}",
                    Bytes(self.image_size),
                    s.name,
                    Bytes(s.size),
                    s.offset,
                    Bytes(self.image_size - s.size)
                )
            })
            .collect()
    }

    /// Warnings for slots filled to 90 % or more.
    pub fn warnings(&self) -> Vec<String> {
        self.slots
            .iter()
            .filter(|s| s.fits && self.image_size * 100 >= s.size * NEAR_PERCENT)
            .map(|s| {
                format!(
                    "the ESP app image is {} of the app partition `{}` ({}%), near its {}",
                    Bytes(self.image_size),
                    s.name,
                    s.percent,
                    Bytes(s.size)
                )
            })
            .collect()
    }

    /// "esp32c3 app image 180 KiB: ota_0 12%, ota_1 12%".
    pub fn summary(&self) -> String {
        let slots: Vec<String> = self
            .slots
            .iter()
            .map(|s| format!("`{}` {}%", s.name, s.percent))
            .collect();
        format!(
            "{} app image {} of each app partition: {}",
            self.chip,
            Bytes(self.image_size),
            slots.join(", ")
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use assetota_core::Codec;
    use assetota_core::esp::EspPlatform;

    fn platform(slots: &[(&str, u64)]) -> Platform {
        let mut p = assetota_core::platform::unconstrained(Codec::None);
        p.esp = Some(EspPlatform {
            chip: "esp32c3".into(),
            app_slots: slots
                .iter()
                .enumerate()
                .map(|(i, (name, size))| AppSlot {
                    name: (*name).into(),
                    subtype: (*name).into(),
                    offset: 0x10000 * (i as u64 + 1),
                    size: *size,
                })
                .collect(),
        });
        p
    }

    #[test]
    fn no_slots_no_check() {
        assert!(SlotCheck::run(&platform(&[]), 10).is_none());
        let mut p = platform(&[]);
        p.esp = None;
        assert!(SlotCheck::run(&p, 10).is_none());
    }

    #[test]
    fn each_slot_is_checked() {
        let check = SlotCheck::run(&platform(&[("ota_0", 1000), ("ota_1", 950)]), 950).unwrap();
        assert!(check.fits);
        assert_eq!(check.warnings().len(), 2);
        assert!(check.problems().is_empty());
        assert_eq!(
            check.summary(),
            "esp32c3 app image 950 B of each app partition: `ota_0` 95%, `ota_1` 100%"
        );
        let over = SlotCheck::run(&platform(&[("factory", 900)]), 950).unwrap();
        assert!(!over.fits);
        assert_eq!(
            over.problems(),
            [
                "the ESP app image is 950 B, over the app partition `factory` (900 B at 0x10000) by 50 B"
            ]
        );
        assert!(over.warnings().is_empty());
    }
}
