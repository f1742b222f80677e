"""Embedding's backward, a scatter-add ``dW[ids[...], :] += g[..., :]``, four ways (issue 14):

* ``np.add.at``: numpy's unbuffered scatter-add;
* ``bincount``: one ``np.bincount`` over flat ``id * D + d`` indices (float64 inside);
* ``sorted runs`` (what ``tn.Embedding`` does): sort the ids, ``np.add.reduceat`` each run
  of equal ids, add the sums into their rows once;
* ``one-hot GEMM``: the einsum ``"Nn,Nd->nd"`` with the one-hot array built (small vocabularies only).

Each adds into an existing gradient (as ``Parameter.grad`` after the first use), and is
checked against ``np.add.at`` first. Prints microseconds per backward, the best of 5 x 20.

    .venv/bin/python benchmarks/embedding_backward.py
"""

from __future__ import annotations

import timeit
from collections.abc import Callable
from functools import partial

import numpy as np

Array = np.ndarray
CASES = [(64, 10, 10, 32), (32, 64, 1_000, 128), (32, 128, 50_000, 64)]  # B, T, vocabulary, D


def add_at(grad: Array, ids: Array, g: Array) -> None:
    np.add.at(grad, ids.ravel(), g.reshape(-1, g.shape[-1]))


def bincount(grad: Array, ids: Array, g: Array) -> None:
    n, d = grad.shape
    flat = (ids.reshape(-1, 1) * d + np.arange(d)).ravel()
    grad += np.bincount(flat, weights=g.reshape(-1), minlength=n * d).reshape(n, d)


def sorted_runs(grad: Array, ids: Array, g: Array) -> None:
    flat = ids.ravel()
    order = np.argsort(flat, kind="stable")
    ordered = flat[order]
    starts = np.flatnonzero(np.r_[True, ordered[1:] != ordered[:-1]])
    grad[ordered[starts]] += np.add.reduceat(g.reshape(-1, g.shape[-1])[order], starts, axis=0)


def one_hot_gemm(grad: Array, ids: Array, g: Array) -> None:
    flat = ids.ravel()
    onehot = np.zeros((flat.size, grad.shape[0]), g.dtype)
    onehot[np.arange(flat.size), flat] = 1
    grad += np.einsum("Nn,Nd->nd", onehot, g.reshape(-1, g.shape[-1]), optimize=True)


WAYS: dict[str, Callable[[Array, Array, Array], None]] = {
    "np.add.at": add_at, "bincount": bincount, "sorted runs": sorted_runs, "one-hot GEMM": one_hot_gemm}


def main() -> None:
    rng = np.random.default_rng(0)
    print("(B, T, vocabulary, D) dtype: microseconds per backward (best of 5 x 20)")
    for batch, steps, n, d in CASES:
        for dtype in (np.float32, np.float64):
            ids = rng.integers(0, n, (batch, steps))
            g = rng.standard_normal((batch, steps, d)).astype(dtype)
            reference = np.zeros((n, d), dtype)
            add_at(reference, ids, g)
            cells = []
            for name, way in WAYS.items():
                if name == "one-hot GEMM" and n > 5_000:
                    cells.append(f"{name} -")
                    continue
                grad = np.zeros((n, d), dtype)
                way(grad, ids, g)
                np.testing.assert_allclose(grad, reference, rtol=1e-4, atol=1e-4)
                call = partial(way, grad, ids, g)
                best = min(timeit.repeat(call, number=20, repeat=5)) / 20
                cells.append(f"{name} {best * 1e6:.0f}")
            print(f"{(batch, steps, n, d)} {np.dtype(dtype).name}: " + ", ".join(cells))


if __name__ == "__main__":
    main()
