//! A raw zip writer for hostile archives, dependency-free (std only), one
//! crate that the CLI tests, the adversarial suite and
//! `fuzz/fuzz_targets/bundle_read.rs` all link: any name, method, flags, declared size and unix mode,
//! duplicates and overlapping entries, which the zip crate refuses to write.

/// The archive being written: local headers and central records.
#[derive(Default)]
pub struct RawZip {
    local: Vec<u8>,
    central: Vec<u8>,
    count: u16,
}

/// A stored entry, the common case of [`ZipEntry`].
pub struct RawEntry<'a> {
    pub name: &'a [u8],
    pub data: &'a [u8],
    /// Uncompressed size to declare (defaults to the real one).
    pub declared: Option<u32>,
    pub unix_mode: u32,
}

/// An entry exactly as it is to be written.
#[derive(Clone)]
pub struct ZipEntry<'a> {
    pub name: &'a [u8],
    /// The bytes stored in the archive (already deflated for method 8).
    pub stored: &'a [u8],
    pub method: u16,
    pub crc: u32,
    /// Uncompressed size to declare.
    pub size: u32,
    pub mode: u32,
    pub flags: u16,
    /// Point the central record at an earlier local header instead of adding one.
    pub reuse: Option<u32>,
}

impl<'a> ZipEntry<'a> {
    /// `data` stored as it is, mode 0644, with its true CRC and size.
    pub fn stored(name: &'a [u8], data: &'a [u8]) -> ZipEntry<'a> {
        ZipEntry {
            name,
            stored: data,
            method: 0,
            crc: crc32(data),
            size: data.len() as u32,
            mode: 0o100644,
            flags: 0,
            reuse: None,
        }
    }
}

impl RawZip {
    pub fn new() -> RawZip {
        RawZip::default()
    }

    pub fn add(&mut self, e: RawEntry<'_>) -> &mut Self {
        self.add_entry(&ZipEntry {
            size: e.declared.unwrap_or(e.data.len() as u32),
            mode: e.unix_mode,
            ..ZipEntry::stored(e.name, e.data)
        });
        self
    }

    /// Adds an entry; returns its local header offset.
    pub fn add_entry(&mut self, e: &ZipEntry<'_>) -> u32 {
        let offset = match e.reuse {
            Some(offset) => offset,
            None => {
                let offset = self.local.len() as u32;
                let l = &mut self.local;
                l.extend_from_slice(&0x0403_4b50u32.to_le_bytes());
                l.extend_from_slice(&20u16.to_le_bytes()); // version needed
                l.extend_from_slice(&e.flags.to_le_bytes());
                l.extend_from_slice(&e.method.to_le_bytes());
                l.extend_from_slice(&0u16.to_le_bytes()); // time
                l.extend_from_slice(&0x21u16.to_le_bytes()); // date 1980-01-01
                l.extend_from_slice(&e.crc.to_le_bytes());
                l.extend_from_slice(&(e.stored.len() as u32).to_le_bytes());
                l.extend_from_slice(&e.size.to_le_bytes());
                l.extend_from_slice(&(e.name.len() as u16).to_le_bytes());
                l.extend_from_slice(&0u16.to_le_bytes()); // extra
                l.extend_from_slice(e.name);
                l.extend_from_slice(e.stored);
                offset
            }
        };
        let c = &mut self.central;
        c.extend_from_slice(&0x0201_4b50u32.to_le_bytes());
        c.extend_from_slice(&((3u16 << 8) | 20).to_le_bytes()); // made by unix
        c.extend_from_slice(&20u16.to_le_bytes());
        c.extend_from_slice(&e.flags.to_le_bytes());
        c.extend_from_slice(&e.method.to_le_bytes());
        c.extend_from_slice(&0u16.to_le_bytes());
        c.extend_from_slice(&0x21u16.to_le_bytes());
        c.extend_from_slice(&e.crc.to_le_bytes());
        c.extend_from_slice(&(e.stored.len() as u32).to_le_bytes());
        c.extend_from_slice(&e.size.to_le_bytes());
        c.extend_from_slice(&(e.name.len() as u16).to_le_bytes());
        c.extend_from_slice(&[0; 8]); // extra, comment, disk, internal attributes
        c.extend_from_slice(&(e.mode << 16).to_le_bytes());
        c.extend_from_slice(&offset.to_le_bytes());
        c.extend_from_slice(e.name);
        self.count += 1;
        offset
    }

    pub fn finish(&self) -> Vec<u8> {
        let mut out = self.local.clone();
        let cd_offset = out.len() as u32;
        out.extend_from_slice(&self.central);
        out.extend_from_slice(&0x0605_4b50u32.to_le_bytes());
        out.extend_from_slice(&0u16.to_le_bytes());
        out.extend_from_slice(&0u16.to_le_bytes());
        out.extend_from_slice(&self.count.to_le_bytes());
        out.extend_from_slice(&self.count.to_le_bytes());
        out.extend_from_slice(&(self.central.len() as u32).to_le_bytes());
        out.extend_from_slice(&cd_offset.to_le_bytes());
        out.extend_from_slice(&0u16.to_le_bytes());
        out
    }
}

pub fn crc32(data: &[u8]) -> u32 {
    let mut crc = 0xFFFF_FFFFu32;
    for &b in data {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 != 0 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}
