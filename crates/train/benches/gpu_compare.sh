#!/usr/bin/env bash
# QNN Lab's training step beside PyTorch's eager CUDA step on the same NVIDIA GPU, paper's Frappe
# configuration. For a machine with a GPU and no package registry: build the benchmark here
#   bash crates/model/cuda-llvm.sh                 # once, as root: Debian's LLVM 22 for CubeCL
#   cargo bench -p qnn-train --features cuda --bench frappe_step --no-run
#   cargo bench -p qnn-train --features cuda,fusion --bench frappe_step --no-run   # optional
# copy the binaries they name (target/release/deps/frappe_step-*) and this folder over, then run
#   crates/train/benches/gpu_compare.sh path/to/frappe_step [STEPS] [path/to/frappe_step-fusion]
# Needs python3 with torch (CUDA) there. Prints the runs and the ratio table: QNN Lab (fused
# layers), PyTorch eager, QNN Lab with the layers as composed Burn operations (what the fused
# CubeCL kernels replace) and, given the second binary, both again with Burn's fusion on.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
bench="${1:?usage: gpu_compare.sh FRAPPE_STEP_BINARY [STEPS] [FUSION_BINARY]}"
steps="${2:-20}"
fusion_bench="${3:-}"
runs=()
runs+=("$("$bench" --device cuda --config frappe --steps "$steps")")
runs+=("$(python3 "$here/pytorch_baseline.py" --device cuda --steps "$steps" --label "pytorch (cuda, eager)")")
runs+=("$("$bench" --device cuda --config frappe --layer composed --steps "$steps")")
if [ -n "$fusion_bench" ]; then
    runs+=("$("$fusion_bench" --device cuda --config frappe --steps "$steps")")
    runs+=("$("$fusion_bench" --device cuda --config frappe --layer composed --steps "$steps")")
fi
for run in "${runs[@]}"; do
    echo "$run" | grep -v '^BENCH_JSON'
    echo
done
printf '%s\n' "${runs[@]}" | grep '^BENCH_JSON' | cut -d' ' -f2- | python3 "$here/bench_table.py"
