"""benchmarks/recurrent.py, the LSTM forward + backward against PyTorch: a tiny run through
benchmarks/run.py --only lstm, and its page section."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_run_only_lstm_prints_its_table() -> None:
    args = ["--smoke", "--rounds", "1", "--only", "lstm", "--no-torch", "--no-write"]
    done = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "run.py"), *args], cwd=ROOT,
                          env={**os.environ, "COLUMNS": "200"}, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "lstm: LSTM(5, 8) forward + backward, float32, batch 4, 6 steps" in done.stdout
    assert "tinynet: median" in done.stdout and "PyTorch not measured" in done.stdout


def test_pytorch_runs_in_a_child_process_round_by_round() -> None:
    if importlib.util.find_spec("torch") is None:
        return
    result = load_recurrent().measure("smoke", rounds=2, torch=True)
    assert len(result["tinynet"]) == len(result["PyTorch"]) == 2
    assert all(t > 0 for t in result["PyTorch"])


def load_recurrent():  # type: ignore[no-untyped-def]
    sys.path.insert(0, str(ROOT / "benchmarks"))
    try:
        import recurrent
    finally:
        sys.path.remove(str(ROOT / "benchmarks"))
    return recurrent


def test_the_page_section_has_a_row_per_contender() -> None:
    recurrent = load_recurrent()
    result = recurrent.measure("smoke", rounds=2, torch=False)
    assert len(result["tinynet"]) == 2 and all(t > 0 for t in result["tinynet"])
    section = recurrent.markdown(result)
    assert "## LSTM forward + backward" in section and "| tinynet |" in section
    assert recurrent.verdict(result) == "PyTorch not measured"
    result["PyTorch"] = [t / 2 for t in result["tinynet"]]
    assert "2.00 (limit 1.5): NOT met" in recurrent.verdict(result)
