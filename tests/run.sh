#!/usr/bin/env bash
# Runs every check and test of QNN Lab; installs what it needs first. The README's test command.
#
# Build plan (2 cores): Burn is built natively once, with the `wgpu` feature, and that one build
# runs the CPU and the wgpu tests; clippy's check build and the wasm build are the other two.
# The browser tools (Trunk, wasm-bindgen-cli) compile from source the first time, in the
# background while the native build runs.
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n==> %s (%s)\n' "$*" "$(date +%T)"; }

# Under CI a test whose input in ../shared is missing fails; say so up front.
if [ "${CI:-}" = true ] && [ ! -d ../shared ]; then
    echo "../shared is missing: CI needs the golden files and data there" >&2
    exit 1
elif [ ! -d ../shared ]; then
    echo "note: ../shared is absent: the golden-parity and Frappe tests will say so and skip"
fi

step "toolchain: wasm32 target, rustfmt, clippy"
if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
    rustup target add wasm32-unknown-unknown
fi
rustup component list --installed | grep -q '^rustfmt' || rustup component add rustfmt
rustup component list --installed | grep -q '^clippy' || rustup component add clippy

step "browser tools: Trunk and wasm-bindgen-cli, in the background"
tools_log=$(mktemp)
bash web/setup.sh > "$tools_log" 2>&1 &
tools_pid=$!

step "system packages: Mesa's software Vulkan (wgpu tests), Chromium (browser tests)"
need=()
ls /usr/share/vulkan/icd.d/*.json >/dev/null 2>&1 || need+=(mesa-vulkan-drivers libvulkan1)
[ -x /usr/bin/chromium ] || need+=(chromium)
if [ ${#need[@]} -gt 0 ]; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
        apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}"
    else
        echo "missing ${need[*]} and no way to install them (needs root and apt-get)" >&2
        exit 1
    fi
fi
# Mesa's window-system probe wants a runtime dir; nothing is drawn.
export XDG_RUNTIME_DIR="${XDG_RUNTIME_DIR:-$(mktemp -d)}"

step "format, and Cargo.toml's opt-level-0 list against what the native binaries link"
cargo fmt --all -- --check
bash tests/opt_level_zero.sh

# The wgpu feature in the native build, so that Burn is compiled once natively and the wgpu code
# is linted and tested too.
features=(--features qnn-cli/wgpu)

# Clippy lints the workspace crates while they compile for the tests (clippy-driver as the
# workspace's compiler, what `cargo clippy` does for its check-only build), so that the
# dependencies are compiled once, not once to check and once to test. The arguments are what
# `cargo clippy -- -D warnings` hands clippy-driver.
lint=(env RUSTC_WORKSPACE_WRAPPER="$(rustup which clippy-driver)"
    CLIPPY_ARGS="-D__CLIPPY_HACKERY__warnings__CLIPPY_HACKERY__")

# QNN_CARGO_TIMINGS=1: cargo's HTML report of where the native build's time went
# ($CARGO_TARGET_DIR/cargo-timings/), for finding what makes a cold run long.
timings=()
[ -n "${QNN_CARGO_TIMINGS:-}" ] && timings=(--timings)

step "lint and build (native, all targets, with wgpu)"
"${lint[@]}" cargo test --workspace --all-targets --locked --no-run "${features[@]}" "${timings[@]}"

step "tests (CPU backend, and wgpu on Mesa's software Vulkan when there is no GPU)"
"${lint[@]}" cargo test --workspace --locked "${features[@]}"

step "browser trainer: tools (waiting for the background install), build for wasm32 and lint"
if ! wait "$tools_pid"; then
    cat "$tools_log"
    echo "installing the browser tools failed" >&2
    exit 1
fi
cat "$tools_log"
# Linted while it compiles, as above: every workspace crate as built for wasm32. The dev profile
# (dependencies at opt-level 2) keeps CI's one wasm build short; the size-optimised release build
# (`trunk build --release`) is measured separately (README).
"${lint[@]}" trunk build

step "browser trainer end to end (headless Chromium, without and with WebGPU)"
(cd tests/e2e && npm ci --no-audit --no-fund --loglevel=error)
# The CLI the browser's models and configs are checked against (built by the tests above).
export QNN_BIN="${CARGO_TARGET_DIR:-$PWD/target}/debug/qnn"
node --test --test-concurrency=1 tests/e2e/app.test.mjs
QNN_E2E_WEBGPU=1 node --test --test-concurrency=1 tests/e2e/app.test.mjs
step "done"
