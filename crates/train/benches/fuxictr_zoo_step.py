#!/usr/bin/env python3
"""FuxiCTR 2.0.1's training step for one model-zoo network, beside `zoo_step` (QNN Lab's): the
same networks and hyper-parameters (FuxiCTR's `<Model>_default` sections), Frappe-shaped random
data (ten categorical fields with Frappe's vocabulary sizes), the same batch, embedding
regularizer l2(0.1), gradient clipping at norm 10 and Adam, timed after one warm-up step. The step
is FuxiCTR's own `BaseModel.train_step` on its own model class (from the model_zoo/ folder of its
git tag v2.0.1). Run through compare_zoo_pytorch.sh, which sets the allocator.

Usage: python fuxictr_zoo_step.py --model DeepFM --fuxictr FUXICTR [--batch 4096] [--steps 5]
"""
import argparse
import importlib
import os
import resource
import sys
import tempfile
import time
from collections import OrderedDict

import torch
from fuxictr.features import FeatureMap

VOCAB = [954, 4084, 9, 9, 4, 5, 4, 11, 80, 223]  # qnn-data synthetic.rs FRAPPE_VOCAB_SIZES

# Where each class lives in the v2.0.1 tag, and the hyper-parameters of zoo_step.rs's networks().
MODELS = {
    "LR": ("model_zoo/LR", dict(embedding_dim=1)),
    "FM": ("model_zoo/FM", dict(embedding_dim=10)),
    "DNN": ("model_zoo/DNN/DNN_torch", dict(embedding_dim=40, hidden_units=[500, 500, 500])),
    "DeepFM": ("model_zoo/DeepFM/DeepFM_torch",
               dict(embedding_dim=40, hidden_units=[300, 300, 300])),
    "DCNv2": ("model_zoo/DCNv2", dict(
        embedding_dim=40, model_structure="parallel", num_cross_layers=3,
        stacked_dnn_hidden_units=[500, 500, 500], parallel_dnn_hidden_units=[500, 500, 500],
        use_low_rank_mixture=False)),
    "FinalMLP": ("model_zoo/FinalMLP", dict(
        embedding_dim=16, mlp1_hidden_units=[1024, 512], mlp2_hidden_units=[1024, 512, 256],
        use_fs=True, fs_hidden_units=[1024, 512], fs1_context=[], fs2_context=[], num_heads=2)),
    "DualMLP": ("model_zoo/FinalMLP", dict(
        embedding_dim=16, mlp1_hidden_units=[64, 32], mlp2_hidden_units=[64, 64, 64])),
}


def feature_map(root, embedding_dim):
    fmap = FeatureMap("frappe_shaped", root)
    fmap.features = OrderedDict(
        (f"f{i}", {"source": "", "type": "categorical", "padding_idx": 0, "oov_idx": v - 1,
                   "vocab_size": v})
        for i, v in enumerate(VOCAB))
    fmap.labels = ["label"]
    fmap.num_fields = len(VOCAB)
    fmap.default_emb_dim = embedding_dim
    fmap.set_column_index()
    return fmap


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--model", required=True, choices=sorted(MODELS))
    parser.add_argument("--fuxictr", required=True, help="a checkout of FuxiCTR's tag v2.0.1")
    parser.add_argument("--batch", type=int, default=4096)
    parser.add_argument("--steps", type=int, default=5)
    parser.add_argument("--label", default="fuxictr")
    args = parser.parse_args()
    source, hyper = MODELS[args.model]
    sys.path.insert(0, os.path.join(args.fuxictr, source))
    cls = getattr(importlib.import_module("src"), args.model)
    torch.manual_seed(1)
    with tempfile.TemporaryDirectory() as root:
        fmap = feature_map(root, hyper["embedding_dim"])
        regularizer = ({"regularizer": 0.1} if args.model in ("LR", "FM")
                       else {"embedding_regularizer": 0.1})
        model = cls(fmap, gpu=-1, learning_rate=1e-3, optimizer="adam",
                    loss="binary_crossentropy", metrics=["logloss", "AUC"], model_root=root,
                    verbose=0, **regularizer,
                    **hyper)
        model._max_gradient_norm = 10.0
        model.train()
        n = args.batch * (args.steps + 1)
        ids = torch.stack([torch.randint(1, v - 1, (n,)) for v in VOCAB], dim=1)
        data = torch.cat([ids.float(), torch.randint(0, 2, (n, 1)).float()], dim=1)
        batch = lambda i: data[i * args.batch:(i + 1) * args.batch]
        model.train_step(batch(0)).item()  # warm-up
        start = time.perf_counter()
        losses = [model.train_step(batch(i)).detach() for i in range(1, args.steps + 1)]
        torch.stack(losses).sum().item()
        secs = (time.perf_counter() - start) / args.steps
        params = sum(p.numel() for p in model.parameters() if p.requires_grad)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"{args.label} {args.model}: {params} parameters, {secs:.4f} s per step, "
          f"{args.batch / secs:.0f} samples/s, peak RSS {peak:.0f} MiB, "
          f"torch {torch.__version__}, {torch.get_num_threads()} threads")


if __name__ == "__main__":
    main()
