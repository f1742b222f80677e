"""fit and evaluate: learning, sample-weighted epoch losses, reproducibility, divergence,
Ctrl-C, dtypes, and checks made once before training."""

import os
import signal

import numpy as np
import pytest
from helpers.runs import iris_setup

import tinynet as tn
from tinynet.data.datasets import article_iris


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
    # the forward of the refused step kept values no backward took: fit dropped them
    assert all(not getattr(layer, "_saved", []) for layer in model)


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


def test_float32_all_the_way():
    rng = np.random.default_rng(0)
    model = tn.Sequential(tn.Dense(4, 8, rng=1, dtype=np.float32), tn.LeakyReLU(),
                          tn.Dense(8, 3, rng=2, dtype=np.float32), )
    x, y = rng.standard_normal((64, 4)).astype(np.float32), rng.integers(0, 3, 64)
    loss = tn.SoftmaxCrossEntropy()
    out = model.forward(x)
    assert out.dtype == np.float32
    loss.forward(out, y)
    grad = loss.backward()
    assert grad.dtype == np.float32
    assert model.backward(grad).dtype == np.float32
    opt = tn.SGD(model.parameters(), lr=0.1, momentum=0.9, weight_decay=1e-3)
    opt.step()
    for p in model.parameters():
        assert p.data.dtype == p.grad.dtype == np.float32
    assert all(s["momentum_buffer"].dtype == np.float32 for s in opt.state)
    history = tn.fit(model, loss, opt, tn.DataLoader(x, tn.one_hot(y, 3, np.float32), batch_size=16),
                     epochs=2, progress="none")
    assert len(history.loss) == 2
    assert all(p.data.dtype == np.float32 for p in model.parameters())
    # every array a layer or the loss keeps between forward and backward is float32 too
    loss.forward(model.forward(x), y)
    kept = [v for layer in model for entry in layer._saved for v in entry if isinstance(v, np.ndarray)]
    kept += [v for v in loss._state if isinstance(v, np.ndarray)]
    kept += [p.grad for p in model.parameters()]
    assert len(kept) >= 8 and {a.dtype for a in kept if a.dtype.kind == "f"} == {np.dtype(np.float32)}
    model.clear_saved()


def test_dense_wrong_features_inside_a_model_and_in_fit():
    model = tn.Sequential(tn.Dense(4, 10), tn.LeakyReLU(), tn.Dense(10, 3))
    with pytest.raises(ValueError, match=r"\(batch, 4\).*\(8, 6\)"):
        model.forward(np.ones((8, 6)))
    loader = tn.DataLoader(np.ones((8, 6)), np.zeros(8, dtype=int))
    with pytest.raises(ValueError, match=r"\(1, 6\)"):
        tn.fit(model, tn.SoftmaxCrossEntropy(), tn.SGD(model.parameters(), lr=0.1), loader, 1,
               progress="none")


def test_labels_out_of_range_caught_once_before_training():
    model = tn.Sequential(tn.Dense(2, 3))
    loader = tn.DataLoader(np.ones((4, 2)), np.array([0, 1, 2, 5]))
    before = model[0].weight.data.copy()
    with pytest.raises(ValueError, match=r"y labels must be in \[0, 3\)"):
        tn.fit(model, tn.SoftmaxCrossEntropy(), tn.SGD(model.parameters(), lr=0.1), loader, 1,
               progress="none")
    np.testing.assert_array_equal(model[0].weight.data, before)


def test_fit_and_evaluate_a_two_input_graph_from_a_dict_of_arrays():
    rng = np.random.default_rng(0)
    a, b = rng.standard_normal((120, 4)), rng.standard_normal((120, 3))
    y = (a[:, 0] - b[:, 1] > 0).astype(int)
    graph = tn.Graph(inputs=["a", "b"], nodes={
        "ha": (tn.Dense(4, 8, rng=1), "a"), "hb": (tn.Dense(3, 8, rng=2), "b"),
        "h": (tn.Add(), ["ha", "hb"]), "r": (tn.ReLU(), "h"), "o": (tn.Dense(8, 2, rng=3), "r")}, output="o")
    loader = tn.DataLoader({"a": a, "b": b}, y, batch_size=16, shuffle=True, rng=0)
    history = tn.fit(graph, tn.SoftmaxCrossEntropy(), tn.Adam(graph.parameters(), lr=0.02), loader, 40,
                     progress="none", validation_data=({"a": a, "b": b}, y))
    assert history.loss[-1] < 0.5 * history.loss[0]
    by_name = tn.evaluate(graph, tn.SoftmaxCrossEntropy(), {"a": a, "b": b}, y)
    assert by_name["accuracy"] > 0.95
    with pytest.raises(ValueError, match="validation_data x must hold the same inputs"):
        tn.fit(graph, tn.SoftmaxCrossEntropy(), tn.SGD(graph.parameters(), lr=0.1), loader, 1,
               progress="none", validation_data=(a, y))


