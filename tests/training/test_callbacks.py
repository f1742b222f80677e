"""Callbacks: the order fit calls them in, stopping from a callback, validation logs."""

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
