//! ESP app images: the firmware format the ESP-IDF second-stage bootloader
//! boots, as `espflash save-image --chip CHIP ELF OUT` writes it (made here
//! with espflash's own library, so the bytes are the same), and a reader of
//! such images for `inspect` and `verify`.
//!
//! The image: a 24-byte header (magic 0xE9, segment count, flash mode, size
//! and frequency, entry point, then the extended header: write-protect pin,
//! SPI drive settings, chip id, chip revisions, hash flag), the segments (each
//! an 8-byte load address and length, then its bytes), padding up to a
//! 16-byte boundary minus one, the XOR checksum of every segment byte (seeded
//! with 0xEF), and, when the hash flag is set, the SHA-256 of everything
//! before it.

use std::path::Path;

use goblin::elf::header::{EM_RISCV, EM_XTENSA};
use sha2::{Digest, Sha256};

use crate::elf::ElfFile;
use crate::error::{Error, Result};
use crate::locate::Located;

/// The first byte of every ESP app image.
pub const ESP_IMAGE_MAGIC: u8 = 0xE9;
/// The seed of the image's XOR checksum.
const CHECKSUM_SEED: u8 = 0xEF;
/// The image header with its extended part.
const HEADER_LEN: usize = 24;
/// A segment's header: load address and length.
const SEGMENT_HEADER_LEN: usize = 8;

pub use crate::chips::{CHIP_IDS, chip_of_id};

/// An ESP app image made from an ELF, with where its manifest is.
#[derive(Debug, Clone)]
pub struct EspAppImage {
    /// The image's bytes, as `espflash save-image` writes them.
    pub bytes: Vec<u8>,
    /// The chip it is for.
    pub chip: &'static str,
    /// Offset of the manifest's first byte in [`bytes`](Self::bytes).
    pub manifest_offset: u64,
    /// The manifest's address in the chip's memory map (its flash mapping).
    pub manifest_address: u64,
}

/// Makes the app image of `elf` (read from `path`) for `chip`, exactly as
/// `espflash save-image --chip CHIP` does with its defaults (4 MiB flash, the
/// chip's default flash frequency and crystal), and finds the manifest
/// `located` in the ELF inside it: in the image segment that holds the
/// `.assetota` section's address.
///
/// Refuses an ELF for another architecture or, when the ELF names its chip
/// (esp-hal's `.espressif.metadata`), for another chip; and an ELF without
/// the ESP-IDF app descriptor the bootloader needs (as `save-image` does).
pub fn app_image(
    path: &Path,
    elf: &ElfFile<'_>,
    located: &Located,
    chip: &str,
) -> Result<EspAppImage> {
    let chip_name = parse_chip(chip)?;
    check_chip(path, elf, chip_name)?;
    if !has_app_descriptor(elf) {
        return Err(Error::Esp {
            path: path.to_owned(),
            detail: "it has no ESP-IDF app descriptor (`esp_app_desc` or a `.flash.appdesc` section), which the bootloader needs; add `esp_bootloader_esp_idf::esp_app_desc!();` to the firmware".into(),
        });
    }
    let bytes = crate::esp_writer::save_image(path, elf.bytes, chip_name)?;

    let address = manifest_address(elf, located).ok_or_else(|| Error::Esp {
        path: path.to_owned(),
        detail: "the manifest is not in a section with an address, so the device cannot read it"
            .into(),
    })?;
    let image = AppImage::parse(path, &bytes)?;
    let manifest_offset = image.offset_of_address(address).ok_or_else(|| Error::Esp {
        path: path.to_owned(),
        detail: format!(
            "the manifest at address {address:#x} is in no segment of the app image; keep `.assetota` in a flash-mapped region (the chip's DROM)"
        ),
    })?;
    Ok(EspAppImage {
        bytes,
        chip: chip_name,
        manifest_offset,
        manifest_address: address,
    })
}

fn parse_chip(chip: &str) -> Result<&'static str> {
    CHIP_IDS
        .iter()
        .map(|(c, _)| *c)
        .find(|c| *c == chip)
        .ok_or_else(|| Error::UnknownChip(chip.to_owned()))
}

