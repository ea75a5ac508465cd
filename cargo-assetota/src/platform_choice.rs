//! Which platform a command budgets against when the user names one.

use assetota_core::config::PLATFORM_ENV;

use crate::error::{Error, Result};

/// `--platform`, else `ASSETOTA_PLATFORM`, with where it came from.
pub fn platform_override(flag: Option<&str>) -> Option<(String, String)> {
    if let Some(name) = flag {
        return Some((name.to_owned(), "--platform".to_owned()));
    }
    match std::env::var(PLATFORM_ENV) {
        Ok(name) if !name.is_empty() => {
            Some((name, format!("the {PLATFORM_ENV} environment variable")))
        }
        _ => None,
    }
}

/// A built-in platform by name, or a clear error.
pub fn builtin_platform(name: &str) -> Result<assetota_core::Platform> {
    assetota_core::platform::builtin(name).ok_or_else(|| Error::UnknownPlatform {
        name: name.to_owned(),
        known: assetota_core::platform::builtin_names()
            .into_iter()
            .map(str::to_owned)
            .collect(),
    })
}
