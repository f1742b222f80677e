"""benchmarks/cnn.py (the LeNet workload): its numpy im2col loop computes what tinynet computes,
and a smoke run prints the table and the Must-show verdicts (PyTorch left out: the suite's
PyTorch run lives in test_benchmarks_smoke.py)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np

import tinynet as tn

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "benchmarks"))

import cnn  # noqa: E402


def test_the_numpy_loops_convolution_and_pooling_match_tinynets():
    rng = np.random.default_rng(0)
    layer = tn.Conv2D(3, 4, 5, padding=2, rng=1)
    x = rng.standard_normal((2, 3, 9, 8))
    y, cols = cnn._conv(x, layer.weight.data, layer.bias.data, 2)
    np.testing.assert_allclose(y, layer.forward(x), rtol=1e-12, atol=1e-12)
    g = rng.standard_normal(y.shape)
    layer.zero_grad()
    dx = layer.backward(g)
    mine = cnn._conv_backward(g, cols, layer.weight.data, x.shape, 2)
    for theirs, want in zip(mine, (dx, layer.weight.grad, layer.bias.grad)):
        np.testing.assert_allclose(theirs, want, rtol=1e-10, atol=1e-12)
    pool = tn.MaxPool2D(2)
    images = rng.standard_normal((2, 3, 6, 8))
    pooled, which = cnn._pool(images)
    np.testing.assert_array_equal(pooled, pool.forward(images))
    g = rng.standard_normal(pooled.shape)
    np.testing.assert_array_equal(cnn._pool_backward(g, which), pool.backward(g))


def test_smoke_run_prints_the_table_and_the_verdicts():
    env = {**os.environ, "COLUMNS": "200"}
    done = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "cnn.py"), "--smoke", "--no-torch"],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    for words in ("## lenet", "| tinynet |", "| numpy im2col loop |", "n/a (PyTorch left out)",
                  "peak memory <= data + 3x parameters + 100 MB"):
        assert words in done.stdout, done.stdout
    assert "| met |" in done.stdout  # the memory bound holds even at the smoke size
