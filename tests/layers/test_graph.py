"""Residual, Parallel, Graph and the merge layers: gradients, wiring errors, training."""

import inspect

import numpy as np
import pytest
from helpers.layer_checks import check_layer
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

import tinynet as tn


def mlp(n_in: int, n_hidden: int, n_out: int, seed: int) -> tn.Sequential:
    return tn.Sequential(tn.Dense(n_in, n_hidden, rng=seed), tn.Tanh(),
                         tn.Dense(n_hidden, n_out, rng=seed + 1))


def diamond() -> tn.Graph:
    """x -> h; h feeds a, the sum and (through the concat) the output: gradients must add up."""
    return tn.Graph(inputs="x", nodes={
        "h": (tn.Dense(5, 8, rng=1), "x"),
        "a": (tn.Tanh(), "h"),
        "sum": (tn.Add(), ["h", "a", "h"]),
        "cat": (tn.Concat(), ["sum", "x"]),
        "out": (tn.Dense(13, 3, rng=2), "cat"),
    }, output="out")


CONTAINERS = {
    "residual": lambda: tn.Residual(mlp(5, 7, 5, 1)),
    "parallel-concat": lambda: tn.Parallel(tn.Dense(5, 3, rng=1), mlp(5, 4, 2, 2)),
    "parallel-sum": lambda: tn.Parallel(tn.Dense(5, 5, rng=1), mlp(5, 4, 5, 2), tn.Identity(), join="sum"),
    "graph": diamond,
    "graph-in-sequential": lambda: tn.Sequential(diamond(), tn.Tanh(), tn.Dense(3, 2, rng=4)),
    "residual-of-parallel": lambda: tn.Residual(tn.Parallel(tn.Dense(5, 2, rng=1), tn.Dense(5, 3, rng=2))),
    "graph-of-einsum-and-residual": lambda: tn.Graph(inputs="tokens", nodes={
        "proj": (tn.Einsum("Bhi,hoi->Bho", (2, 3, 5), (3,), rng=1), "tokens"),
        "res": (tn.Residual(tn.Sequential(tn.Tanh(), tn.Einsum("Bho,po->Bhp", (3, 3), rng=2))), "proj"),
        "pool": (tn.Einsum("Bhp,h->Bp", (2,), rng=3), "res"),
    }, output="pool"),
}


@pytest.mark.parametrize("name", list(CONTAINERS))
def test_gradcheck(name):
    layer = CONTAINERS[name]()
    shape = (4, 2, 5) if name == "graph-of-einsum-and-residual" else (6, 5)
    assert check_layer(layer, np.random.default_rng(0).standard_normal(shape)) < 1e-7


@pytest.mark.parametrize("name", list(CONTAINERS))
def test_need_input_grad_false_gives_the_same_parameter_gradients(name):
    layer = CONTAINERS[name]()
    shape = (4, 2, 5) if name == "graph-of-einsum-and-residual" else (6, 5)
    x = np.random.default_rng(0).standard_normal(shape)
    y = layer.forward(x)
    grad_y = np.random.default_rng(1).standard_normal(y.shape)
    assert layer.backward(grad_y) is not None
    full = [p.grad.copy() for p in layer.parameters()]
    assert layer.backward(grad_y, need_input_grad=False) is None
    for p, want in zip(layer.parameters(), full):
        np.testing.assert_array_equal(p.grad, want)


def test_residual_adds_the_input():
    block = mlp(4, 6, 4, 0)
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


def test_graph_sums_gradients_where_a_value_feeds_several_nodes():
    """x feeds the Add twice, so y = 2x and the input gradient is g + g."""
    graph = tn.Graph(inputs="x", nodes={"twice": (tn.Add(), ["x", "x"]), "out": (tn.Identity(), "twice")},
                     output="out")
    x = np.arange(6.0).reshape(2, 3)
    np.testing.assert_array_equal(graph(x), 2 * x)
    g = np.ones_like(x)
    graph.forward(x)
    np.testing.assert_array_equal(graph.backward(g), 2 * g)


def test_graph_evaluates_in_topological_order_whatever_the_dict_order():
    graph = tn.Graph(inputs="x", nodes={
        "out": (tn.Dense(6, 2, rng=0), "act"),
        "act": (tn.Tanh(), "h"),
        "h": (tn.Dense(3, 6, rng=1), "x"),
    }, output="out")
    x = np.random.default_rng(0).standard_normal((4, 3))
    chain = tn.Sequential(graph.nodes["h"][0], tn.Tanh(), graph.nodes["out"][0])
    np.testing.assert_array_equal(graph(x), chain(x))
    assert graph.output_shape((None, 3)) == (None, 2)
    assert [n for n, _ in graph.named_parameters()] == ["out.weight", "out.bias", "h.weight", "h.bias"]
    assert "(act): Tanh() <- h" in repr(graph)


