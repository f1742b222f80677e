"""fit, evaluate, History, callbacks, progress output, divergence and interruption."""

import io
import os
import signal

import numpy as np
import pytest
from rich.console import Console

import tinynet as tn
from tinynet.data.datasets import article_iris
from tinynet.display import console as console_module


def iris_setup(seed=42, batch_size=32):
    data = article_iris()
    rng = np.random.default_rng(seed)
    model = tn.Sequential(tn.Dense(4, 10, rng=rng), tn.LeakyReLU(0.01), tn.Dense(10, 3, rng=rng))
    loader = tn.DataLoader(data.x_train, data.y_train, batch_size=batch_size, shuffle=True, rng=seed)
    return data, model, loader


def test_fit_learns_and_continues_from_current_weights():
    data, model, loader = iris_setup()
    loss = tn.SoftmaxCrossEntropy()
    opt = tn.SGD(model.parameters(), lr=0.2, momentum=0.9)
    first = tn.fit(model, loss, opt, loader, epochs=60, progress="none")
    second = tn.fit(model, loss, opt, loader, epochs=60, progress="none")
    assert second.loss[0] < first.loss[0]
    assert second.loss[-1] < 0.3
    assert len(first.batch_loss) == 60 * len(loader)
    assert tn.evaluate(model, loss, data.x_test, data.y_test)["accuracy"] >= 0.9


def test_epoch_loss_is_sample_weighted_mean_of_batch_losses():
    _, model, _ = iris_setup()
    data = article_iris()
    loader = tn.DataLoader(data.x_train, data.y_train, batch_size=30, last_batch="keep")  # 30,30,30,10
    history = tn.fit(model, tn.SoftmaxCrossEntropy(), tn.SGD(model.parameters(), lr=0.01), loader,
                     epochs=1, progress="none")
    b = history.batch_loss
    assert history.loss[0] == pytest.approx((30 * (b[0] + b[1] + b[2]) + 10 * b[3]) / 100, rel=1e-12)


def test_same_seed_same_history_bit_for_bit():
    runs = []
    for _ in range(2):
        _, model, loader = iris_setup(seed=3)
        h = tn.fit(model, tn.SoftmaxCrossEntropy(), tn.SGD(model.parameters(), lr=0.05), loader,
                   epochs=5, progress="none")
        runs.append((h.batch_loss, [p.data.tobytes() for p in model.parameters()]))
    assert runs[0] == runs[1]


def test_validation_data_and_callback_order():
    data, model, loader = iris_setup()
    events = []

    class Recorder(tn.Callback):
        def on_train_begin(self, run):
            events.append(("begin", run.epochs, run.steps_per_epoch))

        def on_epoch_begin(self, epoch):
            events.append(("epoch", epoch))

        def on_epoch_end(self, epoch, logs):
            events.append(("end", epoch, sorted(logs)))
            if epoch == 2:
                self.run_ref.stop_training = True

        def on_train_end(self, logs):
            events.append(("done",))

    rec = Recorder()
    rec.on_train_begin = (lambda f: (lambda run: (setattr(rec, "run_ref", run), f(run))))(rec.on_train_begin)
    history = tn.fit(model, tn.SoftmaxCrossEntropy(), tn.SGD(model.parameters(), lr=0.1), loader,
                     epochs=10, progress="none", callbacks=[rec],
                     validation_data=(data.x_test, data.y_test))
    assert events[0] == ("begin", 10, 4) and events[-1] == ("done",)
    assert ("end", 1, ["accuracy", "loss", "val_accuracy", "val_loss"]) in events
    assert len(history) == 2 and len(history["val_loss"]) == 2


def test_divergence_stops_before_the_bad_step():
    data, model, loader = iris_setup()
    with pytest.raises(tn.TrainingDiverged) as caught:
        tn.fit(model, tn.SoftmaxCrossEntropy(), tn.SGD(model.parameters(), lr=1e6), loader,
               epochs=50, progress="none")
    err = caught.value
    assert isinstance(err, RuntimeError) and "smaller learning rate" in str(err)
    assert err.epoch >= 1 and err.batch >= 1
    assert all(np.isfinite(p.data).all() for p in model.parameters())
    assert len(err.history.loss) == err.epoch - 1


