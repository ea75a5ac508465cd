//! The one way every host tool of this project writes an output file
//! (bundles, Particle bundles and modules, store images, exports, reports,
//! build.rs outputs): a reader sees the old file or the new one, never a mix,
//! whatever happens meanwhile.
//!
//! The bytes go to a temporary file in the same directory
//! (`.<file name>.tmp-<unique>`), which is flushed to disk, made `0644`, then
//! renamed over the target, and the directory flushed too. Writers take an
//! exclusive `flock` on the directory (released by the kernel when a process
//! dies), so concurrent writers of one directory wait for each other, and a
//! temporary file found while holding the lock belongs to a writer that died
//! (SIGKILL, power loss): it is removed. A write beyond `ulimit -f` fails with
//! an error instead of killing the process. A temporary file of a write that
//! failed is removed before the error returns.

use std::fs::File;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

/// Why an atomic write failed: the file system, or the caller's `fill`.
#[derive(Debug, thiserror::Error)]
pub enum AtomicWriteError<E> {
    /// Creating, syncing or renaming the temporary file failed.
    #[error(transparent)]
    Io(#[from] io::Error),
    /// The caller's `fill` returned this error.
    #[error(transparent)]
    Fill(E),
}

/// The prefix of the temporary files `path` is written through:
/// `.<file name>.tmp-`, in the same directory.
pub fn temp_prefix(path: &Path) -> String {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    format!(".{name}.tmp-")
}

/// Writes `bytes` to `path` atomically.
pub fn write_bytes(path: &Path, bytes: &[u8]) -> io::Result<()> {
    write_with(path, |file: &mut File| io::Write::write_all(file, bytes)).map_err(|e| match e {
        AtomicWriteError::Io(e) | AtomicWriteError::Fill(e) => e,
    })
}

/// Writes `path` atomically with what `fill` writes into the temporary file
/// (it need not flush: the file is synced after it returns).
pub fn write_with<E>(
    path: &Path,
    fill: impl FnOnce(&mut File) -> Result<(), E>,
) -> Result<(), AtomicWriteError<E>> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    std::fs::create_dir_all(dir)?;
    catch_file_size_signal();
    let lock = lock_dir(dir);
    let prefix = temp_prefix(path);
    if lock.is_some() {
        remove_temporaries(dir, Some(&prefix));
    }
    let mut tmp = TempFile::create(dir, &prefix)?;
    fill(&mut tmp.file).map_err(AtomicWriteError::Fill)?;
    tmp.file.sync_all()?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&tmp.path, std::fs::Permissions::from_mode(0o644))?;
    }
    tmp.persist(path)?;
    if let Some(DirLock(dir)) = &lock {
        // The rename itself reaches the disk (best effort: not every file
        // system syncs a directory).
        let _ = dir.sync_all();
    }
    Ok(())
}

/// A temporary file that removes itself unless persisted.
struct TempFile {
    file: File,
    path: PathBuf,
    persisted: bool,
}

impl TempFile {
    /// A new file `<prefix><unique>` in `dir`, created exclusively.
    fn create(dir: &Path, prefix: &str) -> io::Result<TempFile> {
        static COUNTER: AtomicU64 = AtomicU64::new(0);
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos());
        loop {
            let n = COUNTER.fetch_add(1, Ordering::Relaxed);
            let unique = format!("{:x}{:06x}{n:x}", std::process::id(), nanos & 0xff_ffff);
            let path = dir.join(format!("{prefix}{unique}"));
            match File::options().write(true).create_new(true).open(&path) {
                Ok(file) => {
                    return Ok(TempFile {
                        file,
                        path,
                        persisted: false,
                    });
                }
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists => continue,
                Err(e) => return Err(e),
            }
        }
    }

    fn persist(mut self, to: &Path) -> io::Result<()> {
        std::fs::rename(&self.path, to)?;
        self.persisted = true;
        Ok(())
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        if !self.persisted {
            let _ = std::fs::remove_file(&self.path);
        }
    }
}

/// An exclusive `flock` on a directory, held until dropped.
#[derive(Debug)]
pub struct DirLock(File);

