"""EarlyStopping and RestoreOnInterrupt: when training stops and which weights (buffers
included) are put back, whatever ended training."""

import os
import signal

import numpy as np
import pytest
from helpers.runs import EpochSpy, small_problem

import tinynet as tn
from tinynet.layers.state import state_arrays


def test_stops_after_patience_and_restores_the_best_epoch(capsys):
    x, y, model = small_problem()
    xv, yv, _ = small_problem(seed=1, n=60)
    # a large learning rate overfits/oscillates quickly, so val_loss stops improving
    opt = tn.SGD(model.parameters(), lr=2.0, momentum=0.9)
    stopper, spy = tn.EarlyStopping(patience=3), EpochSpy()
    history = tn.fit(model, tn.SoftmaxCrossEntropy(), opt, tn.DataLoader(x, y, batch_size=8), epochs=200,
                     validation_data=(xv, yv), callbacks=[spy, stopper], progress="none")
    val = history["val_loss"]
    best = int(np.argmin(val)) + 1
    assert stopper.best_epoch == best == stopper.restored_epoch and stopper.best == min(val)
    assert stopper.stopped_epoch == len(history) == best + 3 < 200
    for now, saved in zip(state_arrays(model), spy.weights[best]):
        np.testing.assert_array_equal(now, saved)
    out = capsys.readouterr().out
    assert f"restored the weights of epoch {best}" in out and f"stopped after epoch {best + 3}" in out
    assert stopper.message in out


def test_restore_includes_batchnorm_running_statistics():
    x, y, _ = small_problem()
    model = tn.Sequential(tn.Dense(3, 8, rng=0), tn.BatchNorm(8), tn.ReLU(), tn.Dense(8, 2, rng=1))

    class Score(EpochSpy):  # adds a made-up log value that peaks at epoch 4
        def on_epoch_end(self, epoch, logs):
            logs["score"] = -float((epoch - 4) ** 2)
            super().on_epoch_end(epoch, logs)

    spy = Score()
    stopper = tn.EarlyStopping(monitor="score", mode="max", patience=100, verbose=False)
    loader = tn.DataLoader(x, y, batch_size=16, shuffle=True, rng=0)
    history = tn.fit(model, tn.SoftmaxCrossEntropy(), tn.Adam(model.parameters(), lr=0.05), loader,
                     epochs=10, callbacks=[spy, stopper], progress="none")
    assert stopper.stopped_epoch is None and len(history) == 10 and stopper.restored_epoch == 4
    state = state_arrays(model)
    assert len(state) == 8 and state[-1] is model[1].running_var  # 6 parameters, then 2 buffers
    for now, saved, last in zip(state, spy.weights[4], spy.weights[10]):
        np.testing.assert_array_equal(now, saved)
        assert not np.array_equal(now, last)
    assert "restored the weights of epoch 4 (score -0)" in stopper.message


class InterruptAt(tn.Callback):
    def __init__(self, epoch):
        self.epoch = epoch

    def on_epoch_begin(self, epoch):
        self.current = epoch

    def on_batch_end(self, batch, loss, size):
        if self.current == self.epoch and batch == 2:
            os.kill(os.getpid(), signal.SIGINT)  # fit turns Ctrl-C into a clean stop


class FailAt(tn.Callback):
    def on_epoch_end(self, epoch, logs):
        if epoch == 6:
            raise RuntimeError("boom")


@pytest.mark.parametrize("ending", ["interrupt", "error"])
def test_restores_best_weights_whatever_ended_training(ending):
    x, y, model = small_problem()
    xv, yv, _ = small_problem(seed=1, n=60)
    stopper, spy = tn.EarlyStopping(monitor="val_accuracy", patience=50, verbose=False), EpochSpy()
    assert stopper.mode == "max"  # auto mode: accuracy is maximized
    stop = InterruptAt(epoch=6) if ending == "interrupt" else FailAt()
    args = (model, tn.SoftmaxCrossEntropy(), tn.SGD(model.parameters(), lr=0.5),
            tn.DataLoader(x, y, batch_size=8))
    kwargs = dict(epochs=50, validation_data=(xv, yv), callbacks=[spy, stopper, stop], progress="none")
    if ending == "interrupt":
        history = tn.fit(*args, **kwargs)
        assert history.interrupted and len(history) == 5
    else:
        with pytest.raises(RuntimeError, match="boom"):
            tn.fit(*args, **kwargs)
    accuracies = [spy.logs[e]["val_accuracy"] for e in sorted(spy.logs)]
    best = int(np.argmax(accuracies)) + 1  # first epoch with the highest accuracy
    assert stopper.restored_epoch == best and f"epoch {best}" in stopper.message
    for now, saved in zip(state_arrays(model), spy.weights[best]):
        np.testing.assert_array_equal(now, saved)


def test_min_delta_mode_and_missing_monitor():
    x, y, model = small_problem()
    stopper = tn.EarlyStopping(monitor="loss", min_delta=10.0, patience=2, verbose=False)
    history = tn.fit(model, tn.SoftmaxCrossEntropy(), tn.SGD(model.parameters(), lr=0.1),
                     tn.DataLoader(x, y), epochs=20, callbacks=[stopper], progress="none")
    assert len(history) == 3 and stopper.best_epoch == 1  # nothing improves by 10
    assert tn.EarlyStopping("val_loss").mode == "min" and tn.EarlyStopping("accuracy").mode == "max"
    assert tn.EarlyStopping("accuracy", mode="min").mode == "min"
    with pytest.raises(ValueError, match=r"monitors 'val_loss', but the epoch logs only have "
                                         r"\['accuracy', 'loss'\] \(pass validation_data="):
        tn.fit(model, tn.SoftmaxCrossEntropy(), tn.SGD(model.parameters(), lr=0.1), tn.DataLoader(x, y),
               epochs=2, callbacks=[tn.EarlyStopping(verbose=False)], progress="none")
    with pytest.raises(ValueError, match="mode must be one of"):
        tn.EarlyStopping(mode="maximum")
    with pytest.raises(ValueError, match="patience must be an integer >= 0"):
        tn.EarlyStopping(patience=-1)


def test_restore_on_interrupt_rolls_back_a_partial_epoch():
    rng = np.random.default_rng(0)
    x, y = rng.standard_normal((40, 3)), rng.integers(0, 2, 40)
    model = tn.Sequential(tn.Dense(3, 4, rng=1), tn.Tanh(), tn.Dense(4, 2, rng=2))
    snapshots = {}

    class Interrupt(tn.Callback):
        def on_epoch_end(self, epoch, logs):
            snapshots[epoch] = [p.data.copy() for p in model.parameters()]

        def on_batch_end(self, batch, loss, size):
            if len(snapshots) == 2 and batch == 3:
                os.kill(os.getpid(), signal.SIGINT)

    restore = tn.RestoreOnInterrupt()
    history = tn.fit(model, tn.SoftmaxCrossEntropy(), tn.SGD(model.parameters(), lr=0.5),
                     tn.DataLoader(x, y, batch_size=5), epochs=10, progress="none",
                     callbacks=[Interrupt(), restore])
    assert history.interrupted and len(history) == 2 and restore.restored_epoch == 2
    for now, kept in zip(model.parameters(), snapshots[2]):
        np.testing.assert_array_equal(now.data, kept)
