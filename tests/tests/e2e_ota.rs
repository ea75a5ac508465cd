//! examples/ota-riscv end to end, in real QEMU on real flash images: release
//! A's factory store boots and lists A; release B's firmware, booted on A's
//! store with B's `cargo assetota export` directory, installs exactly what B
//! has and A has not (a renamed asset is not fetched again) and lists B; a
//! power cut at every flash operation of that update (and at sampled ones of
//! a larger update, and SIGKILLs of QEMU at random moments) is followed by a
//! boot that lists B and fetches only what was not yet safe; a missing blob,
//! a corrupt blob and a store of another geometry are handled as the
//! example's README says.
//!
//! The releases are copies of the example with other assets, built once per
//! run into directories under the shared target directory (so cargo caches
//! them between runs) and shared by the tests.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

use assetota::Codec;
use assetota_store::{AssetId, Layout, SliceFlash, Store};
use assetota_tests::{cli, expected_listing, remove_stale, repo_root, shared_target_dir};

const FLASH: usize = 32 << 20;
const ERASE: u32 = 256 << 10;
const WRITE: u32 = 4;
const TARGET: &str = "riscv32imac-unknown-none-elf";

// ---------------------------------------------------------------------------
// Corpora

type Files = BTreeMap<String, Vec<u8>>;

/// xorshift64*: deterministic bytes and choices.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    fn noise(&mut self, n: usize) -> Vec<u8> {
        (0..n).map(|_| self.next() as u8).collect()
    }

    fn text(&mut self, n: usize) -> Vec<u8> {
        const WORDS: &[&str] = &[
            "asset", "firmware", "flash", "block", "erase", "program", "sector", "update",
            "device", "manifest", "verify", "commit", "resume", "deflate", "window", "power",
            "store", "release", "bundle", "export", "sha256", "payload", "offset", "range",
        ];
        let mut out = Vec::with_capacity(n + 16);
        while out.len() < n {
            out.extend_from_slice(WORDS[self.below(WORDS.len() as u64) as usize].as_bytes());
            out.push(if self.below(12) == 0 { b'\n' } else { b' ' });
        }
        out.truncate(n);
        out
    }

    fn gradient(&mut self, n: usize) -> Vec<u8> {
        let step = 1 + self.below(7) as usize;
        (0..n).map(|i| ((i / step) % 251) as u8).collect()
    }
}

fn file(files: &mut Files, name: &str, bytes: Vec<u8>) {
    files.insert(name.to_owned(), bytes);
}

/// What B changes in A.
struct Changes {
    edited: Vec<&'static str>,
    removed: Vec<&'static str>,
    added: Vec<&'static str>,
    /// (name in A, name in B), same bytes.
    renamed: Vec<(&'static str, &'static str)>,
}

fn apply(a: &Files, c: &Changes, rng: &mut Rng) -> Files {
    let mut b = a.clone();
    for name in &c.edited {
        let bytes = b.get_mut(*name).unwrap();
        let at = bytes.len() / 2;
        let edit = rng.text(200);
        bytes.splice(at..at, edit);
    }
    for name in &c.removed {
        b.remove(*name).unwrap();
    }
    for (from, to) in &c.renamed {
        let bytes = b.remove(*from).unwrap();
        b.insert((*to).to_owned(), bytes);
    }
    for name in &c.added {
        let n = 2000 + rng.below(4000) as usize;
        let bytes = if name.ends_with(".txt") || name.ends_with(".raw") {
            rng.text(n)
        } else {
            rng.noise(n)
        };
        assert!(b.insert((*name).to_owned(), bytes).is_none());
    }
    b
}

/// Seven assets; B edits two, removes one, adds two, renames one.
fn small_corpus() -> (Files, Files, Changes) {
    let mut rng = Rng(0x5EED_0001);
    let mut a = Files::new();
    file(
        &mut a,
        "config.json",
        br#"{ "device": "qemu-virt", "display": { "width": 64, "height": 32 }, "refresh_hz": 30 }"#
            .to_vec(),
    );
    file(&mut a, "text/readme.txt", rng.text(6000));
    file(&mut a, "images/splash.rgb565", rng.gradient(8192));
    file(&mut a, "fonts/digits-5x7.bin", rng.gradient(70));
    file(&mut a, "sounds/beep.raw", rng.text(1600));
    file(&mut a, "legacy/old-logo.bin", rng.noise(1500));
    file(&mut a, "data/noise.bin", rng.noise(3000));
    let changes = Changes {
        edited: vec!["config.json", "text/readme.txt"],
        removed: vec!["legacy/old-logo.bin"],
        added: vec!["images/icon.bin", "sounds/chime.raw"],
        renamed: vec![("sounds/beep.raw", "sounds/notify.raw")],
    };
    let b = apply(&a, &changes, &mut rng);
    (a, b, changes)
}

