#!/usr/bin/env bash
# Runs the Rust training-step benchmark and the PyTorch baseline back to back on this machine and
# prints the ratios. PyTorch goes into a virtual environment under ~/.cache/qnn-lab (a large
# download the first time). When Debian's libjemalloc2 is installed, PyTorch also runs a second
# time on jemalloc with the settings `qnn` uses (crates/alloc), so that the allocator's share of
# the difference shows. Usage: compare_pytorch.sh [STEPS]
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
steps="${1:-6}"
venv="${QNN_TORCH_VENV:-$HOME/.cache/qnn-lab/torch-venv}"
if ! "$venv/bin/python" -c 'import torch' 2>/dev/null; then
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet torch numpy
fi
rust_out=$(cd "$here/../../.." && cargo bench --quiet -p qnn-train --bench frappe_step -- --steps "$steps")
torch_out=$("$venv/bin/python" "$here/pytorch_baseline.py" --steps "$steps")
echo "$rust_out" | grep -v '^BENCH_JSON'
echo
echo "$torch_out" | grep -v '^BENCH_JSON'
results=$(echo "$rust_out"; echo "$torch_out")
jemalloc=$(ldconfig -p | awk '/libjemalloc\.so\.2 /{print $NF; exit}')
if [ -n "$jemalloc" ]; then
    conf=$(sed -n 's/^ *"\(thp:.*\)"$/\1/p' "$here/../../alloc/src/lib.rs")
    results+=$'\n'$(LD_PRELOAD="$jemalloc" MALLOC_CONF="$conf" \
        "$venv/bin/python" "$here/pytorch_baseline.py" --steps "$steps" --label "pytorch + jemalloc ($conf)")
else
    echo "(apt-get install libjemalloc2 to also time PyTorch on qnn's allocator)"
fi
echo "$results" | grep '^BENCH_JSON' | cut -d' ' -f2- | python3 -c "$(cat <<'PY'
import json, sys
rows = [json.loads(line) for line in sys.stdin]
ours = rows[0]
print()
print("| implementation | samples/s | peak RSS (MiB) | qnn-lab speed ratio | qnn-lab memory ratio |")
print("|---|---:|---:|---:|---:|")
for r in rows:
    speed = ours["samples_per_sec"] / r["samples_per_sec"]
    memory = ours["peak_rss_mib"] / r["peak_rss_mib"]
    print(f"| {r['impl']} | {r['samples_per_sec']:.0f} | {r['peak_rss_mib']:.0f} | {speed:.2f} | {memory:.2f} |")
PY
)"
