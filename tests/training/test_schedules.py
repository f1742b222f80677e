"""Learning-rate schedules and EarlyStopping as fit callbacks; the examples (issue 4)."""

import importlib.util
import math
import os
import signal
from pathlib import Path

import numpy as np
import pytest

import tinynet as tn
from tinynet.layers.state import state_arrays

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def small_problem(seed=0, n=120):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, 3))
    y = (x @ np.array([1.0, -2.0, 0.5]) > 0).astype(int)
    model = tn.Sequential(tn.Dense(3, 8, rng=rng), tn.Tanh(), tn.Dense(8, 2, rng=rng))
    return x, y, model


class Spy(tn.Callback):
    """Records the optimizer's lr at each epoch start and the weights at each epoch end."""

    def on_train_begin(self, run):
        self.run, self.lrs, self.weights, self.logs = run, [], {}, {}

    def on_epoch_begin(self, epoch):
        self.lrs.append(self.run.optimizer.lr)

    def on_epoch_end(self, epoch, logs):
        self.weights[epoch] = [a.copy() for a in state_arrays(self.run.model)]
        self.logs[epoch] = dict(logs)


# --- schedules -----------------------------------------------------------------------------

FORMULAS = {  # PyTorch's documented closed forms, lr after e completed epochs
    "step": (lambda opt: tn.StepLR(opt, step_size=3, gamma=0.5), lambda e: 0.1 * 0.5 ** (e // 3)),
    "exponential": (lambda opt: tn.ExponentialLR(opt, gamma=0.9), lambda e: 0.1 * 0.9**e),
    "cosine": (lambda opt: tn.CosineAnnealingLR(opt, T_max=5, eta_min=0.01),
               lambda e: 0.01 + (0.1 - 0.01) * (1 + math.cos(math.pi * e / 5)) / 2),
}


@pytest.mark.parametrize("name", list(FORMULAS))
def test_schedule_follows_pytorch_formula_per_epoch_in_fit(name):
    make, formula = FORMULAS[name]
    x, y, model = small_problem()
    opt = tn.SGD(model.parameters(), lr=0.1)
    scheduler, spy = make(opt), Spy()
    tn.fit(model, tn.SoftmaxCrossEntropy(), opt, tn.DataLoader(x, y, batch_size=40), epochs=8,
           callbacks=[scheduler, spy], progress="none")
    np.testing.assert_allclose(spy.lrs, [formula(e) for e in range(8)], rtol=1e-12)
    assert scheduler.lrs == spy.lrs and scheduler.last_epoch == 8
    assert scheduler.get_last_lr() == pytest.approx(formula(8), rel=1e-12)
    # a second fit continues the schedule, as PyTorch's scheduler keeps its last_epoch
    tn.fit(model, tn.SoftmaxCrossEntropy(), opt, tn.DataLoader(x, y, batch_size=40), epochs=4,
           callbacks=[scheduler, spy], progress="none")
    np.testing.assert_allclose(spy.lrs, [formula(e) for e in range(8, 12)], rtol=1e-12)


def test_schedule_step_by_hand_and_errors():
    opt = tn.Adam([tn.Parameter(np.zeros(2))], lr=0.2)
    scheduler = tn.CosineAnnealingLR(opt, T_max=4)
    values = []
    for _ in range(8):
        scheduler.step()
        values.append(opt.lr)
    np.testing.assert_allclose(values, [0.2 * (1 + math.cos(math.pi * e / 4)) / 2 for e in range(1, 9)],
                               atol=1e-15)
    assert values[3] == pytest.approx(0.0) and values[7] == pytest.approx(0.2)  # rises again past T_max
    with pytest.raises(ValueError, match="StepLR step_size must be an integer >= 1, got 0"):
        tn.StepLR(opt, step_size=0)
    with pytest.raises(ValueError, match="ExponentialLR gamma must be a finite number > 0"):
        tn.ExponentialLR(opt, gamma=-1)
    with pytest.raises(TypeError, match="needs a tinynet optimizer"):
        tn.StepLR(object(), step_size=1)
    x, y, model = small_problem()
    with pytest.raises(ValueError, match="different optimizer"):
        tn.fit(model, tn.SoftmaxCrossEntropy(), tn.SGD(model.parameters(), lr=0.1),
               tn.DataLoader(x, y), epochs=1, callbacks=[scheduler], progress="none")


# --- EarlyStopping -------------------------------------------------------------------------

def test_stops_after_patience_and_restores_the_best_epoch(capsys):
    x, y, model = small_problem()
    xv, yv, _ = small_problem(seed=1, n=60)
    # a large learning rate overfits/oscillates quickly, so val_loss stops improving
    opt = tn.SGD(model.parameters(), lr=2.0, momentum=0.9)
    stopper, spy = tn.EarlyStopping(patience=3), Spy()
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

    class Score(Spy):  # adds a made-up log value that peaks at epoch 4
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
    stopper, spy = tn.EarlyStopping(monitor="val_accuracy", patience=50, verbose=False), Spy()
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


# --- the examples, in their small-epochs mode ----------------------------------------------

def load_example(name):
    spec = importlib.util.spec_from_file_location(name, EXAMPLES / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_breast_cancer_example_runs_and_learns(capsys):
    result = load_example("breast_cancer").train(epochs=15, progress="none")
    assert result["accuracy"] > 0.9 and 1 <= result["best_epoch"] <= 15
    out = capsys.readouterr().out
    assert "test accuracy" in out and "EarlyStopping:" in out


def test_diabetes_example_runs_and_learns(capsys):
    result = load_example("diabetes").train(epochs=30, progress="none")
    assert result["r2"] > 0.2 and result["rmse"] < 65
    assert "R^2" in capsys.readouterr().out