/// Forty assets, 3.7 MB: text, gradients and noise (stored raw), some of
/// them more than one 256 KiB block. B edits five (one of them two blocks),
/// removes three, adds four (one of them two blocks), renames two.
fn large_corpus() -> (Files, Files, Changes) {
    let mut rng = Rng(0x5EED_0002);
    let mut a = Files::new();
    for i in 0..26 {
        let n = 10_000 + rng.below(50_000) as usize;
        file(&mut a, &format!("texts/t{i:02}.txt"), rng.text(n));
    }
    for i in 0..8 {
        let n = 50_000 + rng.below(200_000) as usize;
        file(&mut a, &format!("noise/n{i}.bin"), rng.noise(n));
    }
    file(&mut a, "noise/big.bin", rng.noise(300_000));
    for i in 0..3 {
        file(&mut a, &format!("images/i{i}.rgb565"), rng.gradient(65_536));
    }
    for i in 0..2 {
        file(&mut a, &format!("books/b{i}.txt"), rng.text(300_000));
    }
    assert_eq!(a.len(), 40);
    let changes = Changes {
        edited: vec![
            "texts/t03.txt",
            "texts/t11.txt",
            "books/b1.txt",
            "images/i2.rgb565",
            "noise/big.bin",
        ],
        removed: vec!["texts/t20.txt", "noise/n5.bin", "images/i0.rgb565"],
        added: vec!["texts/new1.txt", "texts/new2.txt", "noise/new.bin"],
        renamed: vec![
            ("texts/t07.txt", "texts/renamed.txt"),
            ("noise/n2.bin", "noise/moved.bin"),
        ],
    };
    let mut b = apply(&a, &changes, &mut rng);
    // One more added asset of two blocks, stored raw.
    b.insert("noise/huge.bin".to_owned(), rng.noise(400_000));
    (a, b, changes)
}

// ---------------------------------------------------------------------------
// Releases

/// One asset as the bundle's manifest.json describes it.
#[derive(Debug, Clone)]
struct AssetInfo {
    name: String,
    sha256: [u8; 32],
    size: u64,
    compressed_size: u64,
    codec: Codec,
}

impl AssetInfo {
    fn id(&self) -> AssetId {
        AssetId {
            sha256: self.sha256,
            size: self.size,
            payload_len: self.compressed_size,
            codec: self.codec,
        }
    }

    fn hex(&self) -> String {
        self.sha256.iter().map(|b| format!("{b:02x}")).collect()
    }
}

/// A built release of the example: its firmware image and bundle.
struct Release {
    dir: PathBuf,
    fw_img: PathBuf,
    bundle: PathBuf,
    assets: Vec<AssetInfo>,
    /// What sha256sum and stat say about its assets, sorted by name.
    listing: String,
    /// `cargo assetota size --json`'s `total_storage_size`.
    storage: u64,
}

impl Release {
    fn asset(&self, name: &str) -> &AssetInfo {
        self.assets.iter().find(|a| a.name == name).unwrap()
    }

    fn has_sha(&self, sha: &[u8; 32]) -> bool {
        self.assets.iter().any(|a| &a.sha256 == sha)
    }

    /// The full stdout of a boot that has every asset.
    fn output(&self, fetched: u64) -> String {
        format!(
            "{}fetched {fetched} B\nstore: used {} of {FLASH} B\n",
            self.listing, self.storage
        )
    }
}

/// A second platform of another erase size, for the geometry test.
const OTHER_PLATFORM: &str = r#"
[package.metadata.assetota.platforms.other-flash]
kind = "assetota-store"
partition-size = "32 MiB"
erase-size = "64 KiB"
write-size = 4
codec = { kind = "deflate", level = 6, window-bits = 12 }
"#;

fn write_if_changed(path: &Path, bytes: &[u8]) {
    if std::fs::read(path).ok().as_deref() == Some(bytes) {
        return;
    }
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, bytes).unwrap();
}

/// Removes the files below `dir` that `keep` does not name (relative paths).
fn prune(dir: &Path, rel: &str, keep: &Files) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries {
        let e = e.unwrap();
        let name = format!("{rel}{}", e.file_name().to_str().unwrap());
        if e.file_type().unwrap().is_dir() {
            prune(&e.path(), &format!("{name}/"), keep);
            let _ = std::fs::remove_dir(e.path());
        } else if !keep.contains_key(&name) {
            std::fs::remove_file(e.path()).unwrap();
        }
    }
}

