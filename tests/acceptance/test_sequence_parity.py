"""The sequence layers against PyTorch (float64): parameters copied by name from torch's
``named_parameters()``, then the output, the input's gradient and every parameter's gradient
agree to a relative error of 1e-8."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import tinynet as tn

torch = pytest.importorskip("torch")
TOLERANCE = 1e-8


def relative_error(mine: np.ndarray, theirs: Any) -> float:
    reference = theirs.detach().numpy()
    assert np.shape(mine) == reference.shape, (np.shape(mine), reference.shape)
    return float(np.max(np.abs(mine - reference)) / max(np.max(np.abs(reference)), 1e-300))


def copy_parameters(module: Any, layer: tn.Layer) -> None:
    """PyTorch's parameters into tinynet's, matched by name (the same names, in the same order)."""
    mine = dict(layer.named_parameters())
    theirs = dict(module.named_parameters())
    assert list(mine) == list(theirs)
    for name, param in theirs.items():
        assert mine[name].shape == tuple(param.shape), name
        mine[name].data[...] = param.detach().numpy()


def tensor(array: np.ndarray, grad: bool = True) -> Any:
    return torch.tensor(array, dtype=torch.float64, requires_grad=grad)


def check_against(layer: tn.Layer, module: Any, inputs: list[np.ndarray], run_torch: Any,
                  tn_input: Any = None) -> None:
    """Forward and backward both with the same upstream gradient; compare everything."""
    copy_parameters(module, layer)
    layer.zero_grad()
    y = layer.forward(inputs[0] if tn_input is None else tn_input)
    g = np.random.default_rng(99).standard_normal(y.shape)
    grads = layer.backward(g)
    grads = grads if isinstance(grads, list) else [grads]
    ts = [tensor(a) for a in inputs]
    yt = run_torch(*ts)
    yt.backward(torch.tensor(g))
    assert relative_error(y, yt) <= TOLERANCE
    for mine, theirs in zip(grads, ts):
        assert relative_error(mine, theirs.grad) <= TOLERANCE
    for (name, p), (_, tp) in zip(layer.named_parameters(), module.named_parameters()):
        assert relative_error(p.grad, tp.grad) <= TOLERANCE, name


def test_embedding_matches_nn_embedding_with_padding():
    module = torch.nn.Embedding(12, 6, padding_idx=2, dtype=torch.float64)
    layer = tn.Embedding(12, 6, padding_idx=2)
    ids = np.random.default_rng(0).integers(0, 12, (4, 9))
    copy_parameters(module, layer)
    layer.zero_grad()
    y = layer.forward(ids)
    g = np.random.default_rng(1).standard_normal(y.shape)
    assert layer.backward(g) is None
    yt = module(torch.tensor(ids))
    yt.backward(torch.tensor(g))
    assert relative_error(y, yt) <= TOLERANCE
    assert relative_error(layer.weight.grad, module.weight.grad) <= TOLERANCE


@pytest.mark.parametrize("shape", [(5, 7), (3, 4, 7)])
def test_layer_norm_matches_nn_layer_norm(shape):
    module = torch.nn.LayerNorm(7, dtype=torch.float64)
    with torch.no_grad():  # off the ones/zeros start, so the gradients mean something
        module.weight.normal_()
        module.bias.normal_()
    x = np.random.default_rng(2).standard_normal(shape) * 3 + 1
    check_against(tn.LayerNorm(7), module, [x], module)


def test_rms_norm_matches_nn_rms_norm():
    module = torch.nn.RMSNorm(7, dtype=torch.float64)
    with torch.no_grad():
        module.weight.normal_()
    x = np.random.default_rng(3).standard_normal((3, 4, 7))
    check_against(tn.RMSNorm(7), module, [x], module)


@pytest.mark.parametrize("approximate", ["none", "tanh"])
def test_gelu_matches_nn_gelu(approximate):
    x = np.random.default_rng(4).standard_normal((6, 5)) * 3
    module = torch.nn.GELU(approximate=approximate)
    check_against(tn.GELU(approximate), module, [x], module)


@pytest.mark.parametrize("causal", [False, True], ids=["plain", "causal"])
@pytest.mark.parametrize("bias", [True, False])
def test_self_attention_matches_nn_multihead_attention(causal, bias):
    module = torch.nn.MultiheadAttention(16, 4, bias=bias, batch_first=True, dtype=torch.float64)
    if bias:
        with torch.no_grad():
            module.in_proj_bias.normal_()
            module.out_proj.bias.normal_()
    x = np.random.default_rng(5).standard_normal((3, 6, 16))
    mask = torch.nn.Transformer.generate_square_subsequent_mask(6, dtype=torch.float64) if causal else None

    def run(xt: Any) -> Any:
        return module(xt, xt, xt, attn_mask=mask, is_causal=causal, need_weights=False)[0]

    check_against(tn.MultiHeadAttention(16, 4, bias=bias, causal=causal), module, [x], run)


def test_cross_attention_with_a_key_padding_mask_matches_pytorch():
    module = torch.nn.MultiheadAttention(8, 2, batch_first=True, dtype=torch.float64)
    rng = np.random.default_rng(6)
    query, context = rng.standard_normal((3, 5, 8)), rng.standard_normal((3, 7, 8))
    padding = np.zeros((3, 7), bool)
    padding[0, 4:] = padding[2, 1:] = True  # rows with padding, none fully masked (PyTorch gives NaN)

    def run(qt: Any, ct: Any) -> Any:
        return module(qt, ct, ct, key_padding_mask=torch.tensor(padding), need_weights=False)[0]

    check_against(tn.MultiHeadAttention(8, 2), module, [query, context], run,
                  tn_input=[query, context, padding])


@pytest.mark.parametrize("norm_first", [True, False], ids=["pre-norm", "post-norm"])
@pytest.mark.parametrize("causal", [False, True], ids=["plain", "causal"])
def test_transformer_block_matches_transformer_encoder_layer(norm_first, causal):
    module = torch.nn.TransformerEncoderLayer(16, 4, 24, dropout=0.0, activation="gelu", batch_first=True,
                                              norm_first=norm_first, dtype=torch.float64)
    with torch.no_grad():
        for name, param in module.named_parameters():
            if name.startswith("norm") or name.endswith("in_proj_bias") or name.endswith("out_proj.bias"):
                param.normal_()
    x = np.random.default_rng(7).standard_normal((3, 6, 16))
    mask = torch.nn.Transformer.generate_square_subsequent_mask(6, dtype=torch.float64) if causal else None

    def run(xt: Any) -> Any:
        return module(xt, src_mask=mask, is_causal=causal)

    block = tn.TransformerBlock(16, 4, 24, causal=causal, norm_first=norm_first)
    check_against(block, module, [x], run)


def test_a_pytorch_state_dict_loads_by_name_into_a_tinynet_model(tmp_path):
    """The names line up for a whole model: torch's state dict, saved as numpy arrays, loads
    into tinynet's Embedding -> PositionalEmbedding -> TransformerBlock -> Dense stack."""
    torch.manual_seed(0)
    blocks = torch.nn.ModuleList([torch.nn.TransformerEncoderLayer(
        8, 2, 16, dropout=0.0, activation="gelu", batch_first=True, norm_first=True, dtype=torch.float64)])
    state = {f"2.{name}": value.numpy() for name, value in blocks[0].state_dict().items()}
    model = tn.Sequential(tn.Embedding(5, 8), tn.PositionalEmbedding(4, 8), tn.TransformerBlock(8, 2, 16),
                          tn.Dense(8, 5))
    params = dict(model.named_parameters())
    for name, value in state.items():
        params[name].data[...] = value
    ids = np.random.default_rng(8).integers(0, 5, (2, 4))
    hidden = model[1](model[0](ids))
    reference = blocks[0](torch.tensor(hidden)).detach().numpy()
    np.testing.assert_allclose(model[2](hidden), reference, rtol=1e-12, atol=1e-13)
