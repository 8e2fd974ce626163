"""Training throughput: bench's trainer vs a bare torch loop (same model, tensors, batch size), and vs
the seed experiment's loop (one image and one descriptor at a time, ORB extracted on the fly)."""

from __future__ import annotations

import argparse
import time

import cv2
import numpy as np
import torch
from tabulate import tabulate

from benchmark.config import TrainingConfig
from benchmark.extraction import extract_all
from benchmark.registry import Registries
from benchmark.sequences import Batcher, build_sequences
from benchmark.training import configure_threads, fit

HIDDEN, MAX_LEN, BATCH = 128, 48, 128


def bench_epochs(module, train: Batcher, val: Batcher, balancer, epochs: int) -> float:
    config = TrainingConfig(epochs=epochs, batch_size=BATCH, patience=None)
    start = time.perf_counter()
    fit(module, train, val, 10, balancer, config, seed=0, quiet=True)
    return time.perf_counter() - start


def bare_epochs(module, tokens: torch.Tensor, lengths: torch.Tensor, labels: torch.Tensor, epochs: int) -> float:
    """The loop one writes by hand: tokens unpacked up front, shuffled batches, AdamW, clipping."""
    optimizer = torch.optim.AdamW(module.parameters(), lr=2e-3, weight_decay=1e-4)
    generator = torch.Generator().manual_seed(0)
    start = time.perf_counter()
    module.train()
    for _ in range(epochs):
        for index in torch.randperm(len(labels), generator=generator).split(BATCH):
            loss = torch.nn.functional.cross_entropy(module(tokens[index], lengths[index]), labels[index])
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(module.parameters(), 1.0)
            optimizer.step()
    return time.perf_counter() - start


def seed_style(images: np.ndarray, labels: np.ndarray, input_dim: int) -> float:
    """The seed experiment's loop: per image, extract ORB, then feed descriptors one step at a time."""
    orb = cv2.ORB_create(nfeatures=64, edgeThreshold=15, patchSize=15, fastThreshold=5)
    rnn = torch.nn.RNN(input_dim, HIDDEN)
    head = torch.nn.Linear(HIDDEN, 10)
    optimizer = torch.optim.AdamW(list(rnn.parameters()) + list(head.parameters()), lr=2e-3)
    start = time.perf_counter()
    for image, label in zip(images, labels):
        big = cv2.resize(image, None, fx=4, fy=4)
        _, descriptors = orb.detectAndCompute(big, None)
        bits = np.unpackbits(descriptors[:MAX_LEN], axis=1).astype(np.float32) * 2 - 1
        hidden = torch.zeros(1, 1, HIDDEN)
        for row in bits:  # one descriptor at a time
            step = torch.zeros(1, 1, input_dim)
            step[0, 0, : len(row)] = torch.from_numpy(row)
            output, hidden = rnn(step, hidden)
        loss = torch.nn.functional.cross_entropy(head(output[0]), torch.tensor([int(label)]))
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--images", type=int, default=7000)
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--seed-images", type=int, default=200)
    parser.add_argument("--model", default="rnn")
    args = parser.parse_args()
    threads = configure_threads(None)

    registries = Registries()
    data = registries["dataset"].build("fashion-mnist-10k", {}).load()
    images, labels = np.asarray(data.images[: args.images]), data.labels[: args.images]
    transforms = [registries["transform"].build("resize", {"scale": 4})]
    features = extract_all(images, transforms, registries["extractor"].build("orb", {}), quiet=True, workers=2)
    ordering = registries["ordering"].build("response", {})
    sequences = build_sequences(features, ordering, MAX_LEN, True, np.random.default_rng(0))
    cpu = torch.device("cpu")
    train = Batcher(sequences, labels, cpu)
    val = Batcher(sequences, labels, cpu, np.arange(256))
    full = Batcher(sequences, labels, cpu)
    tokens, lengths, label_tensor = full.batch(np.arange(len(labels)))  # the bare loop gets them pre-built
    balancer = registries["balancer"].build("none", {})
    model = registries["model"].build(args.model, {"hidden_size": HIDDEN})

    bench_t, bare_t = [], []
    for _ in range(args.repeats):
        torch.manual_seed(0)
        bench_t.append(bench_epochs(model.build(sequences.input_dim, 10), train, val, balancer, args.epochs))
        torch.manual_seed(0)
        bare_t.append(bare_epochs(model.build(sequences.input_dim, 10), tokens, lengths, label_tensor, args.epochs))
    seed_t = seed_style(images[: args.seed_images], labels[: args.seed_images], sequences.input_dim)

    n = len(labels) * args.epochs
    bench_rate, bare_rate, seed_rate = n / min(bench_t), n / min(bare_t), args.seed_images / seed_t
    rows = [
        ["bare torch loop (tokens pre-built)", f"{bare_rate:.0f}", "1.00"],
        ["bench fit (incl. per-epoch validation on 256)", f"{bench_rate:.0f}", f"{bench_rate / bare_rate:.2f}"],
        ["seed-style loop (per image, per descriptor)", f"{seed_rate:.1f}", f"{seed_rate / bare_rate:.4f}"],
    ]
    print(f"{args.model}, hidden {HIDDEN}, {MAX_LEN} tokens of {sequences.input_dim}, batch {BATCH}, "
          f"{args.images} sequences × {args.epochs} epochs, best of {args.repeats}, {threads} threads, torch {torch.__version__}")
    print(tabulate(rows, headers=["loop", "sequences/s", "× bare"], tablefmt="github"))
    print(f"\nbench vs bare torch: {bench_rate / bare_rate:.2f}×   bench vs seed-style: {bench_rate / seed_rate:.0f}×")


if __name__ == "__main__":
    main()