fn cli_cmd(dir: &Path) -> Command {
    let mut cmd = Command::new(cli());
    cmd.current_dir(dir)
        .arg("assetota")
        .env("CARGO_TARGET_DIR", shared_target_dir())
        .env("CARGO_TERM_COLOR", "never")
        .env_remove("ASSETOTA_PLATFORM");
    cmd
}

fn run_ok(cmd: &mut Command) -> String {
    let out = cmd.output().unwrap();
    assert!(
        out.status.success(),
        "{cmd:?} failed:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// Release builds share the uplifted binary `release/ota-riscv`: one at a time.
static BUILDS: Mutex<()> = Mutex::new(());

/// Copies the example to `target/e2e/ota-riscv/NAME` with `files` as its
/// assets, builds it with `cargo assetota build --release`, and makes FW.img.
fn build_release(name: &str, files: &Files) -> Release {
    let example = repo_root().join("examples/ota-riscv");
    let dir = shared_target_dir().join("ota-riscv").join(name);
    let toml = std::fs::read_to_string(example.join("Cargo.toml"))
        .unwrap()
        .replace(
            "path = \"../../",
            &format!("path = \"{}/", repo_root().display()),
        );
    write_if_changed(
        &dir.join("Cargo.toml"),
        format!("{toml}{OTHER_PLATFORM}").as_bytes(),
    );
    for rel in ["Cargo.lock", ".cargo/config.toml", "memory.x", "build.rs"] {
        write_if_changed(&dir.join(rel), &std::fs::read(example.join(rel)).unwrap());
    }
    let mut sources = Files::new();
    for e in std::fs::read_dir(example.join("src")).unwrap() {
        let e = e.unwrap();
        let rel = e.file_name().to_str().unwrap().to_owned();
        sources.insert(rel, std::fs::read(e.path()).unwrap());
    }
    prune(&dir.join("src"), "", &sources);
    for (rel, bytes) in &sources {
        write_if_changed(&dir.join("src").join(rel), bytes);
    }
    prune(&dir.join("assets"), "", files);
    for (rel, bytes) in files {
        write_if_changed(&dir.join("assets").join(rel), bytes);
    }

    let bundle = dir.join("release.assetota.zip");
    let elf = dir.join("ota-riscv.elf");
    {
        let _one = BUILDS.lock().unwrap_or_else(|e| e.into_inner());
        // Kept from an earlier run (the directory is reused to keep builds
        // incremental): only what this build writes may be read.
        remove_stale(&[&bundle, &elf]);
        run_ok(
            cli_cmd(&dir)
                .args(["build", "--release", "--out"])
                .arg(&bundle),
        );
        let built = shared_target_dir().join(TARGET).join("release/ota-riscv");
        std::fs::copy(built, &elf).unwrap();
    }
    let fw_img = dir.join("FW.img");
    let bin = dir.join("fw.bin");
    run_ok(
        Command::new("llvm-objcopy")
            .args(["-O", "binary"])
            .arg(&elf)
            .arg(&bin),
    );
    let mut image = std::fs::read(&bin).unwrap();
    assert!(image.len() < FLASH);
    image.resize(FLASH, 0xFF);
    write_if_changed(&fw_img, &image);

    let size: serde_json::Value = serde_json::from_str(&run_ok(
        cli_cmd(&dir)
            .args(["size", "--json", "--manifest-path"])
            .arg(dir.join("Cargo.toml")),
    ))
    .unwrap();
    let manifest: serde_json::Value =
        serde_json::from_slice(&assetota_tests::zip_entry(&bundle, "manifest.json")).unwrap();
    let assets = manifest["assets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| {
            let hex = a["sha256"].as_str().unwrap();
            let mut sha256 = [0u8; 32];
            for (i, b) in sha256.iter_mut().enumerate() {
                *b = u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).unwrap();
            }
            let codec = match a["codec"]["kind"].as_str().unwrap() {
                "none" => Codec::None,
                "deflate" => Codec::Deflate {
                    window_bits: a["codec"]["window_bits"].as_u64().unwrap() as u8,
                },
                other => panic!("codec {other}"),
            };
            AssetInfo {
                name: a["name"].as_str().unwrap().to_owned(),
                sha256,
                size: a["size"].as_u64().unwrap(),
                compressed_size: a["compressed_size"].as_u64().unwrap(),
                codec,
            }
        })
        .collect::<Vec<_>>();
    assert_eq!(assets.len(), files.len());
    Release {
        listing: expected_listing(&dir.join("assets")),
        storage: size["total_storage_size"].as_u64().unwrap(),
        dir,
        fw_img,
        bundle,
        assets,
    }
}

/// Release A, release B, A's factory store image and B's export directory.
struct Update {
    a: Release,
    b: Release,
    factory_a: PathBuf,
    export_b: PathBuf,
    changes: Changes,
}

