#!/usr/bin/env bash
# The model zoo's training step in QNN Lab (zoo_step.rs) beside FuxiCTR 2.0.1's own step on
# PyTorch (fuxictr_zoo_step.py: its model classes and BaseModel.train_step), the same networks,
# hyper-parameters, batch and data shape, back to back on this machine's CPU. The headline
# column is PyTorch on the allocator `qnn` runs on (jemalloc with qnn-alloc's settings,
# LD_PRELOAD'ed); PyTorch on glibc's allocator is the last column.
#
# Usage: compare_zoo_pytorch.sh FUXICTR_CHECKOUT [STEPS] [BATCH]
#   FUXICTR_CHECKOUT: FuxiCTR's git tag v2.0.1 (its model_zoo/ folder; the PyPI package lacks it).
# Needs a Python with torch and fuxictr==2.0.1 in $QNN_TORCH_VENV (default
# ~/.cache/qnn-lab/torch-venv) and Debian's libjemalloc2.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
fuxictr="$1"
steps="${2:-5}"
batch="${3:-4096}"
venv="${QNN_TORCH_VENV:-$HOME/.cache/qnn-lab/torch-venv}"
jemalloc=$(ldconfig -p | awk '/libjemalloc\.so\.2 /{print $NF; exit}')
if [ -z "$jemalloc" ] && [ "$(id -u)" = 0 ]; then
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq libjemalloc2 >/dev/null
    jemalloc=$(ldconfig -p | awk '/libjemalloc\.so\.2 /{print $NF; exit}')
fi
[ -n "$jemalloc" ] || { echo "libjemalloc2 is missing (apt-get install libjemalloc2)" >&2; exit 1; }
ours=$(cd "$here/../../.." && cargo bench --quiet -p qnn-train --bench zoo_step -- \
    --steps "$steps" --batch "$batch")
echo "$ours"
conf=$(echo "$ours" | sed -n 's/^allocator: jemalloc (\(.*\))$/\1/p')
rows=""
for model in LR FM DNN DeepFM DCNv2 FinalMLP DualMLP; do
    same=$(LD_PRELOAD="$jemalloc" MALLOC_CONF="$conf" "$venv/bin/python" \
        "$here/fuxictr_zoo_step.py" --model "$model" --fuxictr "$fuxictr" --steps "$steps" \
        --batch "$batch" --label jemalloc 2>/dev/null | tail -1)
    glibc=$("$venv/bin/python" "$here/fuxictr_zoo_step.py" --model "$model" \
        --fuxictr "$fuxictr" --steps "$steps" --batch "$batch" --label glibc 2>/dev/null | tail -1)
    echo "$same"; echo "$glibc"
    rows+="$model|$same|$glibc"$'\n'
done
echo
echo "## QNN Lab beside FuxiCTR 2.0.1 (PyTorch), training samples/s, batch $batch"
echo
echo "| network | parameters (ours / FuxiCTR) | QNN Lab | FuxiCTR, jemalloc | ratio | FuxiCTR, glibc |"
echo "|---|---|---:|---:|---:|---:|"
printf '%s' "$rows" | while IFS='|' read -r model same glibc; do
    [ -n "$model" ] || continue
    line=$(echo "$ours" | grep "^| $model |")
    our_params=$(echo "$line" | cut -d'|' -f3 | tr -d ' ')
    our_rate=$(echo "$line" | cut -d'|' -f5 | tr -d ' ')
    their_params=$(echo "$same" | sed -n 's/.*: \([0-9]*\) parameters.*/\1/p')
    same_rate=$(echo "$same" | sed -n 's/.* \([0-9]*\) samples\/s.*/\1/p')
    glibc_rate=$(echo "$glibc" | sed -n 's/.* \([0-9]*\) samples\/s.*/\1/p')
    ratio=$(python3 -c "print(f'{$our_rate / $same_rate:.2f}×')")
    echo "| $model | $our_params / $their_params | $our_rate | $same_rate | $ratio | $glibc_rate |"
done
