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

step "library crates build for wasm32-unknown-unknown"
cargo build --locked --target wasm32-unknown-unknown -p qnn-data -p qnn-model -p qnn-train

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