/// Takes an exclusive `flock` on `dir` (waiting for other holders), or `None`
/// where it cannot be taken. Do not call [`write_with`] or [`write_bytes`] on
/// a file of `dir` while holding it: they take the same lock.
pub fn lock_dir(dir: &Path) -> Option<DirLock> {
    if !cfg!(unix) {
        return None;
    }
    let handle = File::open(dir).ok()?;
    handle.lock().ok()?;
    Some(DirLock(handle))
}

/// Removes the temporary files of killed writers in `dir`: those of one file
/// (`prefix`, from [`temp_prefix`]), or with `None` every hidden `*.tmp-*`
/// file. Only call it holding the directory's [`lock_dir`].
pub fn remove_temporaries(dir: &Path, prefix: Option<&str>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(name) = name.to_str() else { continue };
        let ours = match prefix {
            Some(prefix) => name.starts_with(prefix),
            None => name.starts_with('.') && name.contains(".tmp-"),
        };
        if ours && entry.file_type().is_ok_and(|t| t.is_file()) {
            let _ = std::fs::remove_file(entry.path());
        }
    }
}

/// Writes `bytes` to `path` only if no file is there, atomically (a reader
/// sees no file or the whole one): `Ok(false)` when one already exists,
/// whatever it holds. For immutable, content-addressed files; it takes no
/// lock, so it may be called holding [`lock_dir`].
pub fn write_new(path: &Path, bytes: &[u8]) -> io::Result<bool> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    catch_file_size_signal();
    let mut tmp = TempFile::create(dir, &temp_prefix(path))?;
    io::Write::write_all(&mut tmp.file, bytes)?;
    tmp.file.sync_all()?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&tmp.path, std::fs::Permissions::from_mode(0o644))?;
    }
    // A hard link fails where the name exists: no window where another
    // writer's file could be replaced. The temporary goes on drop.
    match std::fs::hard_link(&tmp.path, path) {
        Ok(()) => Ok(true),
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => Ok(false),
        Err(e) => Err(e),
    }
}

/// Beyond a file-size limit (`ulimit -f`), a write raises SIGXFSZ, which kills
/// the process by default and leaves a partial temporary file without a word.
/// With a handler installed, the write fails with EFBIG instead and is reported
/// like any other write error. A handler (unlike SIG_IGN) does not carry over
/// to the programs this one runs.
fn catch_file_size_signal() {
    #[cfg(unix)]
    {
        static ONCE: std::sync::Once = std::sync::Once::new();
        extern "C" fn ignore(_: libc::c_int) {}
        ONCE.call_once(|| {
            // SAFETY: installs an async-signal-safe handler that does nothing.
            unsafe {
                let mut action: libc::sigaction = std::mem::zeroed();
                action.sa_sigaction = ignore as extern "C" fn(libc::c_int) as usize;
                libc::sigemptyset(&mut action.sa_mask);
                action.sa_flags = libc::SA_RESTART;
                libc::sigaction(libc::SIGXFSZ, &action, std::ptr::null_mut());
            }
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replaces_the_file_and_leaves_no_temporary() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("out.bin");
        write_bytes(&path, b"old").unwrap();
        write_bytes(&path, b"new contents").unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"new contents");
        let names: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        assert_eq!(names, ["out.bin"]);
    }

    #[test]
    fn a_failed_fill_keeps_the_old_file_and_removes_its_temporary() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("out.bin");
        write_bytes(&path, b"old").unwrap();
        let result = write_with(&path, |file: &mut File| {
            io::Write::write_all(file, b"half")?;
            Err::<(), io::Error>(io::Error::other("stopped"))
        });
        assert!(matches!(result, Err(AtomicWriteError::Fill(_))));
        assert_eq!(std::fs::read(&path).unwrap(), b"old");
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    }

    #[test]
    fn removes_temporaries_of_killed_writers() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("out.bin");
        let left = dir.path().join(format!("{}abc123", temp_prefix(&path)));
        std::fs::write(&left, b"partial").unwrap();
        let other = dir.path().join(".other.bin.tmp-abc123");
        std::fs::write(&other, b"someone else's").unwrap();
        write_bytes(&path, b"x").unwrap();
        assert!(!left.exists());
        assert!(
            other.exists(),
            "only temporaries of the same file are removed"
        );
    }

    #[test]
    fn write_new_never_replaces() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("blob");
        assert!(write_new(&path, b"first").unwrap());
        assert!(!write_new(&path, b"second").unwrap());
        assert_eq!(std::fs::read(&path).unwrap(), b"first");
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    }
}
