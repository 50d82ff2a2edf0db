#!/usr/bin/env bash
# Cargo.toml's `[profile.dev.package]` puts proc macros and their libraries at opt-level 0. A crate
# in that list that is also linked into a native binary exports unoptimised instances of generic
# code, and our opt-level-0 crates then call those (rustc's share-generics): the dev `qnn` binary
# once ran the full_scale test 1.7× slower that way (README, "The two commands"). This fails when a
# listed crate is linked into a native binary or test, with any of the GPU features. The wasm
# page links four listed crates (syn, quote, rstml, convert_case, through leptos_hot_reload) and
# its tests did not slow down, so the wasm build is not checked.
set -euo pipefail
cd "$(dirname "$0")/.."

listed=$(sed -n '/^\[profile\.dev\.package\]$/,/^\[/s/^\([A-Za-z0-9_-]*\) = { opt-level = 0 }$/\1/p' Cargo.toml)
if [ -z "$listed" ]; then
    echo "Cargo.toml: no \`name = { opt-level = 0 }\` entries under [profile.dev.package]" >&2
    exit 1
fi

# The CPU and every GPU feature at once: the crates any native build links.
features=qnn-cli/wgpu,qnn-cli/cuda,qnn-train/fusion,qnn-train/autotune
linked=$(cargo tree --locked --workspace --features "$features" -e normal,dev,no-proc-macro \
    --prefix none --format '{p}' | awk '{ print $1 }' | sort -u)
status=0
for name in $listed; do
    if grep -qx -- "$name" <<<"$linked"; then
        echo "Cargo.toml: [profile.dev.package] $name is at opt-level 0 but linked into a native" \
            "build; keep it at opt-level 2 (share-generics)" >&2
        status=1
    fi
done
exit $status
