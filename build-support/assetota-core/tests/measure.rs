//! Failures while measuring: files that vanish or cannot be read.

use assetota_core::codec::PARTICLE_DEFLATE;
use assetota_core::measure::{MeasureError, NoProgress, measure_all, measure_file};
use assetota_core::scan::{ScanOptions, scan};
use std::path::Path;
use std::process::Command;

#[test]
fn a_file_removed_between_scan_and_measure_is_named() {
    let t = tempfile::tempdir().unwrap();
    std::fs::write(t.path().join("a.bin"), b"a").unwrap();
    std::fs::write(t.path().join("gone.bin"), b"b").unwrap();
    let files = scan(&ScanOptions {
        dir: t.path().to_owned(),
        exclude: vec![],
        max_name_len: 255,
    })
    .unwrap();
    std::fs::remove_file(t.path().join("gone.bin")).unwrap();
    let e = measure_all(&files, PARTICLE_DEFLATE, &NoProgress).unwrap_err();
    assert!(
        matches!(&e, MeasureError::Vanished { name, .. } if name == "gone.bin"),
        "{e}"
    );
    assert!(e.to_string().contains("vanished during the scan"), "{e}");
}

#[test]
fn measure_all_keeps_input_order_across_threads() {
    let t = tempfile::tempdir().unwrap();
    for i in 0..50 {
        std::fs::write(t.path().join(format!("f{i:02}")), vec![i as u8; i * 1000]).unwrap();
    }
    let files = scan(&ScanOptions {
        dir: t.path().to_owned(),
        exclude: vec![],
        max_name_len: 255,
    })
    .unwrap();
    let measured = measure_all(&files, PARTICLE_DEFLATE, &NoProgress).unwrap();
    let sizes: Vec<u64> = measured.iter().map(|m| m.size).collect();
    assert_eq!(sizes, (0..50).map(|i| i * 1000).collect::<Vec<u64>>());
}

const CHILD_ENV: &str = "ASSETOTA_TEST_UNREADABLE";

fn assert_unreadable_is_reported(path: &Path) {
    let e = measure_file("locked.bin", path, PARTICLE_DEFLATE).unwrap_err();
    assert!(matches!(e, MeasureError::Read { .. }), "{e}");
    let msg = e.to_string();
    assert!(
        msg.contains("cannot read asset `locked.bin`") && msg.contains("permissions"),
        "{msg}"
    );
}

/// Root reads any file, so as root the check runs in a copy of this test
/// binary dropped to `nobody` with setpriv.
#[test]
fn an_unreadable_file_is_named_with_the_fix() {
    if let Some(path) = std::env::var_os(CHILD_ENV) {
        assert_unreadable_is_reported(Path::new(&path));
        return;
    }
    let t = tempfile::tempdir().unwrap();
    let path = t.path().join("locked.bin");
    std::fs::write(&path, b"secret").unwrap();
    set_mode(t.path(), 0o755);
    set_mode(&path, 0o000);
    let uid = String::from_utf8(Command::new("id").arg("-u").output().unwrap().stdout).unwrap();
    if uid.trim() != "0" {
        assert_unreadable_is_reported(&path);
        return;
    }
    let status = Command::new("setpriv")
        .args(["--reuid=65534", "--regid=65534", "--clear-groups", "--"])
        .arg(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "an_unreadable_file_is_named_with_the_fix",
            "--test-threads=1",
        ])
        .env(CHILD_ENV, &path)
        .status()
        .unwrap();
    assert!(status.success(), "the check as user nobody failed");
}

fn set_mode(path: &Path, mode: u32) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
}
