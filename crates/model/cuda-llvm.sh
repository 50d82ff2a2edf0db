#!/usr/bin/env bash
# Makes `--features cuda` build offline (Debian 12). Burn 0.22's CUDA backend compiles kernels
# with LLVM through cubecl-llvm, whose build finds LLVM only at
# $XDG_DATA_HOME/tracel/tracel-llvm-23.1.0-4/bin/llvm-config (normally a download; the `cuda`
# feature of qnn-model turns that download off). This installs Debian's LLVM 22 and puts a
# small llvm-config there that answers for it: static component libraries, and system libraries
# as -l names (the bundler would turn /usr/lib/.../libz3.so into a bad `-llibz3`).
set -euo pipefail

packages=(llvm-22-dev libpolly-22-dev libzstd-dev)
missing=()
for p in "${packages[@]}"; do
    dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
if ((${#missing[@]})); then
    if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null; then
        echo "needs ${missing[*]} (apt-get as root)" >&2
        exit 1
    fi
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}"
fi

bin="${XDG_DATA_HOME:-$HOME/.local/share}/tracel/tracel-llvm-23.1.0-4/bin"
mkdir -p "$bin"
tmp="$(mktemp "$bin/.llvm-config.XXXXXX")"
cat > "$tmp" <<'SHIM'
#!/bin/sh
# Debian's LLVM 22 standing in for tracel's LLVM 23 bundle (written by crates/model/cuda-llvm.sh).
case " $* " in
  *" --libs "*|*" --system-libs "*|*" --libnames "*)
    /usr/lib/llvm-22/bin/llvm-config --link-static "$@" | sed -E 's#/[^ ]*/lib([a-z0-9_]+)\.so#-l\1#g' ;;
  *) exec /usr/lib/llvm-22/bin/llvm-config "$@" ;;
esac
SHIM
chmod +x "$tmp"
mv "$tmp" "$bin/llvm-config"
echo "LLVM for cubecl-llvm: $bin/llvm-config -> LLVM $("$bin/llvm-config" --version)"
