//! Prints the assets this binary was built with, one line each:
//! `<sha256 hex>  <size>  <name>`, sorted by name, like `sha256sum` plus the size.
//!
//! `hello --verify DIR` also checks DIR's files against the manifest the way
//! a device checks what it received, and lists what a device holding DIR
//! would still have to fetch. Those reports go to stderr; stdout stays the
//! listing.

use std::io::Read;
use std::path::Path;
use std::process::ExitCode;

assetota::manifest!();

fn main() -> ExitCode {
    let manifest = match ASSETOTA.manifest() {
        Ok(manifest) => manifest,
        Err(error) => {
            eprintln!("hello: the embedded asset manifest is invalid: {error}");
            return ExitCode::FAILURE;
        }
    };
    for asset in manifest.iter() {
        println!("{}  {}  {}", asset.sha256_hex(), asset.size(), asset.name());
    }
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.as_slice() {
        [] => ExitCode::SUCCESS,
        [flag, dir] if flag == "--verify" => verify_dir(&manifest, Path::new(dir)),
        _ => {
            eprintln!("usage: hello [--verify ASSETS_DIR]");
            ExitCode::from(2)
        }
    }
}

/// Streams each file through the runtime's verifier and reports what a
/// device holding these files would be missing.
fn verify_dir(manifest: &assetota::Manifest<'_>, dir: &Path) -> ExitCode {
    let mut stored = Vec::new();
    for asset in manifest.iter() {
        let Some(found) = manifest.get(asset.name()) else {
            eprintln!("{}: not found by name", asset.name());
            return ExitCode::FAILURE;
        };
        match verify_file(&found, &dir.join(asset.name())) {
            Ok(()) => {
                eprintln!("verified {}", asset.name());
                stored.push((asset.name(), *asset.sha256()));
            }
            Err(problem) => eprintln!("mismatch {}: {problem}", asset.name()),
        }
    }
    let missing: Vec<&str> = manifest.missing(&stored).map(|a| a.name()).collect();
    if missing.is_empty() {
        eprintln!("nothing to fetch");
        ExitCode::SUCCESS
    } else {
        eprintln!("to fetch: {}", missing.join(", "));
        ExitCode::FAILURE
    }
}

fn verify_file(asset: &assetota::Asset<'_>, path: &Path) -> Result<(), String> {
    let mut file = std::fs::File::open(path).map_err(|e| e.to_string())?;
    let mut verifier = asset.verifier();
    let mut chunk = [0u8; 4096];
    loop {
        let n = file.read(&mut chunk).map_err(|e| e.to_string())?;
        if n == 0 {
            break;
        }
        verifier.update(&chunk[..n]);
    }
    verifier.finish().map_err(|e| e.to_string())
}
