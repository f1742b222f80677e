"""build_mlp: one builder for the network of the command and of the estimators."""

import numpy as np
from helpers.runs import scaled_iris

import tinynet as tn
from tinynet.layers.mlp import build_mlp


def test_build_mlp_is_the_network_of_the_command_and_the_estimators():
    from tinynet.sklearn import TinyNetRegressor

    model = build_mlp(4, [8, 6], 3, tn.Tanh, "glorot_uniform", 5, dtype=np.float32)
    assert [type(layer).__name__ for layer in model] == ["Dense", "Tanh", "Dense", "Tanh", "Dense"]
    assert [(d.in_features, d.out_features) for d in model[::2]] == [(4, 8), (8, 6), (6, 3)]
    assert all(p.data.dtype == np.float32 for p in model.parameters())
    single = build_mlp(4, [], 2, tn.ReLU, "he_normal", 0)
    assert len(single) == 1 and single[0].out_features == 2
    # one generator for all layers: the same seed gives the same network, layer after layer
    again = build_mlp(4, [8, 6], 3, tn.Tanh, "glorot_uniform", 5, dtype=np.float32)
    assert all((a.data == b.data).all() for a, b in zip(model.parameters(), again.parameters()))
    x, _ = scaled_iris()
    reg = TinyNetRegressor((8, 6), activation="tanh", epochs=1, random_state=5)
    reg.fit(x, x[:, 0])
    expected = build_mlp(4, [8, 6], 1, tn.Tanh, "glorot_uniform", np.random.default_rng(5))
    assert repr(reg.model_) == repr(expected)


def test_dropout_follows_every_hidden_activation_and_zero_changes_nothing():
    import pytest

    model = build_mlp(4, [8, 6], 3, tn.ReLU, "he_normal", 1, dropout=0.25)
    names = [type(layer).__name__ for layer in model]
    assert names == ["Dense", "ReLU", "Dropout", "Dense", "ReLU", "Dropout", "Dense"]
    assert model[2].p == 0.25
    plain = build_mlp(4, [8, 6], 3, tn.ReLU, "he_normal", 1)
    # the same weights: dropout draws nothing when built, and p=0 adds no layer
    assert all((a.data == b.data).all() for a, b in zip(model.parameters(), plain.parameters()))
    assert repr(build_mlp(4, [8, 6], 3, tn.ReLU, "he_normal", 1, dropout=0.0)) == repr(plain)
    x = np.ones((5, 4))
    assert np.array_equal(model.forward(x, training=False), plain.forward(x, training=False))
    for bad in (1.0, -0.1, "0.5"):
        with pytest.raises(ValueError, match=r"dropout must be a probability in \[0, 1\)"):
            build_mlp(4, [8], 3, tn.ReLU, "he_normal", 1, dropout=bad)