def test_ctrl_c_stops_cleanly_between_batches():
    data, model, loader = iris_setup(batch_size=1)

    class SendSigint(tn.Callback):
        def on_batch_end(self, batch, loss, size):
            if batch == 5:
                os.kill(os.getpid(), signal.SIGINT)

    history = tn.fit(model, tn.SoftmaxCrossEntropy(), tn.SGD(model.parameters(), lr=0.01), loader,
                     epochs=3, progress="none", callbacks=[SendSigint()])
    assert history.interrupted and len(history.loss) == 0 and len(history.batch_loss) == 5
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
    with pytest.raises(KeyboardInterrupt):
        tn.fit(model, tn.SoftmaxCrossEntropy(), tn.SGD(model.parameters(), lr=0.01), loader,
               epochs=3, progress="none", callbacks=[SendSigint()], on_interrupt="raise")


def run_with_console(mode, epochs=120, terminal=False):
    buffer = io.StringIO()
    console = Console(file=buffer, force_terminal=terminal, width=120)
    old = console_module._console[:]
    console_module._console[:] = [console]
    try:
        _, model, loader = iris_setup()
        tn.fit(model, tn.SoftmaxCrossEntropy(), tn.SGD(model.parameters(), lr=0.05), loader,
               epochs=epochs, progress=mode)
    finally:
        console_module._console[:] = old
    return buffer.getvalue()


def test_plain_lines_outside_a_terminal():
    out = run_with_console("auto")
    lines = [line for line in out.splitlines() if line.startswith("epoch ")]
    assert "\r" not in out and "\x1b" not in out
    assert 40 <= len(lines) <= 62  # every k epochs for a long run, first and last included
    assert lines[0].startswith("epoch   1/120  loss ") and "accuracy" in lines[0]
    assert lines[-1].startswith("epoch 120/120")
    assert "training finished" in out
    every = run_with_console("epoch", epochs=7)
    assert len([line for line in every.splitlines() if line.startswith("epoch ")]) == 7


def test_bar_in_a_terminal_and_none_prints_nothing():
    out = run_with_console("bar", epochs=20, terminal=True)
    assert "epoch" in out and "20/20" in out and "training finished" in out
    assert "loss" in out
    assert run_with_console("none") == ""


def test_display_is_closed_when_a_callback_fails_to_start():
    buffer = io.StringIO()
    old = console_module._console[:]
    console_module._console[:] = [Console(file=buffer, force_terminal=True, width=100)]
    try:
        _, model, loader = iris_setup()
        with pytest.raises(ValueError, match="validation_data"):
            tn.fit(model, tn.SoftmaxCrossEntropy(), tn.SGD(model.parameters(), lr=0.1), loader,
                   epochs=3, progress="bar", callbacks=[tn.EarlyStopping()])
        assert not console_module._console[0]._live_stack  # no live display left running
        assert "\x1b[?25l" not in buffer.getvalue()  # the cursor was never hidden
    finally:
        console_module._console[:] = old


def test_float64_data_is_cast_once_for_a_float32_model(monkeypatch):
    data = article_iris()
    model = tn.Sequential(tn.Dense(4, 8, rng=0, dtype=np.float32), tn.ReLU(),
                          tn.Dense(8, 3, rng=1, dtype=np.float32))
    loader = tn.DataLoader(data.x_train, data.y_train, batch_size=10)
    assert loader.x.dtype == np.float64
    slow_paths = []
    original = tn.Dense._checked_input
    monkeypatch.setattr(tn.Dense, "_checked_input",
                        lambda self, x: slow_paths.append(x.shape) or original(self, x))
    history = tn.fit(model, tn.SoftmaxCrossEntropy(), tn.SGD(model.parameters(), lr=0.1), loader,
                     epochs=3, progress="none", validation_data=(data.x_test, data.y_test))
    assert slow_paths == [] and len(history) == 3
    assert loader.x.dtype == np.float64  # the user's loader is untouched
    assert all(p.data.dtype == np.float32 for p in model.parameters())
