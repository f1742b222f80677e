"""The checks fit and evaluate run once before any step: values checked after the cast to the
model's dtype, a one-output softmax refused, an optimizer built for another model refused, a
doubled output activation warned about, losses and metrics that are not what they must be."""

import warnings

import numpy as np
import pytest

import tinynet as tn

X = np.random.default_rng(0).standard_normal((12, 4))
Y = np.arange(12) % 3


def model(n_out=3, dtype=np.float64, *tail):
    return tn.Sequential(tn.Dense(4, 6, rng=0, dtype=dtype), tn.ReLU(),
                         tn.Dense(6, n_out, rng=1, dtype=dtype), *tail)


def fit(m, x=X, y=Y, loss=None, optimizer=None, **kwargs):
    return tn.fit(m, loss or tn.SoftmaxCrossEntropy(), optimizer or tn.SGD(m.parameters(), lr=0.1),
                  tn.DataLoader(x, y, batch_size=4), 1, progress="none", **kwargs)


def too_big_for_float32():
    x = X.copy()
    x[3, 2] = 1e39  # a float64, but inf in float32
    return x


def test_values_are_checked_after_the_cast_to_the_models_dtype():
    m = model(dtype=np.float32)
    before = [p.data.copy() for p in m.parameters()]
    with pytest.raises(ValueError, match=r"x holds 1e\+39 at index \(3, 2\), which is inf in float32"):
        fit(m, x=too_big_for_float32())
    with pytest.raises(ValueError, match=r"validation_data: DataLoader x holds 1e\+39"):
        fit(m, validation_data=(too_big_for_float32(), Y))
    with pytest.raises(ValueError, match=r"x holds 1e\+39 .* inf in float32"):
        tn.evaluate(m, tn.SoftmaxCrossEntropy(), too_big_for_float32(), Y)
    assert all(np.array_equal(a, p.data) for a, p in zip(before, m.parameters()))


def test_a_one_output_softmax_model_is_refused():
    with pytest.raises(ValueError, match="gives 1 output per row, but SoftmaxCrossEntropy needs one per "
                                         "class.*SigmoidBinaryCrossEntropy"):
        fit(model(n_out=1), y=np.zeros(12, int))


def test_an_optimizer_over_another_models_parameters_is_refused():
    other = model()
    with pytest.raises(ValueError, match="holds none of the model's 4 parameters.*SGD\\(model.parameters"):
        fit(model(), optimizer=tn.SGD(other.parameters(), lr=0.1))


@pytest.mark.parametrize("tail, loss, y", [
    (tn.Softmax(), tn.SoftmaxCrossEntropy(), Y),
    (tn.Sigmoid(), tn.SigmoidBinaryCrossEntropy(), Y % 2),
])
def test_a_model_ending_in_its_losss_activation_is_warned_about(tail, loss, y):
    n_out = 3 if isinstance(tail, tn.Softmax) else 1
    with pytest.warns(UserWarning, match=f"ends in {type(tail).__name__}, and {type(loss).__name__} "
                                         f"applies {type(tail).__name__.lower()} itself"):
        fit(model(n_out, np.float64, tail), y=y, loss=loss)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        fit(model(n_out), y=y, loss=loss)  # without the activation: no warning


def test_evaluate_needs_a_loss():
    with pytest.raises(TypeError, match="evaluate loss must be a tinynet loss such as SoftmaxCrossEntropy"
                                        r"\(\), got NoneType"):
        tn.evaluate(model(), None, X, Y)


def test_a_metric_returning_something_else_than_a_number_is_refused_before_training():
    m = model()
    before = [p.data.copy() for p in m.parameters()]
    with pytest.raises(TypeError, match="metrics: 'wrong' returned str 'high'; a metric returns the batch's "
                                        "sum as a number"):
        fit(m, metrics=[_named("wrong", lambda o, t: "high")])
    assert all(np.array_equal(a, p.data) for a, p in zip(before, m.parameters()))
    with pytest.raises(TypeError, match="'wrong' returned ndarray"):
        tn.evaluate(m, tn.SoftmaxCrossEntropy(), X, Y, metrics=[_named("wrong", lambda o, t: o)])


def _named(name, fn):
    fn.__name__ = name
    return fn


def test_binary_accuracy_on_three_classes_names_the_fix():
    from tinynet.training.metrics import binary_accuracy

    with pytest.raises(ValueError, match=r"binary_accuracy needs one logit per 0/1 label, got outputs of "
                                         r"shape \(4, 3\) .* for 3 classes use 'accuracy'"):
        binary_accuracy(np.zeros((4, 3)), np.array([0, 1, 2, 1]))
