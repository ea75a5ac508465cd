//! The scanner on real directory trees: ignore rules, junk, name rules,
//! symlinks and special files.

use assetota_core::names::NameError;
use assetota_core::scan::{ScanError, ScanOptions, scan};
use std::fs;
use std::path::Path;

fn write(root: &Path, rel: &str, data: &[u8]) {
    let path = root.join(rel);
    fs::create_dir_all(path.parent().unwrap()).unwrap();
    fs::write(path, data).unwrap();
}

fn options(dir: &Path) -> ScanOptions {
    ScanOptions {
        dir: dir.to_owned(),
        exclude: Vec::new(),
        max_name_len: 255,
    }
}

fn names(dir: &Path, exclude: &[&str]) -> Vec<String> {
    let mut o = options(dir);
    o.exclude = exclude.iter().map(|s| s.to_string()).collect();
    scan(&o).unwrap().into_iter().map(|f| f.name).collect()
}

#[test]
fn lists_files_sorted_with_subdirectories_kept() {
    let t = tempfile::tempdir().unwrap();
    for rel in [
        "z.bin",
        "a.png",
        "fonts/small.bin",
        "fonts/big/huge.bin",
        "B.json",
    ] {
        write(t.path(), rel, b"x");
    }
    assert_eq!(
        names(t.path(), &[]),
        [
            "B.json",
            "a.png",
            "fonts/big/huge.bin",
            "fonts/small.bin",
            "z.bin"
        ]
    );
}

#[test]
fn skips_hidden_files_and_os_junk() {
    let t = tempfile::tempdir().unwrap();
    for rel in [
        "keep.txt",
        ".hidden",
        ".git/config",
        ".DS_Store",
        "Thumbs.db",
        "desktop.ini",
        "__MACOSX/keep.txt",
        "sub/.DS_Store",
    ] {
        write(t.path(), rel, b"x");
    }
    assert_eq!(names(t.path(), &[]), ["keep.txt"]);
}

#[test]
fn honours_gitignore_assetotaignore_and_exclude_without_a_git_repo() {
    let t = tempfile::tempdir().unwrap();
    for rel in [
        "a.png",
        "a.psd",
        "notes.md",
        "raw/x.wav",
        "raw/keep.wav",
        "sub/tmp.bak",
    ] {
        write(t.path(), rel, b"x");
    }
    write(t.path(), ".gitignore", b"*.psd\n");
    write(
        t.path(),
        ".assetotaignore",
        b"notes.md\nraw/*\n!raw/keep.wav\n",
    );
    assert_eq!(names(t.path(), &["*.bak"]), ["a.png", "raw/keep.wav"]);
}

#[test]
fn empty_directory_is_an_empty_asset_list() {
    let t = tempfile::tempdir().unwrap();
    assert!(names(t.path(), &[]).is_empty());
}

#[test]
fn missing_directory_and_file_instead_of_directory() {
    let t = tempfile::tempdir().unwrap();
    let missing = t.path().join("assets");
    let e = scan(&options(&missing)).unwrap_err();
    assert!(matches!(e, ScanError::DirMissing(_)));
    assert!(
        e.to_string().contains(&missing.display().to_string())
            && e.to_string().contains("create it")
    );

    write(t.path(), "file", b"x");
    let e = scan(&options(&t.path().join("file"))).unwrap_err();
    assert!(matches!(e, ScanError::NotADirectory(_)), "{e}");
}

#[test]
fn bad_exclude_glob_is_reported() {
    let t = tempfile::tempdir().unwrap();
    let mut o = options(t.path());
    o.exclude = vec!["a[".into()];
    let e = scan(&o).unwrap_err();
    assert!(e.to_string().contains("`a[`"), "{e}");
}

fn name_error(rel: &str) -> NameError {
    let t = tempfile::tempdir().unwrap();
    write(t.path(), rel, b"x");
    match scan(&options(t.path())).unwrap_err() {
        ScanError::BadName { path, source } => {
            assert!(path.ends_with(rel), "{path:?}");
            source
        }
        other => panic!("{rel}: {other}"),
    }
}

#[test]
fn every_name_rule_is_enforced_on_disk() {
    assert!(matches!(name_error("a\u{1}b"), NameError::ControlChar(1)));
    assert!(matches!(
        name_error("bad:name"),
        NameError::NotPortable(':')
    ));
    assert!(matches!(
        name_error("back\\slash"),
        NameError::NotPortable('\\')
    ));
    assert!(matches!(
        name_error("CON.txt"),
        NameError::WindowsReserved(_)
    ));
    assert!(matches!(
        name_error("sub/lpt1"),
        NameError::WindowsReserved(_)
    ));
    assert!(matches!(
        name_error("trailing."),
        NameError::TrailingDotOrSpace(_)
    ));
    let deep = format!("{}/{}", "d".repeat(200), "f".repeat(60));
    assert!(matches!(
        name_error(&deep),
        NameError::TooLong { len: 261, max: 255 }
    ));
}

