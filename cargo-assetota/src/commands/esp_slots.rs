//! ESP targets: the chip and the app-slot check are
//! `assetota_firmware::esp_slots`'s; this file prints the check.

pub use assetota_firmware::esp_slots::{SlotCheck, chip};

use crate::shell::Shell;

/// Prints the check: its warnings, then its summary.
pub fn show(shell: &mut Shell, check: Option<&SlotCheck>) {
    if let Some(check) = check {
        for w in check.warnings() {
            shell.warn(w);
        }
        shell.status("Firmware", check.summary());
    }
}
