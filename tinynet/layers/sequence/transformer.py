"""`TransformerBlock`: self-attention and a feed-forward net, each in a residual branch."""

from __future__ import annotations

from typing import Any, cast

import numpy as np
from numpy.typing import DTypeLike

from tinynet.engine.checks import check_float_dtype, check_int, check_number
from tinynet.layers.base import Array, Layer, LayerLike
from tinynet.layers.core.activations import GELU
from tinynet.layers.core.dense import Dense
from tinynet.layers.core.dropout import Dropout
from tinynet.layers.initializers import RngLike, as_generator
from tinynet.layers.normalization.layer_norm import LayerNorm
from tinynet.layers.saved_values import marks_pass
from tinynet.layers.sequence.attention import MultiHeadAttention
from tinynet.layers.sequence.positional import checked_sequence

__all__ = ["TransformerBlock"]


class TransformerBlock(Layer):
    """A transformer encoder layer, as PyTorch's ``nn.TransformerEncoderLayer(embed_dim,
    num_heads, ff_dim, dropout, activation="gelu", batch_first=True, norm_first=True)``.

    Shape: ``(B, T, E) -> (B, T, E)``.

    With ``norm_first=True`` (pre-norm, GPT-2's; the default here, not PyTorch's)::

        x = x + dropout1(self_attn(norm1(x)))
        y = x + dropout2(linear2(dropout(gelu(linear1(norm2(x))))))

    and with ``norm_first=False`` (post-norm, the original transformer's)::

        x = norm1(x + dropout1(self_attn(x)))
        y = norm2(x + dropout2(linear2(dropout(gelu(linear1(x))))))

    ``linear1`` is ``Dense(E, ff_dim)``, ``linear2`` ``Dense(ff_dim, E)``; each part is a
    layer of its own (its einsum specs are on its page), and the block's backward runs
    them in reverse, adding the residual branch's gradient to the skip's. Parameters
    carry PyTorch's names (``self_attn.in_proj_weight``, ``linear1.weight``,
    ``norm1.weight``, ...), so a PyTorch state dict loads by name.
    """

    input_ndim = 3

    def __init__(self, embed_dim: int, num_heads: int, ff_dim: int, causal: bool = False,
                 dropout: float = 0.0, norm_first: bool = True, eps: float = 1e-5, rng: RngLike = None,
                 dtype: DTypeLike = np.float64) -> None:
        self.embed_dim = check_int(embed_dim, "TransformerBlock embed_dim", minimum=1)
        self.num_heads = check_int(num_heads, "TransformerBlock num_heads", minimum=1)
        self.ff_dim = check_int(ff_dim, "TransformerBlock ff_dim", minimum=1)
        self.dropout_p = check_number(dropout, "TransformerBlock dropout", low=0, high=1, high_open=True)
        if not isinstance(norm_first, (bool, np.bool_)):
            raise TypeError(f"TransformerBlock norm_first must be True or False, got {norm_first!r}")
        self.norm_first = bool(norm_first)
        self.eps = check_number(eps, "TransformerBlock eps", low=0, low_open=True)
        gen = as_generator(rng, "TransformerBlock rng")
        dt = check_float_dtype(dtype, "TransformerBlock dtype")
        e = self.embed_dim
        self.self_attn = MultiHeadAttention(e, num_heads, causal=causal, dropout=dropout, rng=gen, dtype=dt)
        self.linear1 = Dense(e, self.ff_dim, init="he_normal", rng=gen, dtype=dt)
        self.dropout = Dropout(dropout, rng=gen)
        self.linear2 = Dense(self.ff_dim, e, init="glorot_uniform", rng=gen, dtype=dt)
        self.norm1 = LayerNorm(e, eps=eps, dtype=dt)
        self.norm2 = LayerNorm(e, eps=eps, dtype=dt)
        self.dropout1 = Dropout(dropout, rng=gen)
        self.dropout2 = Dropout(dropout, rng=gen)
        self.activation = GELU()

    @property
    def causal(self) -> bool:
        """Whether each position attends only to itself and the positions before it."""
        return self.self_attn.causal

    def named_children(self) -> list[tuple[str, LayerLike]]:
        return [(name, getattr(self, name)) for name in
                ("self_attn", "linear1", "dropout", "linear2", "norm1", "norm2", "dropout1", "dropout2",
                 "activation")]

    @marks_pass
    def forward(self, x: Array, training: bool = True) -> Array:
        dtype = self.norm1.weight.data.dtype
        if type(x) is not np.ndarray or x.ndim != 3 or x.shape[-1] != self.embed_dim or x.dtype != dtype:
            x = checked_sequence(x, f"TransformerBlock({self.extra_repr()})", self.embed_dim, dtype)
        if training:
            self.save_for_backward()  # the parts keep their own values; this marks the call
        if self.norm_first:
            x = x + self._attention_branch(self.norm1.forward(x, training), training)
            return x + self._feed_forward_branch(self.norm2.forward(x, training), training)
        x = self.norm1.forward(x + self._attention_branch(x, training), training)
        return self.norm2.forward(x + self._feed_forward_branch(x, training), training)

    def _attention_branch(self, x: Array, training: bool) -> Array:
        return self.dropout1.forward(self.self_attn.forward(x, training), training)

    def _feed_forward_branch(self, x: Array, training: bool) -> Array:
        h = self.activation.forward(self.linear1.forward(x, training), training)
        h = self.dropout.forward(h, training)
        return self.dropout2.forward(self.linear2.forward(h, training), training)

    @marks_pass
    def backward(self, grad_y: Array, need_input_grad: bool = True) -> Array | None:
        self.saved_for_backward()
        if self.norm_first:
            grad = grad_y + _input_grad(self.norm2, self._feed_forward_back(grad_y))
            grad_norm1 = _input_grad(self.self_attn, _input_grad(self.dropout1, grad))
            grad_branch = self.norm1.backward(grad_norm1, need_input_grad)
        else:
            grad = _input_grad(self.norm2, grad_y)
            grad = _input_grad(self.norm1, grad + self._feed_forward_back(grad))
            grad_branch = self.self_attn.backward(_input_grad(self.dropout1, grad), need_input_grad)
        return grad + grad_branch if grad_branch is not None else None

    def _feed_forward_back(self, grad: Array) -> Array:
        grad = _input_grad(self.linear2, _input_grad(self.dropout2, grad))
        grad = _input_grad(self.activation, _input_grad(self.dropout, grad))
        return _input_grad(self.linear1, grad)

    def output_shape(self, input_shape: tuple[int | None, ...]) -> tuple[int | None, ...]:
        return self.self_attn.output_shape(input_shape)

    def get_config(self) -> dict[str, Any]:
        return {"embed_dim": self.embed_dim, "num_heads": self.num_heads, "ff_dim": self.ff_dim,
                "causal": self.causal, "dropout": self.dropout_p, "norm_first": self.norm_first,
                "eps": self.eps, "dtype": self.norm1.weight.dtype.name}

    def extra_repr(self) -> str:
        dtype = self.norm1.weight.dtype
        extra = "".join([", causal=True" if self.causal else "",
                         f", dropout={self.dropout_p}" if self.dropout_p else "",
                         "" if self.norm_first else ", norm_first=False",
                         "" if dtype == np.float64 else f", dtype={dtype}"])
        return f"embed_dim={self.embed_dim}, num_heads={self.num_heads}, ff_dim={self.ff_dim}{extra}"


def _input_grad(layer: LayerLike, grad: Array) -> Array:
    """``layer.backward(grad)``: the gradient of its input (asked for, so never ``None``)."""
    return cast(Array, layer.backward(grad))
