"""The training loop: batched, early-stopped on validation, best weights restored."""

from __future__ import annotations

import copy
import logging
import os
import random
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
from torch import nn

from benchmark.api import Balancer
from benchmark.config import TrainingConfig
from benchmark.errors import RunError
from benchmark.metrics import accuracy_and_f1
from benchmark.progress import progress
from benchmark.sequences import Batcher

log = logging.getLogger(__name__)


def seed_everything(seed: int) -> None:
    """One seed drives python, numpy and torch (data order, init, dropout)."""
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)


def select_device(name: str) -> torch.device:
    """``auto`` picks CUDA when present, then Apple's MPS, else the CPU."""
    if name == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        if getattr(torch.backends, "mps", None) and torch.backends.mps.is_available():
            return torch.device("mps")
        return torch.device("cpu")
    try:
        device = torch.device(name)
    except RuntimeError:
        raise RunError(f"training.device: unknown device {name!r}; use auto, cpu, cuda, cuda:N or mps") from None
    if device.type == "cuda" and not torch.cuda.is_available():
        raise RunError("training.device is 'cuda' but torch sees no CUDA device; use 'auto' or 'cpu'")
    return device


@dataclass
class TrainResult:
    history: list[dict[str, float]] = field(default_factory=list)
    best_epoch: int = 0
    stopped_early: bool = False
    seconds: float = 0.0


def _batches(indices: np.ndarray, batch_size: int) -> list[np.ndarray]:
    return [indices[i : i + batch_size] for i in range(0, len(indices), batch_size)]


def bucketed_batches(order: np.ndarray, lengths: np.ndarray, batch_size: int, rng: np.random.Generator,
                     window: int = 32) -> list[np.ndarray]:
    """Batches of similar-length sequences, so little is padded or packed in vain.

    The epoch's order is cut into windows of ``window`` batches; each window is sorted by
    length and cut into batches, and the batches are shuffled: similar lengths together, yet
    every epoch mixes differently.
    """
    batches = []
    span = batch_size * window
    for start in range(0, len(order), span):
        chunk = order[start : start + span]
        chunk = chunk[np.argsort(lengths[chunk], kind="stable")]
        batches.extend(_batches(chunk, batch_size))
    return [batches[i] for i in rng.permutation(len(batches))]


@torch.no_grad()
def predict(module: nn.Module, data: Batcher, batch_size: int = 512) -> tuple[np.ndarray, float]:
    """Predicted labels for every item of ``data``, and the mean cross-entropy."""
    module.eval()
    predictions, loss_sum = [], 0.0
    for index in _batches(np.arange(len(data)), batch_size):
        tokens, lengths, labels = data.batch(index)
        logits = module(tokens, lengths)
        loss_sum += float(nn.functional.cross_entropy(logits, labels, reduction="sum"))
        predictions.append(logits.argmax(1).cpu().numpy())
    return np.concatenate(predictions) if predictions else np.zeros(0, np.int64), loss_sum / max(len(data), 1)


