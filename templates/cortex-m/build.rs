use std::path::PathBuf;

fn main() {
    // cortex-m-rt's link.x includes memory.x from the linker search path.
    let out = PathBuf::from(std::env::var_os("OUT_DIR").unwrap());
    std::fs::copy("memory.x", out.join("memory.x")).unwrap();
    println!("cargo::rustc-link-search={}", out.display());
    println!("cargo::rerun-if-changed=memory.x");

    // Scans assets/, checks the platform budget and writes the manifest that
    // `assetota::manifest!()` embeds; reruns whenever an asset changes.
    assetota_build::embed();
}
