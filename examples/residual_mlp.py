"""A residual MLP on scikit-learn's digits, next to the same network without skips.

Each residual block is ``y = x + Dense(ReLU(Dense(x)))``: the skip path lets
the gradient reach the first layers unchanged, so a deep stack trains as fast
as a shallow one. The plain network is the same stack without the skips (and
with every layer He-initialised); in the residual one each block's last layer
starts at zero, so every block starts as the identity.

    python examples/residual_mlp.py [--epochs 20] [--blocks 8] [--width 64] [--seed 0] [--quick]

``--quick`` trains 2 epochs (for tests).
"""

from __future__ import annotations

import argparse

import numpy as np
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

import tinynet as tn


def build(blocks: int, width: int, seed: int, residual: bool) -> tn.Sequential:
    """Dense(64, width), ``blocks`` blocks of two Dense layers, Dense(width, 10)."""
    rng = np.random.default_rng(seed)
    layers: list[tn.Layer] = [tn.Dense(64, width, rng=rng), tn.ReLU()]
    for _ in range(blocks):
        # A residual block's last layer starts at zero, so each block starts as the
        # identity and the signal does not grow with depth (Goyal et al. 2017).
        first = tn.Dense(width, width, rng=rng)
        last = tn.Dense(width, width, init="zeros" if residual else "he_normal", rng=rng)
        body = tn.Sequential(first, tn.ReLU(), last)
        layers += [tn.Residual(body) if residual else body, tn.ReLU()]
    layers.append(tn.Dense(width, 10, rng=rng))
    return tn.Sequential(*layers)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--epochs", type=int, default=20, help="passes over the training set")
    parser.add_argument("--blocks", type=int, default=8, help="residual blocks (2 Dense each)")
    parser.add_argument("--width", type=int, default=64, help="units per hidden layer")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--quick", action="store_true", help="2 epochs (for tests)")
    args = parser.parse_args(argv)
    epochs = 2 if args.quick else args.epochs

    digits = load_digits()
    x_train, x_test, y_train, y_test = train_test_split(
        digits.data / 16.0, digits.target, test_size=0.25, random_state=0, stratify=digits.target)
    loss = tn.SoftmaxCrossEntropy()
    for residual in (False, True):
        model = build(args.blocks, args.width, args.seed, residual)
        loader = tn.DataLoader(x_train, y_train, batch_size=32, shuffle=True, rng=args.seed)
        optimizer = tn.SGD(model.parameters(), lr=0.02, momentum=0.9)
        history = tn.fit(model, loss, optimizer, loader, epochs, progress="none")
        result = tn.evaluate(model, loss, x_test, y_test)
        name = "residual" if residual else "plain   "
        print(f"{name} {2 * args.blocks + 2} Dense layers: epoch 1 loss {history.loss[0]:.3f}, "
              f"epoch {epochs} loss {history.loss[-1]:.4f}, test accuracy {result['accuracy']:.3f}")
    print("one residual block:", model[2])


if __name__ == "__main__":
    main()
