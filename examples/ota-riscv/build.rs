use std::path::PathBuf;

fn main() {
    // riscv-rt's link.x is paired with memory.x (`-Tmemory.x` in
    // .cargo/config.toml), found on the linker search path.
    let out = PathBuf::from(std::env::var_os("OUT_DIR").unwrap());
    std::fs::copy("memory.x", out.join("memory.x")).unwrap();
    println!("cargo::rustc-link-search={}", out.display());
    println!("cargo::rerun-if-changed=memory.x");

    assetota_build::embed();
}
