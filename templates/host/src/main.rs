// Places the asset manifest in the `.assetota` section of the binary.
assetota::manifest!();

fn main() {
    let manifest = ASSETOTA.manifest().expect("the manifest embedded by build.rs is valid");
    println!("{} asset(s):", manifest.len());
    for asset in manifest.iter() {
        println!("  {}  {:>8} B  {}", asset.sha256_hex(), asset.size(), asset.name());
    }
}
