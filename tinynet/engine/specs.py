"""Reading an einsum spec: split it into its terms, check its letters, expand an ellipsis
into plain letters, and find each index's size. :mod:`tinynet.engine.planning` plans what
this reads."""

from __future__ import annotations

from tinynet.engine.types import Array

__all__ = ["expand_ellipsis", "index_sizes", "parse_spec"]


def parse_spec(spec: str, n_operands: int) -> tuple[list[str], str]:
    """Split ``"ab,bc->ac"`` into ``(["ab", "bc"], "ac")``.

    Without ``->`` the output is, as in numpy, the indices that occur once,
    in alphabetical order. Raises ``ValueError`` naming the spec when it does
    not match the number of operands or uses characters einsum does not know.
    """
    if not isinstance(spec, str):
        raise TypeError(f"einsum spec must be a str, got {type(spec).__name__}")
    compact = spec.replace(" ", "")
    if "->" in compact:
        lhs, out = compact.split("->", 1)
    else:
        lhs, out = compact, None
    inputs = lhs.split(",")
    if len(inputs) != n_operands:
        raise ValueError(
            f"einsum spec {spec!r} names {len(inputs)} operand(s) but {n_operands} were given"
        )
    if out is None:
        letters = "".join(inputs).replace(".", "")
        out = "".join(sorted(c for c in set(letters) if letters.count(c) == 1))
    for term in [*inputs, out]:
        bad = [c for c in term.replace("...", "") if not c.isalpha()]
        if bad:
            raise ValueError(f"einsum spec {spec!r}: {bad[0]!r} is not an index letter")
    missing = sorted(set(out.replace("...", "")) - set("".join(inputs)))
    if missing:
        raise ValueError(f"einsum spec {spec!r}: output index {missing[0]!r} is in no operand")
    if len(set(out)) != len(out) and "..." not in out:
        raise ValueError(f"einsum spec {spec!r}: an output index is repeated")
    return inputs, out



def expand_ellipsis(inputs: list[str], out: str,
                     operands: tuple[Array, ...]) -> tuple[list[str], str] | None:
    """``"...i,oi->...o"`` on a ``(B, T, i)`` operand as ``"ABi,oi->ABo"``: the ellipsis
    becomes letters the spec does not use, so the planner sees plain indices. ``None``
    (numpy's einsum then runs it) when the ellipses of the operands differ in shape,
    i.e. when they would broadcast."""
    used = set("".join(inputs) + out)
    spare = [c for c in "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz" if c not in used]
    shape: tuple[int, ...] | None = None
    for term, op in zip(inputs, operands):
        if "..." in term:
            n = op.ndim - (len(term) - 3)
            start = term.index("...")
            here = op.shape[start:start + n] if n > 0 else ()
            if n < 0 or (shape is not None and here != shape):
                return None
            shape = here
    if shape is None or len(shape) > len(spare):
        return None
    letters = "".join(spare[:len(shape)])
    return [term.replace("...", letters) for term in inputs], out.replace("...", letters)


def index_sizes(spec: str, inputs: list[str], operands: tuple[Array, ...]) -> dict[str, int]:
    """Each index letter's size, or a ``ValueError`` naming the spec when two operands disagree."""
    sizes: dict[str, int] = {}
    for term, op in zip(inputs, operands):
        for letter, n in zip(term, op.shape):
            if sizes.setdefault(letter, n) != n:
                raise ValueError(
                    f"einsum spec {spec!r}: index {letter!r} has size {sizes[letter]} in one "
                    f"operand and {n} in another (shapes {[o.shape for o in operands]})"
                )
    return sizes