impl Update {
    fn build(name: &str, (a, b, changes): (Files, Files, Changes)) -> Update {
        let a = build_release(&format!("{name}-a"), &a);
        let b = build_release(&format!("{name}-b"), &b);
        let factory_a = a.dir.join("factory.img");
        run_ok(
            cli_cmd(&a.dir)
                .arg("image")
                .arg(&a.bundle)
                .arg("-o")
                .arg(&factory_a),
        );
        let export_b = b.dir.join("export");
        let _ = std::fs::remove_dir_all(&export_b);
        run_ok(cli_cmd(&b.dir).arg("export").arg(&b.bundle).arg(&export_b));
        Update {
            a,
            b,
            factory_a,
            export_b,
            changes,
        }
    }

    /// The assets of B whose bytes A does not have.
    fn new_in_b(&self) -> Vec<&AssetInfo> {
        self.b
            .assets
            .iter()
            .filter(|x| !self.a.has_sha(&x.sha256))
            .collect()
    }

    /// Payload bytes the A → B update reads.
    fn payload(&self) -> u64 {
        self.new_in_b().iter().map(|a| a.compressed_size).sum()
    }

    /// B's firmware on a copy of A's factory store, updating from `dir`.
    fn boot_update(&self, store: &Path, dir: &Path, extra: &[String]) -> Boot {
        std::fs::copy(&self.factory_a, store).unwrap();
        let mut args = vec![format!("ota={}", dir.display())];
        args.extend_from_slice(extra);
        boot(&self.b.fw_img, store, &args)
    }
}

fn small() -> &'static Update {
    static U: OnceLock<Update> = OnceLock::new();
    U.get_or_init(|| Update::build("small", small_corpus()))
}

fn large() -> &'static Update {
    static U: OnceLock<Update> = OnceLock::new();
    U.get_or_init(|| Update::build("large", large_corpus()))
}

// ---------------------------------------------------------------------------
// QEMU

struct Boot {
    status: Option<i32>,
    stdout: String,
    stderr: String,
    time: Duration,
}

impl Boot {
    fn fetched(&self) -> u64 {
        self.stdout
            .lines()
            .find_map(|l| l.strip_prefix("fetched ")?.strip_suffix(" B"))
            .unwrap_or_else(|| panic!("no fetched line:\n{}", self.stdout))
            .parse()
            .unwrap()
    }

    fn flash_ops(&self) -> usize {
        self.stderr
            .lines()
            .find_map(|l| l.strip_prefix("flash ops "))
            .unwrap_or_else(|| panic!("no flash ops line:\n{}", self.stderr))
            .parse()
            .unwrap()
    }

    /// A cut boot's payload bytes before the cut (stderr).
    fn fetched_before_cut(&self) -> u64 {
        self.stderr
            .lines()
            .find_map(|l| {
                l.strip_prefix("fetched ")?
                    .strip_suffix(" B before the cut")
            })
            .unwrap_or_else(|| panic!("no fetched line:\n{}", self.stderr))
            .parse()
            .unwrap()
    }

    fn expect(&self, status: i32, stdout: &str, what: &str) {
        assert_eq!(
            (self.status, self.stdout.as_str()),
            (Some(status), stdout),
            "{what}: stderr:\n{}",
            self.stderr
        );
    }
}

/// The QEMU command of the example's README, as `PROGRAM PREFIX... qemu ...`.
fn qemu_with(prefix: &[&str], fw: &Path, store: &Path, args: &[String]) -> Command {
    let mut config = String::from("enable=on,target=native");
    for a in args {
        assert!(!a.contains(',') && !a.contains(' '), "{a}");
        config.push_str(",arg=");
        config.push_str(a);
    }
    let (program, prefix) = match prefix.split_first() {
        Some((p, rest)) => (*p, rest),
        None => ("qemu-system-riscv32", &[][..]),
    };
    let mut cmd = Command::new(program);
    cmd.args(prefix);
    if program != "qemu-system-riscv32" {
        cmd.arg("qemu-system-riscv32");
    }
    cmd.args(["-machine", "virt", "-bios", "none", "-nographic"])
        .args(["-semihosting-config", &config])
        .arg("-drive")
        .arg(format!("if=pflash,unit=0,format=raw,file={}", fw.display()))
        .arg("-drive")
        .arg(format!(
            "if=pflash,unit=1,format=raw,file={}",
            store.display()
        ))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    cmd
}

/// QEMU itself (its pid is the child's, for SIGKILL).
fn qemu(fw: &Path, store: &Path, args: &[String]) -> Command {
    qemu_with(&[], fw, store, args)
}

