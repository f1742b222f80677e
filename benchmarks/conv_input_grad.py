"""A convolution's input gradient two ways (issue 13), CPU time (thread_time, min of 30 calls),
float32, batch 64:

* col2im, as ``Conv2D`` does: ``dcols = einsum(GRAD_COLUMNS, g, W)``, then ``add_windows``
  adds each kernel tap's columns back onto the input (kh kw strided adds);
* an einsum over transposed windows: the stride-dilated, padded ``g`` against the flipped
  kernel (a full correlation), its windows copied once like the forward's.

    OPENBLAS_NUM_THREADS=1 .venv/bin/python benchmarks/conv_input_grad.py
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import numpy as np

import tinynet as tn
from tinynet.engine.contraction import einsum
from tinynet.engine.windows import add_windows, pad, windows

# in channels, out channels, image size, kernel, padding, stride
CASES = [(1, 6, 28, 5, 2, 1), (6, 16, 14, 5, 0, 1), (16, 32, 16, 3, 1, 1), (8, 16, 16, 3, 1, 2)]
BATCH = 64


def cpu_ms(run: Callable[[], Any], repeats: int = 30) -> float:
    run()
    times = []
    for _ in range(repeats):
        start = time.thread_time()
        run()
        times.append(time.thread_time() - start)
    return min(times) * 1e3


def compare(c: int, o: int, size: int, k: int, p: int, s: int, rng: np.random.Generator) -> str:
    f32 = np.float32
    layer = tn.Conv2D(c, o, k, stride=s, padding=p, rng=0, dtype=f32)
    x = rng.standard_normal((BATCH, c, size, size)).astype(f32)
    g = rng.standard_normal(layer.forward(x, training=False).shape).astype(f32)
    w, out = layer.weight.data, g.shape[2]
    padded_shape = pad(x, layer.pads).shape

    def col2im() -> Any:
        dcols = einsum(layer.GRAD_COLUMNS, g, w)                           # (c, i, j, B, h, w)
        grad = add_windows(dcols.transpose(3, 0, 4, 5, 1, 2), padded_shape, (s, s), (1, 1))
        return grad[:, :, p:p + size, p:p + size]

    def transposed_windows() -> Any:
        spread = g
        if s > 1:  # zeros between the gradient's entries: the stride undone
            spread = np.zeros((BATCH, o, (out - 1) * s + 1, (out - 1) * s + 1), f32)
            spread[:, :, ::s, ::s] = g
        q = k - 1 - p
        extra = size - (spread.shape[2] + 2 * q - k + 1)
        padded = np.pad(spread, ((0, 0), (0, 0), (q, q + extra), (q, q + extra)))
        cols = np.ascontiguousarray(windows(padded, (k, k), (1, 1), (1, 1)).transpose(1, 4, 5, 0, 2, 3))
        return einsum("oijBhw,ocij->Bchw", cols, w[:, :, ::-1, ::-1])

    assert np.allclose(col2im(), transposed_windows(), atol=1e-3)
    return (f"conv {c}->{o} {size}x{size} k{k} pad {p} stride {s}: col2im {cpu_ms(col2im):.2f} ms, "
            f"transposed-windows einsum {cpu_ms(transposed_windows):.2f} ms")


def main() -> None:
    rng = np.random.default_rng(0)
    for case in CASES:
        print(compare(*case, rng))


if __name__ == "__main__":
    main()
