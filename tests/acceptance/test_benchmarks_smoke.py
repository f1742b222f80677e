"""A tiny, untimed run of benchmarks/run.py: it must print the tables and write the page."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
RUN = ROOT / "benchmarks" / "run.py"
CONTENDERS = ("tinynet", "GEMM floor", "numpy einsum loop", "numpy matmul loop", "scikit-learn")
WORKLOADS = ("iris", "mlp-f32", "mlp-f64", "mlp-b1", "mlp-b32", "mlp-b1024")


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "COLUMNS": "200"}
    return subprocess.run([sys.executable, str(RUN), *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=300)


def _load_workloads():  # type: ignore[no-untyped-def]
    spec = importlib.util.spec_from_file_location("bench_workloads", ROOT / "benchmarks" / "workloads.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


def test_smoke_run_prints_tables_and_writes_markdown(tmp_path: Path) -> None:
    page = ROOT / "docs" / "benchmarks.md"
    before = page.stat().st_mtime_ns if page.exists() else None
    out = tmp_path / "bench.md"
    done = _run("--smoke", "--rounds", "1", "--no-torch", "--output", str(out))  # PyTorch: below
    assert done.returncode == 0, done.stderr[-3000:]
    for name in (*CONTENDERS, *WORKLOADS, "Must show", "÷ tinynet"):
        assert name in done.stdout, name
    text = out.read_text(encoding="utf-8")
    assert "benchmarks/run.py" in text and "env -u OPENBLAS_CORETYPE" in text
    for heading in ("## Summary", "## Must show", "## Peak memory", "## OpenBLAS kernel",
                    "## Machine", "## Method", *[f"### {w}:" for w in WORKLOADS]):
        assert heading in text, heading
    assert "| tinynet | " in text and "1 (reference)" in text
    # The committed page is only ever written by a real (non-smoke) run.
    assert (page.stat().st_mtime_ns if page.exists() else None) == before


def test_the_pytorch_contender_runs_in_its_own_process() -> None:
    pytest.importorskip("torch")
    done = _run("--smoke", "--rounds", "1", "--only", "mlp-b1", "--no-write")
    assert done.returncode == 0, done.stderr[-3000:]
    assert "PyTorch" in done.stdout and "3. batch 1: tinynet ÷ PyTorch" in done.stdout


def test_only_and_no_write(tmp_path: Path) -> None:
    done = _run("--smoke", "--rounds", "1", "--only", "iris", "--no-torch", "--no-write",
                "--output", str(tmp_path / "x.md"))
    assert done.returncode == 0, done.stderr[-3000:]
    assert "iris" in done.stdout and "mlp-b32" not in done.stdout
    assert not (tmp_path / "x.md").exists()


def test_unknown_workload_is_rejected() -> None:
    done = _run("--smoke", "--only", "mnist")
    assert done.returncode == 2
    assert "--only 'mnist'" in done.stderr and "mlp-f32" in done.stderr


def test_full_suite_has_the_planned_step_counts() -> None:
    wl = _load_workloads()
    steps = {w.name: w.steps * w.round_factor for w in wl.workloads("full")}  # per round asked
    assert steps == {"iris": 4500, "mlp-f32": 469, "mlp-f64": 469, "mlp-b1": 2000,
                     "mlp-b32": 1875, "mlp-b1024": 59}  # iris: the article's 1,500 epochs in 5 rounds
    iris = wl.get_workload("iris", "full")
    assert wl.batch_bounds(iris) == [(0, 32), (32, 64), (64, 96)]
    x, y = wl.make_data(wl.get_workload("mlp-f32", "smoke"))
    assert x.dtype.name == "float32" and y.dtype.name == "int64" and set(y) == set(range(10))


def test_memmap_epoch_trains_over_a_small_file() -> None:
    """benchmarks/memmap_epoch.py at 4 MB (the 1.2 GB run is the benchmark, not a test)."""
    done = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "memmap_epoch.py"), "--mb", "4"],
                          cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-3000:]
    assert "Must show 3: loss falls: yes" in done.stdout and "peak RSS of the training process" in done.stdout
