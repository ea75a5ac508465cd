//! Fuzzes the ELF side of `cargo-assetota` (`assetota_firmware`): parsing with
//! goblin plus the bounds checks, finding the manifest by section or symbol, and
//! making the flat image `llvm-objcopy -O binary` would. This is what `inspect`,
//! `bundle FIRMWARE` and `build` run on an ELF. Nothing may panic (arithmetic
//! overflow included: fuzz builds have overflow checks on), the manifest found must
//! lie inside the file, and the flat image must stay under its cap.
//!
//! Run: cargo +nightly fuzz run elf_locate fuzz/seeds/elf_locate -- -max_total_time=60
#![no_main]

use std::path::Path;

use assetota::Manifest;
use assetota_firmware::{ElfFile, MAX_FLAT_IMAGE};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let path = Path::new("fuzz.elf");
    let Ok(elf) = ElfFile::parse(path, data) else {
        return;
    };
    let _ = elf.has_symtab();
    let _ = elf.is_bare_metal();
    let located = elf.locate_manifest(path);
    if let Ok(located) = &located {
        // The region the manifest is read from is inside the file.
        let end = located.offset.checked_add(located.len);
        assert!(
            end.is_some_and(|end| end <= data.len()),
            "manifest at {:#x}+{:#x} in a {}-byte file",
            located.offset,
            located.len,
            data.len()
        );
        let region = &data[located.offset..located.offset + located.len];
        if let Ok(m) = Manifest::parse(region) {
            assert!(m.byte_len() <= located.len);
        }
    }
    if let Ok(flat) = elf.flat_image(path) {
        assert!(flat.bytes.len() as u64 <= MAX_FLAT_IMAGE);
        if let Ok(located) = &located
            && let Some(at) = flat.image_offset(located.offset as u64)
        {
            assert!(at < flat.bytes.len() as u64);
        }
    }
});
