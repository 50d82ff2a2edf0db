#!/usr/bin/env bash
# QNN Lab's training step beside PyTorch's (the same QNN_T26 step, pytorch_baseline.py) on this
# machine's CPU, paper's Frappe configuration, back to back in one invocation. The headline row
# is PyTorch on the allocator `qnn` runs on (jemalloc with qnn-alloc's settings, LD_PRELOAD'ed);
# PyTorch on glibc's allocator, as people usually run it, is the second row. PyTorch goes into a
# virtual environment under ~/.cache/qnn-lab (a large download the first time); Debian's
# libjemalloc2 is installed when missing (as root). Usage: compare_pytorch.sh [STEPS]
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
steps="${1:-6}"
venv="${QNN_TORCH_VENV:-$HOME/.cache/qnn-lab/torch-venv}"
if ! "$venv/bin/python" -c 'import torch' 2>/dev/null; then
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet torch numpy
fi
jemalloc=$(ldconfig -p | awk '/libjemalloc\.so\.2 /{print $NF; exit}')
if [ -z "$jemalloc" ] && [ "$(id -u)" = 0 ]; then
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq libjemalloc2 >/dev/null
    jemalloc=$(ldconfig -p | awk '/libjemalloc\.so\.2 /{print $NF; exit}')
fi
rust_out=$(cd "$here/../../.." && cargo bench --quiet -p qnn-train --bench frappe_step -- --steps "$steps")
echo "$rust_out" | grep -v '^BENCH_JSON'
results=$(echo "$rust_out" | grep '^BENCH_JSON')
# The settings qnn's allocator runs with, as the benchmark reports them.
conf=$(echo "$rust_out" | sed -n 's/^allocator: jemalloc (\(.*\))$/\1/p')
if [ -n "$jemalloc" ] && [ -n "$conf" ]; then
    out=$(LD_PRELOAD="$jemalloc" MALLOC_CONF="$conf" "$venv/bin/python" "$here/pytorch_baseline.py" \
        --steps "$steps" --label "pytorch on jemalloc ($conf)")
    echo; echo "$out" | grep -v '^BENCH_JSON'
    results+=$'\n'$(echo "$out" | grep '^BENCH_JSON')
else
    echo "(no libjemalloc2: the same-allocator row is missing; apt-get install libjemalloc2)" >&2
fi
out=$("$venv/bin/python" "$here/pytorch_baseline.py" --steps "$steps" --label "pytorch on glibc malloc")
echo; echo "$out" | grep -v '^BENCH_JSON'
results+=$'\n'$(echo "$out" | grep '^BENCH_JSON')
echo "$results" | cut -d' ' -f2- | python3 "$here/bench_table.py"