@pytest.mark.parametrize("nodes, output, message", [
    ({"a": (tn.Tanh(), "b"), "b": (tn.Tanh(), "a")}, "a", "cycle"),
    ({"a": (tn.Tanh(), "a")}, "a", "cycle"),
    ({"h": (tn.Tanh(), "xx")}, "h", "unknown 'xx'.*did you mean 'x'"),
    ({"h": (tn.Tanh(), "x")}, "hh", "output must name a node.*did you mean 'h'"),
    ({"h": (tn.Dense(2, 2), ["x", "x"])}, "h", "2 sources but Dense takes one.*tn.Add"),
    ({"h": (tn.Tanh(), "x"), "dead": (tn.Tanh(), "x")}, "h", r"\['dead'\] do not lead to the output"),
    ({"x": (tn.Tanh(), "x")}, "x", "has the input's name"),
    ({"a.b": (tn.Tanh(), "x")}, "a.b", "without '.'"),
    ({"h": tn.Tanh()}, "h", r"must be \(layer, sources\)"),
    ({"h": (tn.Tanh(), [])}, "h", "non-empty list"),
    ({}, "h", "non-empty dict"),
])
def test_graph_wiring_errors_at_construction(nodes, output, message):
    with pytest.raises(ValueError, match=message):
        tn.Graph(inputs="x", nodes=nodes, output=output)


def test_one_layer_object_in_two_nodes_is_rejected():
    shared = tn.Dense(3, 3)
    with pytest.raises(ValueError, match="'a' and 'b' use the same layer object"):
        tn.Graph(inputs="x", nodes={"a": (shared, "x"), "b": (shared, "a")}, output="b")


def test_layer_type_errors():
    with pytest.raises(TypeError, match="not an instance"):
        tn.Residual(tn.Tanh)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="Graph node 'h' must be a layer"):
        tn.Graph(inputs="x", nodes={"h": ("dense", "x")}, output="h")
    with pytest.raises(TypeError, match="joins a non-empty list"):
        tn.Add().forward(np.zeros((2, 2)))  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="batch axis"):
        tn.Concat(axis=0)


def test_shape_errors_name_the_container():
    with pytest.raises(ValueError, match=r"block maps shape \(3, 4\) to \(3, 2\)"):
        tn.Residual(tn.Dense(4, 2)).forward(np.zeros((3, 4)))
    with pytest.raises(ValueError, match="keep the shape"):
        tn.Residual(tn.Dense(4, 2)).output_shape((None, 4))
    with pytest.raises(ValueError, match="Add needs inputs of one shape"):
        tn.Add().forward([np.zeros((2, 3)), np.zeros((2, 4))])
    with pytest.raises(ValueError, match="Concat.*cannot join"):
        tn.Concat().forward([np.zeros((2, 3)), np.zeros((3, 4))])
    graph = tn.Graph(inputs="x", nodes={"h": (tn.Dense(4, 3), "x"), "s": (tn.Add(), ["h", "x"])},
                     output="s")
    with pytest.raises(ValueError, match="Graph node 's': Add needs inputs of one shape"):
        graph.output_shape((None, 4))


def rebuild(layer):
    """``cls(**get_config())``, a ``*args`` entry passed positionally (as tinynet.saving does)."""
    config = dict(layer.get_config())
    params = inspect.signature(type(layer)).parameters
    args = [config.pop(name) for name, p in params.items() if p.kind is p.VAR_POSITIONAL and name in config]
    return type(layer)(*(args[0] if args else ()), **config)


def test_get_config_rebuilds_each_container():
    for layer in (tn.Residual(mlp(3, 4, 3, 0)), tn.Parallel(tn.Dense(3, 2), tn.Tanh(), join="sum"),
                  diamond(), tn.Concat(axis=-1), tn.Add()):
        assert repr(rebuild(layer)) == repr(layer)
    config = diamond().get_config()
    assert config["inputs"] == "x" and config["output"] == "out"
    assert isinstance(config["nodes"]["h"][0], tn.Dense) and config["nodes"]["sum"][1] == ["h", "a", "h"]
    assert tn.Parallel(tn.Tanh(), join="sum").get_config()["join"] == "sum"


def test_float32_stays_float32():
    graph = tn.Graph(inputs="x", nodes={
        "h": (tn.Dense(4, 4, dtype=np.float32, rng=0), "x"),
        "r": (tn.Residual(tn.Sequential(tn.Tanh(), tn.Dense(4, 4, dtype=np.float32, rng=1))), "h"),
        "p": (tn.Parallel(tn.Identity(), tn.Tanh()), "r"),
    }, output="p")
    x = np.ones((2, 4), dtype=np.float32)
    y = graph.forward(x)
    assert y.dtype == np.float32 and y.shape == (2, 8)
    grad_x = graph.backward(np.ones_like(y))
    assert grad_x is not None and grad_x.dtype == np.float32
    assert all(p.grad.dtype == np.float32 for p in graph.parameters())


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


@pytest.mark.parametrize("name", list(CONTAINERS))
def test_save_and_load_round_trip(name, tmp_path):
    """tinynet.save writes each container's get_config (child layers nested); load rebuilds it."""
    model = CONTAINERS[name]()
    shape = (4, 2, 5) if name == "graph-of-einsum-and-residual" else (6, 5)
    x = np.random.default_rng(0).standard_normal(shape)
    tn.save(model, tmp_path / "model.npz")
    loaded = tn.load(tmp_path / "model.npz")
    assert type(loaded) is type(model) and repr(loaded) == repr(model)
    np.testing.assert_array_equal(loaded(x), model(x))
    assert [n for n, _ in loaded.named_parameters()] == [n for n, _ in model.named_parameters()]
