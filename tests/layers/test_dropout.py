"""Dropout: gradients with a fixed mask, inverted scaling, seeded masks, errors."""

import numpy as np
import pytest
from helpers.layer_checks import check_layer

import tinynet as tn

# gradcheck draws its random output weights from seed 0: inputs use another seed.
X_SEED = 7


def test_dropout_gradcheck_with_a_fixed_mask():
    rng = np.random.default_rng(X_SEED)
    x = rng.standard_normal((6, 5))
    layer = tn.Dropout(0.4, rng=1)
    mask = rng.random((6, 5)) >= 0.4
    layer.fix_mask(mask)
    check_layer(layer, x)
    np.testing.assert_array_equal(layer.forward(x), x * mask / 0.6)


def test_dropout_gradcheck_by_reseeding_its_rng():
    """The other way to fix the mask: the same seed before each forward."""
    x = np.random.default_rng(X_SEED).standard_normal((4, 3))
    layer = tn.Dropout(0.5)

    class Reseeded(tn.Layer):
        def forward(self, x, training=True):
            layer.rng = np.random.default_rng(123)
            return layer.forward(x, training)

        def backward(self, grad_y, need_input_grad=True):
            return layer.backward(grad_y)

    assert tn.gradcheck(Reseeded(), x) < 1e-7


def test_dropout_inverted_scaling_and_inference_identity():
    x = np.ones((400, 50))
    layer = tn.Dropout(0.3, rng=0)
    y = layer.forward(x, training=True)
    kept = y != 0
    np.testing.assert_allclose(np.unique(y), [0.0, 1 / 0.7])
    assert kept.mean() == pytest.approx(0.7, abs=0.01)
    assert y.mean() == pytest.approx(1.0, abs=0.02)  # expectation preserved
    np.testing.assert_array_equal(layer.backward(np.ones_like(x)), y)  # dx = g * keep / (1 - p)
    assert layer.forward(x, training=False) is x
    with pytest.raises(RuntimeError, match="Dropout.backward called without a forward"):
        layer.backward(x)  # inference keeps nothing for backward
    assert layer(x) is x  # __call__ is inference
    assert tn.Dropout(0.0).forward(x, training=True) is x


def test_dropout_same_seed_same_masks_and_fresh_mask_per_call():
    x = np.ones((8, 8))
    a, b = tn.Dropout(0.5, rng=3), tn.Dropout(0.5, rng=3)
    first = a.forward(x)
    np.testing.assert_array_equal(first, b.forward(x))
    assert not np.array_equal(first, a.forward(x))
    a.fix_mask(None)  # back to random, no error


def test_dropout_errors():
    with pytest.raises(ValueError, match=r"Dropout p must be a finite number >= 0 and < 1, got 1"):
        tn.Dropout(1)
    with pytest.raises(ValueError, match="Dropout p"):
        tn.Dropout(-0.1)
    layer = tn.Dropout(0.5)
    with pytest.raises(ValueError, match="only 0"):
        layer.fix_mask([0.5, 1])
    layer.fix_mask(np.ones((2, 3)))
    with pytest.raises(ValueError, match=r"fixed mask has shape \(2, 3\) but the input has shape \(4, 3\)"):
        layer.forward(np.ones((4, 3)))
    assert layer.get_config() == {"p": 0.5} and repr(layer) == "Dropout(p=0.5)"
