"""ReduceLROnPlateau: Keras's rule (patience, factor, cooldown, min_lr) on the monitor base."""

import numpy as np
import pytest

import tinynet as tn


class Script(tn.Callback):
    """Feeds a scripted 'score' into every epoch's logs (before the callbacks after it)."""

    def __init__(self, values):
        self.values = list(values)

    def on_epoch_end(self, epoch, logs):
        logs["score"] = self.values[epoch - 1]


def run(values, **kwargs):
    model = tn.Sequential(tn.Dense(2, 2, rng=0))
    optimizer = tn.SGD(model.parameters(), lr=1.0)
    plateau = tn.ReduceLROnPlateau(optimizer, monitor="score", mode="min", verbose=False, **kwargs)
    x, y = np.zeros((4, 2)), np.array([0, 1, 0, 1])
    tn.fit(model, tn.SoftmaxCrossEntropy(), optimizer, tn.DataLoader(x, y), len(values), progress="none",
           callbacks=[Script(values), plateau])
    return plateau, optimizer


def test_the_rate_drops_after_patience_epochs_without_improvement():
    plateau, optimizer = run([5, 4, 4, 4, 4, 4, 4], factor=0.5, patience=2, min_delta=0)
    assert plateau.reductions == [(4, 0.5), (6, 0.25)]
    assert optimizer.lr == 0.25


def test_cooldown_and_min_lr():
    plateau, optimizer = run([5] * 8, factor=0.1, patience=1, cooldown=2, min_lr=0.005, min_delta=0)
    # Keras's counting: epoch 1 sets the best; cuts at 2, 4 (epoch 3 cools down, the counter runs out
    # at 4) and 6, that one stopped at min_lr; at 8 the rate is at min_lr already: no cut recorded
    assert plateau.reductions == [(2, pytest.approx(0.1)), (4, pytest.approx(0.01)), (6, 0.005)]
    assert optimizer.lr == 0.005


@pytest.mark.parametrize("kwargs, error, words", [
    ({"factor": 1.0}, ValueError, "ReduceLROnPlateau factor"),
    ({"patience": -1}, ValueError, "ReduceLROnPlateau patience"),
    ({"mode": "up"}, ValueError, "ReduceLROnPlateau mode"),
])
def test_bad_arguments(kwargs, error, words):
    optimizer = tn.SGD(tn.Sequential(tn.Dense(2, 2)).parameters(), lr=0.1)
    with pytest.raises(error, match=words):
        tn.ReduceLROnPlateau(optimizer, **kwargs)
    with pytest.raises(TypeError, match="needs a tinynet optimizer"):
        tn.ReduceLROnPlateau("adam")
