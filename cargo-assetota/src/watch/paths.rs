//! Which paths `watch` watches, and which events can change what it reports.
//!
//! Every event that might change the scan leads to a rescan, and a report is
//! printed only when the assets or the budget differ; so this filter only has
//! to be safe (never drop an event that matters) and cheap (skip the noise:
//! reads, hidden files such as editor swap files and lock files, OS clutter,
//! the rest of the package directory).

use std::ffi::OsStr;
use std::path::{Component, Path, PathBuf};

use notify::event::{AccessKind, AccessMode, MetadataKind, ModifyKind};
use notify::{EventKind, RecursiveMode};

/// A path made comparable with the paths in events: the deepest existing
/// ancestor is canonicalized (symlinks and `..` resolved, as the kernel
/// reports them), the rest appended as written. The last component is kept
/// as a name, so an assets directory that is a symlink is watched under its
/// own name and its replacement is seen.
pub fn normalize(path: &Path) -> PathBuf {
    let absolute = if path.is_absolute() {
        path.to_owned()
    } else {
        std::env::current_dir().unwrap_or_default().join(path)
    };
    match (absolute.parent(), absolute.file_name()) {
        (Some(parent), Some(name)) => canonical_prefix(parent).join(name),
        _ => canonical_prefix(&absolute),
    }
}

fn canonical_prefix(path: &Path) -> PathBuf {
    let mut rest: Vec<&OsStr> = Vec::new();
    let mut current = path;
    loop {
        if let Ok(canonical) = current.canonicalize() {
            let mut out = canonical;
            for part in rest.iter().rev() {
                if *part == ".." {
                    out.pop();
                } else if *part != "." {
                    out.push(part);
                }
            }
            return out;
        }
        let last = current.components().next_back();
        match (current.parent(), last) {
            (Some(parent), Some(Component::Normal(name))) => {
                rest.push(name);
                current = parent;
            }
            (Some(parent), Some(Component::ParentDir)) => {
                rest.push(OsStr::new(".."));
                current = parent;
            }
            (Some(parent), Some(Component::CurDir)) => current = parent,
            _ => return path.to_owned(),
        }
    }
}

/// The deepest ancestor of `path` (or `path` itself) that is a directory now.
pub fn existing_dir(path: &Path) -> Option<PathBuf> {
    path.ancestors().find(|p| p.is_dir()).map(Path::to_owned)
}

/// Whether an event of this kind can change a file's content, its presence or
/// a directory's listing. Reads (the scanner's, build.rs's) must not count,
/// or every rescan would trigger the next one.
pub fn kind_matters(kind: &EventKind) -> bool {
    match kind {
        EventKind::Access(AccessKind::Close(AccessMode::Write)) => true,
        EventKind::Access(_) => false,
        EventKind::Modify(ModifyKind::Metadata(MetadataKind::AccessTime)) => false,
        _ => true,
    }
}

/// Whether a path below the assets directory can be, or decide about, an
/// asset: hidden components and OS clutter are never scanned, except the
/// ignore files the scanner reads.
pub fn can_affect_scan(relative: &Path) -> bool {
    let parts: Vec<Component<'_>> = relative.components().collect();
    for (i, part) in parts.iter().enumerate() {
        let Component::Normal(name) = part else {
            continue;
        };
        let Some(name) = name.to_str() else {
            return true;
        }; // the scanner reports it as an error
        let last = i + 1 == parts.len();
        if name.starts_with('.') {
            return last && matches!(name, ".gitignore" | ".assetotaignore");
        }
        if assetota_core::names::is_os_junk(name) {
            return false;
        }
    }
    true
}

/// What an event path means to one package.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Touch {
    /// Its Cargo.toml, the workspace's, or a partition table: reload the config.
    Config,
    /// The assets directory, something in it, or one of its ancestors.
    Assets,
}

/// The normalized paths of one package that matter.
#[derive(Debug, Clone, Default)]
pub struct Interest {
    pub dir: Option<PathBuf>,
    pub inputs: Vec<PathBuf>,
}

