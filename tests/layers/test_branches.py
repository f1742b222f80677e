"""Residual and Parallel: gradients, skipping the input gradient, joins, errors, configs,
save/load, and a residual network that learns digits."""

import numpy as np
import pytest
from helpers.layer_checks import (
    check_layer,
    check_save_load_round_trip,
    check_skipping_the_input_grad,
    rebuild_from_config,
)
from helpers.models import small_mlp
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

import tinynet as tn

CONTAINERS = {
    "residual": lambda: tn.Residual(small_mlp(5, 7, 5, 1)),
    "parallel-concat": lambda: tn.Parallel(tn.Dense(5, 3, rng=1), small_mlp(5, 4, 2, 2)),
    "parallel-sum": lambda: tn.Parallel(tn.Dense(5, 5, rng=1), small_mlp(5, 4, 5, 2), tn.Identity(),
                                        join="sum"),
    "residual-of-parallel": lambda: tn.Residual(tn.Parallel(tn.Dense(5, 2, rng=1), tn.Dense(5, 3, rng=2))),
}


def sample_input():
    return np.random.default_rng(0).standard_normal((6, 5))


@pytest.mark.parametrize("name", list(CONTAINERS))
def test_gradcheck(name):
    assert check_layer(CONTAINERS[name](), sample_input()) < 1e-7


@pytest.mark.parametrize("name", list(CONTAINERS))
def test_need_input_grad_false_gives_the_same_parameter_gradients(name):
    check_skipping_the_input_grad(CONTAINERS[name](), sample_input())


@pytest.mark.parametrize("name", list(CONTAINERS))
def test_save_and_load_round_trip(name, tmp_path):
    """tinynet.save writes each container's get_config (child layers nested); load rebuilds it."""
    check_save_load_round_trip(CONTAINERS[name](), sample_input(), tmp_path)


def test_residual_adds_the_input():
    block = small_mlp(4, 6, 4, 0)
    x = np.random.default_rng(0).standard_normal((3, 4))
    np.testing.assert_allclose(tn.Residual(block)(x), x + block(x), rtol=1e-15)
    assert [n for n, _ in tn.Residual(block).named_parameters()] == [
        "block.0.weight", "block.0.bias", "block.2.weight", "block.2.bias"]


def test_parallel_joins_and_splits():
    a, b = tn.Dense(4, 2, rng=0), tn.Dense(4, 3, rng=1)
    x = np.random.default_rng(0).standard_normal((5, 4))
    concat = tn.Parallel(a, b)
    np.testing.assert_array_equal(concat(x), np.concatenate([a(x), b(x)], axis=1))
    assert concat.output_shape((None, 4)) == (None, 5)
    summed = tn.Parallel(tn.Dense(4, 3, rng=0), b, join="sum")
    assert summed.output_shape((None, 4)) == (None, 3)
    with pytest.raises(ValueError, match="Add needs inputs of one shape"):
        tn.Parallel(a, b, join="sum").output_shape((None, 4))
    with pytest.raises(ValueError, match="did you mean 'concat'"):
        tn.Parallel(a, join="concatenate")
    assert [n for n, _ in concat.named_parameters()] == ["0.weight", "0.bias", "1.weight", "1.bias"]


def test_residual_of_a_class_instead_of_a_layer_is_refused():
    with pytest.raises(TypeError, match="not an instance"):
        tn.Residual(tn.Tanh)  # type: ignore[arg-type]


def test_residual_shape_errors_name_it():
    with pytest.raises(ValueError, match=r"block maps shape \(3, 4\) to \(3, 2\)"):
        tn.Residual(tn.Dense(4, 2)).forward(np.zeros((3, 4)))
    with pytest.raises(ValueError, match="keep the shape"):
        tn.Residual(tn.Dense(4, 2)).output_shape((None, 4))


def test_get_config_rebuilds_residual_and_parallel():
    for layer in (tn.Residual(small_mlp(3, 4, 3, 0)), tn.Parallel(tn.Dense(3, 2), tn.Tanh(), join="sum")):
        assert repr(rebuild_from_config(layer)) == repr(layer)
    assert tn.Parallel(tn.Tanh(), join="sum").get_config()["join"] == "sum"


def residual_mlp(seed: int) -> tn.Sequential:
    rng = np.random.default_rng(seed)

    def block() -> tn.Residual:
        return tn.Residual(tn.Sequential(tn.Dense(64, 64, rng=rng), tn.ReLU(), tn.Dense(64, 64, rng=rng)))

    return tn.Sequential(tn.Dense(64, 64, rng=rng), block(), tn.ReLU(), block(), tn.ReLU(),
                         tn.Dense(64, 10, rng=rng))


def test_residual_mlp_learns_digits():
    digits = load_digits()
    x_train, x_test, y_train, y_test = train_test_split(
        digits.data / 16.0, digits.target, test_size=0.25, random_state=0, stratify=digits.target)
    model = residual_mlp(0)
    loader = tn.DataLoader(x_train, y_train, batch_size=32, shuffle=True, rng=0)
    tn.fit(model, tn.SoftmaxCrossEntropy(), tn.SGD(model.parameters(), lr=0.02, momentum=0.9),
           loader, 15, progress="none")
    result = tn.evaluate(model, tn.SoftmaxCrossEntropy(), x_test, y_test)
    assert result["accuracy"] >= 0.95, result


def test_a_layer_shared_by_two_parallel_branches_answers_its_calls_in_reverse():
    shared = tn.Dense(3, 3, rng=0)
    model = tn.Parallel(tn.Sequential(shared, tn.Tanh()), tn.Sequential(tn.Tanh(), shared), join="sum")
    errors = tn.gradcheck_details(model, np.random.default_rng(0).standard_normal((4, 3)))
    assert max(errors.values()) < 1e-7, errors