/// One boot to its end (killed after two minutes: none takes more than seconds).
fn boot(fw: &Path, store: &Path, args: &[String]) -> Boot {
    let start = Instant::now();
    let out = qemu_with(&["timeout", "-s", "KILL", "120"], fw, store, args)
        .output()
        .expect("qemu-system-riscv32 is installed by scripts/test.sh");
    Boot {
        status: out.status.code(),
        stdout: String::from_utf8(out.stdout).unwrap(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        time: start.elapsed(),
    }
}

/// What a store image left by a cut holds of B.
#[derive(Debug, Default)]
struct Left {
    /// Payload bytes the firmware must still fetch: for each of B's assets
    /// not committed, its payload after what the store resumes (computed by
    /// mounting a copy of the image with the same store crate).
    to_fetch: u64,
    /// Payload bytes of B's assets committed in the image.
    committed: u64,
    /// Payload bytes of partial installs the store resumes.
    resumed: u64,
}

fn left_of(store: &Path, b: &Release) -> Left {
    let mut bytes = std::fs::read(store).unwrap();
    assert_eq!(bytes.len(), FLASH);
    let layout = Layout::new(WRITE, ERASE).unwrap();
    let mut store =
        Store::<_, 128>::mount_with(SliceFlash::new(&mut bytes), 0..FLASH as u32, layout)
            .expect("the image mounts after any cut");
    let mut left = Left::default();
    for a in &b.assets {
        if store.contains(&a.sha256) {
            left.committed += a.compressed_size;
            continue;
        }
        let resume = store.install(a.id()).unwrap().resume_offset();
        left.resumed += resume;
        left.to_fetch += a.compressed_size - resume;
    }
    left
}

/// A temporary directory for store images.
fn scratch() -> tempfile::TempDir {
    tempfile::tempdir().unwrap()
}

// ---------------------------------------------------------------------------
// Tests

#[test]
fn factory_image_of_a_boots_and_lists_a_from_the_store() {
    let u = small();
    let tmp = scratch();
    let store = tmp.path().join("store.img");
    std::fs::copy(&u.factory_a, &store).unwrap();
    let run = boot(&u.a.fw_img, &store, &[]);
    run.expect(0, &u.a.output(0), "A on its factory image");
    assert_eq!(
        run.flash_ops(),
        0,
        "a boot with everything stored writes nothing"
    );
    assert_eq!(u.a.listing.lines().count(), 7);
    // The budget is exactly what the store occupies: one 256 KiB block each.
    assert_eq!(u.a.storage, 7 * u64::from(ERASE));

    // An erased flash: every asset missing, status 2, nothing written.
    let blank = tmp.path().join("blank.img");
    std::fs::write(&blank, vec![0xFF; FLASH]).unwrap();
    let run = boot(&u.a.fw_img, &blank, &[]);
    let missing: String =
        u.a.assets
            .iter()
            .map(|a| format!("missing  {}  {}\n", a.size, a.name))
            .collect();
    run.expect(
        2,
        &format!("{missing}fetched 0 B\nstore: used 0 of {FLASH} B\n"),
        "A on an erased store",
    );
    assert_eq!(std::fs::read(&blank).unwrap(), vec![0xFF; FLASH]);
}

#[test]
fn update_from_a_to_b_fetches_only_what_b_has_and_a_has_not() {
    let u = small();
    let c = &u.changes;
    assert_eq!(
        (
            c.edited.len(),
            c.removed.len(),
            c.added.len(),
            c.renamed.len()
        ),
        (2, 1, 2, 1)
    );
    // The renamed asset is the same bytes: the update does not fetch it.
    let (old, new) = c.renamed[0];
    assert_eq!(u.a.asset(old).sha256, u.b.asset(new).sha256);
    let fetched: Vec<&str> = u.new_in_b().iter().map(|a| a.name.as_str()).collect();
    let mut want: Vec<&str> = c.edited.iter().chain(&c.added).copied().collect();
    want.sort();
    assert_eq!(fetched, want);

    let tmp = scratch();
    let store = tmp.path().join("store.img");
    let update = u.boot_update(&store, &u.export_b, &[]);
    update.expect(0, &u.b.output(u.payload()), "A -> B");
    let noop = boot(
        &u.b.fw_img,
        &store,
        &[format!("ota={}", u.export_b.display())],
    );
    noop.expect(0, &u.b.output(0), "B again, nothing left to fetch");
    assert_eq!(noop.flash_ops(), 0);
    // What the update left is what B's factory image holds, asset for asset.
    let layout = Layout::new(WRITE, ERASE).unwrap();
    let mut bytes = std::fs::read(&store).unwrap();
    let mounted =
        Store::<_, 128>::mount_with(SliceFlash::new(&mut bytes), 0..FLASH as u32, layout).unwrap();
    let mut held: Vec<[u8; 32]> = mounted
        .extents()
        .inspect(|e| assert!(e.committed))
        .map(|e| e.sha256)
        .collect();
    held.sort();
    let mut want: Vec<[u8; 32]> = u.b.assets.iter().map(|a| a.sha256).collect();
    want.sort();
    assert_eq!(held, want);
    eprintln!(
        "small update: {} of B's {} assets fetched, {} B, {} flash operations, {:?} (no-op boot {:?})",
        fetched.len(),
        u.b.assets.len(),
        u.payload(),
        update.flash_ops(),
        update.time,
        noop.time
    );
}

/// Cuts at each of `cuts`, each followed by an uncut boot that must finish B
/// fetching only what was not safe yet. Two QEMUs at a time. Returns how many
/// cuts left some of the update committed, and how many left a partial
/// install that the recovery resumed.
fn cut_and_recover(u: &Update, cuts: &[usize], total_ops: usize) -> (usize, usize) {
    let biggest = u
        .new_in_b()
        .iter()
        .map(|a| a.compressed_size)
        .max()
        .unwrap();
    let next = AtomicUsize::new(0);
    let failures = Mutex::new(Vec::new());
    let lefts = Mutex::new(Vec::new());
    std::thread::scope(|s| {
        for _ in 0..2 {
            s.spawn(|| {
                let tmp = scratch();
                let store = tmp.path().join("store.img");
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(&k) = cuts.get(i) else { break };
                    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                        one_cut(u, &store, k, total_ops, biggest)
                    }));
                    match result {
                        Ok(left) => lefts.lock().unwrap().push(left),
                        Err(e) => {
                            let msg = e
                                .downcast_ref::<String>()
                                .cloned()
                                .or_else(|| e.downcast_ref::<&str>().map(|s| s.to_string()))
                                .unwrap_or_default();
                            failures.lock().unwrap().push(format!("cut={k}: {msg}"));
                        }
                    }
                }
            });
        }
    });
    let failures = failures.into_inner().unwrap();
    assert!(
        failures.is_empty(),
        "{} of {} cuts failed:\n{}",
        failures.len(),
        cuts.len(),
        failures.join("\n")
    );
    let lefts = lefts.into_inner().unwrap();
    let kept = kept_payload(u);
    (
        lefts.iter().filter(|l| l.committed > kept).count(),
        lefts.iter().filter(|l| l.resumed > 0).count(),
    )
}

