//! Finding the assets: walk the assets directory with the same rules
//! everywhere (build.rs, `size`, `watch`), so they never disagree.
//!
//! Symlink policy: a symlink is followed when its target resolves inside the
//! assets directory (the asset's name is the link's path); one that leaves
//! the directory, dangles or loops is an error.
//!
//! Ignore files (`.gitignore`, `.assetotaignore`) are read whole, so each one
//! must be a regular file of at most [`MAX_IGNORE_FILE`] bytes: a FIFO would
//! block the build forever and `/dev/zero` would exhaust its memory.

use crate::names::{self, NameError};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use unicase::UniCase;

/// The ignore files read in every directory of the assets directory.
pub const IGNORE_FILES: [&str; 2] = [".gitignore", ".assetotaignore"];

/// The largest ignore file read (real ones are a few hundred bytes).
pub const MAX_IGNORE_FILE: u64 = 1 << 20;

/// What to scan and which rules apply.
#[derive(Debug, Clone)]
pub struct ScanOptions {
    /// The assets directory (absolute, or relative to the working directory).
    pub dir: PathBuf,
    /// Extra gitignore-style globs to leave out, relative to `dir`.
    pub exclude: Vec<String>,
    /// The platform's longest asset name, in bytes.
    pub max_name_len: usize,
}

/// One asset found on disk.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScannedFile {
    pub name: String,
    pub path: PathBuf,
}

/// Why the scan failed. Every variant names the path involved.
#[derive(Debug, thiserror::Error)]
pub enum ScanError {
    #[error("assets directory `{}` does not exist; create it or fix `dir` in [package.metadata.assetota]", .0.display())]
    DirMissing(PathBuf),
    #[error("assets path `{}` is not a directory; point `dir` in [package.metadata.assetota] at a directory", .0.display())]
    NotADirectory(PathBuf),
    #[error("exclude pattern `{pattern}` is not a valid glob: {message}")]
    BadExclude { pattern: String, message: String },
    #[error("cannot read `{}`: {source}", path.display())]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("symlink loop at `{}`; remove the link or break the cycle", .0.display())]
    SymlinkLoop(PathBuf),
    #[error("symlink `{}` points outside the assets directory (to `{}`); copy the file in instead", link.display(), target.display())]
    SymlinkEscapes { link: PathBuf, target: PathBuf },
    #[error("`{}` is not a regular file ({kind}); only regular files can be assets, so remove it or add it to .assetotaignore", path.display())]
    NotRegularFile { path: PathBuf, kind: &'static str },
    #[error("asset file `{}`: {source}", path.display())]
    BadName { path: PathBuf, source: NameError },
    #[error("ignore file `{}` {reason}; an ignore file must be a regular file of at most 1 MiB", path.display())]
    BadIgnoreFile { path: PathBuf, reason: String },
    #[error("asset `{name}` (`{}`) is in a sub-directory, but platform `{platform}` keeps assets in one flat directory (Particle's tools would drop it silently); move it to the top of the assets directory", path.display())]
    NestedName {
        name: String,
        path: PathBuf,
        platform: String,
    },
    #[error("`{}` and `{}` both become the asset name `{name}`{}; rename one of them", first.display(), second.display(), if *.case_only { " when letter case is ignored" } else { " (same name after Unicode NFC normalization)" })]
    NameCollision {
        name: String,
        first: PathBuf,
        second: PathBuf,
        case_only: bool,
    },
}

/// Lists the assets under `options.dir`, sorted by name (byte-wise).
pub fn scan(options: &ScanOptions) -> Result<Vec<ScannedFile>, ScanError> {
    let dir = &options.dir;
    let meta = std::fs::metadata(dir).map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => ScanError::DirMissing(dir.clone()),
        _ => ScanError::Io {
            path: dir.clone(),
            source: e,
        },
    })?;
    if !meta.is_dir() {
        return Err(ScanError::NotADirectory(dir.clone()));
    }
    let root = dir.canonicalize().map_err(|e| ScanError::Io {
        path: dir.clone(),
        source: e,
    })?;

    let mut overrides = ignore::overrides::OverrideBuilder::new(dir);
    for pattern in &options.exclude {
        overrides
            .add(&format!("!{pattern}"))
            .map_err(|e| ScanError::BadExclude {
                pattern: pattern.clone(),
                message: e.to_string(),
            })?;
    }
    let overrides = overrides.build().map_err(|e| ScanError::BadExclude {
        pattern: options.exclude.join(", "),
        message: e.to_string(),
    })?;

    // The walker reads a directory's ignore files right after `filter_entry`
    // accepts the directory; the root's are checked here.
    check_ignore_files(dir)?;
    let bad_ignore_file: Arc<Mutex<Option<ScanError>>> = Arc::default();
    let bad = Arc::clone(&bad_ignore_file);

    // Only ignore files inside the assets dir count: the user's global
    // gitignore or a parent directory's must not change what a build ships.
    let walker = ignore::WalkBuilder::new(dir)
        .standard_filters(false)
        .hidden(true)
        .git_ignore(true)
        .require_git(false)
        .add_custom_ignore_filename(".assetotaignore")
        .overrides(overrides)
        .follow_links(true)
        .filter_entry(move |entry| {
            if entry.file_name().to_str().is_some_and(names::is_os_junk) {
                return false;
            }
            if entry.file_type().is_some_and(|t| t.is_dir())
                && let Err(e) = check_ignore_files(entry.path())
            {
                bad.lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .get_or_insert(e);
                return false;
            }
            true
        })
        .build();

    let mut files = Vec::new();
    for entry in walker {
        let entry = entry.map_err(|e| walk_error(dir, e))?;
        let path = entry.path();
        if entry.path_is_symlink() {
            check_symlink(&root, path)?;
        }
        let Some(file_type) = entry.file_type() else {
            continue;
        };
        if file_type.is_dir() {
            continue;
        }
        if !file_type.is_file() {
            return Err(ScanError::NotRegularFile {
                path: path.to_owned(),
                kind: describe(&file_type),
            });
        }
        let relative = path.strip_prefix(dir).unwrap_or(path);
        let name = names::asset_name(relative, options.max_name_len).map_err(|source| {
            ScanError::BadName {
                path: path.to_owned(),
                source,
            }
        })?;
        files.push(ScannedFile {
            name,
            path: path.to_owned(),
        });
    }
    if let Some(e) = bad_ignore_file
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .take()
    {
        return Err(e);
    }
    files.sort_by(|a, b| a.name.as_bytes().cmp(b.name.as_bytes()));
    check_collisions(&files)?;
    Ok(files)
}

