#!/usr/bin/env python3
"""Reference run for the Frappe parity experiment: FuxiCTR 2.0.1's own preprocessing, data loader
and training loop (fit / early stop / LR on plateau / best reload) with a QNN_T26 model written
from ../shared/docs/qnn-spec.md §A (the authors' class is not available here), on the split of
crates/cli/configs/frappe_x1. Compare with `qnn train --config crates/cli/configs/frappe_x1
--expid QNN_Frappe_x1`.

Usage (repository root, a Python with fuxictr==2.0.1 and torch):
    python crates/train/benches/fuxictr_frappe_parity.py [--seed 2024] [--data ../shared/data/frappe_x1]
"""
import argparse
import logging
import os
import sys
import tempfile
import time

import numpy as np
import torch
from sklearn.metrics import log_loss as sklearn_log_loss
from torch import nn
import fuxictr.metrics as fuxictr_metrics
from fuxictr.features import FeatureMap
from fuxictr.preprocess import FeatureProcessor, build_dataset
from fuxictr.pytorch.dataloaders import H5DataLoader
from fuxictr.pytorch.layers import FeatureEmbedding
from fuxictr.pytorch.models import BaseModel
from fuxictr.utils import set_logger  # noqa: F401  (FuxiCTR's logging setup is not needed)
from fuxictr.pytorch.torch_utils import seed_everything

# FuxiCTR 2.0.1 predates NumPy 2 (np.Inf) and scikit-learn 1.5 (log_loss's eps argument); keep its
# semantics on current versions: p clipped to [1e-7, 1 - 1e-7].
if not hasattr(np, "Inf"):
    np.Inf = np.inf
fuxictr_metrics.log_loss = lambda y, p, eps=1e-7: sklearn_log_loss(y, np.clip(p, eps, 1 - eps))

FIELDS = ["user", "item", "daytime", "weekday", "isweekend", "homework", "cost", "weather",
          "country", "city"]


class QuadraticLayer(nn.Module):
    """Spec §A.3 for one head (H = 1: π is the identity)."""

    def __init__(self, d, rows, dropout, batch_norm):
        super().__init__()
        self.rows = rows
        layers = [nn.Linear(d, d * rows)]
        if batch_norm:
            layers.append(nn.BatchNorm1d(d * rows))
        self.linear = nn.Sequential(*layers)
        self.dropout = nn.Dropout(dropout)

    def forward(self, x):
        u = self.dropout(torch.relu(self.linear(x)))
        b, d = x.shape
        return x * u.view(b, self.rows, d).sum(dim=1) + x


class QNN_T26(BaseModel):
    def __init__(self, feature_map, model_id="QNN_T26", gpu=-1, learning_rate=1e-3,
                 embedding_dim=16, num_layers=2, num_row=13, net_dropout=0.1, batch_norm=True,
                 embedding_regularizer=None, net_regularizer=None, **kwargs):
        super().__init__(feature_map, model_id=model_id, gpu=gpu,
                         embedding_regularizer=embedding_regularizer,
                         net_regularizer=net_regularizer, **kwargs)
        self.embedding_layer = FeatureEmbedding(feature_map, embedding_dim)
        d = feature_map.num_fields * embedding_dim
        self.layers = nn.ModuleList(QuadraticLayer(d, num_row, net_dropout, batch_norm)
                                    for _ in range(num_layers))
        self.out_dropout = nn.Dropout(net_dropout)
        self.fc = nn.Linear(d, 1)
        self.compile(kwargs["optimizer"], kwargs["loss"], learning_rate)
        self.reset_parameters()
        self.model_to_device()

    def stack(self, x):
        for layer in self.layers:
            x = self.out_dropout(layer(x))
        return torch.sigmoid(self.fc(x))

    def forward(self, inputs):
        x = self.embedding_layer(self.get_inputs(inputs), dynamic_emb_dim=True).flatten(1)
        return {"y_pred": self.stack(x)}

    def add_loss(self, inputs):
        # Self-Ensemble (spec §A.5): one embedding lookup, two passes.
        x = self.embedding_layer(self.get_inputs(inputs), dynamic_emb_dim=True).flatten(1)
        p1, p2 = self.stack(x), self.stack(x)
        y = self.get_labels(inputs)
        mean = (p1 + p2) / 2
        target = mean.detach()
        return (self.loss_fn(mean, y, reduction="mean") + self.loss_fn(p1, target, reduction="mean")
                + self.loss_fn(p2, target, reduction="mean"))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--seed", type=int, default=2024)
    parser.add_argument("--data", default="../shared/data/frappe_x1")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s", stream=sys.stderr)
    started = time.time()
    with tempfile.TemporaryDirectory() as root:
        params = dict(
            dataset_id="frappe_x1_parity", data_root=root, model_root=root,
            feature_cols=[{"name": FIELDS, "active": True, "dtype": "float", "type": "categorical"}],
            label_col={"name": "label", "dtype": "float"}, min_categr_count=2,
            model="QNN_T26", loss="binary_crossentropy", metrics=["logloss", "AUC"],
            task="binary_classification", optimizer="adam", learning_rate=1e-3,
            embedding_regularizer=0.1, net_regularizer=0, batch_size=4096, embedding_dim=16,
            num_layers=2, num_row=13, net_dropout=0.1, batch_norm=True, epochs=100, shuffle=True,
            seed=args.seed, monitor={"AUC": 1, "logloss": 0}, monitor_mode="max",
            early_stop_patience=2, save_best_only=True, eval_steps=None, num_workers=1, verbose=0,
            model_id="QNN_Frappe_x1_torch",
        )
        seed_everything(seed=args.seed)
        processor = FeatureProcessor(**params)
        train, valid, test = build_dataset(
            processor, train_data=os.path.join(args.data, "valid.csv"), valid_size=11545,
            valid_data=os.path.join(args.data, "valid.csv"),  # 2.0.1 reads it, then replaces it
            split_type="sequential", test_data=os.path.join(args.data, "test.csv"),
            min_categr_count=2)
        feature_map = FeatureMap(params["dataset_id"], os.path.join(root, params["dataset_id"]))
        feature_map.load(os.path.join(root, params["dataset_id"], "feature_map.json"), params)
        model = QNN_T26(feature_map, **params)
        train_gen, valid_gen = H5DataLoader(feature_map, stage="train", train_data=train,
                                            valid_data=valid, **params).make_iterator()
        model.fit(train_gen, validation_data=valid_gen, **params)
        valid_result = model.evaluate(valid_gen)
        test_gen = H5DataLoader(feature_map, stage="test", test_data=test, **params).make_iterator()
        test_result = model.evaluate(test_gen)
    print(f"valid {valid_result}")
    print(f"test {test_result}")
    print(f"wall {time.time() - started:.1f} s")


if __name__ == "__main__":
    main()
