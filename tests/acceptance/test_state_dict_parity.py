"""State dicts both ways with PyTorch, for every layer that has a ``torch.nn`` counterpart.

Each case: a torch model trained a few steps (so batch norm's running statistics are
not the initial ones) gives its state dict to the same tinynet model, and both give
the same eval-mode outputs; the tinynet model trained a few steps further gives its
state dict back to torch, loaded with ``strict=True``, and again the outputs agree.
Everything in float64, to 1e-12.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pytest

import tinynet as tn

torch = pytest.importorskip("torch")
nn = torch.nn
TOLERANCE = 1e-12


@dataclass
class Case:
    torch_model: Callable[[], Any]
    tiny_model: Callable[[], tn.Layer]
    x: Callable[[np.random.Generator], np.ndarray]
    run_torch: Callable[[Any, Any], Any] = lambda model, x: model(x)


class TorchResidual(nn.Module):
    def __init__(self, block: Any) -> None:
        super().__init__()
        self.block = block

    def forward(self, x: Any) -> Any:
        return x + self.block(x)


class TorchConcat(nn.ModuleList):
    """tn.Parallel(join="concat"): children "0", "1", ... on the same input."""

    def forward(self, x: Any) -> Any:
        return torch.cat([branch(x) for branch in self], dim=-1)


class TorchGraph(nn.ModuleDict):
    """The tinynet graph of test_graph below: x -> a, x -> b, [a, b] -> sum -> out."""

    def forward(self, x: Any) -> Any:
        return self["out"](torch.tanh(self["a"](x) + self["b"](x)))


def tiny_graph() -> tn.Graph:
    return tn.Graph(inputs="x", nodes={
        "a": (tn.Dense(5, 6, rng=0), "x"), "b": (tn.Dense(5, 6, rng=1), "x"),
        "sum": (tn.Add(), ["a", "b"]), "act": (tn.Tanh(), "sum"), "out": (tn.Dense(6, 3, rng=2), "act")},
        output="out")


def torch_graph() -> Any:
    return TorchGraph({"a": nn.Linear(5, 6), "b": nn.Linear(5, 6), "out": nn.Linear(6, 3)})


def features(*shape: int) -> Callable[[np.random.Generator], np.ndarray]:
    return lambda rng: rng.standard_normal((8, *shape))


CASES = {
    # Must-show 1: Linear, BatchNorm1d, LeakyReLU, Linear
    "mlp_with_batch_norm": Case(
        lambda: nn.Sequential(nn.Linear(5, 8), nn.BatchNorm1d(8), nn.LeakyReLU(0.01), nn.Linear(8, 3)),
        lambda: tn.Sequential(tn.Dense(5, 8, rng=0), tn.BatchNorm(8), tn.LeakyReLU(0.01),
                              tn.Dense(8, 3, rng=1)),
        features(5)),
    "conv2d_batch_norm_2d": Case(
        lambda: nn.Sequential(nn.Conv2d(2, 4, 3, padding=1), nn.BatchNorm2d(4), nn.ReLU(),
                              nn.Conv2d(4, 3, (2, 3), stride=2)),
        lambda: tn.Sequential(tn.Conv2D(2, 4, 3, padding=1, rng=0), tn.BatchNorm(4), tn.ReLU(),
                              tn.Conv2D(4, 3, (2, 3), stride=2, rng=1)),
        features(2, 7, 6)),
    "conv1d": Case(lambda: nn.Conv1d(3, 4, 3, padding=1), lambda: tn.Conv1D(3, 4, 3, padding=1, rng=0),
                   features(3, 9)),
    "embedding": Case(lambda: nn.Embedding(10, 4), lambda: tn.Embedding(10, 4, rng=0),
                      lambda rng: rng.integers(0, 10, (8, 5))),
    "layer_norm": Case(lambda: nn.Sequential(nn.Linear(6, 6), nn.LayerNorm(6)),
                       lambda: tn.Sequential(tn.Dense(6, 6, rng=0), tn.LayerNorm(6)), features(3, 6)),
    "rms_norm": Case(lambda: nn.Sequential(nn.Linear(6, 6), nn.RMSNorm(6)),
                     lambda: tn.Sequential(tn.Dense(6, 6, rng=0), tn.RMSNorm(6)), features(3, 6)),
    "multi_head_attention": Case(
        lambda: nn.MultiheadAttention(8, 2, batch_first=True), lambda: tn.MultiHeadAttention(8, 2, rng=0),
        features(5, 8), lambda model, x: model(x, x, x, need_weights=False)[0]),
    "lstm": Case(lambda: nn.LSTM(4, 5, batch_first=True), lambda: tn.LSTM(4, 5, rng=0), features(6, 4),
                 lambda model, x: model(x)[0]),
    "gru": Case(lambda: nn.GRU(4, 5, batch_first=True), lambda: tn.GRU(4, 5, rng=0), features(6, 4),
                lambda model, x: model(x)[0]),
    "transformer_encoder_layer": Case(
        lambda: nn.TransformerEncoderLayer(8, 2, 16, dropout=0.0, activation="gelu", batch_first=True,
                                           norm_first=True),
        lambda: tn.TransformerBlock(8, 2, 16, norm_first=True, rng=0), features(5, 8)),
    "post_norm_transformer_encoder_layer": Case(
        lambda: nn.TransformerEncoderLayer(8, 2, 16, dropout=0.0, activation="gelu", batch_first=True),
        lambda: tn.TransformerBlock(8, 2, 16, norm_first=False, rng=0), features(5, 8)),
    "residual_and_parallel": Case(
        lambda: nn.Sequential(TorchResidual(nn.Sequential(nn.Linear(5, 5), nn.Tanh(), nn.Linear(5, 5))),
                              TorchConcat([nn.Linear(5, 3), nn.Linear(5, 2)]), nn.Linear(5, 2)),
        lambda: tn.Sequential(
            tn.Residual(tn.Sequential(tn.Dense(5, 5, rng=0), tn.Tanh(), tn.Dense(5, 5, rng=1))),
            tn.Parallel(tn.Dense(5, 3, rng=2), tn.Dense(5, 2, rng=3)), tn.Dense(5, 2, rng=4)),
        features(5)),
    "graph": Case(torch_graph, tiny_graph, features(5)),
}


def torch_outputs(model: Any, case: Case, x: np.ndarray) -> np.ndarray:
    model.eval()
    with torch.no_grad():
        return case.run_torch(model, torch.from_numpy(x)).numpy()


def train_torch(model: Any, case: Case, x: np.ndarray, steps: int = 3) -> None:
    """Plain gradient steps (torch.optim would import torch's compiler: seconds)."""
    model.train()
    for _ in range(steps):
        model.zero_grad()
        case.run_torch(model, torch.from_numpy(x)).pow(2).mean().backward()
        with torch.no_grad():
            for param in model.parameters():
                if param.grad is not None:
                    param -= 0.1 * param.grad


def train_tinynet(model: tn.Layer, x: np.ndarray, steps: int = 3) -> None:
    optimizer = tn.SGD(model.parameters(), lr=0.1)
    for _ in range(steps):
        y = model.forward(x, training=True)
        optimizer.zero_grad()
        model.backward(2 * y / y.size)
        optimizer.step()


@pytest.mark.parametrize("name", list(CASES))
def test_state_dicts_load_both_ways_and_give_the_same_outputs(name: str) -> None:
    case = CASES[name]
    rng = np.random.default_rng(0)
    x, x_new = case.x(rng), case.x(rng)
    torch.manual_seed(0)
    theirs = case.torch_model().double()
    train_torch(theirs, case, x)

    mine = case.tiny_model()
    exported = theirs.state_dict()
    counters = {key for key in exported if key.endswith("num_batches_tracked")}
    assert list(mine.state_dict()) == [key for key in exported if key not in counters]  # torch's keys
    assert repr(mine.load_state_dict(exported, strict=True)) == "<All keys matched successfully>"
    np.testing.assert_allclose(mine(x_new), torch_outputs(theirs, case, x_new),
                               rtol=TOLERANCE, atol=TOLERANCE)

    train_tinynet(mine, x)
    before = torch_outputs(theirs, case, x_new)
    state = mine.state_dict()
    assert all(array.dtype == np.float64 for array in state.values())
    result = theirs.load_state_dict({k: torch.from_numpy(v) for k, v in state.items()}, strict=True)
    assert not result.missing_keys and not result.unexpected_keys
    after = torch_outputs(theirs, case, x_new)
    assert np.abs(after - before).max() > 1e-6  # the load changed torch's model ...
    np.testing.assert_allclose(mine(x_new), after, rtol=TOLERANCE, atol=TOLERANCE)  # ... into tinynet's


def test_running_statistics_come_across_both_ways() -> None:
    """After training, BatchNorm's running mean and variance are torch's (and back)."""
    case = CASES["mlp_with_batch_norm"]
    x = case.x(np.random.default_rng(1))
    torch.manual_seed(1)
    theirs = case.torch_model().double()
    train_torch(theirs, case, x, steps=4)
    mine = case.tiny_model()
    mine.load_state_dict(theirs.state_dict())
    np.testing.assert_array_equal(mine[1].running_var, theirs[1].running_var.numpy())
    assert not np.allclose(mine[1].running_var, 1.0)
    train_tinynet(mine, x)
    theirs.load_state_dict({k: torch.from_numpy(v) for k, v in mine.state_dict().items()})
    np.testing.assert_array_equal(theirs[1].running_mean.numpy(), mine[1].running_mean)
    assert int(theirs[1].num_batches_tracked) == 4  # torch keeps its own count (tinynet keeps none)


def test_a_float32_torch_model_loads_into_float64_and_float32_models() -> None:
    torch.manual_seed(2)
    theirs = nn.Sequential(nn.Linear(5, 8), nn.BatchNorm1d(8), nn.LeakyReLU(0.01), nn.Linear(8, 3))
    x = np.random.default_rng(2).standard_normal((6, 5)).astype(np.float32)
    expected = torch_outputs(theirs, CASES["mlp_with_batch_norm"], x)
    for dtype, tolerance in ((np.float64, 1e-6), (np.float32, 1e-6)):
        mine = tn.Sequential(tn.Dense(5, 8, dtype=dtype), tn.BatchNorm(8, dtype=dtype), tn.LeakyReLU(0.01),
                             tn.Dense(8, 3, dtype=dtype))
        mine.load_state_dict(theirs.state_dict())
        assert all(a.dtype == dtype for a in mine.state_dict().values())
        np.testing.assert_allclose(mine(x.astype(dtype)), expected, rtol=tolerance, atol=tolerance)


def test_a_tensor_that_requires_grad_is_read_without_torch_being_imported_by_tinynet() -> None:
    theirs = nn.Linear(3, 2).double()
    mine = tn.Dense(3, 2)
    mine.load_state_dict(dict(theirs.named_parameters()))  # Parameters: requires_grad=True
    np.testing.assert_array_equal(mine.weight.data, theirs.weight.detach().numpy())