/// Payload of B's assets that A's store already holds (the renamed and the
/// unchanged ones).
fn kept_payload(u: &Update) -> u64 {
    u.b.assets
        .iter()
        .filter(|a| u.a.has_sha(&a.sha256))
        .map(|a| a.compressed_size)
        .sum()
}

fn one_cut(u: &Update, store: &Path, k: usize, total_ops: usize, biggest: u64) -> Left {
    let cut = u.boot_update(store, &u.export_b, &[format!("cut={k}")]);
    // Nothing is printed before the last flash operation (gc): only the cut.
    cut.expect(
        3,
        &format!("power cut after {k} flash operations\n"),
        &format!("cut={k}"),
    );
    let before = cut.fetched_before_cut();
    let left = left_of(store, &u.b);
    let kept = kept_payload(u);
    assert!(
        left.committed >= kept,
        "cut={k}: B's assets from A are intact"
    );
    // What was committed before the cut is not fetched again.
    assert!(
        left.to_fetch <= u.payload() - (left.committed - kept),
        "cut={k}: {left:?}"
    );
    let recovery = boot(
        &u.b.fw_img,
        store,
        &[format!("ota={}", u.export_b.display())],
    );
    recovery.expect(
        0,
        &u.b.output(left.to_fetch),
        &format!("recovery after cut={k}"),
    );
    assert!(
        before + recovery.fetched() <= u.payload() + biggest,
        "cut={k}: {before} + {} B",
        recovery.fetched()
    );
    assert!(recovery.flash_ops() <= total_ops + 8, "cut={k}");
    left
}

#[test]
fn a_power_cut_at_every_flash_operation_of_the_update_loses_nothing_committed() {
    let u = small();
    let tmp = scratch();
    let store = tmp.path().join("store.img");
    let full = u.boot_update(&store, &u.export_b, &[]);
    full.expect(0, &u.b.output(u.payload()), "uncut update");
    let n = full.flash_ops();
    assert!(n > 20, "{n} flash operations");
    // One past the last operation the update completes.
    let past = u.boot_update(&store, &u.export_b, &[format!("cut={}", n + 1)]);
    past.expect(0, &u.b.output(u.payload()), "cut after the end");
    let start = Instant::now();
    let cuts: Vec<usize> = (1..=n).collect();
    let (committed, resumed) = cut_and_recover(u, &cuts, n);
    // The update's assets are committed one after the other: most cuts come
    // after some of them.
    assert!(committed > n / 2, "{committed} of {n}");
    eprintln!(
        "small update: {n} flash operations, cut at every one and recovered in {:?}: {committed} cuts after a commit, {resumed} with an install to resume",
        start.elapsed()
    );
}

