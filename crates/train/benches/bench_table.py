"""Reads BENCH_JSON lines on stdin (the first is QNN Lab's) and prints the ratio table of the
benchmark scripts: samples/s and peak memory of each row, and QNN Lab's speed and memory
ratios against it. Peak memory is the device's when the row reports it, else resident memory."""

import json
import sys

rows = [json.loads(line) for line in sys.stdin if line.strip()]
ours = rows[0]


def memory(row):
    return row.get("peak_device_mib", row["peak_rss_mib"])


print()
print("| implementation | samples/s | peak memory (MiB) | qnn-lab speed ratio | qnn-lab memory ratio |")
print("|---|---:|---:|---:|---:|")
for r in rows:
    speed = ours["samples_per_sec"] / r["samples_per_sec"]
    mem = memory(ours) / memory(r)
    print(f"| {r['impl']} | {r['samples_per_sec']:.0f} | {memory(r):.0f} | {speed:.2f} | {mem:.2f} |")
