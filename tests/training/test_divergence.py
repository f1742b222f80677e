"""TrainingDiverged never leaves NaN or inf parameters behind (tinynet/training/divergence.py)."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.datasets import load_iris

import tinynet as tn

X, Y = load_iris(return_X_y=True)


def model() -> tn.Sequential:
    return tn.Sequential(tn.Dense(4, 8, rng=0), tn.ReLU(), tn.Dense(8, 3, rng=1))


@pytest.mark.parametrize("make_optimizer", [lambda ps: tn.Adam(ps, lr=1e308),
                                            lambda ps: tn.SGD(ps, lr=1e308),
                                            lambda ps: tn.SGD(ps, lr=1e308, fused=False)])
def test_an_overflowing_update_is_rolled_back_to_the_epoch_start(make_optimizer):
    net = model()
    start = [p.data.copy() for p in net.parameters()]
    optimizer = make_optimizer(net.parameters())
    with pytest.raises(tn.TrainingDiverged) as caught:
        tn.fit(net, tn.SoftmaxCrossEntropy(), optimizer, tn.DataLoader(X, Y, batch_size=50), 3,
               progress="none")
    assert caught.value.restored_epoch == 1 and "restored" in str(caught.value)
    assert caught.value.epoch == 1 and caught.value.batch == 2
    for p, s in zip(net.parameters(), start):
        assert np.isfinite(p.data).all()
        assert np.array_equal(p.data, s)


def test_a_later_epoch_restores_that_epochs_start():
    net = model()
    optimizer = tn.SGD(net.parameters(), lr=0.01)
    loss, loader = tn.SoftmaxCrossEntropy(), tn.DataLoader(X, Y, batch_size=50)
    tn.fit(net, loss, optimizer, loader, 2, progress="none")
    after_two = [p.data.copy() for p in net.parameters()]
    optimizer.lr = 1e308
    with pytest.raises(tn.TrainingDiverged) as caught:
        tn.fit(net, loss, optimizer, loader, 2, progress="none")
    assert caught.value.restored_epoch == 1  # the first epoch of this fit started from after_two
    for p, s in zip(net.parameters(), after_two):
        assert np.array_equal(p.data, s)


def test_the_last_update_breaking_parameters_is_caught_at_the_end():
    net = model()
    start = [p.data.copy() for p in net.parameters()]
    optimizer = tn.SGD(net.parameters(), lr=1e308)
    with pytest.raises(tn.TrainingDiverged) as caught:  # one batch: no later loss to show it
        tn.fit(net, tn.SoftmaxCrossEntropy(), optimizer, tn.DataLoader(X * 1000, Y, batch_size=150),
               1, progress="none")
    assert caught.value.restored_epoch == 1 and "parameters" in str(caught.value)
    for p, s in zip(net.parameters(), start):
        assert np.array_equal(p.data, s)


def test_a_non_finite_loss_from_finite_parameters_restores_nothing():
    net = model()
    x = X.copy()
    x[60, 0] = 1e308  # overflows the forward pass of the second batch
    optimizer = tn.SGD(net.parameters(), lr=0.01)
    with pytest.raises(tn.TrainingDiverged) as caught, np.errstate(over="ignore", invalid="ignore"):
        tn.fit(net, tn.SoftmaxCrossEntropy(), optimizer, tn.DataLoader(x, Y, batch_size=50), 1,
               progress="none")
    assert caught.value.restored_epoch is None and "was not applied" in str(caught.value)
    assert all(np.isfinite(p.data).all() for p in net.parameters())


def test_a_finite_exploding_loss_is_divergence_with_advice_on_the_inputs():
    net = model()
    with pytest.raises(tn.TrainingDiverged) as caught:
        tn.fit(net, tn.SoftmaxCrossEntropy(), tn.SGD(net.parameters(), lr=0.5),
               tn.DataLoader(X * 1000 + 500, Y, batch_size=10), 50, progress="none")
    message = str(caught.value)
    assert "the loss grew from" in message and "inputs are not standardized" in message
    assert np.isfinite(caught.value.value) and "target" not in caught.value.advice
    assert all(np.isfinite(p.data).all() for p in net.parameters())


def test_advice_names_the_target_scale_for_regression_and_the_rate_otherwise():
    from tinynet.training.divergence import divergence_advice

    x = (X - X.mean(0)) / X.std(0)
    raw_target = tn.DataLoader(x, X[:, :1] * 1e4)
    advice = divergence_advice(raw_target, tn.MeanSquaredError(), 0.1)
    assert "target is not standardized" in advice and "inputs" not in advice
    advice = divergence_advice(tn.DataLoader(x, Y), tn.SoftmaxCrossEntropy(), 3.0)
    assert advice.startswith("Try a smaller learning rate (now lr=3)") and "scale looks fine" in advice


def test_short_epochs_restore_the_latest_copied_epoch():
    """Epochs of 3 steps are copied every ceil(COPY_STEPS / 3) epochs: a divergence restores
    the start of the latest copied epoch, and says which."""
    from tinynet.training.divergence import COPY_STEPS

    every = -(-COPY_STEPS // 3)
    net = model()
    optimizer = tn.SGD(net.parameters(), lr=0.01)
    starts: dict[int, list[np.ndarray]] = {}

    class Blowup(tn.Callback):
        def on_epoch_begin(self, epoch):
            starts[epoch] = [p.data.copy() for p in net.parameters()]

        def on_epoch_end(self, epoch, logs):
            if epoch == every + 3:  # as an overflowing update would
                net.parameters()[0].data[0, 0] = np.inf

    with pytest.raises(tn.TrainingDiverged) as caught:
        tn.fit(net, tn.SoftmaxCrossEntropy(), optimizer, tn.DataLoader(X, Y, batch_size=50), 3 * every,
               progress="none", callbacks=[Blowup()])
    assert caught.value.epoch == every + 4 and caught.value.batch == 1
    assert caught.value.restored_epoch == every + 1  # copied epochs: 1, every + 1, ...
    assert f"start of epoch {every + 1}" in str(caught.value)
    for p, s in zip(net.parameters(), starts[every + 1]):
        assert np.array_equal(p.data, s)
