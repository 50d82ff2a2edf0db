#!/usr/bin/env python3
"""Reference runs for the model zoo: FuxiCTR 2.0.1's own preprocessing, data loader, training loop
and *model classes* (from the model_zoo/ folder of FuxiCTR's git tag v2.0.1, which the PyPI package
does not ship) on the split and with the settings QNN Lab's configs give:

- `--dataset frappe`: the Frappe split of crates/cli/configs/frappe_x1, blocks `<Model>_Frappe_x1`;
- `--dataset movielens`: the bundled MovieLens sample of crates/cli/configs/movielens_clicked
  (categorical fields and the `|`-separated `genres` sequence), blocks `<Model>_MovieLens`.

Compare with `qnn tune --config crates/cli/configs/<dir>/<Model>_seeds.yaml` (same seeds).

Usage (repository root, a Python with fuxictr==2.0.1 and torch; FUXICTR = a checkout of the tag):
    python crates/train/benches/fuxictr_zoo.py --dataset frappe --model DeepFM --fuxictr FUXICTR \
        [--seeds 2019,2020,2021] [--data ../shared/data/frappe_x1]
"""
import argparse
import importlib
import logging
import os
import statistics
import sys
import tempfile
import time

import yaml

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
# The data pipeline and the NumPy/scikit-learn compatibility shims of the QNN reference run.
import fuxictr_frappe_parity as parity  # noqa: E402
from fuxictr.features import FeatureMap  # noqa: E402
from fuxictr.preprocess import FeatureProcessor, build_dataset  # noqa: E402
from fuxictr.pytorch.dataloaders import H5DataLoader  # noqa: E402
from fuxictr.pytorch.torch_utils import seed_everything  # noqa: E402

# Where each model class lives in FuxiCTR's v2.0.1 tag.
MODEL_SOURCES = {
    "DeepFM": "model_zoo/DeepFM/DeepFM_torch",
    "DCNv2": "model_zoo/DCNv2",
    "FinalMLP": "model_zoo/FinalMLP",
    "DualMLP": "model_zoo/FinalMLP",
}
CONFIGS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "../../cli/configs")
MOVIELENS_FIELDS = ["user_id", "movie_id", "gender", "age", "occupation", "zip"]
# Per dataset: config folder, block suffix, FuxiCTR's dataset keys, and the build_dataset call.
DATASETS = {
    "frappe": dict(
        folder="frappe_x1", suffix="_Frappe_x1", dataset_id="frappe_x1_parity",
        feature_cols=[{"name": parity.FIELDS, "active": True, "dtype": "float",
                       "type": "categorical"}],
        label_col={"name": "label", "dtype": "float"}, min_categr_count=2,
        split=lambda data: dict(
            train_data=os.path.join(data, "valid.csv"), valid_size=11545,
            valid_data=os.path.join(data, "valid.csv"),  # 2.0.1 reads it, then replaces it
            split_type="sequential", test_data=os.path.join(data, "test.csv")),
        data="../shared/data/frappe_x1"),
    "movielens": dict(
        folder="movielens_clicked", suffix="_MovieLens", dataset_id="movielens_clicked",
        feature_cols=[{"name": MOVIELENS_FIELDS, "active": True, "dtype": "str",
                       "type": "categorical"},
                      {"name": "genres", "active": True, "dtype": "str", "type": "sequence",
                       "splitter": "|", "max_len": 3, "padding": "post"}],
        label_col={"name": "clicked", "dtype": "float"}, min_categr_count=1,
        split=lambda data: dict(
            # 2.0.1 reads valid_data and test_data before it carves both out of train_data.
            train_data=os.path.join(data, "movielens_sample.csv"), valid_size=40, test_size=40,
            valid_data=os.path.join(data, "movielens_sample.csv"),
            test_data=os.path.join(data, "movielens_sample.csv"), split_type="sequential"),
        data="static/examples/movielens"),
}


def model_class(fuxictr_repo, name):
    sys.path.insert(0, os.path.join(fuxictr_repo, MODEL_SOURCES[name]))
    return getattr(importlib.import_module("src"), name)


def run(cls, block, seed, dataset, data):
    with tempfile.TemporaryDirectory() as root:
        params = dict(block)
        params.update(
            dataset_id=dataset["dataset_id"], data_root=root, model_root=root,
            feature_cols=dataset["feature_cols"], label_col=dataset["label_col"],
            min_categr_count=dataset["min_categr_count"], seed=seed,
            early_stop_patience=2, save_best_only=True, eval_steps=None, num_workers=1, verbose=0,
            model_id=f"{block['model']}{dataset['suffix']}_torch_{seed}",
        )
        seed_everything(seed=seed)
        processor = FeatureProcessor(**params)
        train, valid, test = build_dataset(
            processor, min_categr_count=dataset["min_categr_count"], **dataset["split"](data))
        feature_map = FeatureMap(params["dataset_id"], os.path.join(root, params["dataset_id"]))
        feature_map.load(os.path.join(root, params["dataset_id"], "feature_map.json"), params)
        model = cls(feature_map, gpu=-1, **params)
        train_gen, valid_gen = H5DataLoader(feature_map, stage="train", train_data=train,
                                            valid_data=valid, **params).make_iterator()
        model.fit(train_gen, validation_data=valid_gen, **params)
        test_gen = H5DataLoader(feature_map, stage="test", test_data=test, **params).make_iterator()
        return model.evaluate(test_gen)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--model", required=True, choices=sorted(MODEL_SOURCES))
    parser.add_argument("--fuxictr", required=True, help="a checkout of FuxiCTR's tag v2.0.1")
    parser.add_argument("--seeds", default="2019,2020,2021")
    parser.add_argument("--dataset", default="frappe", choices=sorted(DATASETS))
    parser.add_argument("--data", help="the data folder (default: the dataset's usual one)")
    parser.add_argument("--log", action="store_true", help="FuxiCTR's training log on stderr")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO if args.log else logging.WARNING, stream=sys.stderr)
    dataset = DATASETS[args.dataset]
    with open(os.path.join(CONFIGS, dataset["folder"], "model_config.yaml")) as f:
        block = yaml.safe_load(f)[f"{args.model}{dataset['suffix']}"]
    block.pop("dataset_id")
    cls = model_class(args.fuxictr, args.model)
    results = []
    for seed in (int(s) for s in args.seeds.split(",")):
        started = time.time()
        result = run(cls, block, seed, dataset, args.data or dataset["data"])
        results.append(result)
        print(f"{args.model} seed {seed}: test AUC {result['AUC']:.6f}, logloss "
              f"{result['logloss']:.6f} ({time.time() - started:.0f} s)", flush=True)
    for metric in ("AUC", "logloss"):
        values = [r[metric] for r in results]
        spread = statistics.stdev(values) if len(values) > 1 else 0.0
        print(f"{args.model} test {metric}: {statistics.mean(values):.6f} ± {spread:.6f} "
              f"({min(values):.6f} … {max(values):.6f}) over {len(values)} seeds")


if __name__ == "__main__":
    main()
