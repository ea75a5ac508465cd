//! Writes two raw-deflate payloads of the same text (window 12 and 15) and
//! their SHA-256 into OUT_DIR for the firmware to install.
use std::io::Write;
use std::path::PathBuf;

use sha2::Digest;

fn main() {
    let out = PathBuf::from(std::env::var_os("OUT_DIR").unwrap());
    std::fs::copy("memory.x", out.join("memory.x")).unwrap();
    println!("cargo::rustc-link-search={}", out.display());
    println!("cargo::rerun-if-changed=memory.x");
    println!("cargo::rerun-if-changed=build.rs");
    // 6 KiB of text with long-distance repeats, so a 32 KiB window is really used.
    let mut raw = Vec::new();
    let mut x = 12345u32;
    while raw.len() < 6144 {
        x = x.wrapping_mul(1103515245).wrapping_add(12345);
        let word: &[u8] = [
            b"flash ".as_slice(),
            b"asset ",
            b"store ",
            b"window ",
            b"\n",
        ][(x >> 16) as usize % 5];
        raw.extend_from_slice(word);
    }
    raw.truncate(6144);
    for bits in [12u8, 15] {
        let mut c =
            flate2::Compress::new_with_window_bits(flate2::Compression::new(6), false, bits);
        let mut payload = Vec::with_capacity(8192);
        c.compress_vec(&raw, &mut payload, flate2::FlushCompress::Finish)
            .unwrap();
        std::fs::File::create(out.join(format!("payload{bits}.bin")))
            .unwrap()
            .write_all(&payload)
            .unwrap();
    }
    let sha: [u8; 32] = sha2::Sha256::digest(&raw).into();
    std::fs::write(out.join("raw.sha256"), sha).unwrap();
    std::fs::write(out.join("raw.len"), (raw.len() as u64).to_le_bytes()).unwrap();
}
