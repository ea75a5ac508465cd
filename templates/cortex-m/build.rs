fn main() {
    // link.x is found through the library search path.
    println!("cargo::rustc-link-search={}", std::env::var("CARGO_MANIFEST_DIR").unwrap());
    println!("cargo::rerun-if-changed=link.x");
    // Scans assets/, checks the platform budget and writes the manifest that
    // `assetota::manifest!()` embeds; reruns whenever an asset changes.
    assetota_build::embed();
}
