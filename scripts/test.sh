#!/usr/bin/env bash
# The full test suite. Installs what it needs (idempotently), then runs:
# formatting and lints, every workspace test, the MSRV checks, the no_std
# runtime on a real Cortex-M target, and each fuzz target for a while.
#
#   scripts/test.sh            everything
#   FUZZ_SECONDS=0 scripts/test.sh   skip fuzzing
set -euo pipefail
cd "$(dirname "$0")/.."

FUZZ_SECONDS="${FUZZ_SECONDS:-60}"
MSRV_CORE=1.89.0   # build-support crates (rust-version in Cargo.toml)
MSRV_CLI=1.91.0    # cargo-assetota (cargo_metadata 0.23 needs 1.91)
BARE_TARGETS=(thumbv7m-none-eabi riscv32imac-unknown-none-elf)
ESP_TARGET=riscv32imc-unknown-none-elf   # examples/esp32c3 (esp-hal)
# The oracle of the ESP app image: `espflash save-image`, the same version as
# the espflash library assetota-firmware links (4.6 and later need rustc 1.95).
ESPFLASH_VERSION=4.5.0

step() { printf '\n\033[1;32m==>\033[0m %s\n' "$*"; }

# --- prerequisites -----------------------------------------------------------
step "prerequisites"
need_apt=()
for tool in xz:xz-utils python3:python3 setpriv:util-linux llvm-objcopy:llvm qemu-system-arm:qemu-system-arm qemu-system-riscv32:qemu-system-misc node:nodejs npm:npm /usr/bin/time:time gzip:gzip curl:curl chromium:chromium; do
    command -v "${tool%%:*}" >/dev/null || need_apt+=("${tool#*:}")
