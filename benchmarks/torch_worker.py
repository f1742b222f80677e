"""PyTorch's contender, run in a child process of its own.

Why another process: torch brings its own BLAS (MKL) and OpenMP thread pool.
In the same process as numpy's OpenBLAS the two pools can spin on the same two
cores, and importing torch changes what the numpy contenders measure.
The worker imports torch once, rebuilds each workload's data from its seed
(the same arrays as the parent's) and answers one JSON line per request:
``{"workload": name, "mode": mode, "steps": null | k}`` -> ``{"seconds": s}``; a request
``{"module": name, ...}`` is timed by ``name.time_torch(request)`` (``cnn.py``'s LeNet).
The parent waits (idle) while the worker trains, so the two never overlap.

``TorchWorker`` is the parent's handle; importing this module does not import torch.
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
import time
from collections.abc import Callable
from typing import Any

from workloads import Array, Workload, batch_bounds, get_workload, make_data

ALPHA = 0.01


def torch_available() -> bool:
    return importlib.util.find_spec("torch") is not None


def prepare_torch(work: Workload, x: Array, y: Array) -> Callable[[], float]:
    """The same net in ``torch.nn`` (Linear / LeakyReLU(0.01)), ``CrossEntropyLoss`` on
    integer labels, ``torch.optim.SGD``; the same batches as zero-copy slices of the data.
    Like tinynet's ``fit``, each step reads the loss back as a Python float."""
    import torch
    from torch import nn

    dtype = {"float32": torch.float32, "float64": torch.float64}[work.dtype]
    torch.manual_seed(0)
    layers: list[nn.Module] = []
    for index, (n_in, n_out) in enumerate(zip(work.sizes, work.sizes[1:])):
        if index:
            layers.append(nn.LeakyReLU(ALPHA))
        layers.append(nn.Linear(n_in, n_out, dtype=dtype))
    model = nn.Sequential(*layers)
    criterion = nn.CrossEntropyLoss()
    optimizer = torch.optim.SGD(model.parameters(), lr=work.lr)
    xt, yt = torch.from_numpy(x), torch.from_numpy(y)
    batches = [(xt[a:b], yt[a:b]) for a, b in batch_bounds(work)]

    def run() -> float:
        start = time.perf_counter()
        for _ in range(work.epochs):
            total = 0.0
            for xb, yb in batches:
                optimizer.zero_grad(set_to_none=True)
                loss = criterion(model(xb), yb)
                loss.backward()
                optimizer.step()
                total += loss.item()
        return time.perf_counter() - start

    return run


def _threadpools() -> list[dict[str, Any]]:
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return []
    return [{k: d.get(k) for k in ("internal_api", "architecture", "num_threads", "version")}
            for d in threadpool_info()]


def serve() -> None:
    """The worker's loop: one JSON request per stdin line, one JSON answer per stdout line."""
    import torch

    torch.set_num_threads(os.cpu_count() or 1)
    hello = {"torch": torch.__version__, "threads": torch.get_num_threads(),
             "threadpools": _threadpools()}
    print(json.dumps(hello), flush=True)
    cache: dict[tuple[str, str], tuple[Array, Array]] = {}
    for line in sys.stdin:
        request = json.loads(line)
        if "module" in request:  # a workload of another benchmark module (cnn.py): it times itself
            seconds = importlib.import_module(request["module"]).time_torch(request)
            print(json.dumps({"seconds": seconds}), flush=True)
            continue
        work = get_workload(request["workload"], request["mode"])
        key = (work.name, request["mode"])
        if key not in cache:
            cache.clear()  # keep one data set at a time
            cache[key] = make_data(work)
        x, y = cache[key]
        if request.get("steps"):
            work = work.truncated(request["steps"])
        seconds = prepare_torch(work, x, y)()
        print(json.dumps({"seconds": seconds}), flush=True)


class TorchWorker:
    """The parent's end: start the worker, ask it to time a workload."""

    def __init__(self) -> None:
        self.process = subprocess.Popen(
            [sys.executable, os.path.abspath(__file__)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        self.info: dict[str, Any] = self._read()

    def _read(self) -> dict[str, Any]:
        assert self.process.stdout is not None
        line = self.process.stdout.readline()
        if not line:
            raise RuntimeError(f"the PyTorch worker exited (code {self.process.wait()})")
        answer: dict[str, Any] = json.loads(line)
        return answer

    def time(self, work: Workload, mode: str, steps: int | None = None) -> float:
        assert self.process.stdin is not None
        request = {"workload": work.name, "mode": mode, "steps": steps}
        self.process.stdin.write(json.dumps(request) + "\n")
        self.process.stdin.flush()
        return float(self._read()["seconds"])

    def ask(self, request: dict[str, Any]) -> float:
        """Seconds of a request ``{"module": name, ...}``: ``name.time_torch(request)`` in the worker."""
        assert self.process.stdin is not None
        self.process.stdin.write(json.dumps(request) + "\n")
        self.process.stdin.flush()
        return float(self._read()["seconds"])

    def close(self) -> None:
        if self.process.stdin is not None:
            self.process.stdin.close()
        self.process.wait(timeout=60)


if __name__ == "__main__":
    serve()
