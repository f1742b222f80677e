"""Turning timings into tables: the rich console view and docs/benchmarks.md."""

from __future__ import annotations

import datetime
import os
import platform
import statistics
import subprocess
from dataclasses import dataclass, field
from typing import Any

from workloads import Workload

TINYNET = "tinynet"
ORDER = ("tinynet", "tinynet (fused=False)", "GEMM floor", "GEMM floor + update", "numpy einsum loop",
         "numpy matmul loop", "PyTorch", "scikit-learn")
MB = 1e6
BUSY = 0.2  # cores used by other processes above which times are suspect
RECOMMENDED = "env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE .venv/bin/python benchmarks/run.py"


@dataclass
class Results:
    mode: str
    rounds: int
    command: str
    works: list[Workload] = field(default_factory=list)
    times: dict[str, dict[str, list[float]]] = field(default_factory=dict)
    probes: dict[str, Any] = field(default_factory=dict)
    torch_info: dict[str, Any] | None = None
    threadpools: list[dict[str, Any]] = field(default_factory=list)
    foreign: dict[str, float | None] = field(default_factory=dict)  # cores others used
    attempts: dict[str, int] = field(default_factory=dict)
    wall: float = 0.0

    def median(self, work: str, contender: str) -> float | None:
        ts = self.times.get(work, {}).get(contender)
        return statistics.median(ts) if ts else None

    def ratio(self, work: str, top: str, bottom: str) -> float | None:
        """The median over the rounds of ``top``'s time ÷ ``bottom``'s in the same round.

        Contenders of a round run back to back, so the pair sees the same machine; a
        machine whose speed drifts between rounds (a shared cloud core does, by a third
        here) moves both and leaves their ratio. Without paired rounds (a contender
        measured elsewhere): the ratio of the medians."""
        times = self.times.get(work, {})
        a, b = times.get(top), times.get(bottom)
        if not a or not b:
            return None
        if len(a) == len(b):
            return statistics.median(x / y for x, y in zip(a, b))
        return statistics.median(a) / statistics.median(b)


def fmt_ratio(r: float | None) -> str:
    return "n/a" if r is None else f"{r:.2f}x"


def _seconds(t: float) -> str:
    return f"{t:.3f}" if t >= 0.1 else f"{t:.4f}"


def contender_rows(res: Results, work: Workload) -> list[list[str]]:
    """Per contender: median seconds, min-max, µs per step, this ÷ tinynet."""
    rows = []
    for name in [c for c in ORDER if c in res.times.get(work.name, {})]:
        ts = res.times[work.name][name]
        med = statistics.median(ts)
        ratio = "1 (reference)" if name == TINYNET else fmt_ratio(res.ratio(work.name, name, TINYNET))
        rows.append([name, _seconds(med), f"{_seconds(min(ts))}–{_seconds(max(ts))}",
                     f"{1e6 * med / work.steps:,.0f}", ratio])
    return rows


SUMMARY_COLUMNS = ("GEMM floor", "GEMM floor + update", "numpy einsum loop", "numpy matmul loop",
                   "PyTorch", "scikit-learn")


def fmt_load(cores: float | None) -> str:
    return "n/a" if cores is None else f"{cores:.2f}"


def summary_rows(res: Results) -> list[list[str]]:
    """Per workload: tinynet's median ÷ each contender's (below 1: tinynet is faster),
    and how many cores other processes took meanwhile."""
    return [[w.name, *[fmt_ratio(res.ratio(w.name, TINYNET, c)) for c in SUMMARY_COLUMNS],
             fmt_load(res.foreign.get(w.name))] for w in res.works if w.name in res.times]


def _check(value: float | None, limit: float, strict: bool = False) -> str:
    if value is None:
        return "not measured"
    ok = value < limit if strict else value <= limit
    return "PASS" if ok else "FAIL"


