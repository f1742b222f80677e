"""LSTM and GRU: gradients through time, the protocol v2 (a layer used twice, float32 kept),
PyTorch's initialisation, the last-state option, save/load, summary rows and input errors."""

import numpy as np
import pytest
from helpers.errors import error_text
from helpers.layer_checks import check_layer, check_save_load_round_trip, check_skipping_the_input_grad

import tinynet as tn
from tinynet.display.layer_table import summary_rows

LAYERS = {
    "lstm": lambda: tn.LSTM(3, 4, rng=0),
    "lstm-last-state": lambda: tn.LSTM(3, 4, return_sequences=False, rng=1),
    "lstm-no-bias": lambda: tn.LSTM(3, 4, bias=False, rng=2),
    "gru": lambda: tn.GRU(3, 4, rng=0),
    "gru-last-state": lambda: tn.GRU(3, 4, return_sequences=False, rng=1),
    "gru-no-bias": lambda: tn.GRU(3, 4, bias=False, rng=2),
}


def sequences(batch: int = 2, steps: int = 5, features: int = 3, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).standard_normal((batch, steps, features))


@pytest.mark.parametrize("name", list(LAYERS))
def test_gradients_through_time(name):
    check_layer(LAYERS[name](), sequences())


@pytest.mark.parametrize("cls", [tn.LSTM, tn.GRU])
def test_one_layer_used_twice_gets_both_gradients(cls):
    shared = cls(3, 3, rng=4)
    model = tn.Sequential(shared, tn.Tanh(), shared)
    assert model.parameters() == shared.parameters()
    assert tn.gradcheck(model, sequences(steps=4)) < 1e-7


@pytest.mark.parametrize("name", ["lstm", "gru-last-state"])
def test_skipping_the_input_gradient_keeps_the_parameter_gradients(name):
    check_skipping_the_input_grad(LAYERS[name](), sequences())


@pytest.mark.parametrize("cls, gates", [(tn.LSTM, 4), (tn.GRU, 3)])
def test_pytorch_names_layouts_and_initialisation(cls, gates):
    layer = cls(6, 25, rng=0)
    shapes = {name: p.shape for name, p in layer.named_parameters()}
    assert shapes == {"weight_ih_l0": (gates * 25, 6), "weight_hh_l0": (gates * 25, 25),
                      "bias_ih_l0": (gates * 25,), "bias_hh_l0": (gates * 25,)}
    values = np.concatenate([p.data.ravel() for p in layer.parameters()])
    bound = 1 / np.sqrt(25)  # torch: uniform(-1/sqrt(H), 1/sqrt(H)) for every parameter
    assert np.abs(values).max() <= bound and np.abs(values).max() > 0.95 * bound
    assert abs(values.std() - bound / np.sqrt(3)) < 0.01
    assert [n for n, _ in cls(6, 25, bias=False).named_parameters()] == ["weight_ih_l0", "weight_hh_l0"]


@pytest.mark.parametrize("cls", [tn.LSTM, tn.GRU])
def test_same_seed_same_layer_and_float32_kept(cls):
    x = sequences()
    np.testing.assert_array_equal(cls(3, 4, rng=7)(x), cls(3, 4, rng=7)(x))
    layer = cls(3, 4, rng=7, dtype=np.float32)
    y = layer.forward(x)  # float64 data is cast to the layer's float32
    assert y.dtype == np.float32
    assert layer.backward(np.ones(y.shape)).dtype == np.float32
    assert all(p.grad.dtype == np.float32 for p in layer.parameters())
    np.testing.assert_allclose(y, cls(3, 4, rng=7)(x), atol=1e-6)


@pytest.mark.parametrize("cls", [tn.LSTM, tn.GRU])
def test_last_state_is_the_last_step_of_the_sequence(cls):
    x = sequences(steps=6)
    every = cls(3, 4, rng=3)(x)
    last = cls(3, 4, return_sequences=False, rng=3)(x)
    assert every.shape == (2, 6, 4) and last.shape == (2, 4)
    np.testing.assert_array_equal(last, every[:, -1])
    # a step's output depends on the steps before it, not on those after it
    changed = x.copy()
    changed[:, 4:] += 1
    np.testing.assert_array_equal(cls(3, 4, rng=3)(changed)[:, :4], every[:, :4])
    assert not np.allclose(cls(3, 4, rng=3)(changed)[:, 4:], every[:, 4:])


def test_inference_keeps_nothing_for_backward():
    layer = tn.LSTM(3, 4, rng=0)
    layer(sequences())
    with pytest.raises(RuntimeError, match="backward called without a forward"):
        layer.backward(np.ones((2, 5, 4)))


