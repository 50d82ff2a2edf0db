#!/usr/bin/env bash
# Runs every check and test of QNN Lab; installs what it needs first. The README's test command.
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n==> %s\n' "$*"; }

step "toolchain: wasm32 target, rustfmt, clippy"
if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
    rustup target add wasm32-unknown-unknown
fi
rustup component list --installed | grep -q '^rustfmt' || rustup component add rustfmt
rustup component list --installed | grep -q '^clippy' || rustup component add clippy

step "format"
cargo fmt --all -- --check

step "lint (native, all targets)"
cargo clippy --workspace --all-targets --locked -- -D warnings

step "tests (CPU backend)"
if [ ! -d ../shared ]; then
    echo "note: ../shared is absent: the golden-parity tests will say so and skip"
fi
cargo test --workspace --locked

step "tests (wgpu backend, on Mesa's software Vulkan when there is no GPU)"
if ! ls /usr/share/vulkan/icd.d/*.json >/dev/null 2>&1; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
        apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq mesa-vulkan-drivers libvulkan1
    else
        echo "no Vulkan driver and no way to install one (needs root and apt-get)" >&2
        exit 1
    fi
fi
# Mesa's window-system probe wants a runtime dir; nothing is drawn.
export XDG_RUNTIME_DIR="${XDG_RUNTIME_DIR:-$(mktemp -d)}"
cargo test --locked -p qnn-model --features wgpu --test golden_parity
cargo test --locked -p qnn-train --features wgpu --test backends
cargo test --locked -p qnn-cli --features wgpu --test cli trains_and_predicts_on_wgpu

step "browser trainer: tools, lint for wasm32, build (trunk; also builds the library crates for wasm32)"
bash web/setup.sh
cargo clippy --locked -p qnn-web -p qnn-web-worker --target wasm32-unknown-unknown -- -D warnings
# The dev profile (dependencies at opt-level 2) keeps CI's one wasm build short; the
# size-optimised release build (`trunk build --release`) is measured separately (README).
trunk build

step "browser trainer end to end (headless Chromium, without and with WebGPU)"
if ! [ -x /usr/bin/chromium ]; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
        apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium
    else
        echo "no /usr/bin/chromium and no way to install it (needs root and apt-get)" >&2
        exit 1
    fi
fi
(cd tests/e2e && npm ci --no-audit --no-fund --loglevel=error)
# The CLI the browser's models and configs are checked against (built by the tests above).
export QNN_BIN="${CARGO_TARGET_DIR:-$PWD/target}/debug/qnn"
node --test --test-concurrency=1 tests/e2e/app.test.mjs
QNN_E2E_WEBGPU=1 node --test --test-concurrency=1 tests/e2e/app.test.mjs
