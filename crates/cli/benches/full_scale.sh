#!/usr/bin/env bash
# The full-scale benchmark (README "Full scale"): `qnn train` on a Criteo-size synthetic file.
#
#   crates/cli/benches/full_scale.sh [ROWS] [WORKDIR]     (default 45840617 rows, ./full-scale)
#
# Generates WORKDIR/data/criteo_synthetic/{train,valid}.csv with `qnn generate criteo` (ROWS and
# 1 M rows) unless they exist, then runs, from WORKDIR, with a cold cache:
#   qnn train --config crates/cli/configs/criteo_x4 --expid QNN_Criteo_x4_steps --max-steps 20
# (preprocess both files, 20 steps of the paper's Criteo model at batch 10000, evaluate on the
# 1 M valid rows). Prints the log's per-pass rows/s, the peak resident memory (which counts the
# pages of the memory-mapped cache the process has touched: page cache, not its own), the peak
# anonymous memory (heap and stacks, sampled from /proc), and disk use. With MEMORY_LIMIT=4G (and
# a writable cgroup-v1 memory controller) the run is confined to that much memory *including the
# page cache*; training then re-reads the 7 GB cache from disk batch after batch (a shuffled
# batch touches a page per column per row), so it completes but is I/O-bound.
# Uses target/release/qnn (built here with `cargo build --release -p qnn-cli` if missing; set QNN
# to use another binary).
set -euo pipefail
source "$(dirname "$0")/common.sh"
rows=${1:-45840617}
work=$(mkdir -p "${2:-full-scale}" && cd "${2:-full-scale}" && pwd)
limit=${MEMORY_LIMIT:-}
bench_qnn
cd "$work"
criteo_files "$rows" 1000000
rm -rf data/criteo_x4_synthetic checkpoints

cgroup=/sys/fs/cgroup/memory/qnn-full-scale
confine=()
if [ -z "$limit" ]; then
  echo "not confined (MEMORY_LIMIT unset)"
elif mkdir -p $cgroup 2>/dev/null && echo "$limit" > $cgroup/memory.limit_in_bytes 2>/dev/null; then
  echo 0 > $cgroup/memory.max_usage_in_bytes || true
  confine=(sh -c 'echo $$ > '$cgroup'/cgroup.procs && exec "$@"' sh)
  echo "confined to $limit of memory (cgroup v1: $cgroup)"
else
  echo "no writable cgroup-v1 memory controller: not confined"
fi

"${confine[@]}" /usr/bin/time -v "$qnn" train --config "$repo/crates/cli/configs/criteo_x4" \
  --expid QNN_Criteo_x4_steps --max-steps 20 > train.out 2> train.err &
runner=$!
peak_anon=0
while kill -0 $runner 2>/dev/null; do
  pid=$(pgrep -n -f "qnn train --config $repo/crates/cli/configs/criteo_x4" || true)
  if [ -n "$pid" ]; then
    anon=$(anon_kib $pid)
    [ "$anon" -gt "$peak_anon" ] && peak_anon=$anon
  fi
  sleep 0.05
done
wait $runner
grep -E "rows of|Preprocessed|Stop after|Epoch=1 |\[Metrics\]|samples/s|saved to" train.err | sed 's/^/  /' | grep -v "^\s*$" | tail -20
echo "peak resident memory (time -v):  $(awk '/Maximum resident/ {printf "%.0f MiB", $6/1024}' train.err)"
echo "peak anonymous memory (sampled): $((peak_anon / 1024)) MiB"
if [ -d $cgroup ] && [ ${#confine[@]} -gt 0 ]; then
  echo "cgroup peak (incl. page cache):  $(( $(cat $cgroup/memory.max_usage_in_bytes) / 1048576 )) MiB, limit $limit, failcnt $(cat $cgroup/memory.failcnt)"
fi
echo "disk: input $(du -sh $data | cut -f1), cache $(du -sh data/criteo_x4_synthetic | cut -f1)"
echo "wall: $(awk -F': ' '/Elapsed/ {print $2}' train.err)"
