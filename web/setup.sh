#!/usr/bin/env bash
# Installs what building the browser trainer needs, when missing: the wasm32 target, Trunk 0.21.14
# and wasm-bindgen-cli at exactly the wasm-bindgen version in Cargo.lock. Offline afterwards.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
    rustup target add wasm32-unknown-unknown
fi

# Both tools compile from source. They get their own target dir (shared between the two, so
# their common dependencies build once; separate from the project's, so that this can run
# beside a project build) and a cheaper release profile: no LTO, opt-level 1. Neither tool's
# speed matters here (wasm-bindgen takes seconds on the worker either way); compiling them is
# what takes the time.
export CARGO_TARGET_DIR="${QNN_TOOLS_TARGET_DIR:-$HOME/.cache/qnn-lab/tools-target}"
export CARGO_PROFILE_RELEASE_LTO=false
export CARGO_PROFILE_RELEASE_OPT_LEVEL=1
export CARGO_PROFILE_RELEASE_CODEGEN_UNITS=16
export CARGO_PROFILE_RELEASE_DEBUG=false

# Trunk 0.22 needs a newer rustc than this toolchain; 0.21.14 is the newest that builds here.
# Without its default features (a TLS stack for downloads and `serve --tls`, the update check:
# it runs offline) and at opt-level 0 it compiles in 3.4 min instead of 6.5 on 2 cores; its own
# work in a `trunk build` takes about 6 s longer (measured 2026-12-04, README).
trunk_version=0.21.14
if ! trunk --version 2>/dev/null | grep -q "trunk $trunk_version"; then
    echo "installing trunk $trunk_version (compiles from source, once)"
    CARGO_PROFILE_RELEASE_OPT_LEVEL=0 cargo install trunk --locked --version "$trunk_version" \
        --no-default-features
fi

# wasm-bindgen's CLI must match the library in Cargo.lock exactly. Without --locked: its own
# lockfile pins a webpki-roots release the registry lacks (recipe.md).
bindgen_version=$(awk '/^name = "wasm-bindgen"$/ { getline; gsub(/"/, "", $3); print $3; exit }' Cargo.lock)
if ! wasm-bindgen --version 2>/dev/null | grep -q "wasm-bindgen $bindgen_version"; then
    echo "installing wasm-bindgen-cli $bindgen_version (compiles from source, once)"
    cargo install wasm-bindgen-cli --version "$bindgen_version"
fi
if ! grep -q "wasm_bindgen = \"$bindgen_version\"" Trunk.toml; then
    echo "Trunk.toml's [tools] wasm_bindgen is not $bindgen_version (the Cargo.lock version)" >&2
    exit 1
fi
