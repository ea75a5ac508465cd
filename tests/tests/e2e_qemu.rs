//! Real firmware: examples/cortex-m (thumbv7m, QEMU lm3s6965evb) and
//! examples/riscv (riscv32imac, QEMU virt) print their embedded manifest over
//! semihosting; it must equal what sha256sum and stat say about the assets,
//! in debug builds and in release builds with fat LTO and opt-level "z".

use assetota_tests::{expected_listing, repo_root, shared_target_dir};
use std::path::PathBuf;
use std::process::Command;

struct Firmware {
    example: &'static str,
    target: &'static str,
    bin: &'static str,
    qemu: &'static [&'static str],
}

const CORTEX_M: Firmware = Firmware {
    example: "cortex-m",
    target: "thumbv7m-none-eabi",
    bin: "cortex-m-assets",
    qemu: &[
        "qemu-system-arm",
        "-cpu",
        "cortex-m3",
        "-machine",
        "lm3s6965evb",
    ],
};

const RISCV: Firmware = Firmware {
    example: "riscv",
    target: "riscv32imac-unknown-none-elf",
    bin: "riscv-assets",
    qemu: &[
        "qemu-system-riscv32",
        "-machine",
        "virt",
        "-cpu",
        "rv32",
        "-bios",
        "none",
    ],
};

impl Firmware {
    fn dir(&self) -> PathBuf {
        repo_root().join("examples").join(self.example)
    }