@pytest.mark.parametrize("cls", [tn.LSTM, tn.GRU])
def test_save_load_round_trip(cls, tmp_path):
    model = tn.Sequential(cls(3, 5, rng=0), cls(5, 4, return_sequences=False, bias=False, rng=1),
                          tn.Dense(4, 2, rng=2))
    check_save_load_round_trip(model, sequences(), tmp_path)


def test_summary_rows_show_sequence_shapes_and_parameter_counts():
    model = tn.Sequential(tn.LSTM(2, 8, rng=0), tn.GRU(8, 6, return_sequences=False, rng=1),
                          tn.Dense(6, 1, rng=2))
    rows = summary_rows(model, (50, 2))
    assert [r.output_shape for r in rows] == ["(B, 50, 8)", "(B, 6)", "(B, 1)"]
    # 4H (I + H) weights + two 4H biases; 3H (I + H) + two 3H biases; 6 + 1
    assert [r.params for r in rows] == [4 * 8 * (2 + 8) + 2 * 32, 3 * 6 * (8 + 6) + 2 * 18, 7]
    assert rows[0].layer == "LSTM(2, 8)" and rows[1].layer == "GRU(8, 6, return_sequences=False)"


def test_layers_that_do_not_chain_fail_naming_the_second_layer():
    model = tn.Sequential(tn.LSTM(2, 8), tn.LSTM(6, 4))
    with pytest.raises(ValueError) as caught:
        model(np.ones((1, 3, 2)))
    text = error_text(caught)
    assert "LSTM(input_size=6, hidden_size=4)" in text and "(batch, time, 6)" in text and "(1, 3, 8)" in text


@pytest.mark.parametrize("x, words", [
    (np.ones((8, 3)), ["LSTM(input_size=3, hidden_size=4)", "(batch, time, 3)", "(8, 3)", "x[None]"]),
    (np.ones((8, 5)), ["(batch, time, 3)", "(8, 5)", "x[:, :, None]"]),
    (np.ones((2, 5, 4)), ["(batch, time, 3)", "(2, 5, 4)", "4 features per step"]),
    (np.ones((2, 0, 3)), ["at least one step", "(2, 0, 3)"]),
    (np.ones((2, 5, 3, 1)), ["(batch, time, 3)", "(2, 5, 3, 1)"]),
])
def test_bad_input_shapes_name_the_layer_and_both_shapes(x, words):
    with pytest.raises(ValueError) as caught:
        tn.LSTM(3, 4).forward(x)
    text = error_text(caught)
    assert all(word in text for word in words), text


def test_array_likes_and_integers_are_converted_strings_refused():
    layer = tn.GRU(1, 2, rng=0)
    assert layer.forward([[[1], [2], [3]]]).shape == (1, 3, 2)
    with pytest.raises(TypeError, match=r"GRU\(input_size=1, hidden_size=2\) expects numbers"):
        layer.forward(np.array([[["a"]]]))


@pytest.mark.parametrize("kwargs, error, words", [
    (dict(input_size=0, hidden_size=3), ValueError, ["LSTM input_size", ">= 1", "0"]),
    (dict(input_size=2, hidden_size=2.5), TypeError, ["LSTM hidden_size", "integer"]),
    (dict(input_size=2, hidden_size=3, return_sequences="last"), TypeError, ["return_sequences", "'last'"]),
    (dict(input_size=2, hidden_size=3, dtype=np.int32), TypeError, ["LSTM dtype", "float32 or float64"]),
])
def test_bad_arguments(kwargs, error, words):
    with pytest.raises(error) as caught:
        tn.LSTM(**kwargs)
    text = error_text(caught)
    assert all(word in text for word in words), text


@pytest.mark.parametrize("cls", [tn.LSTM, tn.GRU])
@pytest.mark.parametrize("return_sequences", [True, False])
def test_reused_work_arrays_never_reach_the_caller(cls, return_sequences):
    """Calls reuse their work arrays; outputs, gradients and inputs stay the caller's own."""
    layer = cls(3, 4, return_sequences=return_sequences, rng=0)
    time_major = np.random.default_rng(1).standard_normal((5, 2, 3))
    x = time_major.swapaxes(0, 1)                       # a (B, T, I) view of (T, B, I) memory
    kept_x = x.copy()
    first = layer(x)
    kept_first = first.copy()
    y = layer.forward(x)
    grad_y = np.ones_like(y)
    grad_x = layer.backward(grad_y)
    kept_grad_x = grad_x.copy()
    other = layer.forward(x * 2)                        # takes the arrays the backward released
    layer.backward(grad_y * 3)
    layer(x * 3)
    np.testing.assert_array_equal(first, kept_first)
    np.testing.assert_array_equal(y, kept_first)
    np.testing.assert_array_equal(grad_x, kept_grad_x)
    np.testing.assert_array_equal(x, kept_x)
    np.testing.assert_array_equal(grad_y, np.ones_like(y))
    assert not np.array_equal(other, y)