#[cfg(unix)]
#[test]
fn non_utf8_name_is_rejected_naming_the_file() {
    use std::os::unix::ffi::OsStrExt;
    let t = tempfile::tempdir().unwrap();
    fs::write(
        t.path().join(std::ffi::OsStr::from_bytes(b"bad\xff.bin")),
        b"x",
    )
    .unwrap();
    let e = scan(&options(t.path())).unwrap_err();
    assert!(
        matches!(
            e,
            ScanError::BadName {
                source: NameError::NotUtf8,
                ..
            }
        ),
        "{e}"
    );
    assert!(e.to_string().contains("bad\u{fffd}.bin"), "{e}");
}

#[test]
fn platform_name_limit_applies() {
    let t = tempfile::tempdir().unwrap();
    write(t.path(), "twelve_bytes", b"x");
    let mut o = options(t.path());
    o.max_name_len = 11;
    assert!(matches!(
        scan(&o).unwrap_err(),
        ScanError::BadName {
            source: NameError::TooLong { len: 12, max: 11 },
            ..
        }
    ));
}

#[test]
fn names_equal_after_case_folding_collide() {
    let t = tempfile::tempdir().unwrap();
    write(t.path(), "Logo.PNG", b"a");
    write(t.path(), "logo.png", b"b");
    let e = scan(&options(t.path())).unwrap_err();
    match &e {
        ScanError::NameCollision {
            case_only: true, ..
        } => {}
        other => panic!("{other}"),
    }
    let msg = e.to_string();
    assert!(
        msg.contains("Logo.PNG") && msg.contains("logo.png") && msg.contains("rename"),
        "{msg}"
    );
    // Full Unicode folding, not just ASCII: ß folds to ss.
    let t = tempfile::tempdir().unwrap();
    write(t.path(), "STRASSE.txt", b"a");
    write(t.path(), "straße.txt", b"b");
    assert!(matches!(
        scan(&options(t.path())).unwrap_err(),
        ScanError::NameCollision {
            case_only: true,
            ..
        }
    ));
}

#[test]
fn nfc_and_nfd_spellings_collide() {
    let t = tempfile::tempdir().unwrap();
    write(t.path(), "caf\u{e9}.txt", b"a");
    write(t.path(), "cafe\u{301}.txt", b"b");
    let e = scan(&options(t.path())).unwrap_err();
    assert!(
        matches!(
            e,
            ScanError::NameCollision {
                case_only: false,
                ..
            }
        ),
        "{e}"
    );
    assert!(e.to_string().contains("NFC"), "{e}");
}

#[test]
fn an_nfd_name_alone_is_stored_as_nfc() {
    let t = tempfile::tempdir().unwrap();
    write(t.path(), "cafe\u{301}.txt", b"a");
    assert_eq!(names(t.path(), &[]), ["caf\u{e9}.txt"]);
}

#[cfg(unix)]
mod unix {
    use super::*;
    use std::os::unix::fs::symlink;

    #[test]
    fn symlink_inside_is_followed_under_the_links_name() {
        let t = tempfile::tempdir().unwrap();
        write(t.path(), "real/a.bin", b"x");
        symlink(t.path().join("real/a.bin"), t.path().join("alias.bin")).unwrap();
        symlink("real", t.path().join("linkdir")).unwrap();
        assert_eq!(
            names(t.path(), &[]),
            ["alias.bin", "linkdir/a.bin", "real/a.bin"]
        );
    }

    #[test]
    fn symlink_leaving_the_directory_is_refused() {
        let outside = tempfile::tempdir().unwrap();
        write(outside.path(), "secret", b"x");
        let t = tempfile::tempdir().unwrap();
        symlink(outside.path().join("secret"), t.path().join("s")).unwrap();
        let e = scan(&options(t.path())).unwrap_err();
        assert!(matches!(e, ScanError::SymlinkEscapes { .. }), "{e}");
        assert!(e.to_string().contains("outside the assets directory"));
        let t = tempfile::tempdir().unwrap();
        symlink(outside.path(), t.path().join("d")).unwrap();
        assert!(matches!(
            scan(&options(t.path())).unwrap_err(),
            ScanError::SymlinkEscapes { .. }
        ));
    }

    #[test]
    fn symlink_loop_is_reported() {
        let t = tempfile::tempdir().unwrap();
        fs::create_dir(t.path().join("d")).unwrap();
        symlink("..", t.path().join("d/up")).unwrap();
        let e = scan(&options(t.path())).unwrap_err();
        assert!(matches!(e, ScanError::SymlinkLoop(_)), "{e}");
    }

    #[test]
    fn dangling_symlink_is_reported() {
        let t = tempfile::tempdir().unwrap();
        symlink(t.path().join("nowhere"), t.path().join("dangling")).unwrap();
        let e = scan(&options(t.path())).unwrap_err();
        assert!(e.to_string().contains("dangling"), "{e}");
    }

    #[test]
    fn fifo_is_not_an_asset() {
        let t = tempfile::tempdir().unwrap();
        let fifo = t.path().join("pipe");
        let status = std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap();
        assert!(status.success());
        let e = scan(&options(t.path())).unwrap_err();
        assert!(
            matches!(e, ScanError::NotRegularFile { kind: "a FIFO", .. }),
            "{e}"
        );
        assert!(e.to_string().contains("pipe"));
    }
}
