"""CSV files and command runs for the tests of the `tinynet` command."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

import numpy as np

from tinynet import cli

NAMES = np.array(["cat", "dog", "bird"])


def write_labelled_csv(path: Path, n: int = 240, seed: int = 0, with_labels: bool = True,
                       order: tuple[int, ...] = (0, 1, 2)) -> np.ndarray:
    """Three well separated classes with string labels, feature columns a, b, c written in
    ``order``; returns the labels."""
    rng = np.random.default_rng(seed)
    codes = rng.integers(0, 3, n)
    x = rng.normal(size=(n, 3)) + 4 * np.eye(3)[codes]
    with open(path, "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["abc"[j] for j in order] + (["label"] if with_labels else []))
        for row, code in zip(x, codes):
            writer.writerow([f"{row[j]:.6f}" for j in order] + ([NAMES[code]] if with_labels else []))
    return NAMES[codes]


def write_numeric_csv(path: Path, n: int = 80) -> None:
    """Two numeric features a, b and a 0/1 label column."""
    rng = np.random.default_rng(0)
    rows = ["a,b,label"] + [f"{a:.4f},{b:.4f},{int(a > b)}" for a, b in rng.normal(size=(n, 2))]
    path.write_text("\n".join(rows) + "\n")


def run_cli(argv: list[Any], capsys: Any) -> tuple[int, str, str]:
    """``tinynet ARGV`` in this process: ``(status, stdout, stderr)``."""
    status = cli.main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return status, out, err
