"""Self-attention forward + backward against PyTorch CPU (issue 14):
``tn.MultiHeadAttention(128, 4)`` on a float32 batch of 32 sequences of 64 positions, every
gradient (input and parameters) computed, as ``nn.MultiheadAttention(128, 4,
batch_first=True)`` called as ``mha(x, x, x, need_weights=False)`` with ``x.requires_grad``.
Must show: tinynet's median at most 1.5x PyTorch's.

    .venv/bin/python benchmarks/attention.py [--rounds 5] [--smoke] [--no-torch]
    .venv/bin/python benchmarks/run.py --only attention --no-write

PyTorch runs in a child process of its own (see ``torch_worker.py`` for why): the parent
times a round of tinynet, then asks the child for a round of PyTorch, alternating, so both
see the same load. A round is the median of ``REPEATS`` forward + backward calls; both
libraries use their default threads (numpy's OpenBLAS and torch's intra-op pool).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from statistics import median
from typing import Any

import numpy as np

NAME = "attention"
LIMIT = 1.5  # tinynet's median / PyTorch's, at most
SIZES = {"full": (32, 64, 128, 4), "quick": (32, 64, 128, 4), "smoke": (2, 5, 8, 2)}  # B, T, E, heads
REPEATS = {"full": 20, "quick": 10, "smoke": 2}

TORCH_CHILD = """
import sys, time, statistics, torch
batch, steps, embed, heads, repeats = map(int, sys.argv[1:6])
torch.manual_seed(0)
attention = torch.nn.MultiheadAttention(embed, heads, batch_first=True)
x = torch.randn(batch, steps, embed, requires_grad=True)
grad = torch.randn(batch, steps, embed)
def once():
    attention.zero_grad(set_to_none=True)
    x.grad = None
    output, _ = attention(x, x, x, need_weights=False)
    output.backward(grad)
for _ in range(3):
    once()
print(f"ready {torch.__version__} {torch.get_num_threads()}", flush=True)
for line in sys.stdin:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        once()
        times.append(time.perf_counter() - start)
    print(statistics.median(times), flush=True)
"""


def tinynet_round(layer: Any, x: np.ndarray, grad: np.ndarray, repeats: int) -> float:
    """The median seconds of ``repeats`` forward + backward calls (the input's gradient included)."""
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        layer.zero_grad()
        layer.forward(x, True)
        layer.backward(grad)
        times.append(time.perf_counter() - start)
    return median(times)


def measure(mode: str = "full", rounds: int = 5, torch: bool = True) -> dict[str, Any]:
    """Alternating rounds of tinynet and PyTorch; the per-call seconds of each round."""
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    import tinynet as tn

    batch, steps, embed, heads = SIZES[mode]
    repeats = REPEATS[mode]
    rng = np.random.default_rng(0)
    layer = tn.MultiHeadAttention(embed, heads, rng=0, dtype=np.float32)
    x = rng.standard_normal((batch, steps, embed)).astype(np.float32)
    grad = rng.standard_normal((batch, steps, embed)).astype(np.float32)
    tinynet_round(layer, x, grad, 3)  # warm-up: plans, allocator
    result: dict[str, Any] = {"workload": f"MultiHeadAttention({embed}, {heads}) self-attention forward + "
                                          f"backward, float32, batch {batch}, {steps} positions",
                              "tinynet": [], "PyTorch": [], "torch_info": None}
    child = None
    if torch:
        child = subprocess.Popen([sys.executable, "-c", TORCH_CHILD, *map(str, SIZES[mode]), str(repeats)],
                                 stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        assert child.stdin is not None and child.stdout is not None
        result["torch_info"] = child.stdout.readline().split()[1:]
    try:
        for _ in range(rounds):
            result["tinynet"].append(tinynet_round(layer, x, grad, repeats))
            if child is not None:
                assert child.stdin is not None and child.stdout is not None
                child.stdin.write("go\n")
                child.stdin.flush()
                result["PyTorch"].append(float(child.stdout.readline()))
    finally:
        if child is not None:
            child.communicate()
    return result


def ratio(result: dict[str, Any]) -> float | None:
    """tinynet's median over PyTorch's (None without PyTorch)."""
    if not result["PyTorch"]:
        return None
    return median(result["tinynet"]) / median(result["PyTorch"])


def rows(result: dict[str, Any]) -> list[list[str]]:
    """``[contender, median ms, min-max ms, ÷ tinynet]`` per contender."""
    mine = median(result["tinynet"])
    table = []
    for name in ("tinynet", "PyTorch"):
        times = result[name]
        if times:
            spread = f"{min(times) * 1e3:.2f}–{max(times) * 1e3:.2f}"
            table.append([name, f"{median(times) * 1e3:.2f}", spread, f"{median(times) / mine:.2f}"])
    return table


def verdict(result: dict[str, Any]) -> str:
    value = ratio(result)
    if value is None:
        return "PyTorch not measured"
    return f"tinynet ÷ PyTorch = {value:.2f} (limit {LIMIT}): {'met' if value <= LIMIT else 'NOT met'}"


def markdown(result: dict[str, Any]) -> str:
    """A section for docs/benchmarks.md."""
    lines = ["\n## Attention forward + backward (issue 14)\n", f"{result['workload']}, per call:\n",
             "| contender | median ms | min–max ms | ÷ tinynet |", "|---|---|---|---|"]
    lines += ["| " + " | ".join(row) + " |" for row in rows(result)]
    info = result["torch_info"]
    if info:
        lines.append(f"\nPyTorch {info[0]} with {info[1]} threads. {verdict(result)}.")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--smoke", action="store_true", help="tiny sizes (for the tests)")
    parser.add_argument("--no-torch", action="store_true")
    args = parser.parse_args(argv)
    result = measure("smoke" if args.smoke else "full", args.rounds, torch=not args.no_torch)
    print(json.dumps({k: result[k] for k in ("workload", "tinynet", "PyTorch")}))
    for row in rows(result):
        print("  ".join(row))
    print(verdict(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
