"""benchmarks/attention.py, self-attention forward + backward against PyTorch: a tiny run
through benchmarks/run.py --only attention, and its page section and verdict."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_run_only_attention_prints_its_table() -> None:
    args = ["--smoke", "--rounds", "1", "--only", "attention", "--no-torch", "--no-write"]
    done = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "run.py"), *args], cwd=ROOT,
                          env={**os.environ, "COLUMNS": "200"}, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "attention: MultiHeadAttention(8, 2) self-attention forward + backward, float32" in done.stdout
    assert "tinynet: median" in done.stdout and "PyTorch not measured" in done.stdout


def test_the_page_section_and_the_verdict() -> None:
    sys.path.insert(0, str(ROOT / "benchmarks"))
    try:
        import attention
    finally:
        sys.path.remove(str(ROOT / "benchmarks"))
    result = attention.measure("smoke", rounds=2, torch=False)
    assert len(result["tinynet"]) == 2 and all(t > 0 for t in result["tinynet"])
    section = attention.markdown(result)
    assert "## Attention forward + backward" in section and "| tinynet |" in section
    assert attention.verdict(result) == "PyTorch not measured"
    result["PyTorch"] = [t / 2 for t in result["tinynet"]]
    assert "2.00 (limit 1.5): NOT met" in attention.verdict(result)
    result["PyTorch"] = [t * 2 for t in result["tinynet"]]
    assert "0.50 (limit 1.5): met" in attention.verdict(result)
