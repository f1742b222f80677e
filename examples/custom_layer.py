"""Two new layers, checked with tn.gradcheck and trained on scikit-learn's digits.

* ``Softplus``: an elementwise activation, ``y = log(1 + exp(x))``, written by hand
  under the Layer protocol v2: forward saves its input per call
  (``save_for_backward``), backward takes it back (``saved_for_backward``), so one
  ``Softplus`` object serves both places of the model below.
* a *patch projection*: the 8x8 digit images seen as 8 rows of 8 pixels, each
  row projected by its own weight matrix, ``y[B,r,o] = sum_p x[B,r,p] W[r,o,p]``.
  That is one einsum spec, so it is a ``tn.Einsum`` layer: tinynet derives its
  backward (printed below) from the spec, and its backward adds the weight's
  gradient into ``.grad`` (``Parameter.accumulate``).

The tutorial in docs/extending.md explains both step by step.

    python examples/custom_layer.py [--epochs 30] [--seed 0] [--quick]

``--quick`` trains 2 epochs (for tests).
"""

from __future__ import annotations

import argparse

import numpy as np
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

import tinynet as tn
from tinynet.layers.base import Array


class Softplus(tn.Layer):
    """``y = log(1 + exp(x))``; ``f'(x) = sigmoid(x)``.

    Shape: ``(B, ...) -> (B, ...)``.
    """

    def forward(self, x: Array, training: bool = True) -> Array:
        if training:
            self.save_for_backward(x)  # per call: the layer may be used at several places
        return np.logaddexp(0, x)  # log(e^0 + e^x) without overflow

    def backward(self, grad_y: Array, need_input_grad: bool = True) -> Array:
        (x,) = self.saved_for_backward()  # this call's input (last in, first out)
        return grad_y * (0.5 * (1 + np.tanh(x / 2)))  # sigmoid(x), overflow-free


def build(seed: int) -> tn.Sequential:
    rng = np.random.default_rng(seed)
    rows = tn.Einsum("Brp,rop->Bro", weight_shape=(8, 6, 8), bias_shape=(8, 6), rng=rng)
    act = Softplus()  # one object at two places: each use keeps its own saved input
    return tn.Sequential(rows, act, tn.Flatten(), tn.Dense(48, 32, rng=rng), act,
                         tn.Dense(32, 10, rng=rng))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--epochs", type=int, default=30, help="passes over the training set")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--quick", action="store_true", help="2 epochs (for tests)")
    args = parser.parse_args(argv)
    epochs = 2 if args.quick else args.epochs

    model = build(args.seed)
    print(model)
    rng = np.random.default_rng(args.seed)
    checks = {"Softplus": (Softplus(), rng.standard_normal((4, 5))),
              "row projection": (model[0], rng.standard_normal((4, 8, 8))),
              "whole model": (model, rng.standard_normal((4, 8, 8)))}
    for name, (layer, x) in checks.items():
        error = tn.gradcheck(layer, x)
        print(f"gradcheck {name:<15} max relative error {error:.1e}")
        if not error < 1e-7:
            raise SystemExit(f"{name}: the backward disagrees with finite differences")

    digits = load_digits()
    images = digits.data.reshape(-1, 8, 8) / 16.0   # (N, row, pixel)
    x_train, x_test, y_train, y_test = train_test_split(
        images, digits.target, test_size=0.25, random_state=0, stratify=digits.target)
    loss = tn.SoftmaxCrossEntropy()
    loader = tn.DataLoader(x_train, y_train, batch_size=32, shuffle=True, rng=args.seed)
    history = tn.fit(model, loss, tn.SGD(model.parameters(), lr=0.05, momentum=0.9), loader, epochs,
                     progress="none")
    result = tn.evaluate(model, loss, x_test, y_test)
    print(f"epoch 1 loss {history.loss[0]:.3f}, epoch {epochs} loss {history.loss[-1]:.4f}, "
          f"test accuracy {result['accuracy']:.3f}")


if __name__ == "__main__":
    main()
