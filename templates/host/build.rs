fn main() {
    // Scans assets/, checks the platform budget and writes the manifest that
    // `assetota::manifest!()` embeds; reruns whenever an asset changes.
    assetota_build::embed();
}
