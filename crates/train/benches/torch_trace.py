#!/usr/bin/env python3
"""PyTorch replay of `cargo run -p qnn-train --example deterministic_trace`: the same initial
weights (read from the .qnn file, which is safetensors with PyTorch names and layouts), the same
encoded data (the `qnn train` cache, also safetensors), no dropout, no shuffling; QNN_T26 per
../shared/docs/qnn-spec.md, Self-Ensemble loss, embedding L2 0.1 over the whole table, Adam (eps
1e-8), clip_grad_norm_ 10. Prints the train loss and validation metrics of every epoch.

Usage: torch_trace.py DATA_DIR INIT.qnn [EPOCHS]   (needs torch, numpy, scikit-learn)
"""
import json
import struct
import sys

import numpy as np
import torch
from sklearn.metrics import log_loss, roc_auc_score
from torch import nn

DTYPES = {"F32": np.float32, "U32": np.uint32}


def load_safetensors(path):
    raw = open(path, "rb").read()
    (n,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8:8 + n])
    body = raw[8 + n:]
    out = {}
    for name, spec in header.items():
        if name == "__metadata__":
            continue
        start, end = spec["data_offsets"]
        out[name] = np.frombuffer(body[start:end], dtype=DTYPES[spec["dtype"]]).reshape(spec["shape"])
    return out, header.get("__metadata__", {})


def main():
    data_dir, init_path = sys.argv[1], sys.argv[2]
    epochs = int(sys.argv[3]) if len(sys.argv) > 3 else 8
    torch.set_num_threads(2)
    weights, meta = load_safetensors(init_path)
    feature_map = json.loads(meta["feature_map"])
    fields = [f for f in feature_map["features"] if f["type"] != "meta"]
    sizes = [len(f["vocab"]["tokens"]) + 2 for f in fields]
    offsets = np.concatenate([[0], np.cumsum(sizes)[:-1]]).astype(np.int64)
    label = feature_map["labels"][0]

    def split(name):
        t, _ = load_safetensors(f"{data_dir}/{name}.safetensors")
        ids = np.stack([t[f["name"]].astype(np.int64) + off for f, off in zip(fields, offsets)], 1)
        return torch.from_numpy(ids), torch.from_numpy(t[label].astype(np.float32))

    (xt, yt), (xv, yv) = split("train"), split("valid")
    w = {k: torch.tensor(v.copy()) for k, v in weights.items()}
    table = nn.Parameter(w["embedding.table"])
    layers = []
    for i in range(2):
        lin = nn.Linear(*reversed(w[f"layer.{i}.linear.0.weight"].shape))
        lin.weight.data, lin.bias.data = w[f"layer.{i}.linear.0.weight"], w[f"layer.{i}.linear.0.bias"]
        bn = nn.BatchNorm1d(lin.out_features, eps=1e-5, momentum=0.1)
        bn.weight.data, bn.bias.data = w[f"layer.{i}.linear.1.weight"], w[f"layer.{i}.linear.1.bias"]
        layers.append(nn.Sequential(lin, bn))
    fc = nn.Linear(w["fc.weight"].shape[1], 1)
    fc.weight.data, fc.bias.data = w["fc.weight"], w["fc.bias"]
    modules = nn.ModuleList(layers + [fc])
    params = [table] + list(modules.parameters())
    optim = torch.optim.Adam(params, lr=1e-3, eps=1e-8)
    rows = 13

    def stack(x):
        for layer in layers:
            u = torch.relu(layer(x))
            b, d = x.shape
            x = x * u.view(b, rows, d).sum(dim=1) + x
        return torch.sigmoid(fc(x)).squeeze(1)

    def bce(p, t):
        return nn.functional.binary_cross_entropy(p, t)

    for epoch in range(1, epochs + 1):
        modules.train()
        losses = []
        for start in range(0, len(yt), 4096):
            x_ids, y = xt[start:start + 4096], yt[start:start + 4096]
            optim.zero_grad()
            x = table[x_ids].flatten(1)
            p1, p2 = stack(x), stack(x)
            mean = (p1 + p2) / 2
            target = mean.detach()
            loss = bce(mean, y) + bce(p1, target) + bce(p2, target) + 0.1 / 2 * (table ** 2).sum()
            loss.backward()
            nn.utils.clip_grad_norm_(params, 10.0)
            optim.step()
            losses.append(loss.item())
        modules.eval()
        with torch.no_grad():
            probs = torch.cat([stack(table[xv[s:s + 4096]].flatten(1)) for s in range(0, len(yv), 4096)])
        p = np.clip(probs.numpy().astype(np.float64), 1e-7, 1 - 1e-7)
        auc, ll = roc_auc_score(yv.numpy(), p), log_loss(yv.numpy(), p)
        print(f"epoch {epoch} train_loss {np.mean(losses):.6f} AUC {auc:.6f} logloss {ll:.6f}", flush=True)


if __name__ == "__main__":
    main()
