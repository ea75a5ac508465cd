//! Sizes and hashes checked against independent tools: `sha256sum`,
//! Node's zlib (`zlib.deflateRawSync`, what Particle's cloud measures asset
//! modules with), the `xz` CLI, and miniz_oxide as a second DEFLATE decoder.
//! Without `node` the deflate tests fail, unless ASSETOTA_SKIP_NODE=1.

use assetota_core::codec::{Codec, DEFAULT_XZ, PARTICLE_DEFLATE};
use assetota_core::measure::measure_file;
use assetota_test_oracles::node;
use assetota_test_oracles::process::output_with_input;
use std::io::Write;
use std::path::Path;
use std::process::Command;

/// Deterministic test data of several kinds: text, random, runs, an image-like ramp.
fn corpus() -> Vec<(&'static str, Vec<u8>)> {
    let mut seed = 0x2545_f491_4f6c_dd1du64;
    let mut random = vec![0u8; 200_000];
    for b in random.iter_mut() {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        *b = seed as u8;
    }
    let text: Vec<u8> = (0..20_000)
        .flat_map(|i| format!("{{\"id\":{i},\"name\":\"sensor-{}\"}},\n", i % 97).into_bytes())
        .collect();
    let ramp: Vec<u8> = (0..320u32 * 240)
        .flat_map(|p| {
            (((p % 320) * 31 / 320) as u16 | (((p / 320) * 63 / 240) as u16) << 5).to_le_bytes()
        })
        .collect();
    vec![
        ("empty", Vec::new()),
        ("one byte", vec![b'x']),
        ("hello", b"hello\n".to_vec()),
        ("random", random),
        ("json text", text),
        ("rgb565 ramp", ramp),
        ("zeros", vec![0u8; 3 << 20]),
    ]
}

fn tool_output(program: &str, args: &[&str], input: &[u8]) -> Vec<u8> {
    let out = output_with_input(
        Command::new(program).args(args),
        input,
        &format!("cannot run {program}"),
    );
    assert!(out.status.success(), "{program} {args:?} failed");
    out.stdout
}

fn node_raw_deflate_len(data: &[u8], level: u32, wbits: u8) -> u64 {
    let script = format!(
        "const c=[];process.stdin.on('data',d=>c.push(d)).on('end',()=>console.log(require('zlib').deflateRawSync(Buffer.concat(c),{{level:{level},windowBits:{wbits}}}).length))"
    );
    String::from_utf8(node::run("node", &["-e", &script], None, data))
        .unwrap()
        .trim()
        .parse()
        .unwrap()
}

fn encode(codec: Codec, data: &[u8]) -> Vec<u8> {
    let mut encoder = codec.encoder(Vec::new()).unwrap();
    encoder.write_all(data).unwrap();
    encoder.finish().unwrap()
}

#[test]
fn deflate_size_equals_node_zlib_to_the_byte() {
    if !node::available() {
        return;
    }
    for (what, data) in corpus() {
        for (level, wbits) in [(6, 15), (9, 15), (6, 10), (1, 9)] {
            let codec = Codec::Deflate {
                level,
                window_bits: wbits,
            };
            let ours = codec.encoded_len(&data).unwrap();
            let node = node_raw_deflate_len(&data, level, wbits);
            assert_eq!(ours, node, "{what}: level {level} window {wbits}");
        }
    }
}

#[test]
fn deflate_output_inflates_back_with_a_second_decoder() {
    for (what, data) in corpus() {
        let packed = encode(PARTICLE_DEFLATE, &data);
        let unpacked = miniz_oxide::inflate::decompress_to_vec(&packed)
            .unwrap_or_else(|e| panic!("{what}: {e:?}"));
        assert!(unpacked == data, "{what}: round trip differs");
        assert_eq!(
            packed.len() as u64,
            PARTICLE_DEFLATE.encoded_len(&data).unwrap()
        );
    }
}

#[test]
#[cfg_attr(not(feature = "xz"), ignore = "needs the xz feature")]
fn xz_output_is_what_the_xz_cli_writes() {
    for (what, data) in corpus() {
        let ours = encode(DEFAULT_XZ, &data);
        let cli = tool_output("xz", &["-6", "--format=xz", "--check=crc64", "-c"], &data);
        assert_eq!(ours.len(), cli.len(), "{what}: size");
        assert!(ours == cli, "{what}: bytes differ from xz -6");
        let back = tool_output("xz", &["-d", "-c"], &ours);
        assert!(back == data, "{what}: xz -d round trip");
    }
}

#[test]
#[cfg_attr(not(feature = "xz"), ignore = "needs the xz feature")]
fn xz_dictionary_size_is_honoured() {
    let (_, data) = corpus()
        .into_iter()
        .find(|(w, _)| *w == "json text")
        .unwrap();
    let codec = Codec::Xz {
        preset: 6,
        dict_size: 64 << 10,
    };
    let ours = encode(codec, &data);
    let cli = tool_output(
        "xz",
        &[
            "--format=xz",
            "--check=crc64",
            "--lzma2=preset=6,dict=64KiB",
            "-c",
        ],
        &data,
    );
    assert!(
        ours == cli,
        "64 KiB dictionary output differs from xz --lzma2=preset=6,dict=64KiB"
    );
    // A decoder limited to a 64 KiB dictionary's memory can decode it.
    let back = tool_output("xz", &["-d", "-c", "--memlimit=1MiB"], &ours);
    assert!(back == data);
}

#[test]
fn none_is_the_identity() {
    for (_, data) in corpus() {
        assert_eq!(Codec::None.encoded_len(&data).unwrap(), data.len() as u64);
    }
}

fn sha256sum(path: &Path) -> String {
    let out = Command::new("sha256sum").arg(path).output().unwrap();
    String::from_utf8(out.stdout)
        .unwrap()
        .split_whitespace()
        .next()
        .unwrap()
        .to_owned()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[test]
fn measure_file_agrees_with_sha256sum_stat_and_node_zlib() {
    let node = node::available();
    let dir = tempfile::tempdir().unwrap();
    for (what, data) in corpus() {
        let path = dir.path().join(what.replace(' ', "_"));
        std::fs::write(&path, &data).unwrap();
        let m = measure_file(what, &path, PARTICLE_DEFLATE).unwrap();
        assert_eq!(hex(&m.sha256), sha256sum(&path), "{what}");
        assert_eq!(m.size, std::fs::metadata(&path).unwrap().len(), "{what}");
        if node {
            assert_eq!(
                m.compressed_size,
                node_raw_deflate_len(&data, 6, 15),
                "{what}"
            );
        }
    }
}
