"""The losses: SoftmaxCrossEntropy, SigmoidBinaryCrossEntropy and MeanSquaredError: values,
gradients, shapes, stability, errors, and training with fit."""

import numpy as np
import pytest
from helpers.errors import error_text
from helpers.layer_checks import away_from_zero
from hypothesis import given, settings
from hypothesis import strategies as st

import tinynet as tn
from tinynet.engine.stable_functions import sigmoid, softmax

SHAPES = [("(B,)", "(B,)"), ("(B,)", "(B,1)"), ("(B,1)", "(B,)"), ("(B,1)", "(B,1)")]


def shaped(a: np.ndarray, shape: str) -> np.ndarray:
    return a.reshape(-1) if shape == "(B,)" else a.reshape(-1, 1)


@pytest.mark.parametrize("logit_shape, target_shape", SHAPES)
def test_bce_gradcheck_and_value_for_every_shape(logit_shape, target_shape):
    rng = np.random.default_rng(5)
    z = shaped(rng.standard_normal(9) * 3, logit_shape)
    t = shaped(rng.integers(0, 2, 9), target_shape)
    loss = tn.SigmoidBinaryCrossEntropy()
    assert tn.gradcheck(loss, z, t) < 1e-7
    p = 1 / (1 + np.exp(-z.ravel()))
    expected = -np.mean(t.ravel() * np.log(p) + (1 - t.ravel()) * np.log(1 - p))
    assert loss.forward(z, t) == pytest.approx(expected, rel=1e-12)
    grad = loss.backward()
    assert grad.shape == z.shape
    np.testing.assert_allclose(grad.ravel(), (p - t.ravel()) / 9, rtol=1e-12)


def test_bce_gradcheck_through_a_model():
    rng = np.random.default_rng(5)
    model = tn.Sequential(tn.Dense(3, 4, rng=1), tn.Tanh(), tn.Dense(4, 1, rng=2))
    error = tn.gradcheck(model, rng.standard_normal((6, 3)), rng.integers(0, 2, 6),
                         loss=tn.SigmoidBinaryCrossEntropy())
    assert error < 1e-7


@pytest.mark.parametrize("dtype, big", [(np.float64, 1e4), (np.float32, 80.0)])
def test_bce_is_stable_for_extreme_logits(dtype, big):
    z = np.array([-big, -big, big, big, 0.0], dtype=dtype)
    t = np.array([0, 1, 0, 1, 1])
    loss = tn.SigmoidBinaryCrossEntropy()
    value = loss.forward(z, t)
    # the two confident mistakes cost |z| each, the right ones ~0, z=0 costs log 2
    assert value == pytest.approx((2 * big + np.log(2)) / 5, rel=1e-6)
    grad = loss.backward()
    assert grad.dtype == dtype and np.isfinite(grad).all()
    np.testing.assert_allclose(grad, np.array([0, -1, 1, 0, -0.5]) / 5, atol=1e-7)


def test_bce_tiny_losses_keep_their_precision():
    loss = tn.SigmoidBinaryCrossEntropy()
    assert loss.forward(np.array([40.0]), np.array([1])) == pytest.approx(np.exp(-40.0), rel=1e-12)


def test_bce_errors():
    loss = tn.SigmoidBinaryCrossEntropy()
    with pytest.raises(ValueError, match=r"one logit per sample .* gives 3 outputs"):
        loss.forward(np.zeros((4, 3)), np.zeros(4))
    with pytest.raises(ValueError, match=r"labels 0 and 1 only, got \[2\]"):
        loss.forward(np.zeros(3), np.array([0, 1, 2]))
    with pytest.raises(ValueError, match=r"shaped like the logits \(B, \), got shape \(3, 2\)"):
        loss.forward(np.zeros(3), np.zeros((3, 2)))
    with pytest.raises(ValueError, match="same number of rows"):
        loss.forward(np.zeros(3), np.zeros(4))
    with pytest.raises(ValueError, match=r"shaped like the logits \(B, 1, 1\), got shape \(2,\)"):
        loss.forward(np.zeros((2, 1, 1)), np.zeros(2))
    with pytest.raises(ValueError, match=r"logits must be an array \(batch, ...\), got \(\)"):
        loss.forward(np.zeros(()), np.zeros(2))
    with pytest.raises(RuntimeError, match="before forward"):
        tn.SigmoidBinaryCrossEntropy().backward()


