"""Callbacks: the order fit calls them in, stopping from a callback, validation logs."""

import pytest
from helpers.runs import iris_setup

import tinynet as tn


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


def test_callback_list_calls_only_overridden_hooks_and_ends_only_what_began():
    from tinynet.training.callbacks import CallbackList

    calls = []

    class Epochs(tn.Callback):
        def on_epoch_end(self, epoch, logs):
            calls.append(("epochs", epoch))

        def on_train_end(self, logs):
            calls.append(("epochs", "end"))

    class Batches(tn.Callback):
        def on_batch_end(self, batch, loss, size):
            calls.append(("batches", batch))

    class Broken(tn.Callback):
        def on_train_begin(self, run):
            raise RuntimeError("cannot start")

        def on_train_end(self, logs):
            calls.append(("broken", "end"))

    listeners = CallbackList([Epochs(), Batches(), Broken()])
    assert [h.__self__.__class__.__name__ for h in listeners._batch_end] == ["Batches"]
    assert [h.__self__.__class__.__name__ for h in listeners._epoch_end] == ["Epochs"]
    with pytest.raises(RuntimeError, match="cannot start"):
        listeners.train_begin(None)
    listeners.batch_end(1, 0.5, 4)
    listeners.epoch_end(1, {})
    listeners.train_end({})
    assert calls == [("batches", 1), ("epochs", 1), ("epochs", "end")]  # Broken never began
