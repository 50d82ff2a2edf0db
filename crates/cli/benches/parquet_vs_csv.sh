#!/usr/bin/env bash
# Raw parquet rows beside the same rows as CSV: QNN Lab's preprocessing of each (README
# "Parquet rows").
#
#   crates/cli/benches/parquet_vs_csv.sh ROWS WORKDIR PYTHON
#
# Writes WORKDIR/data/criteo_synthetic/train.csv (ROWS rows, `qnn generate criteo`) and valid.csv
# (10,000 rows) unless they exist, and the same tables as .parquet files with PYTHON's pyarrow (typed columns: the label and
# the 13 count fields as int64 with nulls, the 26 categorical fields as strings; snappy, pyarrow's
# default row groups). Then, for each file, `qnn train` on crates/cli/configs/criteo_x4 with a cold
# cache and one training step: the fitting and encoding passes over the train file are compared,
# with the peak anonymous memory until the log says "Preprocessed". Both runs must encode the
# same vocabularies (their feature_vocab.json files are compared).
set -euo pipefail
source "$(dirname "$0")/common.sh"
rows=${1:?ROWS}
work=$(mkdir -p "${2:?WORKDIR}" && cd "$2" && pwd)
python=${3:?PYTHON}
bench_qnn
cd "$work"
criteo_files "$rows" 10000
for split in train valid; do
  [ -f $data/$split.parquet ] || "$python" -c "
import pyarrow as pa, pyarrow.csv as c, pyarrow.parquet as p, sys
hashed = {f'C{i}': pa.string() for i in range(1, 27)}  # some hashes are all digits
table = c.read_csv(sys.argv[1], convert_options=c.ConvertOptions(column_types=hashed))
p.write_table(table, sys.argv[2])" $data/$split.csv $data/$split.parquet
done

run() { # FORMAT EXTENSION -> seconds (fit + encode the train file) and peak anonymous KiB
  local format=$1 ext=$2
  rm -rf config data/criteo_x4_synthetic checkpoints
  cp -r "$repo/crates/cli/configs/criteo_x4" config
  sed -i -E "s|data_format: csv|data_format: $format|; s|\.csv$|.$ext|" config/dataset_config.yaml
  "$qnn" train --config config --expid QNN_Criteo_x4_steps --max-steps 1 > qnn.out 2> qnn.err &
  local pid=$! peak
  peak=$(peak_anon_until_preprocessed $pid qnn.err)
  # The run goes on to write the cache (and one training step) before it is compared.
  wait $pid || { cat qnn.err >&2; return 1; }
  local fit encode
  fit=$(grep "Fitting pass read" qnn.err | sed -E 's/.* in ([0-9.]+) s .*/\1/')
  encode=$(grep "Encoded .*/train\." qnn.err | sed -E 's/.* in ([0-9.]+) s .*/\1/')
  cp data/criteo_x4_synthetic/feature_vocab.json "vocab.$format.json"
  echo "$(echo "$fit + $encode" | bc -l) $peak"
}

read -r csv_s csv_kib < <(run csv csv)
read -r pq_s pq_kib < <(run parquet parquet)
cmp -s vocab.csv.json vocab.parquet.json || { echo "the two routes fitted different vocabularies" >&2; exit 1; }

printf '%s rows (%s CSV, %s parquet)\n' "$rows" "$(du -h $data/train.csv | cut -f1)" "$(du -h $data/train.parquet | cut -f1)"
printf '| %-38s | %9s | %10s | %9s |\n' "qnn preprocessing (fit + encode)" seconds "rows/s" "peak MiB"
printf '| %-38s | %9.1f | %10.0f | %9d |\n' "CSV" "$csv_s" "$(echo "$rows / $csv_s" | bc -l)" $((csv_kib / 1024))
printf '| %-38s | %9.1f | %10.0f | %9d |\n' "parquet (same table, snappy)" "$pq_s" "$(echo "$rows / $pq_s" | bc -l)" $((pq_kib / 1024))
printf 'parquet takes %.2fx the CSV time, with the same vocabularies\n' "$(echo "$pq_s / $csv_s" | bc -l)"
