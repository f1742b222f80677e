"""The article's three runs as tinynet configurations.

Iris rows scaled to unit length, 100/50 split (random_state=42), a 4-10-3
leaky-ReLU network drawn from default_rng(42) with the article's uniform
init, plain SGD at lr 0.01, and `last_batch="drop"`:

    full batch   all 100 rows   100 epochs
    mini-batch   32 rows       1500 epochs   (3 batches, 4 rows dropped)
    stochastic   1 row          100 epochs

Prints each run's first and last summed epoch cost (the article's figure is the
sum of the batch costs: tinynet's mean times the batches per epoch) and the
test accuracy; with matplotlib installed, saves the curves as a PNG.

    python examples/article_iris.py [--quick] [--plot article_loss.png]
"""

from __future__ import annotations

import argparse

import numpy as np

import tinynet as tn
from tinynet.data.datasets import article_iris

RUNS = {"full batch": (None, 100), "mini-batch": (32, 1500), "stochastic": (1, 100)}


def article_model(seed: int = 42) -> tn.Sequential:
    rng = np.random.default_rng(seed)
    return tn.Sequential(tn.Dense(4, 10, init="uniform", rng=rng), tn.LeakyReLU(0.01),
                         tn.Dense(10, 3, init="uniform", rng=rng))


def run(batch_size: int | None, epochs: int) -> tuple[list[float], float]:
    """Train one configuration; return the summed cost per epoch and the test accuracy."""
    data = article_iris()
    model = article_model()
    loader = tn.DataLoader(data.x_train, tn.one_hot(data.y_train, 3), batch_size=batch_size,
                           shuffle=False, last_batch="drop")
    loss = tn.SoftmaxCrossEntropy()
    history = tn.fit(model, loss, tn.SGD(model.parameters(), lr=0.01), loader, epochs,
                     progress="none")
    accuracy = tn.evaluate(model, loss, data.x_test, data.y_test)["accuracy"]
    return [value * len(loader) for value in history.loss], accuracy


def save_plot(curves: dict[str, list[float]], path: str) -> None:
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print('matplotlib is not installed: pip install "tinynet[plot]" to save the curves')
        return
    fig, axes = plt.subplots(1, len(curves), figsize=(4 * len(curves), 3.2))
    for ax, (name, costs) in zip(axes, curves.items()):
        ax.plot(range(1, len(costs) + 1), costs)
        ax.set(title=name, xlabel="epochs", ylabel="categorical cross-entropy loss")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    print(f"saved {path}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="10 epochs per run (for tests)")
    parser.add_argument("--plot", default="article_loss.png", help="PNG path ('' to skip)")
    args = parser.parse_args(argv)
    curves = {}
    for name, (batch_size, epochs) in RUNS.items():
        costs, accuracy = run(batch_size, 10 if args.quick else epochs)
        curves[name] = costs
        print(f"{name:<11} epoch 1 cost {costs[0]:.4f}   epoch {len(costs)} cost {costs[-1]:.4f}   "
              f"test accuracy {accuracy:.3f}")
    if args.plot:
        save_plot(curves, args.plot)


if __name__ == "__main__":
    main()