def test_mse_gradcheck_value_and_shapes():
    rng = np.random.default_rng(6)
    loss = tn.MeanSquaredError()
    y, t = rng.standard_normal((7, 3)), rng.standard_normal((7, 3))
    assert tn.gradcheck(loss, y, t) < 1e-7
    assert loss.forward(y, t) == pytest.approx(np.mean((y - t) ** 2), rel=1e-12)
    np.testing.assert_allclose(loss.backward(), 2 * (y - t) / 21, rtol=1e-12)
    for out_shape, target_shape in SHAPES:
        y1, t1 = shaped(y[:, 0], out_shape), shaped(t[:, 0], target_shape)
        assert tn.gradcheck(loss, y1, t1) < 1e-7
        assert loss.forward(y1, t1) == pytest.approx(np.mean((y[:, 0] - t[:, 0]) ** 2), rel=1e-12)
        assert loss.backward().shape == y1.shape
    model = tn.Sequential(tn.Dense(3, 5, rng=1), tn.Sigmoid(), tn.Dense(5, 2, rng=2))
    assert tn.gradcheck(model, y, t[:, :2], loss=loss) < 1e-7


@settings(max_examples=25, deadline=None)
@given(batch=st.integers(1, 8), outputs=st.integers(1, 4), seed=st.integers(0, 2**16))
def test_mse_gradient_is_the_scaled_residual(batch, outputs, seed):
    rng = np.random.default_rng(seed)
    y, t = rng.standard_normal((batch, outputs)), rng.integers(-3, 3, (batch, outputs))
    loss = tn.MeanSquaredError()
    value = loss.forward(y, t)
    grad = loss.backward()
    np.testing.assert_allclose(grad, 2 * (y - t) / y.size, rtol=1e-12)
    assert value == pytest.approx(float(np.einsum("Bj,Bj->", grad, y - t)) / 2, rel=1e-9)


def test_mse_errors():
    loss = tn.MeanSquaredError()
    with pytest.raises(ValueError, match=r"shape \(B, 2\) to match the model's outputs, got \(4,\); "
                                         r"for one target per sample end the model in Dense"):
        loss.forward(np.zeros((4, 2)), np.zeros(4))
    with pytest.raises(ValueError, match=r"got \(4, 3\)"):
        loss.forward(np.zeros((4, 2)), np.zeros((4, 3)))
    with pytest.raises(TypeError, match="must hold numbers"):
        loss.forward(np.zeros((2, 1)), np.array(["a", "b"]))


@pytest.mark.parametrize("loss", [tn.SigmoidBinaryCrossEntropy(), tn.MeanSquaredError()])
def test_float32_in_float32_out(loss):
    rng = np.random.default_rng(0)
    z = rng.standard_normal((8, 1)).astype(np.float32)
    t = rng.integers(0, 2, 8)
    value = loss.forward(z, t)
    grad = loss.backward()
    assert isinstance(value, float) and grad.dtype == np.float32 and grad.shape == z.shape