/// The chip an ESP ELF says it is for: esp-hal's `build_info.CHIP_NAME` in
/// its `.espressif.metadata` section (a symbol of that section whose bytes
/// are the name). Read here rather than through espflash so that a build
/// without the `esp-image` feature still recognises ESP firmware.
pub fn elf_chip(elf: &ElfFile<'_>) -> Option<String> {
    const METADATA_SECTION: &str = ".espressif.metadata";
    const CHIP_NAME: &str = "build_info.CHIP_NAME";
    let e = &elf.elf;
    let (index, section) = e
        .section_headers
        .iter()
        .enumerate()
        .find(|(_, sh)| e.shdr_strtab.get_at(sh.sh_name) == Some(METADATA_SECTION))?;
    let symbol = e
        .syms
        .iter()
        .find(|s| s.st_shndx == index && e.strtab.get_at(s.st_name) == Some(CHIP_NAME))?;
    let start = symbol
        .st_value
        .checked_sub(section.sh_addr)?
        .checked_add(section.sh_offset)?;
    let end = start.checked_add(symbol.st_size)?;
    if symbol.st_value.checked_add(symbol.st_size)?
        > section.sh_addr.checked_add(section.sh_size)?
    {
        return None;
    }
    let bytes = elf
        .bytes
        .get(usize::try_from(start).ok()?..usize::try_from(end).ok()?)?;
    std::str::from_utf8(bytes).ok().map(str::to_owned)
}

/// Refuses an ELF built for another chip than `chip`.
fn check_chip(path: &Path, elf: &ElfFile<'_>, chip: &str) -> Result<()> {
    let riscv = !matches!(chip, "esp32" | "esp32s2" | "esp32s3");
    let machine = elf.elf.header.e_machine;
    let expected = if riscv { EM_RISCV } else { EM_XTENSA };
    if machine != expected {
        let arch = match machine {
            EM_RISCV => "RISC-V".to_owned(),
            EM_XTENSA => "Xtensa".to_owned(),
            m => format!("machine {m}"),
        };
        return Err(Error::WrongChip {
            path: path.to_owned(),
            chip: chip.to_owned(),
            found: format!("an {arch} ELF"),
        });
    }
    if let Some(found) = elf_chip(elf)
        && found != chip
    {
        return Err(Error::WrongChip {
            path: path.to_owned(),
            chip: chip.to_owned(),
            found: format!("built for {found} (its .espressif.metadata says so)"),
        });
    }
    Ok(())
}

fn has_app_descriptor(elf: &ElfFile<'_>) -> bool {
    let e = &elf.elf;
    e.syms
        .iter()
        .any(|s| e.strtab.get_at(s.st_name) == Some("esp_app_desc"))
        || e.section_headers.iter().any(|sh| {
            matches!(
                e.shdr_strtab.get_at(sh.sh_name),
                Some(".flash.appdesc" | ".rodata_desc")
            )
        })
}

/// The address of the manifest found at `located`: through the section
/// holding its file offset.
fn manifest_address(elf: &ElfFile<'_>, located: &Located) -> Option<u64> {
    let offset = located.offset as u64;
    elf.elf
        .section_headers
        .iter()
        .find(|sh| {
            sh.sh_type != goblin::elf::section_header::SHT_NOBITS
                && sh.sh_addr != 0
                && sh.sh_offset <= offset
                && offset < sh.sh_offset + sh.sh_size
        })
        .map(|sh| sh.sh_addr + (offset - sh.sh_offset))
}

/// One segment of an app image.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppSegment {
    /// Where the bootloader loads or maps it.
    pub address: u32,
    /// Offset of its first byte in the image.
    pub offset: u64,
    /// Its length in bytes.
    pub len: u32,
}

/// A parsed ESP app image whose checksum and SHA-256 were checked.
#[derive(Debug, Clone)]
pub struct AppImage {
    /// The chip id of its header.
    pub chip_id: u16,
    /// The chip that id names, when known.
    pub chip: Option<&'static str>,
    /// The entry point.
    pub entry: u32,
    /// Its segments, in image order.
    pub segments: Vec<AppSegment>,
    /// Whether a SHA-256 of the image is appended (and was checked).
    pub hash_appended: bool,
    /// The image's length, the checksum and the hash included.
    pub len: u64,
}

