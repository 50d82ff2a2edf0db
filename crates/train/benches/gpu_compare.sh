#!/usr/bin/env bash
# QNN Lab's training step beside PyTorch's eager CUDA step on the same NVIDIA GPU, paper's Frappe
# configuration. For a machine with a GPU and no package registry: build the benchmark here
#   bash crates/model/cuda-llvm.sh                 # once, as root: Debian's LLVM 22 for CubeCL
#   cargo bench -p qnn-train --features cuda --bench frappe_step --no-run
# copy the binary it names (target/release/deps/frappe_step-*) and this folder over, then run
#   crates/train/benches/gpu_compare.sh path/to/frappe_step [STEPS]
# Needs python3 with torch (CUDA) there. Prints the runs and the ratio table: QNN Lab (fused
# layers), PyTorch eager, and QNN Lab with the layers as composed Burn operations (what the fused
# CubeCL kernels replace).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
bench="${1:?usage: gpu_compare.sh FRAPPE_STEP_BINARY [STEPS]}"
steps="${2:-20}"
ours=$("$bench" --device cuda --config frappe --steps "$steps")
composed=$("$bench" --device cuda --config frappe --layer composed --steps "$steps")
torch_out=$(python3 "$here/pytorch_baseline.py" --device cuda --steps "$steps" --label "pytorch (cuda, eager)")
echo "$ours" | grep -v '^BENCH_JSON'
echo
echo "$torch_out" | grep -v '^BENCH_JSON'
echo
echo "$composed" | grep -v '^BENCH_JSON'
{ echo "$ours"; echo "$torch_out"; echo "$composed"; } | grep '^BENCH_JSON' | cut -d' ' -f2- | python3 "$here/bench_table.py"
