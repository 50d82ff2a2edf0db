#!/usr/bin/env bash
# Runs the Rust training-step benchmark and the PyTorch baseline back to back on this machine and
# prints the ratio. PyTorch goes into a virtual environment under ~/.cache/qnn-lab (a large
# download the first time). Usage: compare_pytorch.sh [STEPS]
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
rust_json=$(echo "$rust_out" | grep '^BENCH_JSON' | cut -d' ' -f2-)
torch_json=$(echo "$torch_out" | grep '^BENCH_JSON' | cut -d' ' -f2-)
python3 - "$rust_json" "$torch_json" <<'PY'
import json, sys
ours, torch = (json.loads(a) for a in sys.argv[1:3])
print()
print("| implementation | samples/s | peak RSS (MiB) |")
print("|---|---:|---:|")
for r in (ours, torch):
    print(f"| {r['impl']} | {r['samples_per_sec']:.0f} | {r['peak_rss_mib']:.0f} |")
print(f"\nspeed ratio qnn-lab / pytorch: {ours['samples_per_sec'] / torch['samples_per_sec']:.2f}")
print(f"memory ratio qnn-lab / pytorch: {ours['peak_rss_mib'] / torch['peak_rss_mib']:.2f}")
PY
