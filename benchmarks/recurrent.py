"""LSTM forward + backward against PyTorch CPU (issue 14): ``tn.LSTM(64, 128)`` on a float32
batch of 32 sequences of 50 steps, every gradient (input and parameters) computed, as
``nn.LSTM(64, 128, batch_first=True)`` with ``x.requires_grad``. Must show: tinynet's
median at most 1.5x PyTorch's.

    .venv/bin/python benchmarks/recurrent.py [--rounds 5] [--smoke]
    .venv/bin/python benchmarks/run.py --only lstm --no-write

The timing (PyTorch in a child process, the two alternating call by call, a round the
median of ``REPEATS`` calls of each) and the page section are ``layer_timing.py``'s.
"""

from __future__ import annotations

import sys
from typing import Any

import numpy as np
from layer_timing import LayerBenchmark

NAME = "lstm"
LIMIT = 1.5  # tinynet's median / PyTorch's, at most
SIZES = {"full": (32, 50, 64, 128), "quick": (32, 50, 64, 128), "smoke": (4, 6, 5, 8)}  # B, T, I, H
REPEATS = {"full": 20, "quick": 10, "smoke": 2}

TORCH_MODEL = """
batch, steps, inputs, hidden = sizes
model = torch.nn.LSTM(inputs, hidden, batch_first=True)
x = torch.randn(batch, steps, inputs, requires_grad=True)
grad = torch.randn(batch, steps, hidden)
output = lambda: model(x)[0]
"""


def build(tn: Any, batch: int, steps: int, inputs: int, hidden: int) -> tuple[Any, tuple[int, ...],
                                                                             tuple[int, ...], str]:
    layer = tn.LSTM(inputs, hidden, rng=0, dtype=np.float32)
    workload = f"LSTM({inputs}, {hidden}) forward + backward, float32, batch {batch}, {steps} steps"
    return layer, (batch, steps, inputs), (batch, steps, hidden), workload


BENCHMARK = LayerBenchmark("LSTM forward + backward (issue 14)", __doc__, SIZES, REPEATS, build,
                           TORCH_MODEL, LIMIT)
measure, ratio, rows, verdict = BENCHMARK.measure, BENCHMARK.ratio, BENCHMARK.rows, BENCHMARK.verdict
markdown, main = BENCHMARK.markdown, BENCHMARK.main

if __name__ == "__main__":
    sys.exit(main())
