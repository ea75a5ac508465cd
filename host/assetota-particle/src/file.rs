//! What a file is, as far as Particle's tools are concerned: an application
//! or asset module, a bundle zip, or none of these (an ELF, an assetota
//! bundle, anything else).

use std::path::Path;

use assetota_firmware::ELF_MAGIC;

use crate::error::Error;
use crate::module::{Module, function};
use crate::zip::{self as pzip, Bundle};

/// Whether `bytes` are an ELF file ([`ELF_MAGIC`]). An ELF is never taken for a module.
pub fn is_elf(bytes: &[u8]) -> bool {
    bytes.starts_with(ELF_MAGIC)
}

/// Whether `path` ends in `.bin` (any case), as the applications
/// `particle compile` writes do.
pub fn has_bin_extension(path: &Path) -> bool {
    path.extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("bin"))
}

/// The module in `bytes`, if it is one of the kinds asset OTA deals with
/// (an application or an asset module).
pub fn sniff_module(bytes: &[u8]) -> Option<Module> {
    Module::parse(bytes)
        .ok()
        .filter(|m| matches!(m.prefix.function, function::USER_PART | function::ASSET))
}

/// A Particle file, as [`classify`] found it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ParticleFile {
    /// An application (user part) module.
    App(Module),
    /// An asset module.
    Asset(Module),
    /// A zip that looks like a Particle bundle (read it with [`read_bundle`]).
    Bundle,
}

impl ParticleFile {
    /// The `kind` the JSON reports give it.
    pub fn kind(&self) -> &'static str {
        match self {
            ParticleFile::App(_) => "particle-application",
            ParticleFile::Asset(_) => "particle-asset-module",
            ParticleFile::Bundle => "particle-bundle",
        }
    }
}

/// What `bytes` are: a Particle bundle (a zip without `manifest.json` and
/// with a `.bin` at its root), an application or asset module, or `None`
/// (an ELF is never a module).
pub fn classify(bytes: &[u8]) -> Option<ParticleFile> {
    if pzip::looks_like_particle_bundle(bytes) {
        return Some(ParticleFile::Bundle);
    }
    if is_elf(bytes) {
        return None;
    }
    sniff_module(bytes).map(|m| {
        if m.prefix.function == function::ASSET {
            ParticleFile::Asset(m)
        } else {
            ParticleFile::App(m)
        }
    })
}

/// [`pzip::read`] of the bundle at `path` (already read into `bytes`), its
/// error naming `path`.
pub fn read_bundle(path: &Path, bytes: &[u8]) -> Result<Bundle, Error> {
    pzip::read(bytes).map_err(|cause| Error::bundle(path, cause))
}

/// The output name `particle bundle` would accept: it must end in `.zip`.
pub fn check_bundle_name(out: &Path) -> Result<(), Error> {
    if out
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("zip"))
    {
        Ok(())
    } else {
        Err(Error::NotZipName(out.to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::asset;

    #[test]
    fn an_asset_module_is_an_asset_and_an_elf_is_nothing() {
        let m = asset::create(b"hello", "a.txt").unwrap();
        let file = classify(&m).unwrap();
        assert!(matches!(file, ParticleFile::Asset(_)));
        assert_eq!(file.kind(), "particle-asset-module");
        let mut elf = ELF_MAGIC.to_vec();
        elf.extend_from_slice(&m[4..]);
        assert_eq!(classify(&elf), None);
        assert_eq!(classify(b"not a module"), None);
    }

    #[test]
    fn a_zip_with_a_root_bin_is_a_bundle() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("b.zip");
        let m = asset::create(b"hello", "a.txt").unwrap();
        pzip::write(
            &path,
            "app.bin",
            b"app",
            &[("a.txt", &m)],
            ::zip::DateTime::default(),
        )
        .unwrap();
        let bytes = std::fs::read(&path).unwrap();
        assert_eq!(classify(&bytes), Some(ParticleFile::Bundle));
        let b = read_bundle(&path, &bytes).unwrap();
        assert_eq!(b.app_name, "app.bin");
        assert!(matches!(
            read_bundle(&path, b"junk"),
            Err(Error::Bundle {
                cause: pzip::BundleError::NotZip(_),
                ..
            })
        ));
    }

    #[test]
    fn bundle_names_end_in_zip() {
        assert!(check_bundle_name(Path::new("x.ZIP")).is_ok());
        assert_eq!(
            check_bundle_name(Path::new("x.txt")),
            Err(Error::NotZipName("x.txt".into()))
        );
        assert!(has_bin_extension(Path::new("a.Bin")));
        assert!(!has_bin_extension(Path::new("a.elf")));
    }
}
