//! The assetota platform an application is budgeted against: the built-in
//! platform of its Particle platform id, or the one asked for if it agrees.

use std::path::Path;

use assetota_core::Platform;

use crate::app::{App, AppError};
use crate::error::Error;

/// The built-in assetota platform of Particle platform `id`.
pub fn for_id(id: u16) -> Option<Platform> {
    assetota_core::platform::builtin_platforms()
        .into_iter()
        .find(|p| p.particle_id == Some(id))
}

/// The platform to budget `app` (the file at `path`) against: its own, or
/// `asked` (a built-in platform name) if that is a Particle platform with
/// the same id. An alias of the module's platform gives the alias.
pub fn choose(path: &Path, app: &App, asked: Option<&str>) -> Result<Platform, Error> {
    let id = app.user_part.platform_id;
    let own = for_id(id).ok_or_else(|| Error::App {
        path: path.to_owned(),
        cause: AppError::UnknownPlatform(id),
    })?;
    let Some(name) = asked else {
        return Ok(own);
    };
    let p = assetota_core::platform::builtin(name).ok_or_else(|| Error::UnknownPlatform {
        name: name.to_owned(),
        known: assetota_core::platform::builtin_names()
            .into_iter()
            .map(str::to_owned)
            .collect(),
    })?;
    match p.particle_id {
        None => Err(Error::NotParticlePlatform(name.to_owned())),
        Some(other) if other != id => Err(Error::PlatformMismatch {
            path: path.to_owned(),
            module: own.name,
            flag: name.to_owned(),
        }),
        Some(_) => Ok(p),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::app::USER_PARTS;

    #[test]
    fn every_user_part_has_its_builtin_platform() {
        for u in USER_PARTS {
            let p = for_id(u.platform_id).unwrap_or_else(|| panic!("{}", u.name));
            assert_eq!(p.name, u.name);
        }
        assert!(for_id(6).is_none(), "photon has no asset OTA");
    }

    #[test]
    fn asked_platforms() {
        // Only `user_part` is read.
        let app = App {
            module: crate::module::Module {
                prefix: Default::default(),
                prefix_extensions: Vec::new(),
                prefix_size: 24,
                suffix_extensions: Vec::new(),
                suffix_size: 36,
                raw_product: None,
                reserved: [0; 2],
                len: 64,
            },
            user_part: crate::app::user_part(32).unwrap(),
        };
        let path = Path::new("p2.bin");
        assert_eq!(choose(path, &app, None).unwrap().name, "p2");
        assert_eq!(
            choose(path, &app, Some("photon2")).unwrap().particle_id,
            Some(32)
        );
        assert!(matches!(
            choose(path, &app, Some("boron")),
            Err(Error::PlatformMismatch { module, flag, .. }) if module == "p2" && flag == "boron"
        ));
        assert!(matches!(
            choose(path, &app, Some("no-such-board")),
            Err(Error::UnknownPlatform { .. })
        ));
    }
}
