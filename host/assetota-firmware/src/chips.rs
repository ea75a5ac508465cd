//! The ESP chips, by name and by the chip id of their app image header.

/// The chips an app image can be made for, with the chip id their image
/// header carries (espflash's `Chip::id`).
pub const CHIP_IDS: &[(&str, u16)] = &[
    ("esp32", 0),
    ("esp32s2", 2),
    ("esp32c3", 5),
    ("esp32s3", 9),
    ("esp32c2", 12),
    ("esp32c6", 13),
    ("esp32h2", 16),
    ("esp32p4", 18),
    ("esp32c61", 20),
    ("esp32c5", 23),
];

/// The chip named by an image header's chip id.
pub fn chip_of_id(id: u16) -> Option<&'static str> {
    CHIP_IDS.iter().find(|(_, i)| *i == id).map(|(c, _)| *c)
}