def test_losses_train_with_fit_and_their_default_metrics():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((200, 2))
    y = (x[:, 0] + x[:, 1] > 0).astype(int)
    model = tn.Sequential(tn.Dense(2, 1, rng=1))
    history = tn.fit(model, tn.SigmoidBinaryCrossEntropy(), tn.Adam(model.parameters(), lr=0.05),
                     tn.DataLoader(x, y, batch_size=20), epochs=30, progress="none")
    assert history.accuracy[-1] > 0.95 and history.loss[-1] < history.loss[0]
    target = x @ np.array([[2.0], [-1.0]]) + 0.5
    model = tn.Sequential(tn.Dense(2, 1, rng=1))
    history = tn.fit(model, tn.MeanSquaredError(), tn.Adam(model.parameters(), lr=0.05),
                     tn.DataLoader(x, target, batch_size=20), epochs=60, metrics=["mse", "mae"],
                     progress="none")
    assert "accuracy" not in history and history["mse"][-1] == pytest.approx(history.loss[-1], rel=0.2)
    np.testing.assert_allclose(model[0].weight.data, [[2.0, -1.0]], atol=0.05)
    assert tn.evaluate(model, tn.MeanSquaredError(), x, target)["loss"] < 1e-3


@pytest.mark.parametrize("labels", ["integer", "one-hot"])
def test_softmax_cross_entropy_gradcheck(labels):
    rng = np.random.default_rng(0)
    logits = rng.standard_normal((7, 4)) * 3
    y = rng.integers(0, 4, 7)
    target = y if labels == "integer" else tn.one_hot(y, 4)
    assert tn.gradcheck(tn.SoftmaxCrossEntropy(), logits, target) < 1e-7
    model = tn.Sequential(tn.Dense(4, 6, rng=1), tn.LeakyReLU(0.05), tn.Dense(6, 4, rng=2))
    assert tn.gradcheck(model, away_from_zero(rng, (7, 4)), target, loss=tn.SoftmaxCrossEntropy()) < 1e-7


def test_softmax_cross_entropy_value_matches_definition():
    rng = np.random.default_rng(3)
    logits, y = rng.standard_normal((5, 3)), rng.integers(0, 3, 5)
    p = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    expected = -np.mean(np.log(p[np.arange(5), y]))
    loss = tn.SoftmaxCrossEntropy()
    assert loss.forward(logits, y) == pytest.approx(expected, rel=1e-12)
    np.testing.assert_allclose(loss.backward(), (p - tn.one_hot(y, 3)) / 5, rtol=1e-12)


@pytest.mark.parametrize("labels,bad", [([0, 1, 3], "3"), ([0, -1, 2], "-1")])
def test_labels_outside_the_class_range(labels, bad):
    with pytest.raises(ValueError) as err:
        tn.SoftmaxCrossEntropy().forward(np.zeros((3, 3)), np.array(labels))
    text = error_text(err)
    assert "SoftmaxCrossEntropy" in text and "[0, 3)" in text and bad in text


def test_losses_use_the_shared_functions():
    logits = np.array([[800.0, 0.0, -5.0], [1.0, 2.0, 3.0]])
    loss = tn.SoftmaxCrossEntropy()
    loss.forward(logits, np.array([0, 2]))
    np.testing.assert_allclose(loss.backward(), (softmax(logits) - np.eye(3)[[0, 2]]) / 2, rtol=1e-15)
    bce = tn.SigmoidBinaryCrossEntropy()
    z = np.array([-800.0, 0.5, 40.0])
    bce.forward(z, np.array([0, 1, 1]))
    np.testing.assert_allclose(bce.backward(), (sigmoid(z) - [0, 1, 1]) / 3, rtol=1e-15)


def test_loss_docstring_has_a_shape_line():
    assert "Shape:" in (tn.Loss.__doc__ or "")


@pytest.mark.parametrize("loss, logits, target", [
    (tn.SoftmaxCrossEntropy(), np.zeros((0, 3)), np.zeros(0, int)),
    (tn.SigmoidBinaryCrossEntropy(), np.zeros((0, 1)), np.zeros(0, int)),
    (tn.MeanSquaredError(), np.zeros((0, 2)), np.zeros((0, 2))),
])
def test_a_loss_of_an_empty_batch_is_a_clear_error(loss, logits, target):
    with pytest.raises(ValueError, match=f"{type(loss).__name__}: the batch is empty .* at least one row"):
        loss.forward(logits, target)


