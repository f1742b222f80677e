"""The docs are tested: every ```python block in README.md and docs/*.md runs, and
every script in examples/ runs briefly, with its ``--quick`` flag or ``--epochs 2``.

Blocks of one Markdown file run in order in one namespace (a later block may
use what an earlier one defined), in a temporary working directory. Use
```text (or ```bash) for a snippet that is not meant to run.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import traceback
from pathlib import Path

import pytest

import tinynet as tn

ROOT = Path(__file__).resolve().parents[2]
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
EXAMPLES = sorted((ROOT / "examples").glob("*.py"))
FENCE = re.compile(r"^(?P<indent>[ \t]*)(?P<fence>```+|~~~+)[ \t]*(?P<info>[^\n`]*)$")


def python_blocks(path: Path) -> list[tuple[int, str]]:
    """``(first line number, code)`` of each fenced block tagged python/py/python3."""
    blocks: list[tuple[int, str]] = []
    lines = path.read_text(encoding="utf-8").splitlines()
    i = 0
    while i < len(lines):
        match = FENCE.match(lines[i])
        if not match:
            i += 1
            continue
        fence, indent = match["fence"], len(match["indent"])
        language = match["info"].strip().split()[0].lower() if match["info"].strip() else ""
        body: list[str] = []
        start = i + 2
        i += 1
        while i < len(lines) and not lines[i].strip().startswith(fence):
            body.append(lines[i][indent:] if lines[i][:indent].strip() == "" else lines[i])
            i += 1
        i += 1  # the closing fence
        if language in ("python", "py", "python3"):
            blocks.append((start, "\n".join(body) + "\n"))
    return blocks


def doc_id(path: Path) -> str:
    return str(path.relative_to(ROOT))


def test_block_extraction(tmp_path: Path) -> None:
    text = ("# t\n\n```python\na = 1\n```\n\n```text\nnot = run(\n```\n\n"
            "````python\nb = '```'\n````\n\n  ```py\n  c = a + 1\n  ```\n")
    path = tmp_path / "blocks.md"
    path.write_text(text, encoding="utf-8")
    assert python_blocks(path) == [(4, "a = 1\n"), (12, "b = '```'\n"), (16, "c = a + 1\n")]


def test_the_tutorials_have_code_to_run():
    """The tutorials exist and carry runnable code (so nothing is silently skipped)."""
    for name in ("README.md", "docs/extending.md", "docs/einsum.md", "docs/architecture.md",
                 "docs/scaling.md"):
        assert (ROOT / name).exists(), name
    assert len(python_blocks(ROOT / "docs" / "extending.md")) >= 6
    assert python_blocks(ROOT / "README.md")
    assert len(EXAMPLES) >= 2


@pytest.mark.parametrize("path", DOCS, ids=doc_id)
def test_markdown_code_blocks_run(path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("MPLBACKEND", "Agg")
    namespace: dict[str, object] = {"__name__": "__main__"}
    blocks = python_blocks(path)
    for line, code in blocks:
        where = f"{doc_id(path)}, block at line {line}"
        try:
            exec(compile(code, where, "exec"), namespace)
        except Exception:  # report where in the Markdown, with the block's own traceback
            pytest.fail(f"{where} failed:\n{code}\n{traceback.format_exc(limit=-3)}", pytrace=False)
    assert all(isinstance(code, str) for _, code in blocks)


def quick_args(script: Path) -> list[str]:
    """The short-run flag an example documents: ``--quick``, else ``--epochs 2``."""
    text = script.read_text(encoding="utf-8")
    if '"--quick"' in text:
        return ["--quick"]
    if '"--epochs"' in text:
        return ["--epochs", "2"]
    raise AssertionError(f"{doc_id(script)} must accept --quick or --epochs N (the tests run every "
                         f"example briefly with it)")


@pytest.mark.parametrize("script", EXAMPLES, ids=doc_id)
def test_example_runs_quickly(script: Path, tmp_path: Path) -> None:
    args = quick_args(script)
    env = {**os.environ, "MPLBACKEND": "Agg", "PYTHONPATH": str(ROOT)}
    result = subprocess.run([sys.executable, str(script), *args], cwd=tmp_path, env=env,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, (f"{doc_id(script)} {' '.join(args)} exited {result.returncode}\n"
                                    f"stdout:\n{result.stdout[-2000:]}\nstderr:\n{result.stderr[-3000:]}")


def test_api_reference_names_every_public_name():
    text = (ROOT / "docs" / "api.md").read_text(encoding="utf-8")
    missing = [name for name in tn.__all__ if not re.search(rf"`(tn\.)?{re.escape(name)}\b", text)]
    assert not missing, f"docs/api.md lacks {missing}: run `python docs/gen_api.py`"


LINK = re.compile(r"\[[^\]]*\]\((?P<target>[^)\s]+)\)")


@pytest.mark.parametrize("path", DOCS, ids=doc_id)
def test_relative_links_point_at_existing_files(path: Path) -> None:
    text = re.sub(r"```.*?```", "", path.read_text(encoding="utf-8"), flags=re.S)
    broken = []
    for match in LINK.finditer(text):
        target = match["target"].split("#")[0]
        if not target or "://" in target or target.startswith("mailto:"):
            continue
        if not (path.parent / target).exists():
            broken.append(match["target"])
    assert not broken, f"{doc_id(path)} links to missing files: {broken}"


def test_einsum_page_covers_every_builtin_layer_and_loss():
    """docs/einsum.md gives every exported layer's and loss's forward and backward."""
    text = (ROOT / "docs" / "einsum.md").read_text(encoding="utf-8")
    kinds = (tn.Layer, tn.Loss)
    exported = [name for name in tn.__all__ if isinstance(getattr(tn, name), type)
                and issubclass(getattr(tn, name), kinds) and getattr(tn, name) not in kinds]
    missing = [name for name in exported if f"tn.{name}" not in text]
    assert not missing, f"docs/einsum.md does not cover {missing}"
