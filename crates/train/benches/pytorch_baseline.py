"""PyTorch baseline for `frappe_step`: the same QNN_T26 training step, written from
../shared/docs/qnn-spec.md §A and §C (one nn.Embedding per field, QuadraticLayer with BN,
two dropouts, Self-Ensemble loss, embedding L2 0.1 over whole tables, Adam, clip_grad_norm_ 10).

Usage: python pytorch_baseline.py [--steps N] [--label NAME] [--device cpu|cuda]
Prints the same BENCH_JSON line as the Rust benchmark. As there, the loss is read back once,
after the timed steps (on CUDA the clock stops after a synchronize).
"""

import argparse
import resource
import time

import torch
from torch import nn

VOCAB = [954, 4084, 9, 9, 4, 5, 4, 11, 80, 223]  # Frappe's ΣV = 5383 (qnn-data synthetic.rs)
E, L, R, P, BATCH = 16, 2, 13, 0.1, 4096


class QuadraticLayer(nn.Module):
    def __init__(self, d, rows):
        super().__init__()
        self.rows = rows
        self.linear = nn.Sequential(nn.Linear(d, d * rows), nn.BatchNorm1d(d * rows))
        self.dropout = nn.Dropout(P)

    def forward(self, x):
        u = self.dropout(torch.relu(self.linear(x)))
        b, d = x.shape
        return x * u.view(b, self.rows, d).sum(dim=1) + x  # one head: π is the identity


class QNN(nn.Module):
    def __init__(self):
        super().__init__()
        self.tables = nn.ModuleList(nn.Embedding(v, E, padding_idx=0) for v in VOCAB)
        d = E * len(VOCAB)
        self.layers = nn.ModuleList(QuadraticLayer(d, R) for _ in range(L))
        self.dropout = nn.Dropout(P)
        self.fc = nn.Linear(d, 1)
        for t in self.tables:
            nn.init.normal_(t.weight[1:], std=1e-4)
        for m in self.modules():
            if isinstance(m, nn.Linear):
                nn.init.xavier_normal_(m.weight)
                nn.init.zeros_(m.bias)

    def embed(self, ids):
        return torch.cat([t(ids[:, i]) for i, t in enumerate(self.tables)], dim=1)

    def stack(self, x):
        for layer in self.layers:
            x = self.dropout(layer(x))
        return self.fc(x).squeeze(1)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--steps", type=int, default=6)
    parser.add_argument("--label", default="pytorch", help="the name in the BENCH_JSON line")
    parser.add_argument("--device", default="cpu", choices=["cpu", "cuda"])
    args = parser.parse_args()
    device = torch.device(args.device)
    torch.manual_seed(1)
    model = QNN().to(device)
    optim = torch.optim.Adam(model.parameters(), lr=1e-3)
    bce = nn.BCELoss()
    ids = torch.stack([torch.randint(1, v - 1, (BATCH * (args.steps + 1),)) for v in VOCAB], dim=1)
    ids = ids.to(device)
    labels = torch.randint(0, 2, (BATCH * (args.steps + 1),)).float().to(device)

    def sync():
        if device.type == "cuda":
            torch.cuda.synchronize()

    def step(i):
        x_ids, y = ids[i * BATCH:(i + 1) * BATCH], labels[i * BATCH:(i + 1) * BATCH]
        optim.zero_grad()
        x0 = model.embed(x_ids)
        p1, p2 = torch.sigmoid(model.stack(x0)), torch.sigmoid(model.stack(x0))
        mean = (p1 + p2) / 2
        target = mean.detach()
        loss = bce(mean, y) + bce(p1, target) + bce(p2, target)
        loss = loss + sum(0.1 / 2 * (t.weight ** 2).sum() for t in model.tables)
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), 10.0)
        optim.step()
        return loss.detach()

    model.train()
    step(0).item()  # warm-up
    sync()
    start = time.perf_counter()
    losses = [step(i) for i in range(1, args.steps + 1)]
    torch.stack(losses).sum().item()
    sync()
    secs = (time.perf_counter() - start) / args.steps
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"torch {torch.__version__}, device {device}, threads {torch.get_num_threads()}")
    print(f"seconds per step {secs:.3f}, samples/s {BATCH / secs:.0f}, peak RSS {peak:.0f} MiB")
    extra = ""
    if device.type == "cuda":
        gpu = torch.cuda.max_memory_allocated() / 2**20
        print(f"peak CUDA memory allocated {gpu:.0f} MiB on {torch.cuda.get_device_name()}")
        extra = f',"peak_device_mib":{gpu:.1f}'
    print(f'BENCH_JSON {{"impl":"{args.label}","samples_per_sec":{BATCH / secs:.1f},"peak_rss_mib":{peak:.1f}{extra}}}')


if __name__ == "__main__":
    main()
