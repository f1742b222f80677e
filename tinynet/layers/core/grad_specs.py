"""Gradient specs derived from a two-operand einsum spec, shared by `Einsum` (input x
weight) and `EinsumMerge` (activation x activation).

The gradient of an einsum with respect to one operand is an einsum of the upstream
gradient ``g`` and the *other* operand, with the indices moved; see
:mod:`tinynet.layers.core.einsum` for the two kinds of index that need care.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from tinynet.engine.contraction import einsum, parse_spec
from tinynet.engine.types import Array
from tinynet.layers.parameter import Parameter

__all__ = ["GradSpec", "derive_grad_spec", "record_index_sizes", "split_pair_spec"]


class GradSpec:
    """How to compute the gradient of one operand of ``"a,b->out"``.

    ``spec`` is the two-operand contraction that runs, ``"out,other->kept"``
    (``kept`` = the operand's indices that the output or the other operand has);
    ``summed`` are the operand's remaining indices, summed away by the forward,
    along which the result is then broadcast back to the operand's full shape.
    ``full_spec`` is the same gradient written as one einsum (with a ones operand
    over ``summed``): the math, not what runs.
    """

    def __init__(self, out: str, other: str, operand: str) -> None:
        self.operand = operand
        self.kept = "".join(c for c in operand if c in out or c in other)
        self.summed = "".join(c for c in operand if c not in self.kept)
        self.spec = f"{out},{other}->{self.kept}"
        # Where the contraction's axes go in the full operand: a 1 on summed axes.
        self._expand = tuple(slice(None) if c in self.kept else None for c in operand)

    @property
    def full_spec(self) -> str:
        """The gradient as one einsum, summed-away indices fed by a ones operand."""
        if not self.summed:
            return self.spec
        lhs = self.spec.split("->")[0]
        return f"{lhs},{self.summed}->{self.operand}"

    def __call__(self, grad_y: Array, other: Array, shape: tuple[int, ...],
                 out: Array | None = None) -> Array:
        """The gradient, of the operand's ``shape``; written into ``out`` when given
        (a parameter's ``.grad``: it keeps its dtype and nothing is allocated for it)."""
        if not self.summed:
            return einsum(self.spec, grad_y, other, out=out)
        grad = einsum(self.spec, grad_y, other)  # without the summed-away axes: small
        if out is None:
            out = np.empty(shape, dtype=grad.dtype)
        out[...] = grad[self._expand]  # broadcast along the summed-away axes, no temporary
        return out

    def accumulate(self, param: Parameter, grad_y: Array, other: Array) -> None:
        """Add this gradient into ``param.grad`` (no temporary when nothing was summed away)."""
        if self.summed:  # broadcast along the summed-away axes as a view: no full-size temporary
            param.add_grad(np.broadcast_to(einsum(self.spec, grad_y, other)[self._expand], param.data.shape))
        else:
            param.accumulate(self.spec, grad_y, other)

    def __repr__(self) -> str:
        """What runs: ``'Bo,oi->Bi'``, plus ``broadcast along 'j'`` when needed."""
        return repr(self.spec) + (f" broadcast along {self.summed!r}" if self.summed else "")


def derive_grad_spec(spec: str, operand: int) -> GradSpec:
    """The gradient spec of operand 0 or 1 of a checked two-operand ``spec``.

    >>> derive_grad_spec("Bi,oi->Bo", 1).full_spec
    'Bo,Bi->oi'
    """
    terms, out = split_pair_spec(spec)
    return GradSpec(out, terms[1 - operand], terms[operand])


def record_index_sizes(sizes: dict[str, int | None], term: str, shape: tuple[int | None, ...]) -> str | None:
    """Record in ``sizes`` the size ``shape`` gives each index of ``term`` (``None``:
    unknown); return the first index whose size disagrees with one recorded before."""
    for c, n in zip(term, shape):
        known = sizes.get(c)
        if known is not None and n is not None and known != n:
            return c
        sizes[c] = known if known is not None else n
    return None


def split_pair_spec(spec: Any, owner: str = "Einsum",
                    operands: str = "the input and the weight") -> tuple[tuple[str, str], str]:
    """Check that ``spec`` is a differentiable two-operand ``"a,b->out"`` and split it
    (:func:`tinynet.engine.contraction.parse_spec` does the checks every einsum needs)."""
    if not isinstance(spec, str):
        raise TypeError(f"{owner} spec must be a str such as 'Bi,oi->Bo', got {type(spec).__name__}")
    where = f"{owner} spec {spec!r}"
    if "." in spec:
        raise ValueError(f"{where}: ellipsis ('...') is not supported; name every index")
    if "->" not in spec:
        raise ValueError(f"{where} needs an explicit output, e.g. 'Bi,oi->Bo'")
    n_terms = spec.split("->", 1)[0].count(",") + 1
    if n_terms != 2:
        raise ValueError(f"{where} must have exactly two operands ({operands}), got {n_terms}")
    try:
        terms, out = parse_spec(spec, 2)
    except ValueError as err:
        raise ValueError(f"{owner}: {err}") from None
    for term in [*terms, out]:
        repeated = sorted({c for c in term if term.count(c) > 1})
        if repeated:
            raise ValueError(f"{where}: index {repeated[0]!r} is repeated in {term!r} (a diagonal "
                             f"or trace); its gradient is not an einsum of this form")
    if not terms[0] or not terms[1]:
        raise ValueError(f"{where}: {operands} need at least one index each")
    return (terms[0], terms[1]), out
