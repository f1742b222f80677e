"""`MultiHeadAttention`: scaled dot-product attention over several heads, in einsum."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, cast

import numpy as np
from numpy.typing import DTypeLike

from tinynet.engine.checks import check_float_dtype, check_int, check_number
from tinynet.engine.contraction import Plans, einsum
from tinynet.engine.types import Shape
from tinynet.layers.base import Array, LayerLike
from tinynet.layers.containers.merging import Merge
from tinynet.layers.core.dense import Dense
from tinynet.layers.initializers import Initializer, RngLike, as_generator, init_config, init_weight_and_bias
from tinynet.layers.input_checks import numeric_array
from tinynet.layers.parameter import Parameter

__all__ = ["MultiHeadAttention", "masked_softmax"]


def masked_softmax(scores: Array, masked: Array | None = None) -> Array:
    """Softmax over the last axis that gives the ``masked`` entries (True) probability 0,
    computed in place: ``scores`` becomes the result.

    Shape: ``(..., k) -> (..., k)``; ``masked`` broadcasts against ``scores``.

    The row maximum is subtracted first (no overflow). A row whose every entry is
    masked gets all zeros, never NaN (a softmax of a row of ``-inf`` would be
    ``0 / 0``): it attends to nothing.
    """
    if masked is not None:
        np.copyto(scores, -np.inf, where=masked)
    top = scores.max(axis=-1, keepdims=True)
    if masked is not None:
        top[np.isneginf(top)] = 0  # a fully masked row: exp(-inf - 0) = 0 everywhere
    scores -= top
    p = np.exp(scores, out=scores)
    total = p.sum(axis=-1, keepdims=True)
    if masked is not None:
        total[total == 0] = 1
    p /= total
    return p


class MultiHeadAttention(Merge):
    """Multi-head scaled dot-product attention (Vaswani et al. 2017), as PyTorch's
    ``nn.MultiheadAttention(embed_dim, num_heads, batch_first=True)``.

    Shape: self-attention ``(B, T, E) -> (B, T, E)``; cross-attention
    ``[query (B, Tq, E), context (B, Tk, E)] -> (B, Tq, E)``, optionally with a third
    input ``key_padding_mask (B, Tk)`` (True or 1 = that key is padding, attended by no
    query). A list is what a :class:`tinynet.Graph` node with several sources passes, so
    cross-attention is a node ``(tn.MultiHeadAttention(E, h), ["query", "context"])``.

    Indices: ``B`` batch, ``q``/``k`` query/key positions (``T`` either), ``h`` head,
    ``d`` = ``E / h`` per head, ``e`` embedding, ``f = (s, h, d)`` with ``s`` picking the
    query, key or value block of ``in_proj_weight (3E, E)``. With ``c = 1/sqrt(d)``::

        [Q|K|V][B,T,f] = sum_e x[B,T,e] W[f,e] + b[f]            PROJECT      "BTe,fe->BTf"
        a[B,h,q,k]     = c sum_d Q[B,q,h,d] K[B,k,h,d]           SCORES       "Bqhd,Bkhd->Bhqk"
        p              = softmax_k(a), masked entries 0          (causal: k > q masked)
        o[B,q,h,d]     = sum_k p[B,h,q,k] V[B,k,h,d]             MIX          "Bhqk,Bkhd->Bqhd"
        y[B,q,:]       = out_proj(o[B,q,(h d)])                  (a Dense: "...i,oi->...o")

    Backward, each the forward's spec with the indices moved (``g`` = dL/do)::

        dV[B,k,h,d]  = sum_q p[B,h,q,k] g[B,q,h,d]               GRAD_V       "Bhqk,Bqhd->Bkhd"
        dp[B,h,q,k]  = sum_d g[B,q,h,d] V[B,k,h,d]               GRAD_P       "Bqhd,Bkhd->Bhqk"
        da           = p (dp - sum_k dp p)                       ROW_DOT      "Bhqk,Bhqk->Bhq"
        dQ[B,q,h,d]  = c sum_k da[B,h,q,k] K[B,k,h,d]            GRAD_Q       "Bhqk,Bkhd->Bqhd"
        dK[B,k,h,d]  = c sum_q da[B,h,q,k] Q[B,q,h,d]            GRAD_K       "Bhqk,Bqhd->Bkhd"
        dW[f,e]     += sum_{B,T} d[Q|K|V][B,T,f] x[B,T,e]        GRAD_WEIGHT  "BTf,BTe->fe"
        db[f]       += sum_{B,T} d[Q|K|V][B,T,f]                 GRAD_BIAS    "BTf->f"
        dx[B,T,e]    = sum_f d[Q|K|V][B,T,f] W[f,e]              GRAD_INPUT   "BTf,fe->BTe"

    Cross-attention projects the query with the first ``E`` rows of ``W`` and the
    context with the other ``2E``. ``causal=True`` masks every key after the query's
    position; ``dropout`` zeroes attention weights while training (PyTorch's place
    for it). Parameters carry PyTorch's names and layouts: ``in_proj_weight (3E, E)``,
    ``in_proj_bias (3E,)``, ``out_proj.weight (E, E)``, ``out_proj.bias (E,)``, so a
    PyTorch state dict loads by name. ``init`` (default Glorot-uniform, PyTorch's for
    ``in_proj_weight``) draws both weights; the biases start at zero.
    """

    PROJECT = "BTe,fe->BTf"
    SCORES = "Bqhd,Bkhd->Bhqk"
    MIX = "Bhqk,Bkhd->Bqhd"
    GRAD_V = "Bhqk,Bqhd->Bkhd"
    GRAD_P = "Bqhd,Bkhd->Bhqk"
    ROW_DOT = "Bhqk,Bhqk->Bhq"
    GRAD_Q = "Bhqk,Bkhd->Bqhd"
    GRAD_K = "Bhqk,Bqhd->Bkhd"
    GRAD_WEIGHT = "BTf,BTe->fe"
    GRAD_BIAS = "BTf->f"
    GRAD_INPUT = "BTf,fe->BTe"

    input_ndim = 3

    def __init__(self, embed_dim: int, num_heads: int, bias: bool = True, causal: bool = False,
                 dropout: float = 0.0, init: str | Initializer = "glorot_uniform", rng: RngLike = None,
                 dtype: DTypeLike = np.float64) -> None:
        self.embed_dim = check_int(embed_dim, "MultiHeadAttention embed_dim", minimum=1)
        self.num_heads = check_int(num_heads, "MultiHeadAttention num_heads", minimum=1)
        if self.embed_dim % self.num_heads:
            raise ValueError(f"MultiHeadAttention embed_dim must be divisible by num_heads (each head "
                             f"gets embed_dim / num_heads features), got embed_dim={embed_dim} and "
                             f"num_heads={num_heads}")
        self.head_dim = self.embed_dim // self.num_heads
        for name, flag in (("bias", bias), ("causal", causal)):
            if not isinstance(flag, (bool, np.bool_)):
                raise TypeError(f"MultiHeadAttention {name} must be True or False, got {flag!r}")
        self.causal = bool(causal)
        self.dropout = check_number(dropout, "MultiHeadAttention dropout", low=0, high=1, high_open=True)
        self.init = init
        self.rng = as_generator(rng, "MultiHeadAttention rng")
        dt = check_float_dtype(dtype, "MultiHeadAttention dtype")
        e = self.embed_dim
        weight, bias_data = init_weight_and_bias(init, self.rng, (3 * e, e), (3 * e,) if bias else None,
                                                 e, 3 * e, dt, "MultiHeadAttention")
        self.in_proj_weight = Parameter(weight, "in_proj_weight")
        self.in_proj_bias = None if bias_data is None else Parameter(bias_data, "in_proj_bias")
        self.out_proj = Dense(e, e, bias=bool(bias), init=init, rng=self.rng, dtype=dt)
        self.plans = Plans()
        self._causal_masks: dict[tuple[int, int], Array] = {}

    @property
    def bias(self) -> bool:
        """Whether the projections have biases (the constructor's ``bias``)."""
        return self.in_proj_bias is not None

    def named_children(self) -> list[tuple[str, LayerLike]]:
        return [("out_proj", self.out_proj)]

    # -- forward ------------------------------------------------------------------------------
    def forward(self, x: Array | Sequence[Array], training: bool = True) -> Array:
        query, context, padding = self._inputs(x)
        w = self.in_proj_weight.data
        b = None if self.in_proj_bias is None else self.in_proj_bias.data
        e, heads = self.embed_dim, (self.num_heads, self.head_dim)
        if context is None:  # self-attention: Q, K and V in one product
            qkv = self.plans[self.PROJECT](query, w)
            if b is not None:
                qkv += b
            q, k, v = np.moveaxis(qkv.reshape(*query.shape[:2], 3, *heads), 2, 0)
        else:  # cross-attention: Q from the query, K and V from the context
            q = einsum(self.PROJECT, query, w[:e])
            kv = einsum(self.PROJECT, context, w[e:])
            if b is not None:
                q += b[:e]
                kv += b[e:]
            q = q.reshape(*query.shape[:2], *heads)
            k, v = np.moveaxis(kv.reshape(*context.shape[:2], 2, *heads), 2, 0)
        scores = self.plans[self.SCORES](q, k)
        scores *= scores.dtype.type(1 / np.sqrt(self.head_dim))
        p = masked_softmax(scores, self._mask(q.shape[1], k.shape[1], padding))
        keep = None  # dropout on the attention weights: the kept ones scaled by 1 / (1 - dropout)
        if training and self.dropout > 0:
            keep = (self.rng.random(p.shape, dtype=p.dtype) >= p.dtype.type(self.dropout)) \
                * p.dtype.type(1 / (1 - self.dropout))
        o = self.plans[self.MIX](p if keep is None else p * keep, v)
        if training:
            self.save_for_backward(query, context, padding is not None, isinstance(x, (list, tuple)),
                                   q, k, v, p, keep)
        return self.out_proj.forward(o.reshape(*o.shape[:2], e), training)

    def _mask(self, queries: int, keys: int, padding: Array | None) -> Array | None:
        """True where a query may not look: ``(Tq, Tk)`` causal, ``(B, 1, 1, Tk)`` padding, or both."""
        masked = None
        if self.causal:
            masked = self._causal_masks.get((queries, keys))
            if masked is None:
                masked = self._causal_masks[(queries, keys)] = np.triu(np.ones((queries, keys), bool), 1)
        if padding is not None:
            padded = padding[:, None, None, :]
            masked = padded if masked is None else masked | padded
        return masked

    # -- backward -----------------------------------------------------------------------------
    def backward(self, grad_y: Array, need_input_grad: bool = True) -> Any:
        query, context, has_padding, as_list, q, k, v, p, keep = self.saved_for_backward()
        grad_o = cast(Array, self.out_proj.backward(grad_y)).reshape(q.shape)
        mixed = p if keep is None else p * keep
        grad_v = self.plans[self.GRAD_V](mixed, grad_o)
        grad_p = self.plans[self.GRAD_P](grad_o, v)
        if keep is not None:
            grad_p *= keep
        grad_a = grad_p  # in place: da = c p (dp - sum_k dp p)
        grad_a -= self.plans[self.ROW_DOT](grad_p, p)[..., None]
        grad_a *= p
        grad_a *= grad_a.dtype.type(1 / np.sqrt(self.head_dim))
        grad_q = self.plans[self.GRAD_Q](grad_a, k)
        grad_k = self.plans[self.GRAD_K](grad_a, q)
        e = self.embed_dim
        if context is None:
            batch, steps = query.shape[:2]
            grad_qkv = np.empty((batch, steps, 3, *q.shape[2:]), dtype=grad_q.dtype)
            grad_qkv[:, :, 0], grad_qkv[:, :, 1], grad_qkv[:, :, 2] = grad_q, grad_k, grad_v
            grad_f = grad_qkv.reshape(batch, steps, 3 * e)
            self.in_proj_weight.accumulate(self.GRAD_WEIGHT, grad_f, query)
            if self.in_proj_bias is not None:
                self.in_proj_bias.accumulate(self.GRAD_BIAS, grad_f)
            if not need_input_grad and not as_list:
                return None
            grad_x = self.plans[self.GRAD_INPUT](grad_f, self.in_proj_weight.data)
            return [grad_x] if as_list else grad_x
        grad_fq = grad_q.reshape(*query.shape[:2], e)
        grad_kv = np.empty((*context.shape[:2], 2, *q.shape[2:]), dtype=grad_k.dtype)
        grad_kv[:, :, 0], grad_kv[:, :, 1] = grad_k, grad_v
        grad_fkv = grad_kv.reshape(*context.shape[:2], 2 * e)
        w = self.in_proj_weight.data
        grad_w = np.empty_like(w)
        einsum(self.GRAD_WEIGHT, grad_fq, query, out=grad_w[:e])
        einsum(self.GRAD_WEIGHT, grad_fkv, context, out=grad_w[e:])
        self.in_proj_weight.add_grad(grad_w)
        if self.in_proj_bias is not None:
            self.in_proj_bias.add_grad(np.concatenate([einsum(self.GRAD_BIAS, grad_fq),
                                                       einsum(self.GRAD_BIAS, grad_fkv)]))
        grads = [einsum(self.GRAD_INPUT, grad_fq, w[:e]), einsum(self.GRAD_INPUT, grad_fkv, w[e:])]
        return grads + [None] if has_padding else grads

    # -- inputs and shapes --------------------------------------------------------------------
    def _inputs(self, x: Any) -> tuple[Array, Array | None, Array | None]:
        """``(query, context or None, key_padding_mask as bool or None)``, checked."""
        if isinstance(x, (list, tuple)):
            if not 1 <= len(x) <= 3:
                raise ValueError(f"{self._name()} takes x (B, T, {self.embed_dim}), or a list [query, "
                                 f"context] or [query, context, key_padding_mask], got a list of {len(x)}")
            query = self._sequence(x[0], "query")
            context = self._sequence(x[1], "context") if len(x) > 1 else None
            padding = self._padding(x[2], query, context) if len(x) > 2 else None
            if context is not None and context.shape[0] != query.shape[0]:
                raise ValueError(f"{self._name()}: query and context must have the same batch size, got "
                                 f"shapes {query.shape} and {context.shape}")
            return query, context, padding
        return self._sequence(x, "x"), None, None

    def _sequence(self, x: Any, what: str) -> Array:
        dt = self.in_proj_weight.data.dtype
        if type(x) is np.ndarray and x.ndim == 3 and x.shape[-1] == self.embed_dim and x.dtype == dt:
            return x
        x = numeric_array(x, f"{self._name()} {what}", f"an array (batch, T, {self.embed_dim})")
        if x.ndim != 3 or x.shape[-1] != self.embed_dim:
            raise ValueError(f"{self._name()} expects {what} of shape (batch, T, {self.embed_dim}), "
                             f"got {x.shape}")
        return x.astype(dt, copy=False)

    def _padding(self, mask: Any, query: Array, context: Array | None) -> Array:
        mask = np.asarray(mask)
        keys = (context if context is not None else query).shape[:2]
        if mask.shape != keys:
            raise ValueError(f"{self._name()} expects key_padding_mask of shape (batch, Tk) = {keys}, "
                             f"got {mask.shape}")
        if mask.dtype != bool:
            if mask.dtype.kind not in "iuf" or not np.isin(mask, (0, 1)).all():
                raise ValueError(f"{self._name()} key_padding_mask must hold True/False or 1/0 "
                                 f"(1 = padding), got dtype {mask.dtype}")
            mask = mask != 0
        return mask

    def _name(self) -> str:
        return f"MultiHeadAttention(embed_dim={self.embed_dim}, num_heads={self.num_heads})"

    def output_shape(self, input_shape: Any) -> Shape:
        several = isinstance(input_shape, list) or (bool(input_shape)
                                                    and isinstance(input_shape[0], (tuple, list)))
        shapes = [tuple(s) for s in input_shape] if several else [tuple(input_shape)]
        for what, shape in zip(("query", "context"), shapes[:2]):
            if len(shape) != 3 or shape[-1] != self.embed_dim:
                raise ValueError(f"{self._name()} expects {what} of shape (batch, T, {self.embed_dim}), "
                                 f"got {shape}")
        return shapes[0]

    def get_config(self) -> dict[str, Any]:
        return {"embed_dim": self.embed_dim, "num_heads": self.num_heads, "bias": self.bias,
                "causal": self.causal, "dropout": self.dropout, **init_config(self.init),
                "dtype": self.in_proj_weight.dtype.name}

    def extra_repr(self) -> str:
        extra = "".join([", bias=False" if not self.bias else "", ", causal=True" if self.causal else "",
                         f", dropout={self.dropout}" if self.dropout else "",
                         "" if self.in_proj_weight.dtype == np.float64
                         else f", dtype={self.in_proj_weight.dtype}"])
        return f"embed_dim={self.embed_dim}, num_heads={self.num_heads}{extra}"
