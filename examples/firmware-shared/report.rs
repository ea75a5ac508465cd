//! What the firmware examples do at boot, shared by every target: print the
//! embedded manifest, one `<sha256>  <size>  <name>` line per asset (the
//! format of `examples/hello`), then check the runtime on real bytes.
//! Included with `#[path]` so each example stays a single self-contained crate.

use core::fmt::Write;

/// Runs the report; `false` when anything failed (the caller exits with 1).
/// `sample` is one asset's name and bytes, compiled in for the self-check.
pub fn run(
    out: &mut impl Write,
    err: &mut impl Write,
    manifest: Result<assetota::Manifest<'_>, assetota::DecodeError>,
    sample: Option<(&str, &[u8])>,
) -> bool {
    let manifest = match manifest {
        Ok(manifest) => manifest,
        Err(error) => {
            let _ = writeln!(err, "invalid manifest: {error}");
            return false;
        }
    };
    for asset in manifest.iter() {
        let _ = writeln!(
            out,
            "{}  {}  {}",
            asset.sha256_hex(),
            asset.size(),
            asset.name()
        );
    }
    match sample {
        Some((name, bytes)) => self_check(err, &manifest, name, bytes),
        None => true,
    }
}

fn self_check(
    err: &mut impl Write,
    manifest: &assetota::Manifest<'_>,
    name: &str,
    bytes: &[u8],
) -> bool {
    let Some(asset) = manifest.get(name) else {
        let _ = writeln!(err, "self-check: {name} is not in the manifest");
        return false;
    };

    // The bytes as received, in uneven chunks, must verify.
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

    // A device that holds every other asset must fetch exactly this one.
    let mut held = 0;
    let mut stored = [("", [0u8; 32]); 8];
    for other in manifest
        .iter()
        .filter(|a| a.name() != name)
        .take(stored.len())
    {
        stored[held] = (other.name(), *other.sha256());
        held += 1;
    }
    let mut missing = manifest.missing(&stored[..held]);
    let fetches_only_it =
        missing.next().map(|a| a.name()) == Some(name) && missing.next().is_none();

    let _ = writeln!(
        err,
        "self-check: verify accepts {accepted}, rejects corrupt copy {rejected}, missing() {fetches_only_it}"
    );
    accepted && rejected && fetches_only_it
}
