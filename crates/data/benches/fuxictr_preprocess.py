#!/usr/bin/env python3
"""Baseline for `cargo bench -p qnn-data --bench preprocess` and the full-scale benchmark:
FuxiCTR 2.0.1's own FeatureProcessor (read_csv → preprocess → fit → transform) on the same CSV,
in one process.

Usage: fuxictr_preprocess.py CSV [frappe|criteo]
  frappe (default): Frappe's ten categorical fields, min_categr_count 2;
  criteo: crates/cli/configs/criteo_x4 (FuxiCTR's Criteo processor with convert_to_bucket),
          min_categr_count 10.
Needs `pip install fuxictr==2.0.1 pandas scikit-learn h5py`.
Prints: `fuxictr-preprocess <seconds> <peak RSS MiB>`.
"""
import logging
import resource
import sys
import tempfile
import time

from fuxictr.datasets.criteo import FeatureProcessor as CriteoProcessor
from fuxictr.preprocess import FeatureProcessor

FIELDS = ["user", "item", "daytime", "weekday", "isweekend", "homework", "cost", "weather",
          "country", "city"]


CRITEO_COLS = [
    {"name": [f"I{i}" for i in range(1, 14)], "active": True, "dtype": "float",
     "type": "categorical", "preprocess": "convert_to_bucket", "fill_na": 0},
    {"name": [f"C{i}" for i in range(1, 27)], "active": True, "dtype": "str",
     "type": "categorical"},
]


def main():
    path = sys.argv[1]
    schema = sys.argv[2] if len(sys.argv) > 2 else "frappe"
    logging.disable(logging.INFO)
    with tempfile.TemporaryDirectory() as root:
        if schema == "criteo":
            fp = CriteoProcessor(feature_cols=CRITEO_COLS,
                                 label_col={"name": "Label", "dtype": "float"},
                                 dataset_id="bench", data_root=root)
            min_count, label = 10, "Label"
        else:
            fp = FeatureProcessor(
                feature_cols=[{"name": FIELDS, "active": True, "dtype": "float",
                               "type": "categorical"}],
                label_col={"name": "label", "dtype": "float"},
                dataset_id="bench",
                data_root=root,
            )
            min_count, label = 2, "label"
        start = time.perf_counter()
        ddf = fp.read_csv(path)
        ddf = fp.preprocess(ddf)
        fp.fit(ddf, min_categr_count=min_count)
        data = fp.transform(ddf)
        elapsed = time.perf_counter() - start
        assert len(data[label]) == len(ddf)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"fuxictr-preprocess {elapsed} {peak}")


if __name__ == "__main__":
    main()
