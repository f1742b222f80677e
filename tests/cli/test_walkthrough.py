"""The walk-through of docs/ecosystem.md is what the command really prints: its Python block
writes the CSV files, then every ``$ tinynet ...`` line of its text blocks runs (in this
process, on a 100-column console) and must print the documented output."""

from __future__ import annotations

import contextlib
import io
import re
import shlex
from pathlib import Path

import pytest
from rich.console import Console

from tinynet import cli
from tinynet.display import console as console_module

pytest.importorskip("vega_datasets")

PAGE = Path(__file__).resolve().parents[2] / "docs" / "ecosystem.md"
HEADING = "### A walk-through on a real table"
WIDTH = 100  # the console width the page's outputs were printed at


def section() -> str:
    text = PAGE.read_text(encoding="utf-8")
    start = text.index(HEADING)
    end = text.find("\n## ", start)
    return text[start:end if end > 0 else None]


def blocks(kind: str) -> list[str]:
    return re.findall(rf"^```{kind}\n(.*?)^```$", section(), flags=re.S | re.M)


def sessions() -> list[tuple[str, str]]:
    """``(command line, documented output)`` of each ``$ `` line of the text blocks."""
    found = []
    for block in blocks("text"):
        for part in re.split(r"^\$ ", block, flags=re.M)[1:]:
            command, _, output = part.partition("\n")
            found.append((command, output))
    return found


def run(command: str) -> str:
    """What ``$ command`` prints: ``tinynet ARGS [| head -N]`` in this process."""
    line, _, tail = command.partition(" | ")
    argv = shlex.split(line)
    assert argv[0] == "tinynet", command
    out = io.StringIO()
    old = console_module._console[:]
    console_module._console[:] = [Console(file=out, width=WIDTH)]
    try:
        with contextlib.redirect_stdout(out):
            status = cli.main(argv[1:])
    finally:
        console_module._console[:] = old
    assert status == 0, (command, out.getvalue())
    text = out.getvalue()
    if tail:
        head = re.fullmatch(r"head -(\d+)", tail)
        assert head, command
        text = "".join(text.splitlines(keepends=True)[:int(head[1])])
    return text


def normalized(text: str) -> list[str]:
    return [line.rstrip() for line in text.strip("\n").splitlines()]


def test_the_walk_through_prints_what_the_page_shows(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (code,) = blocks("python")
    exec(compile(code, f"{PAGE.name} walk-through", "exec"), {"__name__": "__main__"})
    documented = sessions()
    assert len(documented) >= 6
    for command, expected in documented:
        assert normalized(run(command)) == normalized(expected), command
