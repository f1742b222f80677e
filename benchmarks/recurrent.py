"""LSTM forward + backward against PyTorch CPU (issue 14): ``tn.LSTM(64, 128)`` on a float32
batch of 32 sequences of 50 steps, every gradient (input and parameters) computed, as
``nn.LSTM(64, 128, batch_first=True)`` with ``x.requires_grad``. Must show: tinynet's
median at most 1.5x PyTorch's.

    .venv/bin/python benchmarks/recurrent.py [--rounds 5] [--smoke]
    .venv/bin/python benchmarks/run.py --only lstm --no-write

PyTorch runs in a child process of its own (see ``torch_worker.py`` for why). The two
alternate call by call: the parent times one tinynet call, then asks the child for one
timed PyTorch call, so that both see the same load on a busy machine. A round is the
median of ``REPEATS`` calls of each; both libraries use their default threads (numpy's
OpenBLAS and torch's intra-op pool).
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

NAME = "lstm"
LIMIT = 1.5  # tinynet's median / PyTorch's, at most
SIZES = {"full": (32, 50, 64, 128), "quick": (32, 50, 64, 128), "smoke": (4, 6, 5, 8)}  # B, T, I, H
REPEATS = {"full": 20, "quick": 10, "smoke": 2}

TORCH_CHILD = """
import sys, time, torch
batch, steps, inputs, hidden = map(int, sys.argv[1:5])
torch.manual_seed(0)
lstm = torch.nn.LSTM(inputs, hidden, batch_first=True)
x = torch.randn(batch, steps, inputs, requires_grad=True)
grad = torch.randn(batch, steps, hidden)
def once():
    lstm.zero_grad(set_to_none=True)
    x.grad = None
    output, _ = lstm(x)
    output.backward(grad)
for _ in range(3):
    once()
print(f"ready {torch.__version__} {torch.get_num_threads()}", flush=True)
for line in sys.stdin:
    start = time.perf_counter()
    once()
    print(time.perf_counter() - start, flush=True)
"""


def tinynet_call(layer: Any, x: np.ndarray, grad: np.ndarray) -> float:
    """The seconds of one forward + backward call (the input's gradient included)."""
    start = time.perf_counter()
    layer.zero_grad()
    layer.forward(x, True)
    layer.backward(grad)
    return time.perf_counter() - start


def measure(mode: str = "full", rounds: int = 5, torch: bool = True) -> dict[str, Any]:
    """Alternating rounds of tinynet and PyTorch; the per-call seconds of each round."""
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    import tinynet as tn

    batch, steps, inputs, hidden = SIZES[mode]
    repeats = REPEATS[mode]
    rng = np.random.default_rng(0)
    layer = tn.LSTM(inputs, hidden, rng=0, dtype=np.float32)
    x = rng.standard_normal((batch, steps, inputs)).astype(np.float32)
    grad = rng.standard_normal((batch, steps, hidden)).astype(np.float32)
    for _ in range(3):  # warm-up: plans, allocator
        tinynet_call(layer, x, grad)
    result: dict[str, Any] = {"workload": f"LSTM({inputs}, {hidden}) forward + backward, float32, "
                                          f"batch {batch}, {steps} steps",
                              "tinynet": [], "PyTorch": [], "torch_info": None}
    child = None
    if torch:
        child = subprocess.Popen([sys.executable, "-c", TORCH_CHILD, *map(str, SIZES[mode])],
                                 stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        assert child.stdin is not None and child.stdout is not None
        result["torch_info"] = child.stdout.readline().split()[1:]
    try:
        for _ in range(rounds):
            mine, theirs = [], []
            for _ in range(repeats):
                mine.append(tinynet_call(layer, x, grad))
                if child is not None:
                    assert child.stdin is not None and child.stdout is not None
                    child.stdin.write("go\n")
                    child.stdin.flush()
                    theirs.append(float(child.stdout.readline()))
            result["tinynet"].append(median(mine))
            if theirs:
                result["PyTorch"].append(median(theirs))
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
    lines = ["\n## LSTM forward + backward (issue 14)\n", f"{result['workload']}, per call:\n",
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