def fit(
    module: nn.Module,
    train: Batcher,
    val: Batcher,
    num_classes: int,
    balancer: Balancer,
    config: TrainingConfig,
    seed: int,
    quiet: bool = False,
) -> TrainResult:
    """Train ``module`` in place with AdamW; leaves it with the weights of the best val epoch."""
    device = train.device
    module.to(device)
    rng = np.random.default_rng(seed)
    train_labels = train.labels.numpy()
    train_lengths = train.lengths.numpy()[train.items]
    val_labels = val.labels.numpy()
    weights = balancer.loss_weights(train_labels, num_classes)
    loss_fn = nn.CrossEntropyLoss(weight=None if weights is None else torch.as_tensor(weights, device=device),
                                  label_smoothing=config.label_smoothing)
    optimizer = torch.optim.AdamW(module.parameters(), lr=config.lr, weight_decay=config.weight_decay)
    steps_per_epoch = -(-len(balancer.epoch_indices(train_labels, np.random.default_rng(seed))) // config.batch_size)
    scheduler = make_schedule(optimizer, config, steps_per_epoch)
    shuffle = torch.Generator().manual_seed(seed) if config.shuffle_tokens else None

    result = TrainResult()
    best_score, best_state, stale = -np.inf, None, 0
    start = time.perf_counter()
    for epoch in range(1, config.epochs + 1):
        module.train()
        epoch_start = time.perf_counter()
        loss_sum, correct, seen = 0.0, 0, 0
        order = balancer.epoch_indices(train_labels, rng)
        batches = (bucketed_batches(order, train_lengths, config.batch_size, rng) if config.bucket
                   else _batches(order, config.batch_size))
        bar = progress(batches, desc=f"epoch {epoch}/{config.epochs}", quiet=quiet, unit="batch")
        for index in bar:
            tokens, lengths, labels = train.batch(index, shuffle)
            logits = module(tokens, lengths)
            loss = loss_fn(logits, labels)
            if not torch.isfinite(loss):
                raise RunError(f"training diverged at epoch {epoch}: loss is {loss.item()}; lower training.lr")
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            if config.grad_clip:
                nn.utils.clip_grad_norm_(module.parameters(), config.grad_clip)
            optimizer.step()
            scheduler.step()
            loss_sum += float(loss.detach()) * len(index)
            correct += int((logits.argmax(1) == labels).sum())
            seen += len(index)
        val_pred, val_loss = predict(module, val)
        val_acc, val_f1 = accuracy_and_f1(val_labels, val_pred)
        row = {
            "epoch": epoch,
            "train_loss": loss_sum / max(seen, 1),
            "train_accuracy": correct / max(seen, 1),
            "val_loss": val_loss,
            "val_accuracy": val_acc,
            "val_macro_f1": val_f1,
            "lr": optimizer.param_groups[0]["lr"],
            "seconds": time.perf_counter() - epoch_start,
        }
        result.history.append(row)
        log.info(
            "epoch %d/%d  loss %.4f  train acc %.4f  val loss %.4f  val acc %.4f  (%.1fs)",
            epoch, config.epochs, row["train_loss"], row["train_accuracy"], val_loss, val_acc, row["seconds"],
        )
        score = -val_loss if config.monitor == "val_loss" else row[config.monitor]
        if score > best_score:
            best_score, best_state, stale = score, copy.deepcopy(module.state_dict()), 0
            result.best_epoch = epoch
        else:
            stale += 1
            if config.patience and stale >= config.patience:
                log.info("early stop: %s did not improve for %d epochs", config.monitor, stale)
                result.stopped_early = True
                break
    if best_state is not None:
        module.load_state_dict(best_state)
    result.seconds = time.perf_counter() - start
    return result


def make_schedule(optimizer: torch.optim.Optimizer, config: TrainingConfig, steps_per_epoch: int) -> Any:
    """Per-step learning-rate schedule: constant or cosine (after an optional linear warm-up),
    or one-cycle (torch's OneCycleLR, peaking at ``lr``)."""
    total = max(1, config.epochs * steps_per_epoch)
    if config.schedule == "onecycle":
        return torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=config.lr, total_steps=total)
    warmup = int(config.warmup_epochs * steps_per_epoch)

    def factor(step: int) -> float:
        if step < warmup:
            return (step + 1) / warmup
        if config.schedule == "cosine":
            progress = min(1.0, (step - warmup) / max(1, total - warmup))
            return 0.5 * (1 + np.cos(np.pi * progress))
        return 1.0

    return torch.optim.lr_scheduler.LambdaLR(optimizer, factor)


def configure_threads(num_threads: int | None) -> int:
    """Torch CPU threads: the configured number, else every core this process may use."""
    if num_threads is None:
        num_threads = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    torch.set_num_threads(num_threads)
    return num_threads


def describe(module: nn.Module) -> dict[str, Any]:
    return {"parameters": int(sum(p.numel() for p in module.parameters()))}
