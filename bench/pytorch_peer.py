"""PyTorch as a peer of `npm run bench:engine` (bench/pytorch-peer.ts writes the workloads, runs this, reads stdout).

Usage: /usr/bin/python3 bench/pytorch_peer.py <dir>, where <dir>/workloads.json lists the workloads and
<dir>/<name>.inputs.f32 / <name>.targets.f32 hold each one's rows (float32, row-major, one-hot targets).
Each workload is trained the way our engine trains it: same layers, Adam (epsilon 1e-7, Keras' value, as ours),
same batch, a fresh shuffle every epoch, one untimed warm-up epoch, and for recurrent layers the gradient norm
clipped at 5. Each runs with torch.set_num_threads(1) and (2); both rates are printed, one JSON line per workload.
OPENBLAS_NUM_THREADS=1 is the caller's to set: PyTorch then splits the work over its own threads, and OpenBLAS
starts none of its own (which would contend with PyTorch's and make some products here 10x slower).
"""
import json
import os
import sys
import time

import numpy as np
import torch
from torch import nn


def build(spec):
    layers = []
    width = spec["inputSize"]
    recurrent = None
    for layer in spec["layers"]:
        if layer["type"] in ("rnn", "lstm"):
            cell = nn.RNN if layer["type"] == "rnn" else nn.LSTM
            recurrent = cell(width, layer["units"], batch_first=True)
        else:
            layers.append(nn.Linear(width, layer["units"]))
            activation = layer["activation"]
            # softmax is folded into the cross-entropy loss, as ours fuses it.
            if activation == "relu":
                layers.append(nn.ReLU())
            elif activation == "sigmoid":
                layers.append(nn.Sigmoid())
            elif activation == "tanh":
                layers.append(nn.Tanh())
        width = layer["units"]
    head = nn.Sequential(*layers)

    class Model(nn.Module):
        def __init__(self):
            super().__init__()
            self.recurrent = recurrent
            self.head = head

        def forward(self, x):
            if self.recurrent is not None:
                x, _ = self.recurrent(x)
                x = x[:, -1, :]
            return self.head(x)

    return Model()


def load(directory, workload):
    spec = workload["spec"]
    rows = workload["rows"]
    steps = spec.get("sequenceLength")
    shape = (rows, steps, spec["inputSize"]) if steps else (rows, spec["inputSize"])
    inputs = np.fromfile(os.path.join(directory, workload["name"] + ".inputs.f32"), dtype=np.float32).reshape(shape)
    targets = np.fromfile(os.path.join(directory, workload["name"] + ".targets.f32"), dtype=np.float32).reshape(rows, -1)
    return torch.from_numpy(inputs), torch.from_numpy(targets.argmax(axis=1))


def epoch(model, optimizer, loss_fn, x, y, batch, clip):
    order = torch.randperm(x.shape[0])
    for start in range(0, x.shape[0], batch):
        index = order[start:start + batch]
        optimizer.zero_grad(set_to_none=True)
        loss = loss_fn(model(x[index]), y[index])
        loss.backward()
        if clip:
            nn.utils.clip_grad_norm_(model.parameters(), clip)
        optimizer.step()


def rate(workload, x, y, threads):
    torch.set_num_threads(threads)
    torch.manual_seed(1)
    model = build(workload["spec"])
    optimizer = torch.optim.Adam(model.parameters(), lr=workload["learningRate"], eps=1e-7)
    loss_fn = nn.CrossEntropyLoss()
    clip = 5.0 if workload["spec"].get("sequenceLength") else 0.0
    epoch(model, optimizer, loss_fn, x, y, workload["batchSize"], clip)
    started = time.perf_counter()
    for _ in range(workload["epochs"]):
        epoch(model, optimizer, loss_fn, x, y, workload["batchSize"], clip)
    return x.shape[0] * workload["epochs"] / (time.perf_counter() - started)


def main():
    directory = sys.argv[1]
    with open(os.path.join(directory, "workloads.json")) as f:
        workloads = json.load(f)
    for workload in workloads:
        x, y = load(directory, workload)
        rates = {str(threads): rate(workload, x, y, threads) for threads in (1, 2)}
        print(json.dumps({"name": workload["name"], "torch": torch.__version__, "rates": rates}), flush=True)


if __name__ == "__main__":
    main()
