"""`Embedding`: a learned vector per token id, as PyTorch's ``nn.Embedding``."""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import DTypeLike

from tinynet.engine.checks import check_float_dtype, check_int
from tinynet.layers.base import Array, Layer
from tinynet.layers.initializers import RngLike, as_generator
from tinynet.layers.parameter import Parameter

__all__ = ["Embedding"]


class Embedding(Layer):
    """A lookup table of ``num_embeddings`` vectors of ``embedding_dim`` numbers.

    Shape: integer ids ``(B, ...) -> (B, ..., D)`` with ``D = embedding_dim``; whole-number
    floats are taken as ids too (``fit`` keeps integer data as it is for a model whose
    first layer is an Embedding). Other values, and ids outside ``[0, num_embeddings)``,
    are refused.

    Math (``n`` = id, ``d`` = feature, ``onehot[...,n] = [ids[...] == n]``), with ``g = dL/dy``::

        y[...,d]   = W[ids[...], d] = sum_n onehot[...,n] W[n,d]         "...n,nd->...d"
        dW[n,d]   += sum_... onehot[...,n] g[...,d]                     "...n,...d->nd"

    The forward is that product without building the one-hot array: a row gather.
    The backward is a scatter-add, each row of ``g`` added into the row of its id;
    it sorts the ids and sums each run of equal ids at once (``np.add.reduceat``),
    which measured faster than ``np.add.at`` and than a ``bincount`` for float32
    (``benchmarks/embedding_backward.py``). Ids get no gradient: backward returns ``None``.

    ``padding_idx``: that row starts at zeros and gets no gradient (PyTorch's
    semantics; a negative index counts from the end). ``weight`` is drawn from
    ``N(0, 1)``, as PyTorch's.
    """

    integer_input = True

    def __init__(self, num_embeddings: int, embedding_dim: int, padding_idx: int | None = None,
                 rng: RngLike = None, dtype: DTypeLike = np.float64) -> None:
        self.num_embeddings = check_int(num_embeddings, "Embedding num_embeddings", minimum=1)
        self.embedding_dim = check_int(embedding_dim, "Embedding embedding_dim", minimum=1)
        if padding_idx is not None:
            index = check_int(padding_idx, "Embedding padding_idx")
            if not -self.num_embeddings <= index < self.num_embeddings:
                raise ValueError(f"Embedding padding_idx must be in [-{self.num_embeddings}, "
                                 f"{self.num_embeddings}), got {padding_idx}")
            padding_idx = index % self.num_embeddings
        self.padding_idx = padding_idx
        dt = check_float_dtype(dtype, "Embedding dtype")
        weight = as_generator(rng, "Embedding rng").standard_normal(
            (self.num_embeddings, self.embedding_dim)).astype(dt)
        if padding_idx is not None:
            weight[padding_idx] = 0
        self.weight = Parameter(weight, "weight")

    def forward(self, x: Array, training: bool = True) -> Array:
        ids = self._checked_ids(x)
        if training:
            self.save_for_backward(ids)
        return self.weight.data[ids]

    def backward(self, grad_y: Array, need_input_grad: bool = True) -> None:
        (ids,) = self.saved_for_backward()
        flat = ids.reshape(-1)
        order = np.argsort(flat, kind="stable")
        sorted_ids = flat[order]
        starts = np.flatnonzero(np.r_[True, sorted_ids[1:] != sorted_ids[:-1]])
        rows = sorted_ids[starts]  # each id once
        sums = np.add.reduceat(grad_y.reshape(-1, self.embedding_dim)[order], starts, axis=0)
        if self.padding_idx is not None:
            sums[rows == self.padding_idx] = 0
        grad = self.weight.grad  # zeros after zero_grad: only the rows of these ids change
        grad[rows] += sums
        return None

    def _checked_ids(self, x: Any) -> Array:
        """``x`` as integer ids in range, or a ``TypeError``/``ValueError`` naming the layer."""
        name = f"Embedding({self.num_embeddings}, {self.embedding_dim})"
        if not isinstance(x, np.ndarray):
            try:
                x = np.asarray(x)
            except (TypeError, ValueError) as err:
                raise TypeError(f"{name} expects integer token ids (B, T), got {type(x).__name__}") from err
        if x.ndim < 1:
            raise ValueError(f"{name} expects token ids of shape (batch,) or (batch, T), got a scalar")
        if x.dtype.kind == "f":
            whole = np.isfinite(x) & (x == np.round(x))
            if not whole.all():
                bad = x[~whole].flat[0].item()
                raise TypeError(f"{name} expects integer token ids; got floats of shape {x.shape} "
                                f"that are not whole numbers (e.g. {bad!r}); pass ids as integers")
            x = x.astype(np.intp)
        elif x.dtype.kind not in "iu":
            raise TypeError(f"{name} expects integer token ids; got an array of dtype {x.dtype} "
                            f"and shape {x.shape}")
        if x.size:
            low, high = int(x.min()), int(x.max())
            if low < 0 or high >= self.num_embeddings:
                bad_id = low if low < 0 else high
                raise ValueError(f"{name} expects ids in [0, {self.num_embeddings}), got {bad_id} "
                                 f"in input of shape {x.shape}; raise num_embeddings or re-map the ids")
        return x

    def output_shape(self, input_shape: tuple[int | None, ...]) -> tuple[int | None, ...]:
        return (*input_shape, self.embedding_dim)

    def get_config(self) -> dict[str, Any]:
        return {"num_embeddings": self.num_embeddings, "embedding_dim": self.embedding_dim,
                "padding_idx": self.padding_idx, "dtype": self.weight.dtype.name}

    def extra_repr(self) -> str:
        padding = "" if self.padding_idx is None else f", padding_idx={self.padding_idx}"
        dtype = "" if self.weight.dtype == np.float64 else f", dtype={self.weight.dtype}"
        return f"{self.num_embeddings}, {self.embedding_dim}{padding}{dtype}"
