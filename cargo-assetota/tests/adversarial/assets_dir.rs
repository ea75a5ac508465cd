//! A hostile assets directory, through `build` (real cargo: build.rs refuses
//! it), `size` and `bundle FIRMWARE --assets DIR`: exit 1 naming the file, the
//! previous bundle untouched, nothing written in the project, the working
//! directory or outside.

use std::os::unix::fs::symlink;
use std::path::{Path, PathBuf};

use crate::harness::*;
use crate::support::*;

struct Fixture {
    p: Project,
    /// Where `bundle -o` would write, and the working directory of the runs.
    work: tempfile::TempDir,
    /// A directory outside the project that links point into.
    outside: tempfile::TempDir,
    exe: PathBuf,
}

impl Fixture {
    fn new(name: &str) -> Fixture {
        let p = Project::host(name, META).with_assets();
        ok(cli(p.path(), &["build"]));
        let outside = tempfile::tempdir().unwrap();
        std::fs::write(outside.path().join("secret"), b"not an asset\n").unwrap();
        Fixture {
            exe: p.exe(None, "debug"),
            p,
            work: tempfile::tempdir().unwrap(),
            outside,
        }
    }

    fn assets(&self) -> PathBuf {
        self.p.path().join("assets")
    }

    /// Runs `commands` against the hostile directory `setup` made, expects
    /// each to be refused with exit 1 and `needles`, then checks that nothing
    /// changed anywhere, and undoes `setup` with `cleanup`.
    fn refuse(
        &self,
        label: &str,
        commands: &[&str],
        setup: impl FnOnce(&Path),
        needles: &[&str],
        cleanup: impl FnOnce(&Path),
    ) {
        setup(&self.assets());
        let project = tree(self.p.path());
        let work = tree(self.work.path());
        let outside = tree(self.outside.path());
        let outs = outputs(&self.p, None, "debug");
        let exe = self.exe.to_str().unwrap();
        let assets = self.assets();
        let out = self.work.path().join("x.assetota.zip");
        for command in commands {
            let run = match *command {
                "build" => cli(self.p.path(), &["build"]),
                "size" => cli(self.p.path(), &["size"]),
                "bundle" => cli(
                    self.work.path(),
                    &[
                        "bundle",
                        exe,
                        "--assets",
                        assets.to_str().unwrap(),
                        "-o",
                        out.to_str().unwrap(),
                    ],
                ),
                other => unreachable!("{other}"),
            };
            eprintln!("{label}: {command}: exit {}", run.code);
            refused(&run, 1, needles);
            if *command == "build" {
                assert!(
                    run.stderr.contains("`cargo build` failed"),
                    "{label}: {}",
                    run.stderr
                );
            }
        }
        unchanged(&format!("{label}: project"), &project, &tree(self.p.path()));
        unchanged(
            &format!("{label}: working dir"),
            &work,
            &tree(self.work.path()),
        );
        unchanged(
            &format!("{label}: outside"),
            &outside,
            &tree(self.outside.path()),
        );
        assert_eq!(
            outputs(&self.p, None, "debug"),
            outs,
            "{label}: the bundle or its temporary files changed"
        );
        cleanup(&self.assets());
    }
}

const ALL: &[&str] = &["build", "size", "bundle"];

fn rm(path: &Path) {
    match std::fs::symlink_metadata(path) {
        Ok(m) if m.is_dir() => std::fs::remove_dir_all(path).unwrap(),
        Ok(_) => std::fs::remove_file(path).unwrap(),
        Err(_) => {}
    }
}

fn mkfifo(path: &Path) {
    let status = std::process::Command::new("mkfifo")
        .arg(path)
        .status()
        .unwrap();
    assert!(status.success());
}

#[test]
fn symlink_loops_are_refused() {
    let f = Fixture::new("adv_assets_loop");
    // A directory link back up: the walker would go round forever.
    f.refuse(
        "loop via ..",
        ALL,
        |a| {
            std::fs::create_dir(a.join("d")).unwrap();
            symlink("..", a.join("d/up")).unwrap();
        },
        &["symlink loop", "d/up"],
        |a| rm(&a.join("d")),
    );
    // A link to itself.
    f.refuse(
        "self link",
        ALL,
        |a| symlink("self.bin", a.join("self.bin")).unwrap(),
        &["self.bin", "Too many levels of symbolic links"],
        |a| rm(&a.join("self.bin")),
    );
    // Two links to each other.
    f.refuse(
        "link pair",
        &["size"],
        |a| {
            symlink("pong.bin", a.join("ping.bin")).unwrap();
            symlink("ping.bin", a.join("pong.bin")).unwrap();
        },
        &["Too many levels of symbolic links"],
        |a| {
            rm(&a.join("ping.bin"));
            rm(&a.join("pong.bin"));
        },
    );
}

