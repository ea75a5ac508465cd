//! Asset names: the path relative to the assets directory, `/`-separated,
//! UTF-8 in NFC. Half of the identity a device matches on (the other half
//! is the SHA-256), so every name must be portable and unambiguous.

use std::path::{Component, Path};
use unicode_normalization::UnicodeNormalization;

/// The longest name accepted when the platform sets no limit: LittleFS's
/// default `LFS_NAME_MAX`, and the usual file-name limit of host filesystems.
pub const DEFAULT_MAX_NAME_LEN: usize = 255;

/// Why a relative path cannot be an asset name.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NameError {
    #[error("the name is not valid UTF-8; rename the file using UTF-8 characters")]
    NotUtf8,
    #[error("the name is empty")]
    Empty,
    #[error("the name is absolute or contains `..`; assets must live inside the assets directory")]
    NotRelative,
    #[error("the name contains a control character (U+{0:04X}); rename the file")]
    ControlChar(u32),
    #[error("the name contains `{0}`, which Windows cannot store; rename the file")]
    NotPortable(char),
    #[error("`{0}` ends with a dot or a space, which Windows strips; rename it")]
    TrailingDotOrSpace(String),
    #[error("`{0}` is a reserved device name on Windows; rename it")]
    WindowsReserved(String),
    #[error(
        "the name is {len} bytes long; the limit for this platform is {max} bytes; shorten the name or the directories above it"
    )]
    TooLong { len: usize, max: usize },
}

/// Turns a path relative to the assets directory into an asset name.
pub fn asset_name(relative: &Path, max_len: usize) -> Result<String, NameError> {
    let mut parts = Vec::new();
    for component in relative.components() {
        match component {
            Component::Normal(part) => {
                let part = part.to_str().ok_or(NameError::NotUtf8)?;
                let part: String = part.nfc().collect();
                check_component(&part)?;
                parts.push(part);
            }
            Component::CurDir => {}
            Component::ParentDir | Component::RootDir | Component::Prefix(_) => {
                return Err(NameError::NotRelative);
            }
        }
    }
    if parts.is_empty() {
        return Err(NameError::Empty);
    }
    let name = parts.join("/");
    if name.len() > max_len {
        return Err(NameError::TooLong {
            len: name.len(),
            max: max_len,
        });
    }
    Ok(name)
}

fn check_component(part: &str) -> Result<(), NameError> {
    if let Some(c) = part.chars().find(|c| c.is_control()) {
        return Err(NameError::ControlChar(c as u32));
    }
    if let Some(c) = part
        .chars()
        .find(|c| matches!(c, '<' | '>' | ':' | '"' | '|' | '?' | '*' | '\\'))
    {
        return Err(NameError::NotPortable(c));
    }
    if part.ends_with('.') || part.ends_with(' ') {
        return Err(NameError::TrailingDotOrSpace(part.to_owned()));
    }
    if is_windows_reserved(part) {
        return Err(NameError::WindowsReserved(part.to_owned()));
    }
    Ok(())
}

/// `CON`, `PRN`, `AUX`, `NUL`, `COM0`–`COM9`, `LPT0`–`LPT9` (and the
/// superscript-digit forms), in any case, with or without an extension.
fn is_windows_reserved(part: &str) -> bool {
    let stem = part.split('.').next().unwrap_or(part).trim_end_matches(' ');
    let upper = stem.to_uppercase();
    if matches!(upper.as_str(), "CON" | "PRN" | "AUX" | "NUL") {
        return true;
    }
    let mut chars = upper.chars();
    let prefix: String = chars.by_ref().take(3).collect();
    let rest: Vec<char> = chars.collect();
    (prefix == "COM" || prefix == "LPT")
        && rest.len() == 1
        && (rest[0].is_ascii_digit() || matches!(rest[0], '¹' | '²' | '³'))
}