def test_fit_on_sequences_averages_loss_and_accuracy_over_positions():
    rng = np.random.default_rng(1)
    x = rng.standard_normal((96, 7, 3))
    y = (x[..., 0] > 0).astype(int)  # a label per position: (B, T)
    model = tn.Sequential(tn.Dense(3, 8, rng=4), tn.Tanh(), tn.Dense(8, 2, rng=5))
    history = tn.fit(model, tn.SoftmaxCrossEntropy(), tn.Adam(model.parameters(), lr=0.05),
                     tn.DataLoader(x, y, batch_size=32), 30, progress="none")
    result = tn.evaluate(model, tn.SoftmaxCrossEntropy(), x, y)
    predicted = model(x).argmax(-1)
    assert result["accuracy"] == pytest.approx((predicted == y).mean(), rel=1e-12)
    assert result["accuracy"] > 0.95 and history.loss[-1] < history.loss[0]
    with pytest.raises(ValueError, match=r"labels \(B, 7\) or one-hot \(B, 7, 2\)"):
        tn.fit(model, tn.SoftmaxCrossEntropy(), tn.SGD(model.parameters(), lr=0.1),
               tn.DataLoader(x, y[:, :5], batch_size=32), 1, progress="none")


def test_integer_inputs_reach_a_first_layer_that_takes_integers():
    class Lookup(tn.Layer):
        """A toy embedding: row ``ids`` of a table (B, T) -> (B, T, D)."""

        integer_input = True

        def __init__(self, vocabulary, dim):
            self.weight = tn.Parameter(np.random.default_rng(0).standard_normal((vocabulary, dim)), "weight")
            self.seen_dtypes = set()

        def forward(self, ids, training=True):
            self.seen_dtypes.add(ids.dtype.kind)
            if training:
                self.save_for_backward(ids)
            return self.weight.data[ids]

        def backward(self, grad_y, need_input_grad=True):
            (ids,) = self.saved_for_backward()
            grad = np.zeros_like(self.weight.data)
            np.add.at(grad, ids, grad_y)
            self.weight.add_grad(grad)
            return None

    lookup = Lookup(10, 4)
    model = tn.Sequential(lookup, tn.Dense(4, 2, rng=1))
    ids = np.random.default_rng(2).integers(0, 10, (40, 5))
    y = (ids % 2).astype(int)
    tn.fit(model, tn.SoftmaxCrossEntropy(), tn.Adam(model.parameters(), lr=0.1),
           tn.DataLoader(ids, y, batch_size=8), 20, progress="none")
    assert lookup.seen_dtypes == {"i"}  # never cast to float
    assert tn.evaluate(model, tn.SoftmaxCrossEntropy(), ids, y)["accuracy"] == 1.0
    dense_first = tn.Sequential(tn.Dense(5, 2, rng=3))  # a float layer first: fit casts once
    tn.fit(dense_first, tn.SoftmaxCrossEntropy(), tn.SGD(dense_first.parameters(), lr=0.01),
           tn.DataLoader(ids, y[:, 0], batch_size=8), 1, progress="none")


def test_fit_refuses_a_model_with_several_outputs():
    graph = tn.Graph(inputs="x", nodes={"a": (tn.Dense(2, 2), "x"), "b": (tn.Dense(2, 1), "x")},
                     output=["a", "b"])
    with pytest.raises(TypeError, match="one array to train or evaluate with a loss, got tuple"):
        tn.fit(graph, tn.MeanSquaredError(), tn.SGD(graph.parameters(), lr=0.1),
               tn.DataLoader(np.ones((4, 2)), np.ones((4, 2))), 1, progress="none")