#[test]
fn power_cuts_at_sampled_operations_of_a_large_update() {
    let u = large();
    let tmp = scratch();
    let store = tmp.path().join("store.img");
    let full = u.boot_update(&store, &u.export_b, &[]);
    full.expect(0, &u.b.output(u.payload()), "uncut large update");
    let n = full.flash_ops();
    // Some assets of two blocks are installed, so resumes start mid-asset.
    assert!(
        u.new_in_b()
            .iter()
            .filter(|a| a.compressed_size > u64::from(ERASE))
            .count()
            >= 2
    );
    let mut cuts: Vec<usize> = (0..20).map(|i| 1 + i * (n - 1) / 19).collect();
    cuts.dedup();
    let start = Instant::now();
    let (committed, resumed) = cut_and_recover(u, &cuts, n);
    assert!(committed > cuts.len() / 2, "{committed} of {}", cuts.len());
    // Cuts inside a two-block asset resume after its first block.
    assert!(resumed > 0);
    eprintln!(
        "large update: {n} flash operations, {} cuts recovered in {:?}: {committed} after a commit, {resumed} with an install to resume",
        cuts.len(),
        start.elapsed()
    );
}

#[test]
fn sigkill_of_qemu_at_random_moments_of_a_large_update() {
    let u = large();
    let tmp = scratch();
    let store = tmp.path().join("store.img");
    let full = u.boot_update(&store, &u.export_b, &[]);
    full.expect(0, &u.b.output(u.payload()), "uncut large update");
    let window = full.time.as_millis().max(500) as u64;
    let seed = std::env::var("OTA_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_nanos() as u64
                | 1
        });
    eprintln!("sigkill: seed {seed} (OTA_SEED={seed} repeats it), kills within {window} ms");
    let mut rng = Rng(seed);
    let mut interrupted = 0;
    for round in 0..8 {
        std::fs::copy(&u.factory_a, &store).unwrap();
        let mut child = qemu(
            &u.b.fw_img,
            &store,
            &[format!("ota={}", u.export_b.display())],
        )
        .spawn()
        .unwrap();
        let ms = 20 + rng.below(window - 20);
        std::thread::sleep(Duration::from_millis(ms));
        if child.try_wait().unwrap().is_none() {
            interrupted += 1;
        }
        child.kill().unwrap();
        child.wait().unwrap();
        let left = left_of(&store, &u.b);
        let recovery = boot(
            &u.b.fw_img,
            &store,
            &[format!("ota={}", u.export_b.display())],
        );
        recovery.expect(
            0,
            &u.b.output(left.to_fetch),
            &format!("recovery after SIGKILL at {ms} ms (round {round}, seed {seed})"),
        );
    }
    eprintln!("sigkill: {interrupted} of 8 kills interrupted the update");
}

#[test]
fn a_missing_blob_leaves_that_asset_missing_and_nothing_else() {
    let u = small();
    let tmp = scratch();
    let dir = tmp.path().join("export");
    run_ok(cli_cmd(&u.b.dir).arg("export").arg(&u.b.bundle).arg(&dir));
    let gone = u.b.asset("sounds/chime.raw");
    std::fs::remove_file(dir.join("blobs").join(gone.hex())).unwrap();
    let store = tmp.path().join("store.img");
    let run = u.boot_update(&store, &dir, &[]);
    let listing: String =
        u.b.listing
            .lines()
            .map(|l| {
                if l.ends_with(&format!("  {}", gone.name)) {
                    format!("missing  {}  {}\n", gone.size, gone.name)
                } else {
                    format!("{l}\n")
                }
            })
            .collect();
    // Only B's assets are kept: the missing one's blocks are not counted.
    let used = u.b.storage - u64::from(ERASE);
    run.expect(
        2,
        &format!(
            "{listing}fetched {} B\nstore: used {used} of {FLASH} B\n",
            u.payload() - gone.compressed_size
        ),
        "a blob missing",
    );
    assert!(
        run.stderr.contains("sounds/chime.raw: no blob"),
        "{}",
        run.stderr
    );
}

