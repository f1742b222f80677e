"""Error messages must be tinynet's own words, never numpy's internals."""

from __future__ import annotations

from typing import Any

NUMPY_INTERNALS = ("operands could not be broadcast", "einstein sum subscripts",
                   "index out of bounds", "is out of bounds for axis", "setting an array element",
                   "unsupported operand", "object has no attribute")


def error_text(exc_info: Any) -> str:
    """The message of a ``pytest.raises`` result, checked free of numpy-internal wording."""
    text = str(exc_info.value)
    assert not any(internal in text for internal in NUMPY_INTERNALS), text
    return text
