"""`Einsum`: a layer from one einsum spec, its backward derived from the spec.

``y = einsum(spec, x, W) (+ b)``. The gradient of an einsum with respect to
one operand is an einsum of the upstream gradient ``g`` and the *other*
operand, with the indices moved: for ``"Bi,oi->Bo"``::

    y[B,o]  = sum_i x[B,i] W[o,i]     "Bi,oi->Bo"   (x, W)
    dx[B,i] = sum_o g[B,o] W[o,i]     "Bo,oi->Bi"   (g, W)
    dW[o,i] = sum_B g[B,o] x[B,i]     "Bo,Bi->oi"   (g, x)

Two kinds of index need care, and are handled here once, in ``__init__``:

* an index of one operand only that the output drops (``j`` in
  ``"Bij,oi->Bo"``) was *summed away*: the output does not depend on where
  along ``j`` a value sits, so the gradient is the same for every ``j``: the
  layer runs the contraction without ``j`` (``"Bo,oi->Bi"``) and broadcasts the
  result back along ``j`` (as one einsum that is a ones operand, ``"Bo,oi,j->Bij"``);
* an index in the output and one operand only (the batch index ``B`` of
  ``"Bi,oi->Bo"``) is a *broadcast* index: it is absent from the other
  operand's gradient spec, so that gradient sums over it.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from numpy.typing import DTypeLike

from tinynet.engine.checks import check_float_dtype, check_int
from tinynet.engine.contraction import einsum
from tinynet.layers.base import Array, Layer
from tinynet.layers.core.grad_specs import derive_grad_spec, record_index_sizes, split_pair_spec
from tinynet.layers.initializers import Initializer, RngLike, as_generator, init_config, init_weight_and_bias
from tinynet.layers.parameter import Parameter

__all__ = ["Einsum"]


class Einsum(Layer):
    """A linear layer given by one einsum spec between the input and a weight.

    Shape: the spec's, e.g. ``"Bi,oi->Bo"`` maps ``(B, in)`` to ``(B, out)``
    with ``weight_shape=(out, in)``; ``"Bhi,hoi->Bho"`` maps ``(B, h, in)`` to
    ``(B, h, out)`` with ``weight_shape=(h, out, in)`` (a projection per head).

    Math, with ``g = dL/dy``. The specs are per layer, so they are instance
    attributes (lower case), derived in ``__init__`` and shown by ``repr``::

        y  = einsum(spec, x, W) + b                  spec              e.g. "Bi,oi->Bo"
        dx = einsum(grad_input_spec, g, W)           grad_input_spec   e.g. "Bo,oi->Bi"
        dW = einsum(grad_weight_spec, g, x)          grad_weight_spec  e.g. "Bo,Bi->oi"
        db = einsum(grad_bias_spec, g)               grad_bias_spec    e.g. "Bo->o"

    Those are the einsums that run. Where an operand has indices the forward
    summed away (``j`` of ``x`` in ``"Bij,oi->Bo"``), its gradient spec leaves
    them out (``"Bo,oi->Bi"``) and the result is broadcast back along them;
    ``repr`` says so (``grad_input='Bo,oi->Bi' broadcast along 'j'``), and
    ``derive_grad_spec(spec, 0).full_spec`` writes it as one einsum with a ones
    operand (``"Bo,oi,j->Bij"``).

    ``bias_shape`` (optional) must be the sizes of the *trailing* output
    indices; the bias is added by broadcasting and its gradient sums ``g``
    over the other output indices. ``init`` names the weight initialiser
    (fan-in: the contracted indices' sizes; fan-out: the weight's output
    indices'); the bias starts at zero, except with ``init="uniform"`` (the
    article's scheme) where weight then bias are drawn from ``rng``, exactly as
    :class:`tinynet.Dense` does.

    Specs it cannot differentiate raise ``ValueError`` here: other than two
    operands, a missing ``->``, ellipsis, an index repeated within a term, an
    output index in no operand, or an operand without indices.
    """

    def __init__(
        self,
        spec: str,
        weight_shape: tuple[int, ...] | list[int],
        bias_shape: tuple[int, ...] | list[int] | None = None,
        init: str | Initializer = "he_normal",
        rng: RngLike = None,
        dtype: DTypeLike = np.float64,
    ) -> None:
        (x_term, w_term), out = split_pair_spec(spec)
        self.spec = f"{x_term},{w_term}->{out}"
        self._x_term, self._w_term, self._out = x_term, w_term, out
        shape = _check_shape(weight_shape, f"Einsum({self.spec!r}) weight_shape")
        if len(shape) != len(w_term):
            raise ValueError(f"Einsum({self.spec!r}): the weight term {w_term!r} has {len(w_term)} "
                             f"indices, so weight_shape needs {len(w_term)} sizes; got {shape}")
        self.weight_shape = shape
        self._sizes = dict(zip(w_term, shape))  # the sizes the weight fixes
        self.bias_shape = None if bias_shape is None else self._check_bias(bias_shape)

        self._grad_input = derive_grad_spec(self.spec, 0)
        self._grad_weight = derive_grad_spec(self.spec, 1)
        self.grad_input_spec = self._grad_input.spec
        self.grad_weight_spec = self._grad_weight.spec
        bias_terms = out[len(out) - len(self.bias_shape):] if self.bias_shape is not None else ""
        self.grad_bias_spec = f"{out}->{bias_terms}" if self.bias_shape is not None else None
        # The bias is added to y[..., bias indices]; it covers the trailing axes.
        self._bias_sums = self.bias_shape is not None and len(bias_terms) < len(out)

        self.init = init
        fan_in = math.prod(self._sizes[c] for c in w_term if c in x_term and c not in out)
        fan_out = math.prod(self._sizes[c] for c in w_term if c in out and c not in x_term)
        weight, bias_data = init_weight_and_bias(
            init, as_generator(rng, "Einsum rng", weights_only=True), shape, self.bias_shape, fan_in, fan_out,
            check_float_dtype(dtype, "Einsum dtype"), "Einsum")
        self.weight = Parameter(weight, "weight")
        self.bias = None if bias_data is None else Parameter(bias_data, "bias")
        # Input axes whose size is fixed by the weight or the bias, checked per forward.
        self._input_checks = [(axis, self._sizes[c]) for axis, c in enumerate(x_term)
                              if c in self._sizes]

    def forward(self, x: Array, training: bool = True) -> Array:
        if not isinstance(x, np.ndarray) or x.ndim != len(self._x_term) or any(
                x.shape[axis] != n for axis, n in self._input_checks):
            self._raise_bad_input(x)
        if x.dtype != self.weight.data.dtype:
            x = np.asarray(x, dtype=self.weight.data.dtype)
        if training:
            self.save_for_backward(x)
        y = einsum(self.spec, x, self.weight.data)
        if self.bias is not None:
            y += self.bias.data
        return y

    def backward(self, grad_y: Array, need_input_grad: bool = True) -> Array | None:
        (x,) = self.saved_for_backward()
        w = self.weight.data
        self._grad_weight.accumulate(self.weight, grad_y, x)
        if self.bias is not None and self.grad_bias_spec is not None:
            if self._bias_sums:
                self.bias.accumulate(self.grad_bias_spec, grad_y)
            else:  # the bias covers every output axis: its gradient is g itself
                self.bias.add_grad(grad_y)
        return self._grad_input(grad_y, w, x.shape) if need_input_grad else None

    @property
    def input_ndim(self) -> int:
        """How many axes the input has (the length of the spec's input term)."""
        return len(self._x_term)

    def output_shape(self, input_shape: tuple[int | None, ...]) -> tuple[int | None, ...]:
        if len(input_shape) != len(self._x_term):
            raise ValueError(f"{self._name()} expects a {len(self._x_term)}-D input "
                             f"({self._x_term!r}), got shape {input_shape}")
        sizes: dict[str, int | None] = dict(self._sizes)
        clash = record_index_sizes(sizes, self._x_term, input_shape)
        if clash is not None:
            raise ValueError(f"{self._name()} expects index {clash!r} of the input to have size "
                             f"{self._sizes[clash]}, got shape {input_shape}")
        return tuple(sizes[c] for c in self._out)

    def get_config(self) -> dict[str, Any]:
        return {"spec": self.spec, "weight_shape": list(self.weight_shape),
                "bias_shape": None if self.bias_shape is None else list(self.bias_shape),
                **init_config(self.init), "dtype": self.weight.dtype.name}

    def extra_repr(self) -> str:
        dtype = "" if self.weight.dtype == np.float64 else f", dtype={self.weight.dtype}"
        bias = f", bias_shape={self.bias_shape}" if self.bias_shape is not None else ""
        grads = f"grad_input={self._grad_input!r}, grad_weight={self._grad_weight!r}"
        if self.grad_bias_spec is not None:
            grads += f", grad_bias={self.grad_bias_spec!r}"
        return f"{self.spec!r}, weight_shape={self.weight_shape}{bias}{dtype}; {grads}"

    def _name(self) -> str:
        return f"Einsum({self.spec!r}, weight_shape={self.weight_shape})"

    def _check_bias(self, bias_shape: Any) -> tuple[int, ...]:
        shape = _check_shape(bias_shape, f"Einsum({self.spec!r}) bias_shape")
        out = self._out
        if len(shape) > len(out):
            raise ValueError(f"Einsum({self.spec!r}) bias_shape {shape} has more axes than the "
                             f"output {out!r}")
        trailing = out[len(out) - len(shape):] if shape else ""
        for c, n in zip(trailing, shape):
            known = self._sizes.get(c)
            if known is not None and known != n:
                want = tuple(self._sizes.get(t, "?") for t in trailing)
                raise ValueError(f"Einsum({self.spec!r}) bias_shape must match the trailing output "
                                 f"indices {trailing!r}, i.e. {want}; got {shape}")
            self._sizes[c] = n
        return shape

    def _raise_bad_input(self, x: Any) -> None:
        if not isinstance(x, np.ndarray):
            raise TypeError(f"{self._name()} expects a numpy array, got {type(x).__name__}")
        want = tuple(self._sizes.get(c, c) for c in self._x_term)
        raise ValueError(f"{self._name()} expected input of shape {want} (indices "
                         f"{self._x_term!r}), but received input with shape {x.shape}")


def _check_shape(shape: Any, name: str) -> tuple[int, ...]:
    if isinstance(shape, (int, np.integer)) and not isinstance(shape, bool):
        shape = (shape,)
    if not isinstance(shape, (tuple, list)):
        raise TypeError(f"{name} must be a tuple of sizes, got {shape!r}")
    return tuple(check_int(n, f"{name}[{i}]", minimum=1) for i, n in enumerate(shape))
