"""ModelCheckpoint: the best (or every) epoch saved with the atomic tn.save, metadata included."""

import numpy as np
import pytest
from helpers.runs import small_problem

import tinynet as tn
from tinynet.saving.files import load_with_metadata


class Script(tn.Callback):
    def __init__(self, values):
        self.values = values

    def on_epoch_end(self, epoch, logs):
        logs["score"] = self.values[epoch - 1]


def train(checkpoint, values):
    x, y, model = small_problem()
    snapshots = []

    class Keep(tn.Callback):
        def on_epoch_end(self, epoch, logs):
            snapshots.append(model.forward(x, False).copy())

    tn.fit(model, tn.SoftmaxCrossEntropy(), tn.SGD(model.parameters(), lr=0.1), tn.DataLoader(x, y),
           len(values), progress="none", callbacks=[Script(values), Keep(), checkpoint])
    return x, snapshots


def test_save_best_only_keeps_the_best_epochs_model(tmp_path):
    path = tmp_path / "best.npz"
    checkpoint = tn.ModelCheckpoint(path, monitor="score", save_best_only=True, mode="max")
    x, snapshots = train(checkpoint, [0.2, 0.9, 0.5, 0.7])
    assert [epoch for epoch, _ in checkpoint.saved] == [1, 2]
    model, meta = load_with_metadata(path)
    np.testing.assert_array_equal(model.forward(x, False), snapshots[1])
    assert meta["epoch"] == 2 and meta["score"] == 0.9


def test_every_epoch_to_formatted_paths(tmp_path):
    checkpoint = tn.ModelCheckpoint(str(tmp_path / "ckpt-{epoch:02d}-{score:.1f}.npz"))
    x, snapshots = train(checkpoint, [0.2, 0.9, 0.5])
    names = sorted(p.name for p in tmp_path.iterdir())
    assert names == ["ckpt-01-0.2.npz", "ckpt-02-0.9.npz", "ckpt-03-0.5.npz"]
    np.testing.assert_array_equal(tn.load(tmp_path / "ckpt-03-0.5.npz").forward(x, False), snapshots[2])


def test_bad_arguments_and_a_missing_monitor(tmp_path):
    with pytest.raises(TypeError, match="ModelCheckpoint path must be a file path"):
        tn.ModelCheckpoint(None)
    with pytest.raises(TypeError, match="save_best_only must be True or False"):
        tn.ModelCheckpoint("m.npz", save_best_only="yes")
    with pytest.raises(ValueError, match="ModelCheckpoint monitors 'val_loss'.*validation_data"):
        train(tn.ModelCheckpoint(tmp_path / "m.npz", save_best_only=True), [1.0])
    with pytest.raises(ValueError, match="a field the epoch logs cannot fill"):
        train(tn.ModelCheckpoint(str(tmp_path / "{nope}.npz")), [1.0])
