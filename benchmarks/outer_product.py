"""An outer product (a weight gradient at batch size 1): np.multiply's broadcast against
np.einsum, the choice behind ``OUTER_PRODUCT_EINSUM_SIZE`` in tinynet/engine/planning.py.

    OPENBLAS_NUM_THREADS=1 python benchmarks/outer_product.py

Prints, per size and dtype, each method's best time over interleaved rounds and
einsum's time / multiply's (below 1: einsum is faster).
"""

from __future__ import annotations

import timeit
from functools import partial

import numpy as np

SIZES = [(10, 32), (10, 256), (32, 64), (64, 64), (64, 128), (128, 128), (256, 256), (256, 784)]


def main(rounds: int = 9) -> None:
    rng = np.random.default_rng(0)
    print(f"{'m x n':>10} {'dtype':>8} {'multiply us':>12} {'einsum us':>10} {'einsum/multiply':>16}")
    for dtype in (np.float32, np.float64):
        for m, n in SIZES:
            a = rng.standard_normal((m, 1)).astype(dtype)
            b = rng.standard_normal((1, n)).astype(dtype)
            out = np.empty((m, n), dtype)
            methods = {"multiply": partial(np.multiply, a, b, out=out),
                       "einsum": partial(np.einsum, "...mk,...kn->...mn", a, b, out=out)}
            number = max(10, 200_000 // (m * n))
            best = {name: min(timeit.repeat(f, number=number, repeat=rounds)) / number * 1e6
                    for name, f in methods.items()}
            print(f"{f'{m} x {n}':>10} {np.dtype(dtype).name:>8} {best['multiply']:12.2f} "
                  f"{best['einsum']:10.2f} {best['einsum'] / best['multiply']:16.2f}")


if __name__ == "__main__":
    main()
