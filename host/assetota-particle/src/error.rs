//! The errors of the Particle flows (classifying and reading files, choosing
//! a platform, checking what was made): a format error with the file it is
//! about.

use std::path::PathBuf;

use crate::app::AppError;
use crate::asset::AssetModuleError;
use crate::module::FormatError;
use crate::zip::BundleError;

/// Why a Particle file cannot be bundled, inspected or verified.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A Particle module that cannot take asset dependencies.
    #[error("`{}` {cause}", path.display())]
    App {
        /// The application.
        path: PathBuf,
        /// Why it cannot.
        cause: AppError,
    },
    /// Neither an ELF file nor a well-formed Particle module.
    #[error("`{}` is neither an ELF file nor a Particle module: {cause}", path.display())]
    NotFirmware {
        /// The file.
        path: PathBuf,
        /// Why it is not a module.
        cause: FormatError,
    },
    /// A zip that is not a Particle bundle this crate accepts.
    #[error("`{}` {cause}", path.display())]
    Bundle {
        /// The bundle.
        path: PathBuf,
        /// What is wrong with it.
        cause: BundleError,
    },
    /// An entry of a Particle bundle that could harm the reader (an unsafe
    /// name, a symlink, a decompression bomb, …).
    #[error("`{}` is rejected: entry `{entry}` {reason}", path.display())]
    Hostile {
        /// The bundle.
        path: PathBuf,
        /// The entry's name.
        entry: String,
        /// Why it is refused.
        reason: String,
    },
    /// The platform asked for is another Particle platform than the module's.
    #[error("`{}` is for Particle platform `{module}`, but --platform says `{flag}`", path.display())]
    PlatformMismatch {
        /// The application.
        path: PathBuf,
        /// The platform the module names.
        module: String,
        /// The platform asked for.
        flag: String,
    },
    /// The platform asked for (held here) is a built-in platform, but not a Particle one.
    #[error("`--platform {0}` is not a Particle platform")]
    NotParticlePlatform(String),
    /// The platform asked for is no built-in platform.
    #[error("unknown platform `{name}`; known platforms: {}", known.join(", "))]
    UnknownPlatform {
        /// The name asked for.
        name: String,
        /// Every built-in platform name.
        known: Vec<String>,
    },
    /// The output (held here) is not named `*.zip`, which particle-cli requires.
    #[error("a Particle bundle must be a `.zip` file (particle-cli refuses other names), not `{}`", .0.display())]
    NotZipName(PathBuf),
    /// An asset module this crate made does not read back as the device reads it.
    #[error("asset module for `{name}` does not check out: {cause}")]
    SelfCheck {
        /// The asset's name.
        name: String,
        /// What the device would object to.
        cause: AssetModuleError,
    },
}

impl Error {
    /// `App::check`'s error about the file at `path`: a module that does not
    /// parse is [`Error::NotFirmware`], any other [`Error::App`].
    pub fn app(path: impl Into<PathBuf>, cause: AppError) -> Error {
        let path = path.into();
        match cause {
            AppError::Format(cause) => Error::NotFirmware { path, cause },
            cause => Error::App { path, cause },
        }
    }

    /// [`crate::zip::read`]'s error about the bundle at `path`.
    pub fn bundle(path: impl Into<PathBuf>, cause: BundleError) -> Error {
        let path = path.into();
        match cause {
            BundleError::Hostile { entry, reason } => Error::Hostile {
                path,
                entry,
                reason,
            },
            cause => Error::Bundle { path, cause },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_error_has_a_source_its_message_already_says() {
        let errors = [
            Error::app("a.bin", AppError::Format(FormatError::TooShort(3))),
            Error::app("a.bin", AppError::DeviceOsTooOld(5400)),
            Error::bundle("b.zip", BundleError::NoApp),
            Error::SelfCheck {
                name: "x".into(),
                cause: AssetModuleError::Format(FormatError::TooShort(3)),
            },
        ];
        for e in &errors {
            assert!(std::error::Error::source(e).is_none(), "{e}");
        }
        assert_eq!(
            errors[0].to_string(),
            "`a.bin` is neither an ELF file nor a Particle module: it is 3 B, too short for a Particle module (at least 64 B)"
        );
    }

    #[test]
    fn an_unparsable_app_is_not_firmware() {
        let e = Error::app("a.bin", AppError::Format(FormatError::TooShort(3)));
        assert!(matches!(e, Error::NotFirmware { .. }));
        assert!(matches!(
            Error::app("a.bin", AppError::DeviceOsTooOld(5400)),
            Error::App { .. }
        ));
    }

    #[test]
    fn a_hostile_entry_is_its_own_error() {
        let e = Error::bundle(
            "b.zip",
            BundleError::Hostile {
                entry: "../x".into(),
                reason: "has a `..` component (path traversal)".into(),
            },
        );
        assert_eq!(
            e.to_string(),
            "`b.zip` is rejected: entry `../x` has a `..` component (path traversal)"
        );
    }
}
