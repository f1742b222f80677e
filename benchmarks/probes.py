"""Measurements that need a fresh process of their own, each printing one JSON line.

* ``memory``: peak memory of one float32 MLP epoch in tinynet (tracemalloc, and
  the resident high-water mark VmHWM as a cross-check).
* ``kernel``: ms per step of the floor, the matmul loop and tinynet under the
  environment it is started with (the parent starts it with and without the
  machine's OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE), and which OpenBLAS kernel ran.
* ``contention``: the same numpy timings before and after torch is imported and
  used in the same process (the two-BLAS question), with torch's own time there.

Run as ``python benchmarks/probes.py NAME MODE``; ``run_probe`` does it from the parent.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
from collections.abc import Callable
from typing import Any

from workloads import Workload, get_workload, make_data

PROBE_STEPS = {"full": 150, "quick": 100, "smoke": 4}
PROBE_ROUNDS = {"full": 5, "quick": 3, "smoke": 1}
NUMPY_SIDE = ("GEMM floor", "numpy matmul loop", "tinynet")


def threadpools() -> list[dict[str, Any]]:
    """threadpoolctl's view of the BLAS/OpenMP pools loaded in this process."""
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return []
    return [{k: d.get(k) for k in ("internal_api", "architecture", "num_threads", "version",
                                   "filepath")} for d in threadpool_info()]


def _peak_rss_bytes() -> int | None:
    """This process's resident high-water mark (VmHWM), None where /proc is missing.

    Not ``ru_maxrss``: on Linux that survives ``exec`` and so starts at the
    (large) benchmark parent's peak."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return None


def probe_memory(mode: str) -> dict[str, Any]:
    """Peak bytes of the data set + model + one ``fit`` epoch of the float32 MLP.

    tracemalloc sees every numpy data buffer (numpy reports them to it) and
    Python object, from before the data is made until the epoch ends, so its
    peak is the whole working set of the run including the data set itself.
    BLAS's internal buffers are not numpy's: the VmHWM delta (high-water
    mark after the epoch minus before the data, BLAS already warmed up) covers
    them, but also counts freed memory the allocator did not return.
    """
    import tracemalloc

    import numpy as np
    from contenders import prepare_tinynet

    work = get_workload("mlp-f32", mode)
    np.ones((64, 64)) @ np.ones((64, 64))  # start BLAS's threads and buffers before the baseline
    rss_before = _peak_rss_bytes()
    tracemalloc.start()
    x, y = make_data(work)
    run = prepare_tinynet(work, x, y)
    _, peak_setup = tracemalloc.get_traced_memory()
    tracemalloc.reset_peak()
    run()
    _, peak_fit = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    params = 4 * sum(a * b + b for a, b in zip(work.sizes, work.sizes[1:]))
    return {"workload": work.name, "peak_tracemalloc": max(peak_setup, peak_fit),
            "peak_setup": peak_setup, "peak_fit": peak_fit,
            "rss_delta": None if rss_before is None else (_peak_rss_bytes() or 0) - rss_before,
            "data": int(x.nbytes + y.nbytes),
            "params": params}


def _time_steps(contenders: dict[str, Callable[[], float]], rounds: int) -> dict[str, float]:
    times: dict[str, list[float]] = {name: [] for name in contenders}
    for run in contenders.values():
        run()  # warm-up
    for _ in range(rounds):
        for name, run in contenders.items():
            times[name].append(run())
    return {name: statistics.median(ts) for name, ts in times.items()}


def _numpy_side(work: Workload, x: Any, y: Any) -> dict[str, Callable[[], float]]:
    from contenders import NUMPY_CONTENDERS

    def fresh(name: str) -> Callable[[], float]:
        return lambda: NUMPY_CONTENDERS[name](work, x, y)()  # a fresh model per call

    return {name: fresh(name) for name in NUMPY_SIDE}


def probe_kernel(mode: str) -> dict[str, Any]:
    work = get_workload("mlp-f32", mode).truncated(PROBE_STEPS[mode])
    x, y = make_data(work)
    medians = _time_steps(_numpy_side(work, x, y), PROBE_ROUNDS[mode])
    return {"steps": work.steps, "ms_per_step": {k: 1e3 * v / work.steps for k, v in medians.items()},
            "threadpools": threadpools(),
            "env": {k: os.environ.get(k) for k in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")}}


def probe_contention(mode: str) -> dict[str, Any]:
    import torch
    from torch_worker import prepare_torch

    work = get_workload("mlp-f32", mode).truncated(PROBE_STEPS[mode])
    x, y = make_data(work)
    rounds = PROBE_ROUNDS[mode]
    before = _time_steps(_numpy_side(work, x, y), rounds)
    torch.set_num_threads(os.cpu_count() or 1)
    both = {"torch (same process)": lambda: prepare_torch(work, x, y)(), **_numpy_side(work, x, y)}
    after = _time_steps(both, rounds)
    per_step = {k: 1e3 * v / work.steps for k, v in after.items()}
    return {"steps": work.steps, "before_ms": {k: 1e3 * v / work.steps for k, v in before.items()},
            "after_ms": per_step, "threadpools": threadpools()}


PROBES = {"memory": probe_memory, "kernel": probe_kernel, "contention": probe_contention}


def run_probe(name: str, mode: str, env: dict[str, str] | None = None) -> dict[str, Any]:
    """Start ``probes.py NAME MODE`` in a fresh interpreter and return its JSON answer."""
    done = subprocess.run([sys.executable, os.path.abspath(__file__), name, mode],
                          capture_output=True, text=True, env=env, timeout=600)
    if done.returncode != 0:
        raise RuntimeError(f"probe {name} failed:\n{done.stderr[-2000:]}")
    answer: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return answer


if __name__ == "__main__":
    print(json.dumps(PROBES[sys.argv[1]](sys.argv[2])))
