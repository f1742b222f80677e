"""What the layer benchmarks against PyTorch CPU (``attention.py``, ``recurrent.py``) share:
one layer's forward + backward on float32, every gradient (input and parameters) computed,
timed in tinynet and in PyTorch, the verdict against a limit on tinynet's median over
PyTorch's, and the section each appends to docs/benchmarks.md.

PyTorch runs in a child process of its own (see ``torch_worker.py`` for why), started as
``python -c TORCH_HEAD + <the benchmark's model lines> + TORCH_TAIL <sizes...>``. The model
lines, given ``sizes``, define ``model``, ``x`` (with ``requires_grad``), ``grad`` (the
output's gradient) and ``output()`` (one forward pass's output tensor). The child warms up,
prints ``ready <torch version> <threads>``, then answers each line on its stdin with the
seconds of one forward + backward call.

One timing scheme for every benchmark here: the two libraries alternate call by call. The
parent times one tinynet call, then asks the child for one timed PyTorch call, and so on,
so that on a busy machine both see the same load (alternating whole rounds of many calls
would let a burst of someone else's work land on one library only). A round is the median
of ``REPEATS`` calls of each; the result keeps one number per round and library. Both
libraries use their default threads (numpy's OpenBLAS and torch's intra-op pool).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from statistics import median
from typing import Any

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
WARM_UP_CALLS = 3

TORCH_HEAD = """
import sys, time, torch
sizes = [int(arg) for arg in sys.argv[1:]]
torch.manual_seed(0)
"""
TORCH_TAIL = """
def once():
    model.zero_grad(set_to_none=True)
    x.grad = None
    output().backward(grad)
for _ in range(3):
    once()
print(f"ready {torch.__version__} {torch.get_num_threads()}", flush=True)
for line in sys.stdin:
    start = time.perf_counter()
    once()
    print(time.perf_counter() - start, flush=True)
"""

# build(tn, *sizes) -> (the tinynet layer, the input's shape, the output's shape, the workload's words)
Build = Callable[..., tuple[Any, tuple[int, ...], tuple[int, ...], str]]


def tinynet_call(layer: Any, x: np.ndarray, grad: np.ndarray) -> float:
    """The seconds of one forward + backward call (the input's gradient included)."""
    start = time.perf_counter()
    layer.zero_grad()
    layer.forward(x, True)
    layer.backward(grad)
    return time.perf_counter() - start


class TorchChild:
    """The PyTorch process: ``info`` is ``[version, threads]``, ``call()`` one timed call."""

    def __init__(self, model_lines: str, sizes: tuple[int, ...]) -> None:
        self.process = subprocess.Popen([sys.executable, "-c", TORCH_HEAD + model_lines + TORCH_TAIL,
                                         *map(str, sizes)], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                        text=True)
        assert self.process.stdin is not None and self.process.stdout is not None
        self.stdin, self.stdout = self.process.stdin, self.process.stdout
        self.info = self.stdout.readline().split()[1:]

    def call(self) -> float:
        self.stdin.write("go\n")
        self.stdin.flush()
        return float(self.stdout.readline())

    def close(self) -> None:
        self.process.communicate()


@dataclass(frozen=True)
class LayerBenchmark:
    """One layer against PyTorch, with what ``run.py``'s LAYER_BENCHMARKS asks of a module:
    ``measure``, ``rows``, ``verdict`` and ``markdown`` (and ``main``, the script's command line)."""

    title: str  # the page section's heading
    doc: str | None  # the script's docstring: its first paragraph is --help's description
    sizes: Mapping[str, tuple[int, ...]]  # per mode: full, quick, smoke
    repeats: Mapping[str, int]  # calls of each library per round, per mode
    build: Build
    torch_model: str  # the child's model lines (see the module's docstring)
    limit: float  # tinynet's median / PyTorch's, at most

    def measure(self, mode: str = "full", rounds: int = 5, torch: bool = True) -> dict[str, Any]:
        """Rounds of tinynet and PyTorch alternating call by call; the per-call seconds of each round."""
        sys.path.insert(0, ROOT)
        import tinynet as tn

        layer, x_shape, grad_shape, workload = self.build(tn, *self.sizes[mode])
        rng = np.random.default_rng(0)
        x = rng.standard_normal(x_shape).astype(np.float32)
        grad = rng.standard_normal(grad_shape).astype(np.float32)
        for _ in range(WARM_UP_CALLS):  # plans, allocator
            tinynet_call(layer, x, grad)
        result: dict[str, Any] = {"workload": workload, "tinynet": [], "PyTorch": [], "torch_info": None}
        child = TorchChild(self.torch_model, self.sizes[mode]) if torch else None
        if child is not None:
            result["torch_info"] = child.info
        try:
            for _ in range(rounds):
                mine, theirs = [], []
                for _ in range(self.repeats[mode]):
                    mine.append(tinynet_call(layer, x, grad))
                    if child is not None:
                        theirs.append(child.call())
                result["tinynet"].append(median(mine))
                if theirs:
                    result["PyTorch"].append(median(theirs))
        finally:
            if child is not None:
                child.close()
        return result

    def ratio(self, result: dict[str, Any]) -> float | None:
        """tinynet's median over PyTorch's (None without PyTorch)."""
        if not result["PyTorch"]:
            return None
        return median(result["tinynet"]) / median(result["PyTorch"])

    def rows(self, result: dict[str, Any]) -> list[list[str]]:
        """``[contender, median ms, min-max ms, ÷ tinynet]`` per contender."""
        mine = median(result["tinynet"])
        table = []
        for name in ("tinynet", "PyTorch"):
            times = result[name]
            if times:
                spread = f"{min(times) * 1e3:.2f}–{max(times) * 1e3:.2f}"
                table.append([name, f"{median(times) * 1e3:.2f}", spread, f"{median(times) / mine:.2f}"])
        return table

    def verdict(self, result: dict[str, Any]) -> str:
        value = self.ratio(result)
        if value is None:
            return "PyTorch not measured"
        met = "met" if value <= self.limit else "NOT met"
        return f"tinynet ÷ PyTorch = {value:.2f} (limit {self.limit}): {met}"

    def markdown(self, result: dict[str, Any]) -> str:
        """A section for docs/benchmarks.md."""
        lines = [f"\n## {self.title}\n", f"{result['workload']}, per call:\n",
                 "| contender | median ms | min–max ms | ÷ tinynet |", "|---|---|---|---|"]
        lines += ["| " + " | ".join(row) + " |" for row in self.rows(result)]
        info = result["torch_info"]
        if info:
            lines.append(f"\nPyTorch {info[0]} with {info[1]} threads. {self.verdict(result)}.")
        return "\n".join(lines) + "\n"

    def main(self, argv: list[str] | None = None) -> int:
        parser = argparse.ArgumentParser(description=(self.doc or "").split("\n\n")[0])
        parser.add_argument("--rounds", type=int, default=5)
        parser.add_argument("--smoke", action="store_true", help="tiny sizes (for the tests)")
        parser.add_argument("--no-torch", action="store_true")
        args = parser.parse_args(argv)
        result = self.measure("smoke" if args.smoke else "full", args.rounds, torch=not args.no_torch)
        print(json.dumps({k: result[k] for k in ("workload", "tinynet", "PyTorch")}))
        for row in self.rows(result):
            print("  ".join(row))
        print(self.verdict(result))
        return 0
