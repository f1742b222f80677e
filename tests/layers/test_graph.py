"""Graph: gradients, wiring errors at construction, summed gradients, order, configs, save/load."""

import numpy as np
import pytest
from helpers.layer_checks import (
    check_layer,
    check_save_load_round_trip,
    check_skipping_the_input_grad,
    rebuild_from_config,
)

import tinynet as tn


def diamond() -> tn.Graph:
    """x -> h; h feeds a, the sum and (through the concat) the output: gradients must add up."""
    return tn.Graph(inputs="x", nodes={
        "h": (tn.Dense(5, 8, rng=1), "x"),
        "a": (tn.Tanh(), "h"),
        "sum": (tn.Add(), ["h", "a", "h"]),
        "cat": (tn.Concat(), ["sum", "x"]),
        "out": (tn.Dense(13, 3, rng=2), "cat"),
    }, output="out")


GRAPHS = {
    "graph": diamond,
    "graph-in-sequential": lambda: tn.Sequential(diamond(), tn.Tanh(), tn.Dense(3, 2, rng=4)),
    "graph-of-einsum-and-residual": lambda: tn.Graph(inputs="tokens", nodes={
        "proj": (tn.Einsum("Bhi,hoi->Bho", (2, 3, 5), (3,), rng=1), "tokens"),
        "res": (tn.Residual(tn.Sequential(tn.Tanh(), tn.Einsum("Bho,po->Bhp", (3, 3), rng=2))), "proj"),
        "pool": (tn.Einsum("Bhp,h->Bp", (2,), rng=3), "res"),
    }, output="pool"),
}


def x_for(name):
    shape = (4, 2, 5) if name == "graph-of-einsum-and-residual" else (6, 5)
    return np.random.default_rng(0).standard_normal(shape)


@pytest.mark.parametrize("name", list(GRAPHS))
def test_gradcheck(name):
    assert check_layer(GRAPHS[name](), x_for(name)) < 1e-7


@pytest.mark.parametrize("name", list(GRAPHS))
def test_need_input_grad_false_gives_the_same_parameter_gradients(name):
    check_skipping_the_input_grad(GRAPHS[name](), x_for(name))


@pytest.mark.parametrize("name", list(GRAPHS))
def test_save_and_load_round_trip(name, tmp_path):
    """tinynet.save writes each container's get_config (child layers nested); load rebuilds it."""
    check_save_load_round_trip(GRAPHS[name](), x_for(name), tmp_path)


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


def test_one_layer_object_in_two_nodes_shares_its_weights():
    shared = tn.Dense(3, 3, rng=0)
    graph = tn.Graph(inputs="x", nodes={"a": (shared, "x"), "t": (tn.Tanh(), "a"), "b": (shared, "t")},
                     output="b")
    assert graph.parameters() == [shared.weight, shared.bias]
    x = np.random.default_rng(0).standard_normal((4, 3))
    np.testing.assert_allclose(graph(x), shared(np.tanh(shared(x))), rtol=1e-12)
    assert tn.gradcheck(graph, x) < 1e-7


def test_a_graph_node_must_be_a_layer():
    with pytest.raises(TypeError, match="Graph node 'h' must be a layer"):
        tn.Graph(inputs="x", nodes={"h": ("dense", "x")}, output="h")


def test_shape_errors_name_the_graph_node():
    graph = tn.Graph(inputs="x", nodes={"h": (tn.Dense(4, 3), "x"), "s": (tn.Add(), ["h", "x"])},
                     output="s")
    with pytest.raises(ValueError, match="Graph node 's': Add needs inputs of one shape"):
        graph.output_shape((None, 4))


def test_get_config_rebuilds_the_graph():
    assert repr(rebuild_from_config(diamond())) == repr(diamond())
    config = diamond().get_config()
    assert config["inputs"] == "x" and config["output"] == "out"
    assert isinstance(config["nodes"]["h"][0], tn.Dense) and config["nodes"]["sum"][1] == ["h", "a", "h"]


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


def two_input_graph(output="o"):
    return tn.Graph(inputs=["a", "b"], nodes={
        "ha": (tn.Dense(4, 6, rng=0), "a"), "hb": (tn.Dense(3, 6, rng=1), "b"),
        "c": (tn.Concat(), ["ha", "hb"]), "r": (tn.Tanh(), "c"),
        "o": (tn.Dense(12, 2, rng=2), "r"), "p": (tn.Dense(12, 1, rng=3), "r"),
    } if output != "o" else {
        "ha": (tn.Dense(4, 6, rng=0), "a"), "hb": (tn.Dense(3, 6, rng=1), "b"),
        "c": (tn.Concat(), ["ha", "hb"]), "r": (tn.Tanh(), "c"), "o": (tn.Dense(12, 2, rng=2), "r"),
    }, output=output)