/// Whether a file name is operating-system or editor clutter that is never
/// an asset: Finder and Explorer metadata, and the backups (`name~`) and
/// autosaves (`#name#`) that Emacs and Vim leave beside the file. (Hidden
/// files, such as Vim's `.name.swp` and Emacs's `.#name` locks, are skipped
/// as hidden.)
pub fn is_os_junk(file_name: &str) -> bool {
    const JUNK: [&str; 5] = [
        ".DS_Store",
        "Thumbs.db",
        "desktop.ini",
        "__MACOSX",
        "ehthumbs.db",
    ];
    let editor_backup = file_name.len() > 1 && file_name.ends_with('~');
    let autosave = file_name.len() > 2 && file_name.starts_with('#') && file_name.ends_with('#');
    editor_backup || autosave || JUNK.iter().any(|j| j.eq_ignore_ascii_case(file_name))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    fn name(p: &str) -> Result<String, NameError> {
        asset_name(Path::new(p), DEFAULT_MAX_NAME_LEN)
    }

    #[test]
    fn keeps_subdirectories_with_slashes() {
        assert_eq!(name("fonts/small.bin").unwrap(), "fonts/small.bin");
        assert_eq!(name("./logo.png").unwrap(), "logo.png");
    }

    #[test]
    fn normalizes_to_nfc() {
        // "é" as e + combining acute (NFD) becomes the single code point U+00E9.
        let nfd = "cafe\u{301}.txt";
        assert_eq!(name(nfd).unwrap(), "caf\u{e9}.txt");
    }

    #[test]
    fn rejects_escapes_and_absolute_paths() {
        assert_eq!(name("../x"), Err(NameError::NotRelative));
        assert_eq!(name("/etc/passwd"), Err(NameError::NotRelative));
        assert_eq!(name(""), Err(NameError::Empty));
    }

    #[test]
    fn rejects_control_and_unportable_characters() {
        assert_eq!(name("a\nb"), Err(NameError::ControlChar(0x0a)));
        assert_eq!(name("a\u{7f}"), Err(NameError::ControlChar(0x7f)));
        assert_eq!(name("a:b"), Err(NameError::NotPortable(':')));
        assert_eq!(name("a\\b"), Err(NameError::NotPortable('\\')));
        assert_eq!(
            name("dir./x"),
            Err(NameError::TrailingDotOrSpace("dir.".into()))
        );
    }

    #[test]
    fn rejects_windows_reserved_names() {
        for reserved in [
            "CON", "con.txt", "Nul.png", "COM1", "lpt9.bin", "aux", "COM¹",
        ] {
            assert!(
                matches!(name(reserved), Err(NameError::WindowsReserved(_))),
                "{reserved}"
            );
        }
        for fine in ["CONSOLE", "com10", "lpt", "icon.png", "nul_terminated.txt"] {
            assert!(name(fine).is_ok(), "{fine}");
        }
    }

    #[test]
    fn enforces_length_in_bytes() {
        let ok = "a".repeat(255);
        assert!(name(&ok).is_ok());
        let long = "a".repeat(256);
        assert_eq!(name(&long), Err(NameError::TooLong { len: 256, max: 255 }));
        // Two-byte characters count twice.
        let wide = "é".repeat(128);
        assert_eq!(name(&wide), Err(NameError::TooLong { len: 256, max: 255 }));
    }

    #[cfg(unix)]
    #[test]
    fn rejects_non_utf8() {
        use std::os::unix::ffi::OsStrExt;
        let p = PathBuf::from(std::ffi::OsStr::from_bytes(b"bad\xff.bin"));
        assert_eq!(asset_name(&p, 255), Err(NameError::NotUtf8));
    }

    #[test]
    fn knows_os_junk() {
        assert!(is_os_junk(".DS_Store"));
        assert!(is_os_junk("thumbs.db"));
        assert!(is_os_junk("__MACOSX"));
        assert!(!is_os_junk("logo.png"));
        assert!(is_os_junk("logo.png~"));
        assert!(is_os_junk("#notes.txt#"));
        assert!(!is_os_junk("~"));
        assert!(!is_os_junk("#1.png"));
    }
}
