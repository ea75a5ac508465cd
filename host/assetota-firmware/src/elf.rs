//! Reading firmware: the embedded manifest of an ELF (by section, then symbol),
//! and the flat binary image of a bare-metal ELF.

use std::path::Path;

use goblin::elf::{Elf, header, program_header::PT_LOAD, section_header};

use crate::error::{Error, Result};
use crate::locate::Located;

/// The first four bytes of every ELF file.
pub const ELF_MAGIC: &[u8; 4] = b"\x7fELF";

/// A parsed ELF with the bytes it came from.
pub struct ElfFile<'a> {
    /// The whole file.
    pub bytes: &'a [u8],
    /// Its parsed headers, sections and symbols.
    pub elf: Elf<'a>,
}

impl<'a> ElfFile<'a> {
    /// Parses `bytes` (read from `path`) and checks that every section and
    /// segment with contents lies inside the file.
    pub fn parse(path: &Path, bytes: &'a [u8]) -> Result<ElfFile<'a>> {
        if !bytes.starts_with(ELF_MAGIC) {
            return Err(Error::NotElf(path.to_owned()));
        }
        let elf = Elf::parse(bytes).map_err(|e| Error::BadElf {
            path: path.to_owned(),
            detail: e.to_string(),
        })?;
        let file = ElfFile { bytes, elf };
        file.check_bounds(path)?;
        Ok(file)
    }

    /// goblin parses headers lazily; make sure every section and segment with file
    /// contents lies inside the file, so a truncated ELF is reported as such. Only
    /// NOBITS sections are exempt: anything else (SHT_NULL too, which a hostile file
    /// can flag SHF_ALLOC) may be copied into the flat image.
    fn check_bounds(&self, path: &Path) -> Result<()> {
        let len = self.bytes.len() as u64;
        for sh in &self.elf.section_headers {
            if sh.sh_type == section_header::SHT_NOBITS {
                continue;
            }
            if sh
                .sh_offset
                .checked_add(sh.sh_size)
                .is_none_or(|end| end > len)
            {
                let name = self.elf.shdr_strtab.get_at(sh.sh_name).unwrap_or("?");
                return Err(Error::BadElf {
                    path: path.to_owned(),
                    detail: format!(
                        "section `{name}` ends at byte {} but the file has only {len}",
                        sh.sh_offset.saturating_add(sh.sh_size)
                    ),
                });
            }
        }
        for ph in &self.elf.program_headers {
            if ph
                .p_offset
                .checked_add(ph.p_filesz)
                .is_none_or(|end| end > len)
            {
                return Err(Error::BadElf {
                    path: path.to_owned(),
                    detail: format!(
                        "a segment ends at byte {} but the file has only {len}",
                        ph.p_offset.saturating_add(ph.p_filesz)
                    ),
                });
            }
        }
        Ok(())
    }

    /// Whether the ELF has a symbol table (it was not stripped).
    pub fn has_symtab(&self) -> bool {
        self.elf
            .section_headers
            .iter()
            .any(|sh| sh.sh_type == section_header::SHT_SYMTAB)
    }

    /// Whether this is firmware for a bare-metal target: a static executable with
    /// no program interpreter and no dynamic section.
    pub fn is_bare_metal(&self) -> bool {
        self.elf.header.e_type == header::ET_EXEC
            && self.elf.interpreter.is_none()
            && self.elf.dynamic.is_none()
    }

    /// Finds the manifest: the `.assetota` section, else the `__ASSETOTA_MANIFEST`
    /// symbol. The returned offset is where a valid manifest header starts; the
    /// manifest itself is not validated here.
    pub fn locate_manifest(&self, path: &Path) -> Result<Located> {
        if let Some(sh) = self
            .elf
            .section_headers
            .iter()
            .find(|sh| self.elf.shdr_strtab.get_at(sh.sh_name) == Some(assetota::SECTION))
        {
            if sh.sh_type == section_header::SHT_NOBITS {
                return Err(Error::BadElf {
                    path: path.to_owned(),
                    detail: "the `.assetota` section has no contents (NOBITS)".into(),
                });
            }
            let len = manifest_len(self.bytes, sh.sh_offset as usize, sh.sh_size as usize);
            return Ok(Located {
                offset: sh.sh_offset as usize,
                len,
                found_by: format!("section {}", assetota::SECTION),
                load_address: self.lma_of_offset(sh.sh_offset),
            });
        }
        let symbol = self
            .elf
            .syms
            .iter()
            .find(|s| self.elf.strtab.get_at(s.st_name) == Some(assetota::SYMBOL))
            .or_else(|| {
                self.elf
                    .dynsyms
                    .iter()
                    .find(|s| self.elf.dynstrtab.get_at(s.st_name) == Some(assetota::SYMBOL))
            });
        if let Some(sym) = symbol
            && let Some(sh) = self.elf.section_headers.get(sym.st_shndx)
            && sh.sh_type != section_header::SHT_NOBITS
            && sym.st_value >= sh.sh_addr
            && sym.st_value - sh.sh_addr < sh.sh_size
        {
            // Inside the section, which check_bounds put inside the file.
            let offset = sh.sh_offset + (sym.st_value - sh.sh_addr);
            let section = self.elf.shdr_strtab.get_at(sh.sh_name).unwrap_or("?");
            let available = (sh.sh_offset + sh.sh_size - offset) as usize;
            return Ok(Located {
                offset: offset as usize,
                len: manifest_len(self.bytes, offset as usize, available),
                found_by: format!("symbol {} in section {section}", assetota::SYMBOL),
                load_address: self.lma_of_offset(offset),
            });
        }
        Err(Error::NoManifest {
            path: path.to_owned(),
            stripped: !self.has_symtab(),
        })
    }

    /// The load address of a file offset, through the PT_LOAD segment holding it.
    fn lma_of_offset(&self, offset: u64) -> Option<u64> {
        self.elf
            .program_headers
            .iter()
            .find(|ph| {
                ph.p_type == PT_LOAD && ph.p_offset <= offset && offset < ph.p_offset + ph.p_filesz
            })
            .and_then(|ph| ph.p_paddr.checked_add(offset - ph.p_offset))
    }

    /// The flat binary `llvm-objcopy -O binary` writes: every allocated section
    /// with contents, at its load address relative to the lowest one, gaps zeroed,
    /// ending at the end of the last section. Also maps file offsets into it.
    pub fn flat_image(&self, path: &Path) -> Result<FlatImage> {
        struct Placed {
            file_offset: u64,
            size: u64,
            lma: u64,
        }
        let segments = &self.elf.program_headers;
        let mut placed = Vec::new();
        if self.elf.section_headers.len() > 1 {
            for sh in &self.elf.section_headers {
                if sh.sh_flags & u64::from(section_header::SHF_ALLOC) == 0 {
                    continue;
                }
                // llvm-objcopy's parent segment: the one with the lowest offset that
                // contains the section (sectionWithinSegment in ELF/Object.cpp).
                let size_or_one = sh.sh_size.max(1);
                let parent = segments
                    .iter()
                    .filter(|ph| {
                        if sh.sh_type == section_header::SHT_NOBITS {
                            let tls_section = sh.sh_flags & u64::from(section_header::SHF_TLS) != 0;
                            let tls_segment = ph.p_type == goblin::elf::program_header::PT_TLS;
                            tls_section == tls_segment
                                && ph.p_vaddr <= sh.sh_addr
                                && ph.p_vaddr.saturating_add(ph.p_memsz)
                                    >= sh.sh_addr.saturating_add(size_or_one)
                        } else {
                            ph.p_offset <= sh.sh_offset
                                && ph.p_offset.saturating_add(ph.p_filesz)
                                    >= sh.sh_offset.saturating_add(size_or_one)
                        }
                    })
                    .fold(
                        None,
                        |best: Option<&goblin::elf::ProgramHeader>, ph| match best {
                            Some(b) if b.p_offset <= ph.p_offset => Some(b),
                            _ => Some(ph),
                        },
                    );
                if sh.sh_type == section_header::SHT_NOBITS || sh.sh_size == 0 {
                    continue;
                }
                let lma = match parent {
                    Some(ph) => (sh.sh_offset - ph.p_offset).checked_add(ph.p_paddr),
                    None => Some(sh.sh_addr),
                };
                let Some(lma) = lma.filter(|lma| lma.checked_add(sh.sh_size).is_some()) else {
                    return Err(beyond_address_space(path));
                };
                placed.push(Placed {
                    file_offset: sh.sh_offset,
                    size: sh.sh_size,
                    lma,
                });
            }
        } else {
            // No section headers: the loadable segments are all there is.
            for ph in segments
                .iter()
                .filter(|ph| ph.p_type == PT_LOAD && ph.p_filesz > 0)
            {
                if ph.p_paddr.checked_add(ph.p_filesz).is_none() {
                    return Err(beyond_address_space(path));
                }
                placed.push(Placed {
                    file_offset: ph.p_offset,
                    size: ph.p_filesz,
                    lma: ph.p_paddr,
                });
            }
        }
        // Far-apart regions (an ESP chip's flash mappings and RAM) would make
        // the flat image a dump of the address space: refuse, naming the
        // formats that fit.
        let mut spans: Vec<(u64, u64)> = placed.iter().map(|p| (p.lma, p.lma + p.size)).collect();
        spans.sort_unstable();
        let mut end = spans.first().map_or(0, |s| s.1);
        for &(start, stop) in spans.iter().skip(1) {
            if start > end && start - end > MAX_FLAT_GAP {
                return Err(Error::SparseImage {
                    path: path.to_owned(),
                    from: end,
                    to: start,
                    gap: start - end,
                });
            }
            end = end.max(stop);
        }
        let base = placed.iter().map(|p| p.lma).min().unwrap_or(0);
        let total = placed
            .iter()
            .map(|p| p.lma - base + p.size)
            .max()
            .unwrap_or(0);
        if total > MAX_FLAT_IMAGE {
            return Err(Error::BadElf {
                path: path.to_owned(),
                detail: format!(
                    "its loadable sections span {total} bytes from load address {base:#x}, too much for a flat image; check the linker script's AT> regions or use `--format elf`"
                ),
            });
        }
        let mut bytes = vec![0u8; total as usize];
        let mut map = Vec::new();
        for p in &placed {
            let at = (p.lma - base) as usize;
            let src = &self.bytes[p.file_offset as usize..(p.file_offset + p.size) as usize];
            bytes[at..at + src.len()].copy_from_slice(src);
            map.push((p.file_offset, p.size, at as u64));
        }
        Ok(FlatImage {
            bytes,
            base_address: base,
            map,
        })
    }
}

fn beyond_address_space(path: &Path) -> Error {
    Error::BadElf {
        path: path.to_owned(),
        detail: "a loadable section ends beyond the end of the address space".into(),
    }
}

/// Largest gap between two loadable regions that a flat image pads over;
/// farther apart, `flat_image` refuses ([`Error::SparseImage`]).
pub const MAX_FLAT_GAP: u64 = 16 << 20;

/// Largest flat image `flat_image` makes (gaps included).
pub const MAX_FLAT_IMAGE: u64 = 256 << 20;

/// A flat binary made from an ELF.
pub struct FlatImage {
    /// The image's bytes.
    pub bytes: Vec<u8>,
    /// Load address of the image's first byte.
    pub base_address: u64,
    /// (file offset, size, image offset) of each section copied in.
    map: Vec<(u64, u64, u64)>,
}

impl FlatImage {
    /// Where the ELF's byte at `file_offset` ended up in the image.
    pub fn image_offset(&self, file_offset: u64) -> Option<u64> {
        self.map
            .iter()
            .rev()
            .find(|(off, size, _)| *off <= file_offset && file_offset < off + size)
            .map(|(off, _, at)| at + (file_offset - off))
    }
}

/// The manifest's length from its header (`total_len` at offset 8), bounded by
/// what is available; the decoder reports the details of anything wrong.
fn manifest_len(bytes: &[u8], offset: usize, available: usize) -> usize {
    let region = bytes
        .get(offset..offset.saturating_add(available).min(bytes.len()))
        .unwrap_or(&[]);
    match region.get(8..12) {
        Some(b) => (u32::from_le_bytes([b[0], b[1], b[2], b[3]]) as usize).min(region.len()),
        None => region.len(),
    }
}
