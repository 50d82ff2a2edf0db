#!/usr/bin/env python3
"""Baseline for `cargo bench -p qnn-data --bench preprocess`: FuxiCTR 2.0.1's own FeatureProcessor
(read_csv → preprocess → fit → transform) on the same Frappe-schema CSV, in one process.

Usage: fuxictr_preprocess.py CSV  (needs `pip install fuxictr==2.0.1 pandas`)
Prints: `fuxictr-preprocess <seconds> <peak RSS MiB>`.
"""
import logging
import resource
import sys
import tempfile
import time

from fuxictr.preprocess import FeatureProcessor

FIELDS = ["user", "item", "daytime", "weekday", "isweekend", "homework", "cost", "weather",
          "country", "city"]


def main():
    path = sys.argv[1]
    logging.disable(logging.INFO)
    with tempfile.TemporaryDirectory() as root:
        fp = FeatureProcessor(
            feature_cols=[{"name": FIELDS, "active": True, "dtype": "float", "type": "categorical"}],
            label_col={"name": "label", "dtype": "float"},
            dataset_id="bench",
            data_root=root,
        )
        start = time.perf_counter()
        ddf = fp.read_csv(path)
        ddf = fp.preprocess(ddf)
        fp.fit(ddf, min_categr_count=2)
        data = fp.transform(ddf)
        elapsed = time.perf_counter() - start
        assert len(data["label"]) == len(ddf)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"fuxictr-preprocess {elapsed} {peak}")


if __name__ == "__main__":
    main()
