fn main() {
    // The manifest: assets scanned, measured and budgeted against the
    // `esp32c3-store` platform, whose partition is the `assets` row of
    // partitions.csv.
    assetota_build::embed();
}
