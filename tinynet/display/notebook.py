"""Rich output in a Jupyter notebook, replaced in place through IPython's display handle: how
the training display (:class:`tinynet.display.progress.NotebookProgress`) shows its live bar.

rich's own live display needs ``ipywidgets`` in a notebook (without it, it warns and
shows nothing); a display handle needs nothing beyond IPython, and the output a
notebook keeps is the last frame as HTML and text (readable on GitHub, nbviewer, or
after ``jupyter nbconvert --execute``).
"""

from __future__ import annotations

import io
from typing import Any

from rich.console import Console

__all__ = ["NotebookOutput", "rich_bundle"]

PRE = ("<pre style=\"white-space:pre;overflow-x:auto;line-height:normal;font-family:Menlo,"
       "'DejaVu Sans Mono',consolas,'Courier New',monospace\">{code}</pre>")  # as rich shows output


def rich_bundle(renderable: Any, width: int) -> dict[str, str]:
    """``renderable`` as a notebook output: ``{"text/html": ..., "text/plain": ...}``."""
    console = Console(record=True, file=io.StringIO(), width=width, force_terminal=True, force_jupyter=False,
                      color_system="truecolor")
    console.print(renderable)
    text = console.export_text(clear=False)
    return {"text/html": console.export_html(inline_styles=True, code_format=PRE), "text/plain": text}


class NotebookOutput:
    """One output of the running cell, shown once and then replaced in place."""

    def __init__(self) -> None:
        from IPython.display import DisplayHandle

        self._handle: Any = DisplayHandle()  # (display(display_id=True) would show an empty output)
        self._shown = False

    def show(self, bundle: dict[str, str]) -> None:
        if self._shown:
            self._handle.update(bundle, raw=True)
        else:
            self._handle.display(bundle, raw=True)
            self._shown = True

