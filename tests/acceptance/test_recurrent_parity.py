"""LSTM and GRU against torch.nn.LSTM / nn.GRU (batch_first=True, float64): parameters copied by
name from torch's named_parameters(), then outputs, the input's gradient and every parameter's
gradient within a relative error of 1e-8."""

from __future__ import annotations

import numpy as np
import pytest

import tinynet as tn

torch = pytest.importorskip("torch")
TOLERANCE = 1e-8


def relative_error(mine: np.ndarray, theirs: object) -> float:
    reference = theirs.detach().numpy() if hasattr(theirs, "detach") else np.asarray(theirs)
    assert np.shape(mine) == reference.shape, (np.shape(mine), reference.shape)
    return float(np.max(np.abs(mine - reference)) / max(np.max(np.abs(reference)), 1e-300))


CASES = {
    "lstm": (tn.LSTM, "LSTM", dict()),
    "lstm-last-state": (tn.LSTM, "LSTM", dict(return_sequences=False)),
    "lstm-no-bias": (tn.LSTM, "LSTM", dict(bias=False)),
    "gru": (tn.GRU, "GRU", dict()),
    "gru-last-state": (tn.GRU, "GRU", dict(return_sequences=False)),
    "gru-no-bias": (tn.GRU, "GRU", dict(bias=False)),
}


@pytest.mark.parametrize("case", list(CASES))
def test_outputs_and_every_gradient_match_pytorch(case):
    cls, torch_name, kwargs = CASES[case]
    batch, steps, inputs, hidden = 3, 9, 5, 6
    torch.manual_seed(0)
    reference = getattr(torch.nn, torch_name)(inputs, hidden, batch_first=True, dtype=torch.float64,
                                              bias=kwargs.get("bias", True))
    layer = cls(inputs, hidden, rng=1, **kwargs)
    for name, tensor in reference.named_parameters():  # torch's state, loaded by name
        getattr(layer, name).data[...] = tensor.detach().numpy()
    assert [n for n, _ in layer.named_parameters()] == [n for n, _ in reference.named_parameters()]

    rng = np.random.default_rng(2)
    x = rng.standard_normal((batch, steps, inputs)) * 1.5
    y = layer.forward(x)
    grad_y = rng.standard_normal(y.shape)
    layer.zero_grad()
    grad_x = layer.backward(grad_y)

    xt = torch.tensor(x, requires_grad=True)
    output, _ = reference(xt)
    yt = output if kwargs.get("return_sequences", True) else output[:, -1]
    yt.backward(torch.tensor(grad_y))
    assert relative_error(y, yt) <= TOLERANCE
    assert relative_error(grad_x, xt.grad) <= TOLERANCE
    for name, tensor in reference.named_parameters():
        assert relative_error(getattr(layer, name).grad, tensor.grad) <= TOLERANCE, name


@pytest.mark.parametrize("cls, torch_name", [(tn.LSTM, "LSTM"), (tn.GRU, "GRU")])
def test_a_trained_stack_matches_pytorch_step_by_step(cls, torch_name):
    """Two stacked layers, a Dense head, MSE and three SGD steps: the weights stay together."""
    rng = np.random.default_rng(3)
    model = tn.Sequential(cls(2, 4, rng=4), cls(4, 3, return_sequences=False, rng=5), tn.Dense(3, 1, rng=6))
    first = getattr(torch.nn, torch_name)(2, 4, batch_first=True, dtype=torch.float64)
    second = getattr(torch.nn, torch_name)(4, 3, batch_first=True, dtype=torch.float64)
    head = torch.nn.Linear(3, 1, dtype=torch.float64)
    with torch.no_grad():
        for layer, module in ((model[0], first), (model[1], second), (model[2], head)):
            for name, tensor in module.named_parameters():
                tensor.copy_(torch.tensor(getattr(layer, name).data))
    x, target = rng.standard_normal((5, 7, 2)), rng.standard_normal((5, 1))
    loss, optimizer = tn.MeanSquaredError(), tn.SGD(model.parameters(), lr=0.5)
    torch_optimizer = torch.optim.SGD([*first.parameters(), *second.parameters(), *head.parameters()], lr=0.5)
    for _ in range(3):
        optimizer.zero_grad()
        loss.forward(model.forward(x), target)
        model.backward(loss.backward())
        optimizer.step()
        torch_optimizer.zero_grad()
        out = head(second(first(torch.tensor(x))[0])[0][:, -1])
        torch.nn.functional.mse_loss(out, torch.tensor(target)).backward()
        torch_optimizer.step()
    for layer, module in ((model[0], first), (model[1], second), (model[2], head)):
        for name, tensor in module.named_parameters():
            assert relative_error(getattr(layer, name).data, tensor) <= TOLERANCE, name