/// Refuses nested names on a platform that stores assets in one flat
/// directory (Particle's), naming the first nested asset.
pub fn check_flat(files: &[ScannedFile], platform: &str) -> Result<(), ScanError> {
    match files.iter().find(|f| f.name.contains('/')) {
        Some(f) => Err(ScanError::NestedName {
            name: f.name.clone(),
            path: f.path.clone(),
            platform: platform.to_owned(),
        }),
        None => Ok(()),
    }
}

fn check_symlink(root: &Path, link: &Path) -> Result<(), ScanError> {
    match link.canonicalize() {
        Ok(target) if target.starts_with(root) => Ok(()),
        Ok(target) => Err(ScanError::SymlinkEscapes {
            link: link.to_owned(),
            target,
        }),
        Err(e) => Err(ScanError::Io {
            path: link.to_owned(),
            source: e,
        }),
    }
}

/// Refuses ignore files in `dir` that the walker could not read safely.
fn check_ignore_files(dir: &Path) -> Result<(), ScanError> {
    for name in IGNORE_FILES {
        let path = dir.join(name);
        let bad = |reason: String| ScanError::BadIgnoreFile {
            path: path.clone(),
            reason,
        };
        match std::fs::metadata(&path) {
            // Absent, or a dangling link, which the walker skips as well.
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => {
                return Err(ScanError::Io {
                    path: path.clone(),
                    source: e,
                });
            }
            Ok(m) if m.is_dir() => return Err(bad("is a directory".into())),
            Ok(m) if !m.is_file() => {
                return Err(bad(format!("is {}", describe(&m.file_type()))));
            }
            Ok(m) if m.len() > MAX_IGNORE_FILE => {
                return Err(bad(format!("is {} bytes long", m.len())));
            }
            Ok(_) => {}
        }
    }
    Ok(())
}

fn check_collisions(files: &[ScannedFile]) -> Result<(), ScanError> {
    let mut seen: HashMap<UniCase<&str>, &ScannedFile> = HashMap::new();
    for file in files {
        if let Some(first) = seen.insert(UniCase::new(file.name.as_str()), file) {
            return Err(ScanError::NameCollision {
                name: file.name.clone(),
                first: first.path.clone(),
                second: file.path.clone(),
                case_only: first.name != file.name,
            });
        }
    }
    Ok(())
}

fn walk_error(dir: &Path, error: ignore::Error) -> ScanError {
    // `ignore` wraps errors in path and depth context; find the core of it.
    let mut path = None;
    let mut current = &error;
    loop {
        match current {
            ignore::Error::WithPath { path: p, err } => {
                path.get_or_insert_with(|| p.clone());
                current = err;
            }
            ignore::Error::WithDepth { err, .. } | ignore::Error::WithLineNumber { err, .. } => {
                current = err
            }
            ignore::Error::Loop { child, .. } => return ScanError::SymlinkLoop(child.clone()),
            ignore::Error::Io(io) => {
                let kind = io.kind();
                return ScanError::Io {
                    path: path.unwrap_or_else(|| dir.to_owned()),
                    source: std::io::Error::new(kind, io.to_string()),
                };
            }
            other => {
                return ScanError::Io {
                    path: path.unwrap_or_else(|| dir.to_owned()),
                    source: std::io::Error::other(other.to_string()),
                };
            }
        }
    }
}

fn describe(file_type: &std::fs::FileType) -> &'static str {
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if file_type.is_fifo() {
            return "a FIFO";
        }
        if file_type.is_socket() {
            return "a socket";
        }
        if file_type.is_block_device() || file_type.is_char_device() {
            return "a device file";
        }
    }
    let _ = file_type;
    "not a file or directory"
}
