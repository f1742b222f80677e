"""Layer.state_dict / load_state_dict: names and copies, in-place loading, and every bad
state dict refused whole, naming each problem, with the model left as it was."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import tinynet as tn
from tinynet.layers.state import IncompatibleKeys, StateDictError


def mlp(seed: int = 0, dtype: Any = np.float64) -> tn.Sequential:
    return tn.Sequential(tn.Dense(4, 6, rng=seed, dtype=dtype), tn.BatchNorm(6, dtype=dtype),
                         tn.LeakyReLU(0.01), tn.Dense(6, 3, rng=seed + 1, dtype=dtype))


def trained(model: tn.Layer) -> tn.Layer:
    """A few training forwards, so the running statistics are not the initial ones."""
    rng = np.random.default_rng(5)
    for _ in range(3):
        model.forward(rng.standard_normal((8, 4)) * 3 + 1, training=True)
    model.clear_saved()
    return model


X = np.random.default_rng(9).standard_normal((5, 4))


def test_keys_shapes_and_order_are_pytorchs() -> None:
    state = mlp().state_dict()
    assert {name: a.shape for name, a in state.items()} == {
        "0.weight": (6, 4), "0.bias": (6,), "1.weight": (6,), "1.bias": (6,), "3.weight": (3, 6),
        "3.bias": (3,), "1.running_mean": (6,), "1.running_var": (6,)}
    assert list(state) == ["0.weight", "0.bias", "1.weight", "1.bias", "1.running_mean", "1.running_var",
                           "3.weight", "3.bias"]  # PyTorch's order: layer by layer, parameters first


def test_the_state_dict_is_a_copy() -> None:
    model = mlp()
    state = model.state_dict()
    state["0.weight"][:] = 7.0
    assert not np.any(model[0].weight.data == 7.0)
    trained(model)
    assert np.all(state["1.running_var"] == 1.0)


def test_a_state_dict_loads_into_a_fresh_model_in_place() -> None:
    source, target = trained(mlp(0)), mlp(10)
    optimizer = tn.SGD(target.parameters(), lr=0.1, momentum=0.9)  # keeps the weights in a flat buffer
    weight = target[0].weight.data
    result = target.load_state_dict(source.state_dict())
    assert result == IncompatibleKeys([], []) and repr(result) == "<All keys matched successfully>"
    assert target[0].weight.data is weight  # the optimizer's parameter, now holding the loaded values
    np.testing.assert_array_equal(target(X), source(X))
    target.forward(X)
    target.backward(np.ones((5, 3)))
    optimizer.step()
    assert not np.array_equal(target[0].weight.data, source[0].weight.data)  # it trains what was loaded


def test_values_are_cast_to_the_models_dtype() -> None:
    source = trained(mlp(0))
    target = mlp(3, dtype=np.float32)
    target.load_state_dict(source.state_dict())
    assert all(a.dtype == np.float32 for a in target.state_dict().values())
    np.testing.assert_allclose(target(X.astype(np.float32)), source(X), rtol=1e-5, atol=1e-5)
    dense = tn.Dense(2, 2)
    dense.load_state_dict({"weight": [[1, 2], [3, 4]], "bias": (0, 1)})  # integers, nested sequences
    np.testing.assert_array_equal(dense.weight.data, [[1.0, 2.0], [3.0, 4.0]])


def state_with(edit: Any) -> dict[str, Any]:
    state: dict[str, Any] = trained(mlp(1)).state_dict()
    edit(state)
    return state


BAD = {
    "missing key": (lambda s: s.pop("1.running_var"), KeyError, "missing keys (1): '1.running_var'"),
    "unexpected key": (lambda s: s.update({"3.wieght": np.ones((3, 6))}), KeyError,
                       "unexpected keys (1): '3.wieght' (did you mean '3.weight'?)"),
    "a prefix too many": (lambda s: s.update({f"model.{k}": s.pop(k) for k in list(s)}), KeyError,
                          "missing keys (8): '0.weight'"),
    "wrong shape": (lambda s: s.update({"0.weight": s["0.weight"].T}), ValueError,
                    "'0.weight' has shape (4, 6), the model's is (6, 4)"),
    "strings": (lambda s: s.update({"0.bias": ["a"] * 6}), ValueError,
                "'0.bias' holds dtype <U1, not numbers"),
    "None": (lambda s: s.update({"0.bias": None}), ValueError, "'0.bias' holds dtype object, not numbers"),
    "booleans": (lambda s: s.update({"0.bias": np.ones(6, bool)}), ValueError, "'0.bias' holds booleans"),
    "a ragged list": (lambda s: s.update({"0.bias": [[1], [1, 2]]}), ValueError,
                      "'0.bias' cannot be read as an array of numbers"),
    "NaN": (lambda s: s["1.running_mean"].__setitem__(2, np.nan), ValueError,
            "'1.running_mean' has 1 value(s) that are NaN or infinite"),
    "infinity": (lambda s: s["3.weight"].__setitem__((0, 0), -np.inf), ValueError,
                 "'3.weight' has 1 value(s) that are NaN or infinite"),
}


@pytest.mark.parametrize("case", list(BAD))
def test_a_bad_state_dict_is_refused_and_the_model_left_unchanged(case: str) -> None:
    edit, error, message = BAD[case]
    model = trained(mlp(0))
    before = model.state_dict()
    with pytest.raises(error) as info:
        model.load_state_dict(state_with(edit))
    assert isinstance(info.value, StateDictError)
    assert message in str(info.value) and "nothing was loaded" in str(info.value)
    for name, array in model.state_dict().items():
        np.testing.assert_array_equal(array, before[name], err_msg=name)


def test_every_problem_is_listed_at_once() -> None:
    def many(state: dict[str, Any]) -> None:
        del state["0.bias"]
        state["extra"] = np.zeros(2)
        state["3.weight"] = np.zeros((2, 2))
        state["1.weight"] = "gamma"

    model = mlp()
    with pytest.raises(StateDictError) as info:
        model.load_state_dict(state_with(many))
    err = info.value
    assert (err.missing_keys, err.unexpected_keys, sorted(err.bad_values)) == (
        ["0.bias"], ["extra"], ["1.weight", "3.weight"])
    assert len(str(err).splitlines()) == 6  # the heading, four problems, the strict=False hint


def test_a_value_that_overflows_the_models_float32_is_refused() -> None:
    model = mlp(dtype=np.float32)
    with pytest.raises(ValueError, match="'0.bias' has 1 value.* NaN or infinite as float32"):
        model.load_state_dict(state_with(lambda s: s["0.bias"].__setitem__(0, 1e300)))


def test_strict_false_loads_the_common_keys_and_returns_the_others() -> None:
    source, target = trained(mlp(0)), mlp(5)
    state = source.state_dict()
    del state["3.bias"]
    state["head.weight"] = np.zeros(3)
    bias = target[3].bias.data.copy()
    result = target.load_state_dict(state, strict=False)
    assert result == IncompatibleKeys(missing_keys=["3.bias"], unexpected_keys=["head.weight"])
    assert result.missing_keys == ["3.bias"]
    np.testing.assert_array_equal(target[3].bias.data, bias)
    np.testing.assert_array_equal(target[0].weight.data, source[0].weight.data)
    with pytest.raises(ValueError, match="'3.weight' has shape"):  # shapes are never skipped
        target.load_state_dict({"3.weight": np.zeros(3)}, strict=False)


def test_pytorchs_batch_counter_is_accepted_and_skipped() -> None:
    model = mlp()
    state = model.state_dict()
    state["1.num_batches_tracked"] = np.array(12, dtype=np.int64)
    assert model.load_state_dict(state) == IncompatibleKeys([], [])
    assert "1.num_batches_tracked" not in model.state_dict()
    with pytest.raises(ValueError, match="'1.num_batches_tracked' holds dtype"):
        model.load_state_dict({**state, "1.num_batches_tracked": "twelve"})
    with pytest.raises(KeyError, match="'0.num_batches_tracked'"):  # only where a BatchNorm is
        model.load_state_dict({**state, "0.num_batches_tracked": 0})


def test_a_shared_layer_appears_once_and_its_later_names_are_accepted() -> None:
    shared = tn.Dense(3, 3, rng=0)
    model = tn.Sequential(shared, tn.Tanh(), shared)
    state = model.state_dict()
    assert list(state) == ["0.weight", "0.bias"]
    new = {name: value + 1 for name, value in state.items()}
    model.load_state_dict({**new, "2.weight": new["0.weight"], "2.bias": new["0.bias"]})  # PyTorch's form
    np.testing.assert_array_equal(shared.weight.data, new["0.weight"])
    with pytest.raises(ValueError, match="'2.bias' is the shared layer's '0.bias' at a later place"):
        model.load_state_dict({**new, "2.bias": new["0.bias"] + 1})


def test_the_arguments_are_checked() -> None:
    model = mlp()
    with pytest.raises(TypeError, match="state_dict must be a mapping .* got list"):
        model.load_state_dict(list(model.state_dict().items()))  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="strict must be True or False, got 'yes'"):
        model.load_state_dict(model.state_dict(), strict="yes")  # type: ignore[arg-type]
    with pytest.raises(KeyError, match="unexpected keys .*: 0"):
        model.load_state_dict({**model.state_dict(), 0: np.zeros(1)})  # type: ignore[dict-item]
