"""How an einsum spec becomes BLAS calls: read it (:mod:`tinynet.engine.specs`), then plan
one ``np.matmul`` on reshaped, transposed views (or a product with a ones vector for a
plain sum; ``np.einsum`` with a cached path for anything else).

:mod:`tinynet.engine.contraction` calls :func:`plan` once per (spec, shapes, dtypes)
and keeps the runner it returns.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from math import prod
from typing import Any

import numpy as np

from tinynet.engine.specs import expand_ellipsis, index_sizes, parse_spec
from tinynet.engine.types import Array

# An outer product (nothing summed) with at least this many results runs as np.einsum,
# whose loop writes each product once, where np.multiply's broadcast first copies the row
# operand; below it einsum's per-call parsing costs more (benchmarks/outer_product.py
# measures the crossover).
OUTER_PRODUCT_EINSUM_SIZE = 16384

# A product whose output interleaves one operand's free indices around the other's runs
# as a matmul broadcast over the leading ones when each product has this many columns
# (_plan_split_rows).
SPLIT_MIN_COLUMNS = 64

# A product with at most TINY_RESULT results, summed over an index of at least
# SUMMED_BATCH_MIN terms per batch, runs as a matmul batched over its other summed indices,
# then summed (_plan_summed_batches).
TINY_RESULT, SUMMED_BATCH_MIN = 512, 256

# A float32 GEMM summing at least this many products may run with its operands swapped
# (_fewer_rows_first).
GEMM_LONG_SUM = 512

__all__ = ["parse_spec", "plan", "Runner"]  # parse_spec: from tinynet.engine.specs

Runner = Callable[..., Array]
"""A planned spec: ``runner(*operands, out)`` returns the result (written into ``out`` if given)."""


def plan(spec: str, operands: tuple[Array, ...]) -> Runner:
    """The runner for ``spec`` on operands of these shapes and dtypes (checked here)."""
    operands = tuple(np.asarray(a) for a in operands)
    inputs, out = parse_spec(spec, len(operands))
    if "..." in spec:
        explicit = expand_ellipsis(inputs, out, operands)
        if explicit is None:
            return _plan_fallback(spec, operands)
        inputs, out = explicit
    for term, op in zip(inputs, operands):
        if "..." not in term and len(term) != op.ndim:
            raise ValueError(
                f"einsum spec {spec!r}: operand {term!r} has {len(term)} indices "
                f"but the array has shape {op.shape}"
            )
    simple = "..." not in out and all(len(set(t)) == len(t) for t in [*inputs, out])
    if simple:
        sizes = index_sizes(spec, inputs, operands)
        if len(operands) == 2:
            return _plan_pair(inputs[0], inputs[1], out, sizes, operands)
        if len(operands) == 1 and set(out) < set(inputs[0]):
            return _plan_reduce(inputs[0], out, sizes, operands[0].dtype)
    return _plan_fallback(spec, operands)


def _plan_fallback(spec: str, operands: tuple[Array, ...]) -> Runner:
    if len(operands) <= 1:
        return lambda x, out: np.einsum(spec, x, out=out)
    path = np.einsum_path(spec, *operands, optimize="greedy")[0]
    return lambda *ops: np.einsum(spec, *ops[:-1], out=ops[-1], optimize=path)


def _plan_reduce(term: str, out: str, sizes: dict[str, int], dtype: np.dtype[Any]) -> Runner:
    """Sum axes away as a matrix-vector product with a ones vector."""
    kept = [c for c in term if c in out]
    summed = [c for c in term if c not in out]
    n_kept = prod(sizes[c] for c in kept)
    n_summed = prod(sizes[c] for c in summed)
    ones = np.ones(n_summed, dtype=dtype)
    kept_shape = tuple(sizes[c] for c in kept)
    final = _permutation(kept, out)
    if term == "".join(kept + summed) and final is None and len(kept) == len(summed) == 1:
        return lambda x, out: np.matmul(x, ones, out=out)  # e.g. "Bc->B": x(B, c) @ ones(c)
    if term == "".join(summed + kept) and final is None:  # e.g. "Bo->o": ones(B) @ x(B, o)
        if len(summed) == 1 and len(kept) == 1:
            return partial(np.matmul, ones)  # runner(x, out) is np.matmul(ones, x, out)
        flat = (n_summed, n_kept)
        return lambda x, out: _into(out, np.matmul(ones, x.reshape(flat)).reshape(kept_shape))
    block = "".join(kept)
    if final is None and block in term and not term.startswith(block) and not term.endswith(block):
        # e.g. "Bohw->o" (a convolution's bias gradient): the axes after the kept block, then
        # those before it, summed by two products on reshaped views (no transposing copy)
        before, after = term.index(block), len(term) - term.index(block) - len(block)
        shape = (prod(sizes[c] for c in term[:before]), n_kept, prod(sizes[c] for c in term[-after:]))
        ones_after, ones_before = np.ones(shape[2], dtype=dtype), np.ones(shape[0], dtype=dtype)
        return lambda x, out: _into(out, np.matmul(ones_before, np.matmul(x.reshape(shape), ones_after))
                                    .reshape(kept_shape))
    order = [term.index(c) for c in kept + summed]

    def run(x: Array, out: Array | None) -> Array:
        y = np.matmul(x.transpose(order).reshape(n_kept, n_summed), ones).reshape(kept_shape)
        return _into(out, y if final is None else y.transpose(final))

    return run


def _transpose(a: Array) -> Array:
    return a.T


def _unchanged(a: Array) -> Array:
    return a


# The Dense-style specs need nothing but optional transposes: one call, no indirection.
_PLAIN_MATMULS: dict[tuple[Callable[[Array], Array], Callable[[Array], Array]], Runner] = {
    (_unchanged, _unchanged): np.matmul,  # runner(a, b, out) is np.matmul(a, b, out)
    (_unchanged, _transpose): lambda a, b, out: np.matmul(a, b.T, out=out),
    (_transpose, _unchanged): lambda a, b, out: np.matmul(a.T, b, out=out),
    (_transpose, _transpose): lambda a, b, out: np.matmul(a.T, b.T, out=out),
}


def _preparer(term: str, groups: list[list[str]], shape: tuple[int, ...],
              operand_shape: tuple[int, ...], sizes: dict[str, int]) -> Callable[[Array], Array]:
    """How one operand of a pair becomes matmul's ``(rows, cols)`` (or batched) form:
    sum its private axes, then bring the index ``groups`` into order as one matrix.

    When each group's letters stand together in the operand (``"BTi"`` with groups
    ``[B, T]`` and ``[i]``), the axes are merged first and the merged blocks are then
    transposed: a view, never a copy, for a contiguous operand."""
    layout = [c for group in groups for c in group]
    kept = "".join(c for c in term if c in layout)
    summed = tuple(i for i, c in enumerate(term) if c not in layout)
    order = tuple(kept.index(c) for c in layout)
    if not summed and order == tuple(range(len(order))) and shape == operand_shape:
        return _unchanged
    if not summed and order == (1, 0) and shape == operand_shape[::-1]:
        return _transpose
    blocks = ["".join(group) for group in groups if group]
    if all(block in kept for block in blocks):
        in_term = sorted(blocks, key=kept.index)
        block_shape = tuple(prod(sizes[c] for c in block) for block in in_term)
        block_order = tuple(in_term.index(block) for block in blocks)

        def merge_then_transpose(a: Array) -> Array:
            if summed:
                a = a.sum(axis=summed)
            return a.reshape(block_shape).transpose(block_order).reshape(shape)

        return merge_then_transpose

    def prepare(a: Array) -> Array:
        if summed:
            a = a.sum(axis=summed)
        return a.transpose(order).reshape(shape)

    return prepare


def _plan_pair(
    ta: str, tb: str, out: str, sizes: dict[str, int], operands: tuple[Array, ...],
    order_chosen: bool = False,
) -> Runner:
    def kept_after_sum(term: str, other: str) -> str:
        return "".join(c for c in term if c in other or c in out)

    a_kept, b_kept = kept_after_sum(ta, tb), kept_after_sum(tb, ta)
    batch = [c for c in out if c in a_kept and c in b_kept]
    contracted = [c for c in a_kept if c in b_kept and c not in out]
    free_a = [c for c in out if c in a_kept and c not in b_kept]
    free_b = [c for c in out if c in b_kept and c not in a_kept]
    # Put first the operand whose free indices come first in the output, so
    # that the matmul result is already in output order whenever possible.
    if not order_chosen and free_a and free_b and out.index(free_b[0]) < out.index(free_a[0]):
        swapped = _plan_pair(tb, ta, out, sizes, operands[::-1])
        return lambda a, b, result: swapped(b, a, result)

    n = {name: prod(sizes[c] for c in group) for name, group in
         (("batch", batch), ("a", free_a), ("b", free_b), ("k", contracted))}
    lead = (n["batch"],) if batch else ()
    shape_a, shape_b = (lead + (n["a"], n["k"]), lead + (n["k"], n["b"]))
    left = _preparer(ta, [batch, free_a, contracted], shape_a, operands[0].shape, sizes)
    right = _preparer(tb, [batch, contracted, free_b], shape_b, operands[1].shape, sizes)
    if not batch and n["a"] * n["b"] <= TINY_RESULT:
        summed = _plan_summed_batches(ta, tb, out, free_a, free_b, contracted, sizes, operands)
        if summed is not None:
            return summed
    if not order_chosen and _fewer_rows_first(left(operands[0]), right(operands[1])):
        swapped = _plan_pair(tb, ta, out, sizes, operands[::-1], order_chosen=True)
        return lambda a, b, result: swapped(b, a, result)
    result_letters = batch + free_a + free_b
    result_shape = tuple(sizes[c] for c in result_letters)
    final = _permutation(result_letters, out)
    if final is not None and not batch and n["k"] > 1:
        split = _plan_split_rows(ta, tb, out, free_a, free_b, contracted, sizes, operands)
        if split is not None:
            return split
    # Nothing to sum (an outer product, e.g. a weight gradient at batch size 1): BLAS's
    # GEMM with an inner size of 1 is several times slower than a broadcast multiply,
    # and a large broadcast multiply slower than einsum's outer-product loop.
    matmul = np.matmul if n["k"] != 1 else (
        _outer_product if n["a"] * n["b"] >= OUTER_PRODUCT_EINSUM_SIZE else np.multiply)
    if final is None and result_shape == lead + (n["a"], n["b"]):
        plain = _PLAIN_MATMULS.get((left, right)) if matmul is np.matmul else None
        return plain or (lambda a, b, out: matmul(left(a), right(b), out=out))

    product_shape = lead + (n["a"], n["b"])

    def run(a: Array, b: Array, out: Array | None) -> Array:
        if final is None and out is not None and out.flags.c_contiguous:
            matmul(left(a), right(b), out=out.reshape(product_shape))  # a view: no copy
            return out
        y = matmul(left(a), right(b)).reshape(result_shape)
        return _into(out, y if final is None else y.transpose(final))

    return run


def _plan_summed_batches(ta: str, tb: str, out: str, free_a: list[str], free_b: list[str],
                         contracted: list[str], sizes: dict[str, int],
                         operands: tuple[Array, ...]) -> Runner | None:
    """A tiny result summed over a long index, as the weight gradient of a convolution with
    few channels, ``"Bohw,cijBhw->ocij"`` with ``o c i j = 6 x 25``: BLAS's GEMM runs such a
    ``(6, 50176) @ (50176, 25)`` far below its speed, while a matmul batched over the first
    summed index and then summed over it, ``(B, o, hw) @ (B, hw, cij) -> (B, o, cij) ->
    (o, cij)``, runs several times faster (``benchmarks/cnn.py`` measures the LeNet step).
    ``None`` unless both operands are then views and each batched product
    still sums at least ``SUMMED_BATCH_MIN`` terms."""
    split = 1
    while split < len(contracted) and prod(sizes[c] for c in contracted[split:]) >= SUMMED_BATCH_MIN:
        lead, rest = contracted[:split], contracted[split:]
        n_lead, n_rest = prod(sizes[c] for c in lead), prod(sizes[c] for c in rest)
        n_a, n_b = prod(sizes[c] for c in free_a), prod(sizes[c] for c in free_b)
        left = _preparer(ta, [lead, free_a, rest], (n_lead, n_a, n_rest), operands[0].shape, sizes)
        right = _preparer(tb, [lead, rest, free_b], (n_lead, n_rest, n_b), operands[1].shape, sizes)
        if np.may_share_memory(left(operands[0]), operands[0]) \
                and np.may_share_memory(right(operands[1]), operands[1]):
            return _summed_runner(left, right, (n_a, n_b), tuple(sizes[c] for c in free_a + free_b),
                                  _permutation(free_a + free_b, out))
        split += 1
    return None


def _summed_runner(left: Callable[[Array], Array], right: Callable[[Array], Array],
                   product_shape: tuple[int, ...], result_shape: tuple[int, ...],
                   final: tuple[int, ...] | None) -> Runner:
    def run(a: Array, b: Array, out: Array | None) -> Array:
        batches = np.matmul(left(a), right(b))
        if final is None and out is not None and out.flags.c_contiguous:
            np.sum(batches, axis=0, out=out.reshape(product_shape))
            return out
        y = batches.sum(axis=0).reshape(result_shape)
        return _into(out, y if final is None else y.transpose(final))

    return run


def _plan_split_rows(ta: str, tb: str, out: str, free_a: list[str], free_b: list[str],
                     contracted: list[str], sizes: dict[str, int],
                     operands: tuple[Array, ...]) -> Runner | None:
    """A product whose output puts ``b``'s free indices between ``a``'s, as a convolution's
    ``"cijBhw,ocij->Bohw"`` (``B`` before ``o``, ``h w`` after): one GEMM gives ``(B h w, o)``,
    and its transpose into the output order is a copy as large as the result. Instead a
    matmul broadcast over ``a``'s leading indices, ``(o, cij) @ (B, cij, hw) -> (B, o, hw)``,
    writes the output order directly, with no copy. ``None`` (the plain GEMM) unless ``a``
    is then a view and each of the broadcast products has at least ``SPLIT_MIN_COLUMNS``
    columns."""
    at = out.index(free_b[0]) if free_b else 0
    lead, rest = out[:at], out[at + len(free_b):]
    if not lead or not rest or out[at:at + len(free_b)] != "".join(free_b) \
            or sorted(lead + rest) != sorted(free_a):
        return None
    n_lead, n_rest = prod(sizes[c] for c in lead), prod(sizes[c] for c in rest)
    n_b, n_k = prod(sizes[c] for c in free_b), prod(sizes[c] for c in contracted)
    if n_rest < SPLIT_MIN_COLUMNS or n_lead > n_rest:
        return None
    left = _preparer(ta, [list(lead), contracted, list(rest)], (n_lead, n_k, n_rest),
                     operands[0].shape, sizes)
    right = _preparer(tb, [free_b, contracted], (n_b, n_k), operands[1].shape, sizes)
    if not np.may_share_memory(left(operands[0]), operands[0]):
        return None  # a would be copied: the plain GEMM's transposing copy is no worse
    product_shape, out_shape = (n_lead, n_b, n_rest), tuple(sizes[c] for c in out)

    def run(a: Array, b: Array, out: Array | None) -> Array:
        if out is not None and out.flags.c_contiguous:
            np.matmul(right(b), left(a), out=out.reshape(product_shape))
            return out
        return _into(out, np.matmul(right(b), left(a)).reshape(out_shape))

    return run


def _fewer_rows_first(a: Array, b: Array) -> bool:
    """Whether ``a (m, k) @ b (k, n)`` runs faster as ``(b.T @ a.T).T``: OpenBLAS's float32
    GEMM with both operands contiguous along ``k`` (``b`` a transposed view, as a weight
    gradient's columns are) runs about twice as fast with the longer side as rows when
    ``m < n`` and the sum is long (a convolution's weight gradient, ``(6, 50176) @
    (50176, 25)``); float64 and the other layouts measured no gain. Only for a result no
    larger than the sum (a gradient summed over many positions), whose transposing copy
    then costs little."""
    m, k, n = a.shape[0], a.shape[-1], b.shape[-1]
    return (a.ndim == 2 and b.ndim == 2 and a.dtype == b.dtype == np.float32
            and m < n and k >= GEMM_LONG_SUM and m * n <= k
            and a.strides[1] == b.strides[0] == a.itemsize)


def _outer_product(a: Array, b: Array, out: Array | None = None) -> Array:
    """``a @ b`` for ``a (..., m, 1)`` and ``b (..., 1, n)``: each product written once."""
    return np.einsum("...mk,...kn->...mn", a, b, out=out)


def _into(out: Array | None, y: Array) -> Array:
    if out is None:
        return y
    np.copyto(out, y)
    return out


def _permutation(have: list[str], want: str) -> tuple[int, ...] | None:
    order = tuple(have.index(c) for c in want)
    return None if order == tuple(range(len(order))) else order
