#!/usr/bin/env bash
# Criteo-schema preprocessing, QNN Lab beside FuxiCTR 2.0.1 on the same file (README "Full scale").
#
#   crates/cli/benches/preprocess_vs_fuxictr.sh ROWS WORKDIR PYTHON
#
# Writes WORKDIR/data/criteo_synthetic/train.csv (ROWS rows) and valid.csv (1 M rows) with
# `qnn generate criteo` unless they exist; then
#  - qnn: `qnn train` on crates/cli/configs/criteo_x4 with a cold cache, stopped as soon as the log
#    says "Preprocessed" (the fitting and encoding passes over the train file are what is compared);
#    peak anonymous memory sampled from /proc until then;
#  - FuxiCTR: crates/data/benches/fuxictr_preprocess.py TRAIN criteo with PYTHON (a Python with
#    fuxictr==2.0.1, pandas, scikit-learn, h5py): read, preprocess, fit and transform the train file
#    in one process; its peak RSS.
# Prints both, with the ratios. FuxiCTR holds the whole table in pandas (≈ 1.7 KB a row), so keep
# ROWS within what the machine's memory allows it (≈ 10 M rows in 24 GB).
set -euo pipefail
source "$(dirname "$0")/common.sh"
rows=${1:?ROWS}
work=$(mkdir -p "${2:?WORKDIR}" && cd "$2" && pwd)
python=${3:?PYTHON}
bench_qnn
cd "$work"
criteo_files "$rows" 1000000
rm -rf data/criteo_x4_synthetic checkpoints

"$qnn" train --config "$repo/crates/cli/configs/criteo_x4" --expid QNN_Criteo_x4_steps \
  --max-steps 20 > qnn.out 2> qnn.err &
pid=$!
peak_anon=$(peak_anon_until_preprocessed $pid qnn.err)
kill $pid 2>/dev/null || true
wait $pid 2>/dev/null || true
seconds() { grep "$1" qnn.err | grep "train.csv" | sed -E 's/.* in ([0-9.]+) s .*/\1/'; }
fit=$(seconds "Fitting pass read")
encode=$(seconds "Encoded")
qnn_s=$(echo "$fit + $encode" | bc -l)

read -r _ fx_s fx_mib < <("$python" "$repo/crates/data/benches/fuxictr_preprocess.py" $data/train.csv criteo)

printf '%s rows of %s\n' "$rows" "$data/train.csv"
printf '| %-44s | %9s | %10s | %9s |\n' "preprocessing (fit + encode the train file)" seconds "rows/s" "peak MiB"
printf '| %-44s | %9.1f | %10.0f | %9d |\n' "qnn-lab (fit pass + encode pass)" "$qnn_s" "$(echo "$rows / $qnn_s" | bc -l)" $((peak_anon / 1024))
printf '| %-44s | %9.1f | %10.0f | %9.0f |\n' "FuxiCTR 2.0.1 (read, preprocess, fit, transform)" "$fx_s" "$(echo "$rows / $fx_s" | bc -l)" "$fx_mib"
printf 'qnn-lab is %.1fx as fast, with %.2fx the peak memory (qnn: anonymous memory; FuxiCTR: RSS)\n' \
  "$(echo "$fx_s / $qnn_s" | bc -l)" "$(echo "$peak_anon / 1024 / $fx_mib" | bc -l)"
