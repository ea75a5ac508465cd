fn main() {
    assetota_build::embed();
}