#[test]
fn symlinks_leaving_the_assets_dir_are_refused() {
    let f = Fixture::new("adv_assets_escape");
    let secret = f.outside.path().join("secret");
    let secret_s = secret.to_str().unwrap().to_owned();
    f.refuse(
        "file outside",
        ALL,
        |a| symlink(&secret, a.join("secret.bin")).unwrap(),
        &[
            "secret.bin",
            "points outside the assets directory",
            &secret_s,
        ],
        |a| rm(&a.join("secret.bin")),
    );
    let outside = f.outside.path().to_owned();
    f.refuse(
        "directory outside",
        ALL,
        |a| symlink(&outside, a.join("elsewhere")).unwrap(),
        &["elsewhere", "points outside the assets directory"],
        |a| rm(&a.join("elsewhere")),
    );
    // Relative, to the package's own files.
    f.refuse(
        "relative ..",
        &["build", "size"],
        |a| symlink("../Cargo.toml", a.join("manifest.toml")).unwrap(),
        &["manifest.toml", "points outside the assets directory"],
        |a| rm(&a.join("manifest.toml")),
    );
    // A dangling link.
    f.refuse(
        "dangling",
        &["size"],
        |a| symlink("nowhere.bin", a.join("dangling.bin")).unwrap(),
        &["dangling.bin"],
        |a| rm(&a.join("dangling.bin")),
    );
}

/// The policy for links that stay inside: followed, under the link's name.
#[test]
fn a_symlink_to_a_directory_inside_is_followed_under_its_name() {
    let p = Project::host("adv_assets_dirlink", META).with_assets();
    p.write("assets/fonts/small.bin", [7u8; 300]);
    symlink("fonts", p.path().join("assets/alias")).unwrap();
    let run = ok(cli(p.path(), &["build"]));
    assert!(run.stderr.contains("5 assets"), "{}", run.stderr);
    let bundle = p.bundle(None, "debug");
    ok(cli(p.path(), &["verify", bundle.to_str().unwrap()]));
    let names: Vec<String> = zip_entries(&bundle).into_iter().map(|(n, _)| n).collect();
    assert!(
        names.contains(&"assets/alias/small.bin".to_owned())
            && names.contains(&"assets/fonts/small.bin".to_owned()),
        "{names:?}"
    );
    assert!(outputs(&p, None, "debug").temps.is_empty());
    // The link itself is still a link.
    assert!(
        std::fs::symlink_metadata(p.path().join("assets/alias"))
            .unwrap()
            .file_type()
            .is_symlink()
    );
}

#[test]
fn fifos_sockets_and_device_files_are_refused_without_blocking() {
    let f = Fixture::new("adv_assets_special");
    f.refuse(
        "fifo",
        ALL,
        |a| mkfifo(&a.join("pipe.bin")),
        &["pipe.bin", "is not a regular file (a FIFO)"],
        |a| rm(&a.join("pipe.bin")),
    );
    // The walker reads ignore files whole: a FIFO there used to block forever.
    f.refuse(
        "fifo as .gitignore",
        ALL,
        |a| mkfifo(&a.join(".gitignore")),
        &[".gitignore", "is a FIFO"],
        |a| rm(&a.join(".gitignore")),
    );
    f.refuse(
        "socket",
        &["size"],
        |a| {
            let listener = std::os::unix::net::UnixListener::bind(a.join("sock.bin")).unwrap();
            std::mem::forget(listener);
        },
        &["sock.bin", "(a socket)"],
        |a| rm(&a.join("sock.bin")),
    );
    if !is_root() {
        cannot_run("mknod needs root: the device-file cases cannot run");
        return;
    }
    let mknod = |path: &Path| {
        let status = std::process::Command::new("mknod")
            .arg(path)
            .args(["c", "1", "3"]) // /dev/null
            .status()
            .unwrap();
        assert!(status.success());
    };
    f.refuse(
        "device",
        ALL,
        |a| mknod(&a.join("null.bin")),
        &["null.bin", "(a device file)"],
        |a| rm(&a.join("null.bin")),
    );
    // ... and a link to /dev/zero as an ignore file used to eat all memory.
    f.refuse(
        "/dev/zero as .assetotaignore",
        ALL,
        |a| {
            std::fs::create_dir(a.join("sub")).unwrap();
            std::fs::write(a.join("sub/ok.bin"), b"ok").unwrap();
            symlink("/dev/zero", a.join("sub/.assetotaignore")).unwrap();
        },
        &["sub/.assetotaignore", "is a device file"],
        |a| rm(&a.join("sub")),
    );
    f.refuse(
        "huge .gitignore",
        &["size"],
        |a| {
            let file = std::fs::File::create(a.join(".gitignore")).unwrap();
            file.set_len(2 << 20).unwrap();
        },
        &[".gitignore", "2097152 bytes long"],
        |a| rm(&a.join(".gitignore")),
    );
}