def must_show(res: Results) -> list[list[str]]:
    """The issue's "Must show" items 1-4 with the measured value and the verdict."""
    rows = []
    for label, work, other, limit, strict in (
        ("1. iris: tinynet ÷ numpy einsum loop <= 0.9", "iris", "numpy einsum loop", 0.9, False),
        ("1. iris: tinynet ÷ numpy matmul loop <= 1.15", "iris", "numpy matmul loop", 1.15, False),
        ("2. MLP f32 b128: tinynet ÷ GEMM floor <= 1.32", "mlp-f32", "GEMM floor", 1.32, False),
        ("2. MLP f32 b128: tinynet ÷ PyTorch <= 0.9", "mlp-f32", "PyTorch", 0.9, False),
        ("2. MLP f32 b128: tinynet ÷ scikit-learn < 1", "mlp-f32", "scikit-learn", 1.0, True),
        ("3. batch 1: tinynet ÷ PyTorch per step <= 0.55", "mlp-b1", "PyTorch", 0.55, False),
    ):
        value = res.ratio(work, TINYNET, other)
        verdict = _check(value, limit, strict)
        busy = res.foreign.get(work)
        if value is not None and busy is not None and busy > BUSY:
            verdict += f" (machine busy: {busy:.2f} cores)"
        rows.append([label, fmt_ratio(value), verdict])
    mem = res.probes.get("memory")
    if mem:
        bound = mem["data"] + 3 * mem["params"] + 50 * MB
        rows.append(["4. f32 MLP epoch: peak <= data + 3x params + 50 MB",
                     f"{mem['peak_tracemalloc'] / MB:.1f} MB <= {bound / MB:.1f} MB",
                     _check(mem["peak_tracemalloc"], bound)])
    return rows


def _read_cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _git_commit() -> str:
    try:
        rev = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True,
                             text=True, timeout=10).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "tinynet"], capture_output=True,
                               text=True, timeout=10).stdout.strip()
        return rev + (" (tinynet/ has uncommitted changes)" if dirty else "") if rev else "unknown"
    except (OSError, subprocess.SubprocessError):
        return "unknown"


def _version(module: str) -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(module)
    except PackageNotFoundError:
        return "not installed"


def machine(res: Results) -> list[tuple[str, str]]:
    import numpy as np

    blas = np.show_config(mode="dicts").get("Build Dependencies", {}).get("blas", {})
    pools = "; ".join(f"{p['internal_api']} {p.get('version') or ''} kernel={p.get('architecture')} "
                      f"threads={p['num_threads']} ({os.path.basename(p.get('filepath') or '?')})"
                      for p in res.threadpools) or "threadpoolctl missing"
    env = ", ".join(f"{k}={os.environ[k]}" for k in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")
                    if k in os.environ) or "both unset"
    torch = "not installed" if res.torch_info is None else (
        f"{res.torch_info['torch']} (own process, {res.torch_info['threads']} threads; pools: "
        + ", ".join(f"{p['internal_api']} threads={p['num_threads']}"
                    for p in res.torch_info.get("threadpools", [])) + ")")
    return [
        ("date (UTC)", datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M")),
        ("CPU", f"{_read_cpu_model()}, {os.cpu_count()} logical cores"),
        ("numpy BLAS (build)", f"{blas.get('name', '?')} {blas.get('version', '')}"),
        ("BLAS at run time (threadpoolctl)", pools),
        ("OpenBLAS environment", env),
        ("Python", platform.python_version()),
        ("numpy / scipy / scikit-learn",
         f"{np.__version__} / {_version('scipy')} / {_version('scikit-learn')}"),
        ("PyTorch", torch),
        ("tinynet commit", _git_commit()),
        ("mode, rounds", f"{res.mode}, {res.rounds} per workload" + "".join(
            f", {w.name} {res.rounds * w.round_factor}" for w in res.works if w.round_factor != 1)
         + " (ratios: the median of each round's ratio)"),
        ("wall time of the whole run", f"{res.wall:.0f} s"),
    ]