def test_labels_in_a_column_get_a_hint_to_flatten_them():
    with pytest.raises(ValueError, match=r"target of shape \(4, 1\) holds one label per row in a column; "
                                         r"flatten it to labels \(4,\) with target.ravel\(\)"):
        tn.SoftmaxCrossEntropy().forward(np.zeros((4, 3)), np.zeros((4, 1), int))


# -- weights: SoftmaxCrossEntropy(weight=), SigmoidBinaryCrossEntropy(pos_weight=), sample weights --

CLASS_WEIGHT = np.array([1.0, 2.0, 0.5, 3.0])


@pytest.mark.parametrize("shape", [(7, 4), (3, 5, 4)], ids=["(B,C)", "(B,T,C)"])
@pytest.mark.parametrize("one_hot", [False, True], ids=["labels", "one-hot"])
def test_class_weights_match_pytorch_cross_entropy(shape, one_hot):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    z = rng.standard_normal(shape) * 2
    t = rng.integers(0, 4, shape[:-1])
    target = np.eye(4)[t] if one_hot else t
    loss = tn.SoftmaxCrossEntropy(weight=CLASS_WEIGHT)
    value, grad = loss.forward(z, target), loss.backward()
    zt = torch.tensor(z, requires_grad=True)
    classes_second = zt if len(shape) == 2 else zt.movedim(-1, 1)  # torch wants (B, C, T)
    tt = torch.tensor(target if not one_hot or len(shape) == 2 else np.moveaxis(target, -1, 1))
    ref = torch.nn.functional.cross_entropy(classes_second, tt, weight=torch.tensor(CLASS_WEIGHT))
    ref.backward()
    assert value == pytest.approx(ref.item(), rel=1e-9, abs=1e-12)
    np.testing.assert_allclose(grad, zt.grad.numpy(), rtol=1e-9, atol=1e-12)
    assert tn.gradcheck(loss, z, target) < 1e-7


@pytest.mark.parametrize("pos_weight, shape", [(2.5, (8,)), ([2.0, 0.5], (6, 2))])
def test_pos_weight_matches_pytorch_bce_with_logits(pos_weight, shape):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(1)
    z, t = rng.standard_normal(shape) * 3, rng.integers(0, 2, shape)
    loss = tn.SigmoidBinaryCrossEntropy(pos_weight=pos_weight)
    value, grad = loss.forward(z, t), loss.backward()
    zt = torch.tensor(z, requires_grad=True)
    ref = torch.nn.functional.binary_cross_entropy_with_logits(
        zt, torch.tensor(t, dtype=torch.float64), pos_weight=torch.tensor(pos_weight, dtype=torch.float64))
    ref.backward()
    assert value == pytest.approx(ref.item(), rel=1e-9)
    np.testing.assert_allclose(grad, zt.grad.numpy(), rtol=1e-9, atol=1e-12)
    assert tn.gradcheck(loss, z, t) < 1e-7


def test_unit_weights_give_the_unweighted_loss_and_float32_stays_float32():
    rng = np.random.default_rng(2)
    z, t = rng.standard_normal((9, 3)).astype(np.float32), rng.integers(0, 3, 9)
    plain, weighted = tn.SoftmaxCrossEntropy(), tn.SoftmaxCrossEntropy(weight=[1, 1, 1])
    assert weighted.forward(z, t) == pytest.approx(plain.forward(z, t), rel=1e-6)
    grad = weighted.backward()
    assert grad.dtype == np.float32
    np.testing.assert_allclose(grad, plain.backward(), rtol=1e-5, atol=1e-7)
    bce = tn.SigmoidBinaryCrossEntropy(pos_weight=2.0)
    bce.forward(z[:, 0], t % 2)
    assert bce.backward().dtype == np.float32


