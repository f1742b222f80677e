"""CSVLogger: a row per epoch, flushed as it goes, appended on request, read back exactly."""

import csv

import pytest
from helpers.runs import small_problem

import tinynet as tn


def train(path, epochs, **kwargs):
    x, y, model = small_problem()
    logger = tn.CSVLogger(path, **kwargs)
    history = tn.fit(model, tn.SoftmaxCrossEntropy(), tn.SGD(model.parameters(), lr=0.1),
                     tn.DataLoader(x, y, batch_size=40), epochs, progress="none", callbacks=[logger],
                     validation_data=(x[:20], y[:20]))
    return history


def test_rows_hold_every_log_exactly_and_append_continues(tmp_path):
    path = tmp_path / "log.csv"
    history = train(path, 3)
    with open(path, newline="") as f:
        rows = list(csv.DictReader(f))
    assert list(rows[0]) == ["epoch", "loss", "accuracy", "val_loss", "val_accuracy"]
    assert [int(r["epoch"]) for r in rows] == [1, 2, 3]
    assert [float(r["val_loss"]) for r in rows] == history["val_loss"]  # repr: read back bit for bit
    train(path, 2, append=True)
    with open(path, newline="") as f:
        assert [r[0] for r in csv.reader(f)] == ["epoch", "1", "2", "3", "1", "2"]
    train(path, 1)  # append=False starts afresh
    assert len(path.read_text().splitlines()) == 2


def test_an_error_mid_training_keeps_the_finished_epochs(tmp_path):
    path = tmp_path / "log.csv"

    class Boom(tn.Callback):
        def on_epoch_end(self, epoch, logs):
            if epoch == 2:
                raise RuntimeError("boom")

    x, y, model = small_problem()
    with pytest.raises(RuntimeError):
        tn.fit(model, tn.SoftmaxCrossEntropy(), tn.SGD(model.parameters(), lr=0.1), tn.DataLoader(x, y), 5,
               progress="none", callbacks=[tn.CSVLogger(path), Boom()])
    assert [line.split(",")[0] for line in path.read_text().splitlines()] == ["epoch", "1", "2"]


def test_bad_arguments():
    with pytest.raises(TypeError, match="CSVLogger path must be a file path"):
        tn.CSVLogger(3)
    with pytest.raises(ValueError, match="separator must be one character"):
        tn.CSVLogger("log.csv", separator=";;")
