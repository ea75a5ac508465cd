//! W800 images against the SDK's packer (golden pairs made by wm_iot_sdk's
//! `tools/wm/bin2img.py`, tests/data/w800/README.md) and against an
//! independent implementation of the format in Python (tests/w800img.py:
//! Python's lzma and zlib.crc32), on apps of many sizes.

use std::path::{Path, PathBuf};
use std::process::Command;

use assetota_firmware::w800::{self, Layout, Options};
use sha2::{Digest, Sha256};

/// The addresses of the SDK's `partition_table_with_ota.csv`.
const WITH_OTA: Layout = Layout {
    app_offset: 0xF000,
    app_size: 0x122000,
    ota_offset: 0x131000,
    ota_size: 0xAF000,
};

fn data(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/w800")
        .join(name)
}

fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn golden_sum(name: &str) -> String {
    let sums = std::fs::read_to_string(data("SHA256SUMS")).unwrap();
    sums.lines()
        .find_map(|l| l.strip_suffix(&format!("  {name}")))
        .unwrap_or_else(|| panic!("{name} in SHA256SUMS"))
        .to_owned()
}

#[test]
fn byte_identical_to_the_sdk_packer() {
    for name in ["app-small", "app-large"] {
        let app = std::fs::read(data(&format!("{name}.bin"))).unwrap();
        assert_eq!(sha256_hex(&app), golden_sum(&format!("{name}.bin")));
        let images = w800::pack(
            Path::new(name),
            &app,
            &WITH_OTA,
            Options {
                version: "1.2.3",
                bootloader_flags: 3,
            },
        )
        .unwrap();
        // app-large.img is not committed (it is the header + app-large.bin);
        // SHA256SUMS, made beside the SDK's output, pins it.
        assert_eq!(
            sha256_hex(&images.image),
            golden_sum(&format!("{name}.img")),
            "{name}.img"
        );
        let ota = std::fs::read(data(&format!("{name}_ota.img"))).unwrap();
        assert_eq!(images.ota_image.len(), ota.len(), "{name}_ota.img length");
        assert!(images.ota_image == ota, "{name}_ota.img bytes");
        if let Ok(img) = std::fs::read(data(&format!("{name}.img"))) {
            assert!(images.image == img, "{name}.img bytes");
        }
        // The reader checks both CRCs of both headers and finds the app.
        let read = w800::read(Path::new(name), &ota).unwrap();
        assert_eq!(read.header.compress_type(), w800::COMPRESS_XZ);
        assert_eq!(read.header.img_header_addr, 0x800F000);
        assert_eq!(read.header.img_addr, 0x800F400);
        assert_eq!(read.header.upgrade_img_addr, 0x8131000);
        let inner = read.inner.as_ref().unwrap();
        assert_eq!(inner.header.compress_type(), 0);
        assert_eq!(inner.header.version(), "1.2.3");
        assert_eq!(inner.header.flags, 3);
        assert_eq!(&read.app()[..app.len()], &app[..]);
        assert!(read.app()[app.len()..].iter().all(|&b| b == 0xFF));
    }
}

/// Deterministic test apps: random, text-like and zero runs mixed.
fn app(len: usize, seed: u64) -> Vec<u8> {
    let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    let mut out = Vec::with_capacity(len);
    while out.len() < len {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        match (x >> 60) % 4 {
            0 => out.extend((0..(x % 300) as usize).map(|i| (x >> (i % 56)) as u8)),
            1 => out.extend(std::iter::repeat_n(0u8, (x % 500) as usize)),
            2 => out.extend(b"mov r0, r1; bl memcpy; ldr r2, [pc, #8]\n".iter().copied()),
            _ => out.extend(&x.to_le_bytes()),
        }
    }
    out.truncate(len);
    out
}

#[test]
fn byte_identical_to_a_python_implementation_on_many_sizes() {
    let dir = tempfile::tempdir().unwrap();
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/w800img.py");
    let layouts = [
        WITH_OTA,
        Layout {
            app_offset: 0x10000,
            app_size: 0x100000,
            ota_offset: 0x1C0000,
            ota_size: 0x30000,
        },
    ];
    let sizes = [
        1usize, 2, 3, 4, 5, 63, 64, 1023, 1024, 1025, 4099, 32_768, 32_771, 65_537, 300_001,
        1_000_003,
    ];
    for (i, &len) in sizes.iter().enumerate() {
        let layout = layouts[i % 2];
        let version = ["1.2.3", "v15-characters!", "", "0.1.0-rc.1"][i % 4];
        let flags = (i % 64) as u32;
        let bytes = app(len, i as u64 + 1);
        let bin = dir.path().join(format!("app{len}.bin"));
        std::fs::write(&bin, &bytes).unwrap();
        let prefix = dir.path().join(format!("py{len}"));
        let out = Command::new("python3")
            .arg(&script)
            .arg(&bin)
            .arg(&prefix)
            .arg(format!("{:#x}", layout.app_offset))
            .arg(format!("{:#x}", layout.ota_offset))
            .arg(version)
            .arg(flags.to_string())
            .output()
            .expect("python3 runs");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let images = w800::pack(
            &bin,
            &bytes,
            &layout,
            Options {
                version,
                bootloader_flags: flags,
            },
        )
        .unwrap();
        let py_img = std::fs::read(prefix.with_extension("img")).unwrap();
        let py_ota = std::fs::read(format!("{}_ota.img", prefix.display())).unwrap();
        assert!(images.image == py_img, "{len} B: .img differs");
        assert!(images.ota_image == py_ota, "{len} B: _ota.img differs");
        assert_eq!(images.image.len(), 64 + len.next_multiple_of(4));
        let read = w800::read(&bin, &images.ota_image).unwrap();
        assert_eq!(&read.app()[..len], &bytes[..]);
    }
}