#[test]
fn a_corrupt_blob_is_refused_and_the_next_boot_fetches_only_it() {
    let u = small();
    let tmp = scratch();
    let dir = tmp.path().join("export");
    run_ok(cli_cmd(&u.b.dir).arg("export").arg(&u.b.bundle).arg(&dir));
    // One deflate stream and one asset stored raw, a byte flipped in each.
    let bad: Vec<&AssetInfo> = ["sounds/chime.raw", "images/icon.bin"]
        .iter()
        .map(|n| u.b.asset(n))
        .collect();
    assert!(matches!(bad[0].codec, Codec::Deflate { .. }));
    assert_eq!(bad[1].codec, Codec::None);
    for a in &bad {
        let path = dir.join("blobs").join(a.hex());
        let mut bytes = std::fs::read(&path).unwrap();
        let mid = bytes.len() / 2;
        bytes[mid] ^= 0x10;
        std::fs::write(&path, bytes).unwrap();
    }
    let store = tmp.path().join("store.img");
    let run = u.boot_update(&store, &dir, &[]);
    let listing: String =
        u.b.listing
            .lines()
            .map(
                |l| match bad.iter().find(|a| l.ends_with(&format!("  {}", a.name))) {
                    Some(a) => format!("missing  {}  {}\n", a.size, a.name),
                    None => format!("{l}\n"),
                },
            )
            .collect();
    let used = u.b.storage - 2 * u64::from(ERASE);
    run.expect(
        2,
        &format!(
            "{listing}fetched {} B\nstore: used {used} of {FLASH} B\n",
            u.payload()
        ),
        "two corrupt blobs",
    );
    for a in &bad {
        assert!(
            run.stderr.contains(&format!("{}: refused: ", a.name)),
            "{}",
            run.stderr
        );
    }
    // Nothing was committed for them: the next boot, from a correct export,
    // fetches exactly those two.
    let fixed = boot(
        &u.b.fw_img,
        &store,
        &[format!("ota={}", u.export_b.display())],
    );
    let want: u64 = bad.iter().map(|a| a.compressed_size).sum();
    fixed.expect(0, &u.b.output(want), "the correct blobs");
}

#[test]
fn a_store_image_of_another_geometry_is_refused_at_mount() {
    let u = small();
    let tmp = scratch();
    let store = tmp.path().join("other.img");
    run_ok(
        cli_cmd(&u.a.dir)
            .arg("image")
            .arg(&u.a.bundle)
            .args(["--platform", "other-flash", "--manifest-path"])
            .arg(u.a.dir.join("Cargo.toml"))
            .arg("-o")
            .arg(&store),
    );
    let before = std::fs::read(&store).unwrap();
    assert_eq!(before.len(), FLASH);
    let run = boot(
        &u.a.fw_img,
        &store,
        &[format!("ota={}", u.export_b.display())],
    );
    assert_eq!(run.status, Some(1), "{}{}", run.stdout, run.stderr);
    assert_eq!(run.stdout, "");
    assert!(
        run.stderr.contains("cannot mount the store: ") && run.stderr.contains("65536-byte blocks"),
        "{}",
        run.stderr
    );
    assert!(
        std::fs::read(&store).unwrap() == before,
        "mount never writes"
    );
}

#[test]
fn update_cost_against_the_bundle_and_a_whole_image() {
    for (what, u) in [("small", small()), ("large", large())] {
        let tmp = scratch();
        let store = tmp.path().join("store.img");
        let update = u.boot_update(&store, &u.export_b, &[]);
        update.expect(0, &u.b.output(u.payload()), what);
        let noop = boot(&u.b.fw_img, &store, &[]);
        noop.expect(0, &u.b.output(0), what);
        let bundle = std::fs::metadata(&u.b.bundle).unwrap().len();
        let all_payloads: u64 = u.b.assets.iter().map(|a| a.compressed_size).sum();
        let raw: u64 = u.b.assets.iter().map(|a| a.size).sum();
        let sent = update.fetched();
        // Sent: the new payloads only, less than every payload of B, which
        // is less than the bundle (raw assets) and the store image.
        assert!(sent < all_payloads && all_payloads < bundle && bundle < FLASH as u64);
        eprintln!(
            "{what}: A -> B sent {sent} B ({} of {} assets) = {:.1} % of B's payloads ({all_payloads} B), {:.1} % of the bundle ({bundle} B, assets {raw} B raw), {:.2} % of the store image ({FLASH} B; {} B used); update boot {:?}, no-op boot {:?}",
            u.new_in_b().len(),
            u.b.assets.len(),
            100.0 * sent as f64 / all_payloads as f64,
            100.0 * sent as f64 / bundle as f64,
            100.0 * sent as f64 / FLASH as f64,
            u.b.storage,
            update.time,
            noop.time,
        );
    }
}
