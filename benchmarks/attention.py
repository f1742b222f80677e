"""Self-attention forward + backward against PyTorch CPU (issue 14):
``tn.MultiHeadAttention(128, 4)`` on a float32 batch of 32 sequences of 64 positions, every
gradient (input and parameters) computed, as ``nn.MultiheadAttention(128, 4,
batch_first=True)`` called as ``mha(x, x, x, need_weights=False)`` with ``x.requires_grad``.
Must show: tinynet's median at most 1.5x PyTorch's.

    .venv/bin/python benchmarks/attention.py [--rounds 5] [--smoke] [--no-torch]
    .venv/bin/python benchmarks/run.py --only attention --no-write

The timing (PyTorch in a child process, the two alternating call by call, a round the
median of ``REPEATS`` calls of each) and the page section are ``layer_timing.py``'s.
"""

from __future__ import annotations

import sys
from typing import Any

import numpy as np
from layer_timing import LayerBenchmark

NAME = "attention"
LIMIT = 1.5  # tinynet's median / PyTorch's, at most
SIZES = {"full": (32, 64, 128, 4), "quick": (32, 64, 128, 4), "smoke": (2, 5, 8, 2)}  # B, T, E, heads
REPEATS = {"full": 20, "quick": 10, "smoke": 2}

TORCH_MODEL = """
batch, steps, embed, heads = sizes
model = torch.nn.MultiheadAttention(embed, heads, batch_first=True)
x = torch.randn(batch, steps, embed, requires_grad=True)
grad = torch.randn(batch, steps, embed)
output = lambda: model(x, x, x, need_weights=False)[0]
"""


def build(tn: Any, batch: int, steps: int, embed: int, heads: int) -> tuple[Any, tuple[int, ...],
                                                                            tuple[int, ...], str]:
    layer = tn.MultiHeadAttention(embed, heads, rng=0, dtype=np.float32)
    workload = (f"MultiHeadAttention({embed}, {heads}) self-attention forward + backward, float32, "
                f"batch {batch}, {steps} positions")
    return layer, (batch, steps, embed), (batch, steps, embed), workload


BENCHMARK = LayerBenchmark("Attention forward + backward (issue 14)", __doc__, SIZES, REPEATS, build,
                           TORCH_MODEL, LIMIT)
measure, ratio, rows, verdict = BENCHMARK.measure, BENCHMARK.ratio, BENCHMARK.rows, BENCHMARK.verdict
markdown, main = BENCHMARK.markdown, BENCHMARK.main

if __name__ == "__main__":
    sys.exit(main())
