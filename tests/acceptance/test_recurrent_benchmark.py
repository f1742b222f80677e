"""benchmarks/recurrent.py, the LSTM forward + backward against PyTorch: a tiny run through
benchmarks/run.py --only lstm, and its page section."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_run_only_lstm_prints_both_contenders_and_the_verdict() -> None:
    args = ["--smoke", "--rounds", "1", "--only", "lstm", "--no-write"]
    done = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "run.py"), *args], cwd=ROOT,
                          env={**os.environ, "COLUMNS": "200"}, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "lstm: LSTM(5, 8) forward + backward, float32, batch 4, 6 steps" in done.stdout
    assert "tinynet: median" in done.stdout
    if importlib.util.find_spec("torch") is not None:
        assert "PyTorch: median" in done.stdout and "tinynet ÷ PyTorch =" in done.stdout


def test_the_page_section_has_a_row_per_contender() -> None:
    sys.path.insert(0, str(ROOT / "benchmarks"))
    try:
        import recurrent
    finally:
        sys.path.remove(str(ROOT / "benchmarks"))
    result = recurrent.measure("smoke", rounds=2, torch=False)
    assert len(result["tinynet"]) == 2 and all(t > 0 for t in result["tinynet"])
    section = recurrent.markdown(result)
    assert "## LSTM forward + backward" in section and "| tinynet |" in section
    assert recurrent.verdict(result) == "PyTorch not measured"
    result["PyTorch"] = [t / 2 for t in result["tinynet"]]
    assert "2.00 (limit 1.5): NOT met" in recurrent.verdict(result)