done
if ((${#need_apt[@]})); then
    if [ "$(id -u)" = 0 ]; then
        apt-get update -qq && apt-get install -y -qq --no-install-recommends "${need_apt[@]}"
    else
        echo "missing: ${need_apt[*]} (install them with apt-get as root)" >&2
        exit 1
    fi
fi
installed_targets=$(rustup target list --installed)
for target in "${BARE_TARGETS[@]}"; do
    grep -qx "$target" <<<"$installed_targets" || rustup target add "$target"
done
grep -qx "$ESP_TARGET" <<<"$installed_targets" || rustup target add "$ESP_TARGET"
# espflash from crates.io, built once per machine beside cargo's own binaries
# (outside the checkout, so a fresh clone reuses it; a long build on 2 cores;
# its serial-port support needs libudev-dev). The ESP tests fail without it
# unless ASSETOTA_SKIP_ESPFLASH=1.
espflash_root="${CARGO_HOME:-$HOME/.cargo}/assetota-tools/espflash-$ESPFLASH_VERSION"
if [ ! -x "$espflash_root/bin/espflash" ]; then
    if ! pkg-config --exists libudev 2>/dev/null; then
        if [ "$(id -u)" = 0 ]; then
            apt-get update -qq && apt-get install -y -qq --no-install-recommends libudev-dev pkg-config
        else
            echo "missing: libudev-dev pkg-config (for cargo install espflash; install them with apt-get as root)" >&2
            exit 1
        fi
    fi
    cargo install espflash --locked --version "$ESPFLASH_VERSION" --root "$espflash_root"
fi
export ESPFLASH="$espflash_root/bin/espflash"
toolchains=$(rustup toolchain list)
for tc in "$MSRV_CORE" "$MSRV_CLI"; do
    grep -q "^$tc" <<<"$toolchains" || rustup toolchain install "$tc" --profile minimal
done
if [ "$FUZZ_SECONDS" != 0 ]; then
    grep -q '^nightly' <<<"$toolchains" || rustup toolchain install nightly --profile minimal
    command -v cargo-fuzz >/dev/null || cargo install cargo-fuzz --locked
fi
# The npm oracle for the Particle tests (binary-version-reader 3.1.3,
# particle-cli 3.43.1; tests/oracle/package-lock.json pins the tree): `npm ci`
# when node_modules is missing or was installed from another lock file.
oracle=tests/oracle
oracle_stamp="$oracle/node_modules/.assetota-lock.sha256"
oracle_lock=$(sha256sum "$oracle/package-lock.json" | cut -d' ' -f1)
if [ "$(cat "$oracle_stamp" 2>/dev/null)" != "$oracle_lock" ]; then
    (cd "$oracle" && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error)
    echo "$oracle_lock" >"$oracle_stamp"
fi

# --- checks ------------------------------------------------------------------
step "cargo fmt --check"
cargo fmt --all -- --check

step "module dependencies run one way (scripts/module-cycles.py)"
python3 scripts/module-cycles.py

step "cargo clippy"
cargo clippy --workspace --all-targets --quiet -- -D warnings

step "cargo test --workspace"
cargo test --workspace

step "no_std runtime and device store on ${BARE_TARGETS[*]}"
for target in "${BARE_TARGETS[@]}"; do
    cargo build -p assetota --target "$target" --quiet
    cargo build -p assetota-store --target "$target" --quiet
    cargo build -p assetota-store --target "$target" --quiet --features xz
    cargo build -p assetota-store --target "$target" --quiet --no-default-features
done

step "device store: every feature set (no default, deflate, xz, both)"
cargo clippy --quiet -p assetota-store --no-default-features --all-targets -- -D warnings
cargo clippy --quiet -p assetota-store --features xz --all-targets -- -D warnings
cargo test --quiet -p assetota-store --no-default-features --test no_decoders
cargo test --quiet -p assetota-store --features xz

# Code size and RAM of the store on a real Cortex-M3 (QEMU lm3s6965evb): it
# must build in release and its install + verify + read-back must pass.
step "device store footprint firmware (thumbv7m, QEMU)"
(cd bench/store-footprint && cargo build --release --quiet \
    && timeout 120 qemu-system-arm -cpu cortex-m3 -machine lm3s6965evb -nographic \
        -semihosting-config enable=on,target=native \
        -kernel target/thumbv7m-none-eabi/release/store-footprint)

step "MSRV $MSRV_CORE: build-support and host library crates, examples/hello"
cargo "+$MSRV_CORE" check --quiet -p assetota -p assetota-core -p assetota-build -p assetota-store -p hello \
    -p assetota-bundle -p assetota-firmware -p assetota-particle -p assetota-report -p assetota-serve -p assetota-project
cargo "+$MSRV_CORE" check --quiet -p assetota-store --features xz
step "MSRV $MSRV_CLI: cargo-assetota"
cargo "+$MSRV_CLI" check --quiet -p cargo-assetota

step "cargo-assetota without its default esp feature: no espflash in the tree, clippy clean"
if cargo tree -p cargo-assetota --no-default-features -e normal,build -i espflash >/dev/null 2>&1; then
    echo "espflash is in cargo-assetota's tree without the esp feature" >&2
    exit 1
fi
cargo clippy --quiet -p cargo-assetota --no-default-features --all-targets -- -D warnings
cargo test --quiet -p assetota-firmware --no-default-features --lib

step "build-support without the xz feature (the helper's default)"
cargo test --quiet -p assetota-core --no-default-features
cargo clippy --quiet -p assetota-build --no-default-features --all-targets -- -D warnings

# The benchmark itself takes minutes and needs an idle machine (docs/benchmarks.md);
# this only checks that it still runs end to end, on small corpora, in debug.
step "benchmark smoke run (assetota-bench --quick, debug build: timings meaningless)"
cargo run --quiet -p assetota-bench -- --quick >/dev/null
step "examples/ota-riscv: rustfmt and clippy (outside the workspace)"
(cd examples/ota-riscv && cargo fmt --check && cargo clippy --quiet --release -- -D warnings)

# esp-hal firmware on stable; tests/tests/e2e_esp.rs bundles it (in
# target/e2e) and compares its app image with espflash's.
step "examples/esp32c3: build (riscv32imc, esp-hal), rustfmt and clippy (outside the workspace)"
(cd examples/esp32c3 && CARGO_TARGET_DIR=../../target/e2e cargo build --quiet && cargo fmt --check \
    && CARGO_TARGET_DIR=../../target/e2e cargo clippy --quiet -- -D warnings)

step "device store benchmark smoke run (--quick)"
cargo bench --quiet -p assetota-store --bench store -- --quick

if [ "$FUZZ_SECONDS" != 0 ]; then
    for target in $(cd fuzz && cargo +nightly fuzz list); do
        step "fuzz $target for ${FUZZ_SECONDS}s"
        corpus="$PWD/fuzz/corpus/$target"
        mkdir -p "$corpus"
        (cd fuzz && cargo +nightly fuzz run "$target" "$corpus" "$PWD/seeds/$target" -- \
            -max_total_time="$FUZZ_SECONDS" -print_final_stats=1 2>&1 | tail -n 12)
    done
fi

step "all checks passed"
