"""Gradient clipping: torch.nn.utils.clip_grad_norm_ / clip_grad_value_ on the same gradients,
the returned norm, non-finite norms, and fit's clip_grad_norm= / clip_grad_value=."""

import math

import numpy as np
import pytest
from helpers.runs import small_problem

import tinynet as tn
from tinynet.optim.clipping import clipped_step


def gradients(scale: float) -> list[np.ndarray]:
    rng = np.random.default_rng(0)
    return [rng.standard_normal(shape) * scale for shape in ((4, 3), (3,), (2, 2, 2))]


def tinynet_params(grads: list[np.ndarray]) -> list[tn.Parameter]:
    params = [tn.Parameter(np.zeros_like(g), f"p{i}") for i, g in enumerate(grads)]
    for p, g in zip(params, grads):
        p.grad = g.copy()
    return params


def torch_params(grads: list[np.ndarray]) -> list:
    torch = pytest.importorskip("torch")
    tensors = [torch.zeros(g.shape, dtype=torch.float64, requires_grad=True) for g in grads]
    for t, g in zip(tensors, grads):
        t.grad = torch.tensor(g)
    return tensors


@pytest.mark.parametrize("norm_type", [2.0, 1.0, 3.0, math.inf])
@pytest.mark.parametrize("scale", [0.01, 1.0, 100.0])  # below, around and above max_norm
def test_clip_grad_norm_matches_pytorch(norm_type, scale):
    torch = pytest.importorskip("torch")
    grads = gradients(scale)
    params, tensors = tinynet_params(grads), torch_params(grads)
    total = tn.clip_grad_norm(params, max_norm=1.5, norm_type=norm_type)
    want = torch.nn.utils.clip_grad_norm_(tensors, max_norm=1.5, norm_type=norm_type)
    assert total == pytest.approx(want.item(), rel=1e-12)
    for p, t in zip(params, tensors):
        np.testing.assert_allclose(p.grad, t.grad.numpy(), rtol=1e-12, atol=1e-15)
    if scale == 100.0:  # clipped: the new global norm is max_norm (up to the 1e-6 guard)
        assert np.linalg.norm(np.concatenate([p.grad.ravel() for p in params]), ord=norm_type) == \
            pytest.approx(1.5, rel=1e-6)
    if scale == 0.01:  # below max_norm: left exactly as they were
        for p, g in zip(params, grads):
            np.testing.assert_array_equal(p.grad, g)


@pytest.mark.parametrize("clip_value", [0.1, 0.5, 3.0])
def test_clip_grad_value_matches_pytorch(clip_value):
    torch = pytest.importorskip("torch")
    grads = gradients(1.0)
    params, tensors = tinynet_params(grads), torch_params(grads)
    tn.clip_grad_value(params, clip_value)
    torch.nn.utils.clip_grad_value_(tensors, clip_value)
    for p, t in zip(params, tensors):
        np.testing.assert_array_equal(p.grad, t.grad.numpy())
        assert np.abs(p.grad).max() <= clip_value


def test_one_parameter_float32_and_a_model():
    p = tn.Parameter(np.zeros(3, np.float32))
    p.grad[...] = [3.0, 4.0, 0.0]
    assert tn.clip_grad_norm(p, 1.0) == pytest.approx(5.0)
    assert p.grad.dtype == np.float32
    np.testing.assert_allclose(p.grad, [0.6, 0.8, 0.0], rtol=1e-5)
    model = tn.Dense(3, 2, rng=0)
    model.weight.grad[...] = 10.0
    tn.clip_grad_value(model.parameters(), 0.5)
    assert np.all(model.weight.grad == 0.5) and np.all(model.bias.grad == 0.0)


def test_non_finite_norms_as_pytorch_or_an_error():
    p = tn.Parameter(np.zeros(3))
    p.grad[...] = [1.0, np.inf, 2.0]
    with pytest.raises(RuntimeError, match="total norm of order 2.0 of the gradients is inf"):
        tn.clip_grad_norm(p, 1.0, error_if_nonfinite=True)
    with np.errstate(invalid="ignore"):  # inf * 0
        assert tn.clip_grad_norm(p, 1.0) == math.inf  # PyTorch scales by max_norm / inf = 0
    assert p.grad[0] == 0.0 and np.isnan(p.grad[1])


def test_bad_arguments_name_themselves():
    p = tn.Parameter(np.zeros(3))
    with pytest.raises(ValueError, match="clip_grad_norm max_norm must be a finite number > 0, got 0"):
        tn.clip_grad_norm([p], 0)
    with pytest.raises(ValueError, match="norm_type must be a number > 0 or math.inf, got -1"):
        tn.clip_grad_norm([p], 1.0, norm_type=-1)
    with pytest.raises(TypeError, match=r"clip_grad_value: parameters\[0\] must be a tinynet.Parameter"):
        tn.clip_grad_value([np.zeros(3)], 1.0)


def test_fit_without_clipping_steps_the_optimizer_itself():
    optimizer = tn.SGD([tn.Parameter(np.zeros(2))], lr=0.1)
    assert clipped_step(optimizer.step, optimizer.params) == optimizer.step  # nothing per step


@pytest.mark.parametrize("option, clip", [("clip_grad_norm", tn.clip_grad_norm),
                                          ("clip_grad_value", tn.clip_grad_value)])
def test_fit_clips_like_the_hand_written_loop(option, clip):
    x, y, model = small_problem()
    loader = tn.DataLoader(x, y, batch_size=40)
    tn.fit(model, tn.SoftmaxCrossEntropy(), tn.SGD(model.parameters(), lr=0.5), loader, 3,
           progress="none", **{option: 0.05})
    _, _, again = small_problem()
    loss, optimizer = tn.SoftmaxCrossEntropy(), tn.SGD(again.parameters(), lr=0.5)
    for _ in range(3):
        for xb, yb in loader:
            optimizer.zero_grad()
            loss.forward(again.forward(xb), yb)
            again.backward(loss.backward())
            clip(again.parameters(), 0.05)
            optimizer.step()
    for mine, theirs in zip(model.parameters(), again.parameters()):
        np.testing.assert_allclose(mine.data, theirs.data, rtol=1e-12, atol=1e-15)
    _, _, unclipped = small_problem()
    tn.fit(unclipped, tn.SoftmaxCrossEntropy(), tn.SGD(unclipped.parameters(), lr=0.5), loader, 3,
           progress="none")
    assert not np.allclose(unclipped.parameters()[0].data, model.parameters()[0].data)


def test_fit_refuses_both_clippings_and_a_bad_value():
    x, y, model = small_problem()
    args = (model, tn.SoftmaxCrossEntropy(), tn.SGD(model.parameters(), lr=0.1), tn.DataLoader(x, y), 1)
    with pytest.raises(ValueError, match="clip_grad_norm or clip_grad_value, not both"):
        tn.fit(*args, progress="none", clip_grad_norm=1.0, clip_grad_value=1.0)
    with pytest.raises(ValueError, match="fit clip_grad_norm must be a finite number > 0, got -1"):
        tn.fit(*args, progress="none", clip_grad_norm=-1)