def test_weighted_losses_rebuild_from_their_config_and_pickle():
    import pickle

    loss = tn.SoftmaxCrossEntropy(weight=CLASS_WEIGHT)
    assert loss.config() == {"weight": CLASS_WEIGHT.tolist()} and tn.SoftmaxCrossEntropy().config() == {}
    assert repr(loss) == "SoftmaxCrossEntropy(weight=[1.0, 2.0, 0.5, 3.0])"
    z, t = np.random.default_rng(3).standard_normal((5, 4)), np.array([0, 1, 2, 3, 1])
    for twin in (type(loss)(**loss.config()), pickle.loads(pickle.dumps(loss))):
        assert twin.forward(z, t) == loss.forward(z, t)
        np.testing.assert_array_equal(twin.backward(), loss.backward())
    bce = tn.SigmoidBinaryCrossEntropy(pos_weight=3.0)
    assert type(bce)(**bce.config()).config() == {"pos_weight": 3.0}


@pytest.mark.parametrize("make", [tn.SoftmaxCrossEntropy, lambda: tn.SoftmaxCrossEntropy(weight=CLASS_WEIGHT),
                                  tn.SigmoidBinaryCrossEntropy, tn.MeanSquaredError],
                         ids=["softmax", "softmax-weighted", "bce", "mse"])
def test_integer_sample_weights_equal_repeated_rows(make):
    """sum_n s_n l_n / sum_n s_n (scikit-learn's sample_weight): weight 2 counts a row twice,
    weight 0 drops it, for the value and the gradient."""
    rng = np.random.default_rng(4)
    loss = make()
    binary = isinstance(loss, (tn.SigmoidBinaryCrossEntropy, tn.MeanSquaredError))
    z = rng.standard_normal((6,) if binary else (6, 4))
    t = rng.integers(0, 2 if binary else 4, 6)
    s = np.array([2, 0, 1, 3, 1, 0])
    value = loss.compute_weighted(z, t, s.astype(float))
    grad = loss.backward_weighted()
    repeated = loss.forward(np.repeat(z, s, axis=0), np.repeat(t, s))
    grad_repeated = np.add.reduceat(loss.backward(), np.cumsum(np.r_[0, s[s > 0]])[:-1], axis=0)
    assert value == pytest.approx(repeated, rel=1e-12)
    np.testing.assert_allclose(grad[s > 0], grad_repeated, rtol=1e-10, atol=1e-15)
    assert not grad[s == 0].any()
    assert loss.compute_weighted(z, t, np.zeros(6)) == 0 and not loss.backward_weighted().any()


@pytest.mark.parametrize("make, match", [
    (lambda: tn.SoftmaxCrossEntropy(weight=[1.0, -1.0, 1.0]), "finite and >= 0"),
    (lambda: tn.SoftmaxCrossEntropy(weight=[1.0, np.nan, 1.0]), "finite and >= 0"),
    (lambda: tn.SoftmaxCrossEntropy(weight=[[1.0, 2.0]]), r"one number per class, shape \(C,\)"),
    (lambda: tn.SoftmaxCrossEntropy(weight="heavy"), "must be numbers"),
    (lambda: tn.SigmoidBinaryCrossEntropy(pos_weight=-2), "finite and >= 0"),
    (lambda: tn.SigmoidBinaryCrossEntropy(pos_weight=np.inf), "finite and >= 0"),
])
def test_bad_weights_are_refused_at_construction(make, match):
    with pytest.raises((ValueError, TypeError), match=match) as info:
        make()
    assert "weight" in error_text(info)


def test_weights_of_the_wrong_length_are_refused_before_any_step():
    z, t = np.zeros((4, 3)), np.array([0, 1, 2, 0])
    with pytest.raises(ValueError, match="weight has 2 entries but the model gives 3 classes") as info:
        tn.SoftmaxCrossEntropy(weight=[1.0, 2.0]).forward(z, t)
    error_text(info)
    with pytest.raises(ValueError, match="pos_weight has 3 entries but the logits have 2 columns"):
        tn.SigmoidBinaryCrossEntropy(pos_weight=[1, 2, 3]).forward(np.zeros((4, 2)), np.zeros((4, 2)))
