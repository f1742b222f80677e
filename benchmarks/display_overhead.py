"""What the training display costs on the article's run (issue 2: under 5%).

    python benchmarks/display_overhead.py [--rounds 7]

Times `fit` on the article's mini-batch iris run (4,500 steps) with
`progress="none"`, `"bar"` (a live rich display, drawn to a terminal-like
console that discards its output) and `"epoch"` (one plain line per epoch),
interleaved, and prints the medians and the ratios to `"none"`.
"""

from __future__ import annotations

import argparse
import os
import time

import numpy as np
from rich.console import Console

import tinynet as tn
from tinynet.data.datasets import article_iris
from tinynet.display import progress


def run(mode: str) -> float:
    data = article_iris()
    rng = np.random.default_rng(42)
    model = tn.Sequential(tn.Dense(4, 10, init="uniform", rng=rng), tn.LeakyReLU(0.01),
                          tn.Dense(10, 3, init="uniform", rng=rng))
    loader = tn.DataLoader(data.x_train, data.y_train, batch_size=32, last_batch="drop")
    start = time.perf_counter()
    tn.fit(model, tn.SoftmaxCrossEntropy(), tn.SGD(model.parameters(), lr=0.01), loader, 1500,
           progress=mode)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args()
    with open(os.devnull, "w") as sink:
        progress._console = Console(file=sink, force_terminal=True, width=120)
        times: dict[str, list[float]] = {"none": [], "bar": [], "epoch": []}
        for _ in range(args.rounds):
            for mode in times:
                times[mode].append(run(mode))
    median = {mode: float(np.median(t)) for mode, t in times.items()}
    for mode, seconds in median.items():
        print(f"{mode:>5}: {seconds:.3f} s  ({seconds / median['none']:.3f}x none)")


if __name__ == "__main__":
    main()
