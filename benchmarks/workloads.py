"""The benchmark's workloads: what is trained, on which data, in which batches.

Every contender (tinynet, the numpy loops, the floor, scikit-learn, PyTorch)
gets the same rows cut into the same batches, in order and without shuffling:
``batch_bounds`` is the single source of that cut. The PyTorch worker runs in
another process and rebuilds the same data from the workload's seed.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

import numpy as np
from numpy.typing import NDArray

Array = NDArray[Any]

MODES = ("full", "quick", "smoke")


@dataclass(frozen=True)
class Workload:
    """One training run: the net ``sizes``, the data, the batching and the length.

    ``data`` is ``"iris"`` (the article's 100 training rows, 4 features, 3
    classes) or ``"synthetic"`` (uniform [0, 1) features and uniform random
    integer labels: the arithmetic of a step does not depend on the values).
    ``last_batch`` is ``"drop"`` (the article) or ``"keep"`` (a smaller last batch).
    ``per_step``: the table reports the time of one step rather than the run.
    ``round_factor``: this workload runs ``round_factor`` times the rounds asked for, each that
    much shorter (``epochs`` is per round): a short round pairs the contenders more closely in
    time, and the iris run's ratio is the one that the machine's drift moves most.
    """

    name: str
    title: str
    sizes: tuple[int, ...]
    dtype: str
    batch: int
    epochs: int
    rows: int
    data: str = "synthetic"
    last_batch: str = "keep"
    lr: float = 0.01
    init: str = "he_normal"
    per_step: bool = False
    seed: int = 0
    round_factor: int = 1

    @property
    def steps_per_epoch(self) -> int:
        full, rest = divmod(self.rows, self.batch)
        return full + (1 if rest and self.last_batch == "keep" else 0)

    @property
    def steps(self) -> int:
        return self.steps_per_epoch * self.epochs

    @property
    def rows_used(self) -> int:
        """Rows one epoch reads (the remainder is left out with ``"drop"``)."""
        return self.rows if self.last_batch == "keep" else self.rows - self.rows % self.batch

    def truncated(self, steps: int) -> Workload:
        """The same workload cut to one epoch of at most ``steps`` full batches (for warm-up)."""
        rows = min(self.rows_used, steps * self.batch)
        return replace(self, epochs=1, rows=rows)

    def describe(self) -> str:
        net = "-".join(str(s) for s in self.sizes)
        return (f"{net} {self.dtype}, batch {self.batch}, {self.epochs} epoch(s) of "
                f"{self.rows:,} rows = {self.steps:,} steps")


def batch_bounds(work: Workload) -> list[tuple[int, int]]:
    """``(start, stop)`` row ranges of one epoch's batches, in order."""
    return [(start, min(start + work.batch, work.rows))
            for start in range(0, work.rows_used, work.batch)]


def make_data(work: Workload) -> tuple[Array, Array]:
    """``(x, y)``: features in the workload's dtype, integer labels (int64)."""
    dtype = np.dtype(work.dtype)
    if work.data == "iris":
        from tinynet.data.datasets import article_iris

        split = article_iris(dtype=dtype)
        x, y = split.x_train[:work.rows], split.y_train[:work.rows]
        return np.ascontiguousarray(x), np.ascontiguousarray(y, dtype=np.int64)
    rng = np.random.default_rng(work.seed)
    x = rng.random((work.rows, work.sizes[0]), dtype=dtype)
    y = rng.integers(0, work.sizes[-1], work.rows, dtype=np.int64)
    y[:work.sizes[-1]] = np.arange(min(work.rows, work.sizes[-1]))  # every class occurs
    return x, y


def one_hot(y: Array, n_classes: int, dtype: Any) -> Array:
    out = np.zeros((len(y), n_classes), dtype=dtype)
    out[np.arange(len(y)), y] = 1
    return out


MLP = (784, 256, 256, 10)


def workloads(mode: str = "full") -> list[Workload]:
    """The suite, in run order. ``quick`` shortens the MLP epochs; ``smoke`` is tiny."""
    if mode not in MODES:
        raise ValueError(f"mode must be one of {MODES}, got {mode!r}")
    rows = {"full": 60_000, "quick": 15_000, "smoke": 1100}[mode]
    iris_epochs = {"full": 300, "quick": 100, "smoke": 5}[mode]  # per round: 5 rounds for each asked
    sgd_steps = {"full": 2000, "quick": 500, "smoke": 20}[mode]
    net = MLP if mode != "smoke" else (784, 32, 32, 10)
    mlp = f"{'-'.join(map(str, net))} leaky-ReLU MLP"
    return [
        Workload("iris", "article iris run (batch 32, drop last)", (4, 10, 3), "float64",
                 batch=32, epochs=iris_epochs, rows=100, data="iris", last_batch="drop",
                 init="uniform", round_factor=5),
        Workload("mlp-f32", f"{mlp}, float32, batch 128, 1 epoch", net, "float32",
                 batch=128, epochs=1, rows=rows),
        Workload("mlp-f64", f"{mlp}, float64, batch 128, 1 epoch", net, "float64",
                 batch=128, epochs=1, rows=rows),
        Workload("mlp-b1", f"{mlp}, float32, batch 1 (SGD), {sgd_steps:,} steps", net,
                 "float32", batch=1, epochs=1, rows=sgd_steps, per_step=True),
        Workload("mlp-b32", f"{mlp}, float32, batch 32, 1 epoch", net, "float32",
                 batch=32, epochs=1, rows=rows),
        Workload("mlp-b1024", f"{mlp}, float32, batch 1024, 1 epoch", net, "float32",
                 batch=1024, epochs=1, rows=rows),
    ]


def get_workload(name: str, mode: str) -> Workload:
    for work in workloads(mode):
        if work.name == name:
            return work
    raise ValueError(f"unknown workload {name!r}; choose from {[w.name for w in workloads(mode)]}")
