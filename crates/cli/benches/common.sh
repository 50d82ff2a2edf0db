# Shared by the benchmark scripts beside it (sourced, not run): the qnn binary, the Criteo-schema
# input files, and anonymous memory sampled from /proc.

# Sets `repo` and `qnn`: target/release/qnn, built if missing (QNN names another binary).
bench_qnn() {
  repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)
  qnn=${QNN:-$repo/target/release/qnn}
  [ -x "$qnn" ] || (cd "$repo" && cargo build --release -p qnn-cli)
}

# criteo_files TRAIN_ROWS VALID_ROWS: sets `data` and writes data/criteo_synthetic/train.csv and
# valid.csv (seed 7) in the working directory with `qnn generate criteo`, unless they exist.
criteo_files() {
  data=data/criteo_synthetic
  [ -f $data/train.csv ] || "$qnn" generate criteo --rows "$1" --out $data/train.csv
  [ -f $data/valid.csv ] || "$qnn" generate criteo --rows "$2" --seed 7 --out $data/valid.csv
}

# anon_kib PID: the process's anonymous resident memory (heap and stacks, not the page cache
# behind its file mappings) now, in KiB; 0 once it is gone.
anon_kib() {
  local kib
  kib=$(awk '/^RssAnon:/ {print $2}' /proc/$1/status 2>/dev/null || true)
  echo "${kib:-0}"
}

# peak_anon_until_preprocessed PID LOG: the most anonymous memory PID held, in KiB, until LOG
# says "Preprocessed" (the fitting and encoding passes are over) or PID ends.
peak_anon_until_preprocessed() {
  local peak=0 anon
  while kill -0 "$1" 2>/dev/null && ! grep -q "Preprocessed" "$2"; do
    anon=$(anon_kib "$1")
    [ "$anon" -gt "$peak" ] && peak=$anon
    sleep 0.05
  done
  echo "$peak"
}