    /// Builds with the example's .cargo/config.toml (target, linker script).
    fn build(&self, release: bool) -> PathBuf {
        let mut cmd = assetota_tests::cargo();
        cmd.current_dir(self.dir()).arg("build");
        if release {
            cmd.arg("--release");
            let manifest = std::fs::read_to_string(self.dir().join("Cargo.toml")).unwrap();
            assert!(manifest.contains("opt-level = \"z\"") && manifest.contains("lto = \"fat\""));
        }
        let out = cmd.output().unwrap();
        assert!(
            out.status.success(),
            "firmware build failed:\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let profile = if release { "release" } else { "debug" };
        shared_target_dir()
            .join(self.target)
            .join(profile)
            .join(self.bin)
    }

    fn run(&self, elf: &PathBuf) -> (String, String) {
        let out = Command::new("timeout")
            .arg("60")
            .args(self.qemu)
            .args([
                "-nographic",
                "-semihosting-config",
                "enable=on,target=native",
                "-kernel",
            ])
            .arg(elf)
            .output()
            .expect("QEMU is installed by scripts/test.sh");
        let stdout = String::from_utf8(out.stdout).unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
        assert!(
            out.status.success(),
            "firmware exited with {:?}\nstdout:\n{stdout}\nstderr:\n{stderr}",
            out.status
        );
        (stdout, stderr)
    }

    fn check(&self, release: bool) {
        let elf = self.build(release);
        assert_eq!(
            section_flags(&elf),
            "AR",
            "allocated and retained (SHF_GNU_RETAIN)"
        );
        let (stdout, stderr) = self.run(&elf);
        assert_eq!(
            stdout,
            expected_listing(&repo_root().join("examples/cortex-m/assets"))
        );
        assert_eq!(stdout.lines().count(), 3);
        assert!(
            stderr.contains(
                "self-check: verify accepts true, rejects corrupt copy true, missing() true"
            ),
            "{stderr}"
        );
    }
}

fn section_flags(elf: &PathBuf) -> String {
    let out = Command::new("llvm-readelf")
        .arg("-S")
        .arg(elf)
        .output()
        .unwrap();
    let table = String::from_utf8(out.stdout).unwrap();
    let line = table
        .lines()
        .find(|l| l.contains(" .assetota "))
        .unwrap_or_else(|| panic!("no .assetota section:\n{table}"));
    line.split_whitespace().rev().nth(3).unwrap().to_owned()
}

#[test]
fn cortex_m_debug_firmware_prints_its_manifest() {
    CORTEX_M.check(false);
}

#[test]
fn cortex_m_release_firmware_with_fat_lto_and_opt_z_keeps_the_section() {
    CORTEX_M.check(true);
}

#[test]
fn riscv_debug_firmware_prints_its_manifest() {
    RISCV.check(false);
}

#[test]
fn riscv_release_firmware_with_fat_lto_and_opt_z_keeps_the_section() {
    RISCV.check(true);
}

/// A project from `cargo assetota new --template cortex-m` boots in QEMU and
/// prints what sha256sum says about its assets, after an asset is added.
#[test]
fn cortex_m_template_passes_the_same_check() {
    let parent = tempfile::tempdir().unwrap();
    let out = Command::new(assetota_tests::cli())
        .current_dir(parent.path())
        .args([
            "assetota",
            "new",
            "fw",
            "--name",
            "e2e_tpl_fw",
            "--template",
            "cortex-m",
        ])
        .env("ASSETOTA_CRATES_PATH", repo_root().join("build-support"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let dir = parent.path().join("fw");
    std::fs::create_dir_all(dir.join("assets/icons")).unwrap();
    std::fs::write(dir.join("assets/icons/dot.bin"), [0xAAu8; 300]).unwrap();

    let template = Firmware {
        example: "",
        target: "thumbv7m-none-eabi",
        bin: "e2e_tpl_fw",
        qemu: CORTEX_M.qemu,
    };
    for release in [false, true] {
        let mut cmd = assetota_tests::cargo();
        cmd.current_dir(&dir).arg("build");
        if release {
            cmd.arg("--release");
        }
        let out = cmd.output().unwrap();
        assert!(
            out.status.success(),
            "template build failed:\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let profile = if release { "release" } else { "debug" };
        let elf = shared_target_dir()
            .join(template.target)
            .join(profile)
            .join(template.bin);
        assert_eq!(section_flags(&elf), "AR");
        let (stdout, _) = template.run(&elf);
        assert_eq!(stdout, expected_listing(&dir.join("assets")));
        assert_eq!(stdout.lines().count(), 2);
    }
}

/// examples/cortex-m with twelve assets (compressible and not, nested,
/// empty): the firmware reads every one back through the store image the
/// build placed in flash and prints what sha256sum and stat say; the store's
/// own used-bytes figure equals `cargo assetota size --json`'s
/// `total_storage_size`. The example's fixed self-check once failed beyond
/// eight assets.
#[test]
fn cortex_m_example_reads_any_number_of_assets_through_the_store() {
    let root = repo_root();
    let example = root.join("examples/cortex-m");
    let dir = shared_target_dir().join("cortex-m-many");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("src")).unwrap();
    std::fs::create_dir_all(dir.join(".cargo")).unwrap();
    let repo = root.display().to_string();
    let toml = std::fs::read_to_string(example.join("Cargo.toml"))
        .unwrap()
        .replace("../../build-support", &format!("{repo}/build-support"))
        .replace("name = \"cortex-m-assets\"", "name = \"cortex-m-many\"");
    std::fs::write(dir.join("Cargo.toml"), toml).unwrap();
    let main = std::fs::read_to_string(example.join("src/main.rs"))
        .unwrap()
        .replace(
            "../../firmware-shared/report.rs",
            &format!("{repo}/examples/firmware-shared/report.rs"),
        );
    std::fs::write(dir.join("src/main.rs"), main).unwrap();
    for f in ["build.rs", "memory.x", "Cargo.lock", ".cargo/config.toml"] {
        std::fs::copy(example.join(f), dir.join(f)).unwrap();
    }
    let assets = dir.join("assets");
    std::fs::create_dir_all(assets.join("icons/small")).unwrap();
    let mut x = 0x1234_5678u32;
    let mut noise = |n: usize| -> Vec<u8> {
        (0..n)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 17;
                x ^= x << 5;
                x as u8
            })
            .collect()
    };
    for i in 0..6 {
        let text = format!("asset {i} line\n").repeat(40 + 90 * i);
        std::fs::write(assets.join(format!("text-{i}.txt")), text).unwrap();
    }
    for (i, size) in [1usize, 700, 1013, 2500].into_iter().enumerate() {
        std::fs::write(assets.join(format!("icons/noise-{i}.bin")), noise(size)).unwrap();
    }
    std::fs::write(assets.join("icons/small/dot.bin"), [0xAAu8; 300]).unwrap();
    std::fs::write(assets.join("empty.txt"), b"").unwrap();

    let out = assetota_tests::cargo()
        .current_dir(&dir)
        .arg("build")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "build failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let elf = shared_target_dir().join("thumbv7m-none-eabi/debug/cortex-m-many");
    let (stdout, stderr) = CORTEX_M.run(&elf);
    assert_eq!(stdout, expected_listing(&assets));
    assert_eq!(stdout.lines().count(), 12);
    assert!(
        stderr
            .contains("self-check: verify accepts true, rejects corrupt copy true, missing() true"),
        "{stderr}"
    );

    let size = Command::new(assetota_tests::cli())
        .current_dir(&dir)
        .args(["assetota", "size", "--json"])
        .env("CARGO_TARGET_DIR", shared_target_dir())
        .output()
        .unwrap();
    assert!(
        size.status.success(),
        "{}",
        String::from_utf8_lossy(&size.stderr)
    );
    let json: serde_json::Value = serde_json::from_slice(&size.stdout).unwrap();
    let total = json["total_storage_size"].as_u64().unwrap();
    let used_line = stderr
        .lines()
        .find(|l| l.starts_with("store: used "))
        .unwrap_or_else(|| panic!("no store line:\n{stderr}"));
    assert_eq!(used_line, format!("store: used {total} of 16384 B"));
    // Incompressible assets are stored raw: their compressed size is their size.
    for a in json["assets"].as_array().unwrap() {
        if a["name"].as_str().unwrap().starts_with("icons/noise-") {
            assert_eq!(a["codec"], "none", "{a}");
            assert_eq!(a["compressed_size"], a["size"], "{a}");
        }
    }
}
