"""The training display in a Jupyter notebook: the live bar as one rich output, replaced in
place through IPython's display handle.

rich's own live display needs ``ipywidgets`` in a notebook (without it, it warns and
shows nothing); a display handle needs nothing beyond IPython, and the output a
notebook keeps is the last frame as HTML and text (readable on GitHub, nbviewer, or
after ``jupyter nbconvert --execute``).
"""

from __future__ import annotations

import io
from typing import Any

from rich.console import Console

from tinynet.display.progress import RichProgress
from tinynet.training.callbacks import Run

__all__ = ["NotebookProgress", "NotebookOutput", "rich_bundle"]

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


class NotebookProgress(RichProgress):
    """:class:`RichProgress` drawn into a notebook output: each redraw (throttled as in a
    terminal) replaces the output with the bar's current frame."""

    def on_train_begin(self, run: Run) -> None:
        self._output = NotebookOutput()
        super().on_train_begin(run)

    def _live_console(self) -> Console:
        # rich's live display stays off screen; the frames reach the notebook through _draw
        return Console(file=io.StringIO(), width=self.console.width, force_jupyter=False)

    def _draw(self, batch: int | None) -> None:
        super()._draw(batch)
        if self._progress is not None:
            self._output.show(rich_bundle(self._progress.get_renderable(), self.console.width))