def test_several_inputs_by_position_or_by_name():
    graph = two_input_graph()
    rng = np.random.default_rng(0)
    a, b = rng.standard_normal((5, 4)), rng.standard_normal((5, 3))
    by_position, by_name = graph((a, b)), graph({"b": b, "a": a})
    np.testing.assert_array_equal(by_position, by_name)
    assert graph.output_shape([(None, 4), (None, 3)]) == (None, 2)
    assert tn.gradcheck(graph, (a, b)) < 1e-7
    assert set(tn.gradcheck_details(graph, {"a": a, "b": b})) >= {"input[a]", "input[b]"}
    graph.zero_grad()
    graph.forward((a, b))
    assert graph.backward(np.ones((5, 2)), need_input_grad=False) is None


def test_several_outputs_give_a_tuple_and_take_a_tuple_of_gradients():
    graph = two_input_graph(output=["o", "p"])
    rng = np.random.default_rng(1)
    x = (rng.standard_normal((5, 4)), rng.standard_normal((5, 3)))
    o, p = graph.forward(x)
    assert o.shape == (5, 2) and p.shape == (5, 1)
    assert graph.output_shape([(None, 4), (None, 3)]) == ((None, 2), (None, 1))
    graph.zero_grad()
    da, db = graph.backward((np.ones((5, 2)), None))  # None: the second output is not used
    graph.forward(x)
    ea, eb = graph.backward((np.ones((5, 2)), np.zeros((5, 1))))
    np.testing.assert_allclose(da, ea, rtol=1e-12)
    np.testing.assert_allclose(db, eb, rtol=1e-12)


def test_graph_input_errors_name_the_inputs():
    graph = two_input_graph()
    with pytest.raises(ValueError, match=r"Graph has 2 inputs \['a', 'b'\]: pass a tuple of 2 arrays"):
        graph((np.zeros((2, 4)),))
    with pytest.raises(ValueError, match=r"lacks \['b'\] and has unknown \['c'\]"):
        graph({"a": np.zeros((2, 4)), "c": np.zeros((2, 3))})
    with pytest.raises(ValueError, match=r"inputs \['z'\] feed no node"):
        tn.Graph(inputs=["x", "z"], nodes={"h": (tn.Dense(2, 2), "x")}, output="h")
    with pytest.raises(ValueError, match="names one value twice"):
        tn.Graph(inputs=["x", "x"], nodes={"h": (tn.Dense(2, 2), "x")}, output="h")
    with pytest.raises(ValueError, match="backward needs a tuple of as many gradients"):
        g = two_input_graph(output=["o", "p"])
        g.forward((np.zeros((2, 4)), np.zeros((2, 3))))
        g.backward(np.zeros((2, 2)))


def test_a_graph_with_several_inputs_and_outputs_saves_and_loads(tmp_path):
    graph = two_input_graph(output=["o", "p"])
    tn.save(graph, tmp_path / "g.npz")
    loaded = tn.load(tmp_path / "g.npz")
    x = (np.ones((2, 4)), np.ones((2, 3)))
    for mine, theirs in zip(graph(x), loaded(x)):
        np.testing.assert_array_equal(mine, theirs)
    assert repr(loaded) == repr(graph)


def _rounds_order(nodes, inputs):
    """The reference: Kahn's algorithm in rounds, each round's ready nodes in the given order."""
    done, order, pending = set(inputs), [], list(nodes)
    while pending:
        ready = [n for n in pending if all(s in done for s in nodes[n][1])]
        order += ready
        done.update(ready)
        pending = [n for n in pending if n not in done]
    return order


@pytest.mark.parametrize("seed", range(20))
def test_the_linear_sort_gives_the_rounds_order(seed):
    rng = np.random.default_rng(seed)
    names = [f"n{i}" for i in range(30)]
    order = list(rng.permutation(names))  # a random DAG: each node fed by earlier ones in this order
    nodes = {}
    for position, name in enumerate(order):
        earlier = ["x", *order[:position]]
        picks = sorted({earlier[int(i)] for i in rng.integers(0, len(earlier), rng.integers(1, 3))})
        nodes[name] = (tn.Add() if len(picks) > 1 else tn.Identity(), picks)
    used = {s for _, sources in nodes.values() for s in sources}
    outputs = [n for n in nodes if n not in used]
    given = {name: nodes[name] for name in rng.permutation(list(nodes))}  # declared in any order
    graph = tn.Graph("x", given, outputs)
    assert graph._order == _rounds_order({k: (v[0], v[1]) for k, v in given.items()}, ["x"])