#[test]
fn names_are_refused_naming_the_file() {
    use std::os::unix::ffi::OsStrExt;
    let f = Fixture::new("adv_assets_names");
    f.refuse(
        "non-UTF-8",
        ALL,
        |a| {
            let name = std::ffi::OsStr::from_bytes(b"bad\xff.bin");
            std::fs::write(a.join(name), b"x").unwrap();
        },
        &["bad", ".bin", "not valid UTF-8"],
        |a| rm(&a.join(std::ffi::OsStr::from_bytes(b"bad\xff.bin"))),
    );
    let nfc = "caf\u{e9}.txt";
    let nfd = "cafe\u{301}.txt";
    f.refuse(
        "NFC/NFD pair",
        ALL,
        |a| {
            std::fs::write(a.join(nfc), b"composed").unwrap();
            std::fs::write(a.join(nfd), b"decomposed").unwrap();
        },
        &[
            "both become the asset name `caf\u{e9}.txt`",
            "same name after Unicode NFC normalization",
        ],
        |a| {
            rm(&a.join(nfc));
            rm(&a.join(nfd));
        },
    );
    f.refuse(
        "case pair",
        ALL,
        |a| {
            std::fs::write(a.join("Logo.bin"), b"upper").unwrap();
            std::fs::write(a.join("logo.BIN"), b"lower").unwrap();
        },
        &["Logo.bin", "logo.BIN", "when letter case is ignored"],
        |a| {
            rm(&a.join("Logo.bin"));
            rm(&a.join("logo.BIN"));
        },
    );
    // One path component cannot exceed 255 bytes on Linux: 256 bytes in two.
    let dir = "d".repeat(200);
    let file = "f".repeat(55);
    f.refuse(
        "256-byte name",
        ALL,
        |a| {
            std::fs::create_dir(a.join(&dir)).unwrap();
            std::fs::write(a.join(&dir).join(&file), b"x").unwrap();
        },
        &[
            &file,
            "256 bytes long",
            "the limit for this platform is 255 bytes",
        ],
        |a| rm(&a.join(&dir)),
    );
    let long = "e".repeat(255);
    f.refuse(
        "262-byte name",
        &["size"],
        |a| {
            std::fs::create_dir(a.join("nested")).unwrap();
            std::fs::write(a.join("nested").join(&long), b"x").unwrap();
        },
        &["262 bytes long"],
        |a| rm(&a.join("nested")),
    );
    f.refuse(
        "reserved CON.txt",
        ALL,
        |a| std::fs::write(a.join("CON.txt"), b"x").unwrap(),
        &["CON.txt", "reserved device name on Windows"],
        |a| rm(&a.join("CON.txt")),
    );
    for name in ["nul", "com1.bin", "LPT9", "aux.tar.gz", "sub/PRN.json"] {
        f.refuse(
            &format!("reserved {name}"),
            &["size"],
            |a| {
                std::fs::create_dir_all(a.join(name).parent().unwrap()).unwrap();
                std::fs::write(a.join(name), b"x").unwrap();
            },
            &[
                name.rsplit('/').next().unwrap(),
                "reserved device name on Windows",
            ],
            |a| {
                rm(&a.join(name));
                rm(&a.join("sub"));
            },
        );
    }
}