impl Interest {
    pub fn touch(&self, path: &Path) -> Option<Touch> {
        if self.inputs.iter().any(|i| i == path) {
            return Some(Touch::Config);
        }
        let dir = self.dir.as_deref()?;
        if dir.starts_with(path) {
            return Some(Touch::Assets); // the directory itself or an ancestor: created, removed, renamed
        }
        let relative = path.strip_prefix(dir).ok()?;
        can_affect_scan(relative).then_some(Touch::Assets)
    }

    /// The watches this package needs: the parent directory of each config
    /// input, the assets directory (recursive) when it exists, and its
    /// deepest existing ancestor, to see it removed, created or renamed.
    pub fn watches(&self) -> Vec<(PathBuf, RecursiveMode)> {
        let mut out = Vec::new();
        for input in &self.inputs {
            if let Some(dir) = input.parent().and_then(existing_dir) {
                out.push((dir, RecursiveMode::NonRecursive));
            }
        }
        if let Some(dir) = &self.dir {
            if dir.is_dir() {
                out.push((dir.clone(), RecursiveMode::Recursive));
            }
            if let Some(anchor) = dir.parent().and_then(existing_dir) {
                out.push((anchor, RecursiveMode::NonRecursive));
            }
        }
        out
    }
}

/// One set of watches for several packages: duplicates merged, and a
/// non-recursive watch inside a recursive one dropped (notify keeps one
/// watch per path, and the last mode set would win).
pub fn merge(
    watches: impl IntoIterator<Item = (PathBuf, RecursiveMode)>,
) -> Vec<(PathBuf, RecursiveMode)> {
    let all: Vec<(PathBuf, RecursiveMode)> = watches.into_iter().collect();
    let recursive: Vec<&PathBuf> = all
        .iter()
        .filter(|(_, m)| *m == RecursiveMode::Recursive)
        .map(|(p, _)| p)
        .collect();
    let mut out: Vec<(PathBuf, RecursiveMode)> = Vec::new();
    for (path, mode) in &all {
        let covered =
            *mode == RecursiveMode::NonRecursive && recursive.iter().any(|r| path.starts_with(r));
        let nested = *mode == RecursiveMode::Recursive
            && recursive.iter().any(|r| *r != path && path.starts_with(r));
        if covered || nested || out.iter().any(|(p, _)| p == path) {
            continue;
        }
        out.push((path.clone(), *mode));
    }
    out.sort();
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use notify::event::{CreateKind, DataChange, RemoveKind};

    #[test]
    fn reads_do_not_matter_writes_do() {
        assert!(!kind_matters(&EventKind::Access(AccessKind::Open(
            AccessMode::Any
        ))));
        assert!(!kind_matters(&EventKind::Access(AccessKind::Close(
            AccessMode::Read
        ))));
        assert!(!kind_matters(&EventKind::Modify(ModifyKind::Metadata(
            MetadataKind::AccessTime
        ))));
        assert!(kind_matters(&EventKind::Access(AccessKind::Close(
            AccessMode::Write
        ))));
        assert!(kind_matters(&EventKind::Modify(ModifyKind::Data(
            DataChange::Any
        ))));
        assert!(kind_matters(&EventKind::Create(CreateKind::File)));
        assert!(kind_matters(&EventKind::Remove(RemoveKind::Folder)));
        assert!(kind_matters(&EventKind::Any));
    }

    #[test]
    fn hidden_files_and_clutter_cannot_affect_the_scan() {
        for p in [
            ".logo.png.swp",
            ".#notes.txt",
            "img/.logo.png.swx",
            ".git/index",
            "sub/.DS_Store",
            "Thumbs.db",
            "__MACOSX/x.png",
            ".hidden/a.bin",
            "logo.png~",
            "#notes.txt#",
        ] {
            assert!(!can_affect_scan(Path::new(p)), "{p}");
        }
        for p in [
            "logo.png",
            "img/logo.png",
            "4913",
            ".gitignore",
            "img/.assetotaignore",
            "a.tmp",
        ] {
            assert!(can_affect_scan(Path::new(p)), "{p}");
        }
    }

    #[test]
    fn touch_tells_config_from_assets_and_ignores_the_rest() {
        let i = Interest {
            dir: Some("/p/res/assets".into()),
            inputs: vec!["/p/Cargo.toml".into(), "/w/Cargo.toml".into()],
        };
        assert_eq!(i.touch(Path::new("/p/Cargo.toml")), Some(Touch::Config));
        assert_eq!(i.touch(Path::new("/w/Cargo.toml")), Some(Touch::Config));
        assert_eq!(i.touch(Path::new("/p/res/assets")), Some(Touch::Assets));
        assert_eq!(i.touch(Path::new("/p/res")), Some(Touch::Assets));
        assert_eq!(
            i.touch(Path::new("/p/res/assets/a/b.png")),
            Some(Touch::Assets)
        );
        assert_eq!(i.touch(Path::new("/p/res/assets/.b.png.swp")), None);
        assert_eq!(i.touch(Path::new("/p/Cargo.lock")), None);
        assert_eq!(i.touch(Path::new("/p/res/other")), None);
        assert_eq!(i.touch(Path::new("/p/res/assets2/x")), None);
        assert_eq!(i.touch(Path::new("/p/target")), None);
    }

    #[test]
    fn watches_cover_inputs_the_dir_and_its_anchor() {
        let t = tempfile::tempdir().unwrap();
        let root = t.path().canonicalize().unwrap();
        std::fs::create_dir_all(root.join("assets/img")).unwrap();
        let i = Interest {
            dir: Some(root.join("assets")),
            inputs: vec![root.join("Cargo.toml")],
        };
        assert_eq!(
            merge(i.watches()),
            vec![
                (root.clone(), RecursiveMode::NonRecursive),
                (root.join("assets"), RecursiveMode::Recursive)
            ]
        );

        // Missing directory: only its deepest existing ancestor.
        let i = Interest {
            dir: Some(root.join("gone/deeper/assets")),
            inputs: vec![root.join("Cargo.toml")],
        };
        assert_eq!(
            merge(i.watches()),
            vec![(root.clone(), RecursiveMode::NonRecursive)]
        );
    }

    #[test]
    fn merge_drops_what_a_recursive_watch_covers() {
        let r = RecursiveMode::Recursive;
        let n = RecursiveMode::NonRecursive;
        let got = merge([
            ("/p".into(), n),
            ("/p/assets".into(), r),
            ("/p/assets/tables".into(), n),
            ("/p".into(), n),
            ("/p/assets/sub".into(), r),
        ]);
        assert_eq!(
            got,
            vec![(PathBuf::from("/p"), n), (PathBuf::from("/p/assets"), r)]
        );
    }

    #[test]
    fn normalize_resolves_existing_ancestors_and_keeps_the_rest() {
        let t = tempfile::tempdir().unwrap();
        let root = t.path().canonicalize().unwrap();
        std::fs::create_dir_all(root.join("pkg")).unwrap();
        assert_eq!(
            normalize(&root.join("pkg/../pkg/assets")),
            root.join("pkg/assets")
        );
        assert_eq!(
            normalize(&root.join("pkg/missing/../assets")),
            root.join("pkg/assets")
        );
        assert_eq!(
            normalize(&root.join("pkg/Cargo.toml")),
            root.join("pkg/Cargo.toml")
        );
        #[cfg(unix)]
        {
            std::os::unix::fs::symlink(root.join("pkg"), root.join("link")).unwrap();
            assert_eq!(
                normalize(&root.join("link/assets")),
                root.join("pkg/assets")
            );
            // The last component stays a name, even when it is a link.
            assert_eq!(normalize(&root.join("link")), root.join("link"));
        }
    }
}
