//! What the firmware examples do at boot, shared by every target: read each
//! asset of the embedded manifest back through the device store (an image
//! of the store that the build placed in the firmware), print
//! `<sha256>  <size>  <name>` computed from the bytes read (the format of
//! `examples/hello`), then check the runtime and the store on those bytes.
//! Included with `#[path]` so each example stays a single self-contained crate.

use core::fmt::Write;

use assetota_store::{ReadOnlyFlash, Scratch, Store};
use sha2::{Digest, Sha256};

/// The store image `assetota_build::Builder::store_image()` wrote: the
/// platform's store partition with every asset installed.
pub static STORE_IMAGE: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/assetota.store"));

/// The flash geometry of the platform in Cargo.toml (write size 4, 1 KiB pages).
pub type ImageFlash = ReadOnlyFlash<'static, 4, 1024>;
/// How many stored assets the store's table tracks.
pub const MAX_ASSETS: usize = 32;
/// The platform's deflate window: `window-bits = 12`.
pub const WINDOW: usize = 4096;

/// Runs the report; `false` when anything failed (the caller exits with 1).
pub fn run(
    out: &mut impl Write,
    err: &mut impl Write,
    manifest: Result<assetota::Manifest<'_>, assetota::DecodeError>,
) -> bool {
    let manifest = match manifest {
        Ok(manifest) => manifest,
        Err(error) => {
            let _ = writeln!(err, "invalid manifest: {error}");
            return false;
        }
    };
    let flash = ImageFlash::new(STORE_IMAGE);
    let mut store = match Store::<_, MAX_ASSETS>::mount(flash, 0..STORE_IMAGE.len() as u32) {
        Ok(store) => store,
        Err(error) => {
            let _ = writeln!(err, "cannot mount the store: {error}");
            return false;
        }
    };
    let mut scratch = Scratch::<WINDOW>::new();
    let mut ok = true;
    for asset in manifest.iter() {
        match read_back(&mut store, &mut scratch, &asset) {
            Ok((sha, size)) => {
                let _ = writeln!(
                    out,
                    "{}  {}  {}",
                    assetota::Hex(&sha),
                    size,
                    asset.name()
                );
            }
            Err(error) => {
                let _ = writeln!(out, "missing  {}  {}", asset.size(), asset.name());
                let _ = writeln!(err, "{}: {error}", asset.name());
                ok = false;
            }
        }
    }
    let _ = writeln!(
        err,
        "store: used {} of {} B",
        store.used(),
        store.capacity()
    );
    ok && self_check(err, &manifest, &mut store, &mut scratch)
}

/// SHA-256 and length of an asset's bytes as read through the store.
fn read_back(
    store: &mut Store<ImageFlash, MAX_ASSETS>,
    scratch: &mut Scratch<WINDOW>,
    asset: &assetota::Asset<'_>,
) -> Result<([u8; 32], u64), assetota_store::Error<assetota_store::ReadOnlyError>> {
    let mut reader = store.open(asset.sha256(), scratch)?;
    let mut hasher = Sha256::new();
    let mut buf = [0u8; 256];
    let mut size = 0u64;
    loop {
        let n = reader.read(&mut buf)?;
        if n == 0 {
            break;
        }
        hasher.update(buf.get(..n).unwrap_or(&[]));
        size += n as u64;
    }
    Ok((hasher.finalize().into(), size))
}

/// The runtime's verifier on bytes read from the store (one asset, the
/// smallest), and `missing()` through the store: nothing is missing, for any
/// number of assets.
fn self_check(
    err: &mut impl Write,
    manifest: &assetota::Manifest<'_>,
    store: &mut Store<ImageFlash, MAX_ASSETS>,
    scratch: &mut Scratch<WINDOW>,
) -> bool {
    let Some(asset) = manifest
        .iter()
        .filter(|a| a.size() > 0 && a.size() <= 4096)
        .min_by_key(|a| a.size())
    else {
        let _ = writeln!(err, "self-check: no asset of 1 to 4096 bytes to check");
        return false;
    };
    let mut bytes = [0u8; 4096];
    let len = asset.size() as usize;
    let Ok(mut reader) = store.open(asset.sha256(), scratch) else {
        return false;
    };
    let mut got = 0;
    while got < len {
        match reader.read(&mut bytes[got..len]) {
            Ok(0) | Err(_) => return false,
            Ok(n) => got += n,
        }
    }
    let bytes = &bytes[..len];

    // The bytes as read, in uneven chunks, must verify.
    let mut verifier = asset.verifier();
    for chunk in bytes.chunks(7) {
        verifier.update(chunk);
    }
    let accepted = verifier.finish().is_ok();

    // The same bytes with one bit flipped must not.
    let mut verifier = asset.verifier();
    let (head, tail) = bytes.split_at(bytes.len() / 2);
    verifier.update(head);
    if let Some((first, rest)) = tail.split_first() {
        verifier.update(&[first ^ 0x01]);
        verifier.update(rest);
    }
    let rejected = verifier.finish().is_err();

    // The store holds every asset of the manifest; a device holding none
    // would have to fetch all of them.
    let nothing_missing = store.missing(manifest).next().is_none();
    let all_missing_when_empty = manifest.missing(&[]).count() == manifest.len();

    let _ = writeln!(
        err,
        "self-check: verify accepts {accepted}, rejects corrupt copy {rejected}, missing() {}",
        nothing_missing && all_missing_when_empty
    );
    accepted && rejected && nothing_missing && all_missing_when_empty
}
