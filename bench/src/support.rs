//! Small helpers every section uses: the workspace, cargo, errors as text,
//! and how numbers are printed.

use crate::proc::{Run, secs};
use std::path::{Path, PathBuf};
use std::time::Duration;

pub(crate) fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("bench/ is inside the workspace")
        .to_owned()
}

pub(crate) fn cargo() -> std::ffi::OsString {
    std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into())
}

pub(crate) type Res<T> = Result<T, String>;

pub(crate) fn io<T>(what: impl std::fmt::Display, r: std::io::Result<T>) -> Res<T> {
    r.map_err(|e| format!("{what}: {e}"))
}

pub(crate) fn copy_dir(from: &Path, to: &Path) -> Res<()> {
    io(to.display(), std::fs::create_dir_all(to))?;
    for entry in io(from.display(), std::fs::read_dir(from))? {
        let entry = io(from.display(), entry)?;
        let dest = to.join(entry.file_name());
        if entry.path().is_dir() {
            copy_dir(&entry.path(), &dest)?;
        } else {
            io(dest.display(), std::fs::copy(entry.path(), &dest))?;
        }
    }
    Ok(())
}

// --- formatting ----------------------------------------------------------------

pub(crate) fn list(runs: &[Run]) -> String {
    runs.iter()
        .map(|r| human(r.wall))
        .collect::<Vec<_>>()
        .join(", ")
}

pub(crate) fn rss_text(kib: Option<u64>) -> String {
    kib.map_or_else(
        || "n/a (install GNU time, Debian package `time`)".to_owned(),
        |k| format!("{:.1} MiB", k as f64 / 1024.0),
    )
}

/// How `ours` compares with `theirs`: "2.0× faster" or "1.4× slower".
pub(crate) fn faster_or_slower(ours: Duration, theirs: Duration) -> String {
    if theirs >= ours {
        format!("{:.1}× faster", secs(theirs) / secs(ours))
    } else {
        format!("{:.1}× slower", secs(ours) / secs(theirs))
    }
}

pub(crate) fn human(d: Duration) -> String {
    if d < Duration::from_secs(1) {
        format!("{:.1} ms", secs(d) * 1000.0)
    } else {
        format!("{:.2} s", secs(d))
    }
}

pub(crate) fn mib(bytes: u64) -> String {
    let m = bytes as f64 / (1u64 << 20) as f64;
    if m >= 1024.0 {
        format!("{:.1} GiB", m / 1024.0)
    } else {
        format!("{m:.1} MiB")
    }
}

pub(crate) fn thousands(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}
