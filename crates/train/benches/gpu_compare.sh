#!/usr/bin/env bash
# QNN Lab's training step beside PyTorch's eager CUDA step on the same NVIDIA GPU, paper's Frappe
# configuration. For a machine with a GPU and no package registry: build the benchmark here
#   bash crates/model/cuda-llvm.sh                 # once, as root: Debian's LLVM 22 for CubeCL
#   cargo bench -p qnn-train --features cuda --bench frappe_step --no-run
# and, to decide Burn's fusion and autotune for the GPU builds, the same with
#   --features cuda,fusion   --features cuda,autotune   --features cuda,fusion,autotune
# (each names its binary target/release/deps/frappe_step-HASH, the `Executable` line cargo prints:
# copy them out under telling names). Copy the binaries and this folder over, then run
#   crates/train/benches/gpu_compare.sh path/to/frappe_step [STEPS] [path/to/other_build ...]
# Needs python3 with torch (CUDA) there. Prints the runs and the ratio table: QNN Lab (fused
# layers), PyTorch eager, QNN Lab with the layers as composed Burn operations (what the fused
# CubeCL kernels replace) and, for each further binary, both QNN Lab rows again (labelled with the
# Burn features that binary was built with).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
bench="${1:?usage: gpu_compare.sh FRAPPE_STEP_BINARY [STEPS] [OTHER_BUILD ...]}"
steps="${2:-20}"
shift $(($# < 2 ? $# : 2))
runs=()
runs+=("$("$bench" --device cuda --config frappe --steps "$steps")")
runs+=("$(python3 "$here/pytorch_baseline.py" --device cuda --steps "$steps" --label "pytorch (cuda, eager)")")
runs+=("$("$bench" --device cuda --config frappe --layer composed --steps "$steps")")
for other in "$@"; do
    runs+=("$("$other" --device cuda --config frappe --steps "$steps")")
    runs+=("$("$other" --device cuda --config frappe --layer composed --steps "$steps")")
done
for run in "${runs[@]}"; do
    echo "$run" | grep -v '^BENCH_JSON'
    echo
done
printf '%s\n' "${runs[@]}" | grep '^BENCH_JSON' | cut -d' ' -f2- | python3 "$here/bench_table.py"