impl AppImage {
    /// Parses and checks an app image: header, segments within the file, the
    /// checksum, the appended SHA-256, and nothing after it.
    pub fn parse(path: &Path, bytes: &[u8]) -> Result<AppImage> {
        let bad = |detail: String| Error::BadEspImage {
            path: path.to_owned(),
            detail,
        };
        if bytes.len() < HEADER_LEN || bytes[0] != ESP_IMAGE_MAGIC {
            return Err(bad(format!(
                "it does not start with the magic byte {ESP_IMAGE_MAGIC:#04x} and a {HEADER_LEN}-byte header"
            )));
        }
        let count = bytes[1];
        let entry = u32::from_le_bytes([bytes[4], bytes[5], bytes[6], bytes[7]]);
        let chip_id = u16::from_le_bytes([bytes[12], bytes[13]]);
        let hash_appended = match bytes[23] {
            0 => false,
            1 => true,
            other => return Err(bad(format!("its hash flag is {other}, not 0 or 1"))),
        };
        let mut at = HEADER_LEN;
        let mut checksum = CHECKSUM_SEED;
        let mut segments = Vec::with_capacity(usize::from(count));
        for index in 0..count {
            let header = bytes
                .get(at..at + SEGMENT_HEADER_LEN)
                .ok_or_else(|| bad(format!("segment {index} of {count} starts past the end")))?;
            let address = u32::from_le_bytes([header[0], header[1], header[2], header[3]]);
            let len = u32::from_le_bytes([header[4], header[5], header[6], header[7]]);
            let start = at + SEGMENT_HEADER_LEN;
            let data = start
                .checked_add(len as usize)
                .and_then(|end| bytes.get(start..end))
                .ok_or_else(|| {
                    bad(format!(
                        "segment {index} ({len} B at {address:#x}) runs past the end of the file"
                    ))
                })?;
            checksum = data.iter().fold(checksum, |c, b| c ^ b);
            segments.push(AppSegment {
                address,
                offset: start as u64,
                len,
            });
            at = start + len as usize;
        }
        // Padding to one byte short of a 16-byte boundary, then the checksum.
        let checksum_at = at + (15 - at % 16);
        let stored = *bytes
            .get(checksum_at)
            .ok_or_else(|| bad("it ends before its checksum".into()))?;
        if stored != checksum {
            return Err(bad(format!(
                "its checksum is {stored:#04x}, the segments give {checksum:#04x}"
            )));
        }
        let mut end = checksum_at + 1;
        if hash_appended {
            let hash = bytes
                .get(end..end + 32)
                .ok_or_else(|| bad("it ends before its SHA-256".into()))?;
            let computed = Sha256::digest(&bytes[..end]);
            if computed.as_slice() != hash {
                return Err(bad(
                    "its appended SHA-256 does not match its contents".into()
                ));
            }
            end += 32;
        }
        if end != bytes.len() {
            return Err(bad(format!(
                "{} B follow the end of the image at {end}",
                bytes.len() - end
            )));
        }
        Ok(AppImage {
            chip_id,
            chip: chip_of_id(chip_id),
            entry,
            segments,
            hash_appended,
            len: end as u64,
        })
    }

    /// The image offset of the byte loaded at `address`, if a segment holds it.
    pub fn offset_of_address(&self, address: u64) -> Option<u64> {
        self.segments
            .iter()
            .find(|s| {
                u64::from(s.address) <= address && address < u64::from(s.address) + u64::from(s.len)
            })
            .map(|s| s.offset + (address - u64::from(s.address)))
    }

    /// The address the byte at image offset `offset` is loaded at.
    pub fn address_of_offset(&self, offset: u64) -> Option<u64> {
        self.segments
            .iter()
            .find(|s| s.offset <= offset && offset < s.offset + u64::from(s.len))
            .map(|s| u64::from(s.address) + (offset - s.offset))
    }
}

/// Finds the manifest in an ESP app image: the image is parsed and checked
/// first, then the manifest is found by its magic and CRC inside a segment.
pub fn locate_app_image(path: &Path, bytes: &[u8]) -> Result<(AppImage, Located)> {
    let image = AppImage::parse(path, bytes)?;
    let mut located = crate::locate::locate_flat(path, bytes)?;
    let address = image.address_of_offset(located.offset as u64);
    located.found_by = format!(
        "magic and CRC scan of the {} app image",
        image.chip.unwrap_or("ESP")
    );
    located.load_address = address;
    Ok((image, located))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(feature = "esp-image")]
    #[test]
    fn chip_ids_are_espflash_s() {
        for (name, id) in CHIP_IDS {
            let chip: espflash::target::Chip = name.parse().unwrap();
            assert_eq!(chip.id(), *id, "{name}");
        }
    }

    #[test]
    fn refuses_a_bad_image() {
        let p = Path::new("x.bin");
        assert!(AppImage::parse(p, b"\x7fELF").is_err());
        // A header with no segments, its checksum at byte 31, no hash.
        let mut img = vec![0u8; 32];
        img[0] = ESP_IMAGE_MAGIC;
        img[31] = CHECKSUM_SEED;
        let parsed = AppImage::parse(p, &img).unwrap();
        assert!(parsed.segments.is_empty() && !parsed.hash_appended);
        img[31] ^= 1;
        let e = AppImage::parse(p, &img).unwrap_err().to_string();
        assert!(e.contains("checksum"), "{e}");
    }
}
