//! ESP targets: prints `assetota_firmware::esp_slots`'s app-slot check.

use assetota_firmware::esp_slots::SlotCheck;

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
