"""The ``tinynet`` command."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

import numpy as np

from tinynet.data import DataLoader
from tinynet.datasets import article_iris
from tinynet.layers import Dense, LeakyReLU, Sequential
from tinynet.losses import SoftmaxCrossEntropy
from tinynet.optim import SGD
from tinynet.progress import PROGRESS_MODES, get_console
from tinynet.training import evaluate, fit

__all__ = ["main", "build_parser"]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="tinynet", description="tinynet: neural networks in Einstein summation.")
    commands = parser.add_subparsers(dest="command", required=True)
    train = commands.add_parser(
        "train", help="train a network (default: the article's mini-batch run on iris)",
        description="Train the article's 4-10-3 leaky-ReLU network on iris with mini-batch SGD.")
    train.add_argument("--hidden", type=int, default=10, help="hidden units (default 10)")
    train.add_argument("--lr", type=float, default=0.01, help="learning rate (default 0.01)")
    train.add_argument("--batch-size", type=int, default=32, help="rows per batch (default 32)")
    train.add_argument("--epochs", type=int, default=1500, help="passes over the data (default 1500)")
    train.add_argument("--seed", type=int, default=42, help="random seed (default 42)")
    train.add_argument("--progress", choices=PROGRESS_MODES, default="auto")
    return parser


def train(args: argparse.Namespace) -> int:
    data = article_iris()
    rng = np.random.default_rng(args.seed)
    model = Sequential(Dense(4, args.hidden, init="uniform", rng=rng), LeakyReLU(0.01),
                       Dense(args.hidden, 3, init="uniform", rng=rng))
    loader = DataLoader(data.x_train, data.y_train, batch_size=args.batch_size, last_batch="drop")
    loss = SoftmaxCrossEntropy()
    fit(model, loss, SGD(model.parameters(), lr=args.lr), loader, args.epochs,
        progress=args.progress)
    result = evaluate(model, loss, data.x_test, data.y_test)
    get_console().print(f"test loss {result['loss']:.4f}  test accuracy {result['accuracy']:.4f}")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        if args.command == "train":
            return train(args)
    except (ValueError, TypeError) as err:
        print(f"tinynet: error: {err}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
