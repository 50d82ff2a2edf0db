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

step "tests"
if [ ! -d ../shared ]; then
    echo "note: ../shared is absent: the golden-parity test will say so and skip"
fi
cargo test --workspace --locked
