"""Thousands of damaged copies of saved files (a model, an estimator, a `tinynet train` model): each
truncation or single-bit flip either loads identically or raises ValueError, never anything else."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from helpers.models import model_with_buffers

import tinynet as tn

FLIPS = 700
CUTS = 100


def _model_file(folder: Path) -> Path:
    path = folder / "model.npz"
    model = tn.Sequential(model_with_buffers(), tn.LeakyReLU(0.01))
    tn.save(model, path, metadata={"note": "fuzz"})
    return path


def _estimator_file(folder: Path) -> Path:
    pytest.importorskip("sklearn")
    from tinynet.sklearn import TinyNetClassifier

    x = np.random.default_rng(0).standard_normal((30, 3))
    estimator = TinyNetClassifier(hidden_layer_sizes=(4,), epochs=2, random_state=0)
    path = folder / "estimator.npz"
    tn.save(estimator.fit(x, np.array(["a", "b", "c"])[np.arange(30) % 3]), path)
    return path


def _cli_file(folder: Path) -> Path:
    pytest.importorskip("sklearn")
    from tinynet import cli

    path = folder / "cli.npz"
    assert cli.main(["train", "--epochs", "2", "--progress", "none", "--save", str(path)]) == 0
    return path


def _load_model(path: Path) -> Any:
    from tinynet.saving.files import load_with_metadata

    return load_with_metadata(path, custom_layers={"Counted": type(model_with_buffers()[2].block[0])})


def _load_cli(path: Path) -> Any:
    from tinynet.cli.saved_model import load_saved_model

    saved = load_saved_model(str(path))
    return saved.model, saved.meta, saved.prep


def _fingerprint(loaded: Any) -> Any:
    """What must come back identically: every array's bytes, the architecture, the metadata."""
    if isinstance(loaded, tuple) and len(loaded) == 2:  # (model, metadata)
        model, metadata = loaded
        return repr(model), [(n, p.data.tobytes()) for n, p in model.named_parameters()], metadata
    if isinstance(loaded, tuple):  # the command's (model, metadata, preprocessing)
        model, meta, prep = loaded
        return repr(model), [p.data.tobytes() for p in model.parameters()], meta, prep
    return (repr(loaded.model_), [p.data.tobytes() for p in loaded.model_.parameters()],
            loaded.classes_.tolist(), loaded.get_params(), loaded.loss_curve_)


KINDS: dict[str, tuple[Callable[[Path], Path], Callable[[Path], Any]]] = {
    "model": (_model_file, _load_model),
    "estimator": (_estimator_file, lambda p: tn.load(p)),
    "cli model": (_cli_file, _load_cli),
}


@pytest.mark.parametrize("kind", list(KINDS))
def test_damaged_files_load_identically_or_raise_value_error(tmp_path, kind):
    make, load = KINDS[kind]
    original = make(tmp_path)
    data = original.read_bytes()
    expected = _fingerprint(load(original))
    rng = np.random.default_rng(sum(map(ord, kind)))
    damaged = tmp_path / "damaged.npz"
    outcomes = {"loads": 0, "ValueError": 0}
    copies = [data[:int(n)] for n in rng.integers(0, len(data), CUTS)]
    for position, bit in zip(rng.integers(0, len(data), FLIPS), rng.integers(0, 8, FLIPS)):
        flipped = bytearray(data)
        flipped[position] ^= 1 << int(bit)
        copies.append(bytes(flipped))
    for copy in copies:
        damaged.write_bytes(copy)
        try:
            loaded = load(damaged)
        except ValueError:
            outcomes["ValueError"] += 1
            continue
        outcomes["loads"] += 1
        assert _fingerprint(loaded) == expected
    assert outcomes["ValueError"] > len(copies) // 2, outcomes
