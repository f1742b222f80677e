"""The package's shape: one-way imports between levels (import-linter), no import cycles,
few top-level modules, a light ``import tinynet``, and docs that state the same levels."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import grimp
import pytest

tomllib = pytest.importorskip("tomllib")  # Python 3.11+

ROOT = Path(__file__).resolve().parents[2]
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")


def contracts() -> list[dict]:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]["contracts"]


def run_lint_imports(package_parent: Path) -> subprocess.CompletedProcess[str]:
    """lint-imports with the project's contracts on the tinynet package found in ``package_parent``."""
    return subprocess.run([str(LINT_IMPORTS), "--config", str(ROOT / "pyproject.toml"), "--no-cache"],
                          cwd=package_parent, capture_output=True, text=True, timeout=120,
                          env={"PYTHONPATH": str(package_parent), "PATH": ""})


@pytest.fixture(scope="module")
def package_copy(tmp_path_factory: pytest.TempPathFactory) -> Path:
    parent = tmp_path_factory.mktemp("copy")
    shutil.copytree(ROOT / "tinynet", parent / "tinynet", ignore=shutil.ignore_patterns("__pycache__"))
    return parent


def test_the_levels_hold_and_a_reversed_import_breaks_them(package_copy: Path) -> None:
    kept = run_lint_imports(package_copy)
    assert kept.returncode == 0, kept.stdout + kept.stderr
    assert "Contracts: 2 kept, 0 broken." in kept.stdout
    # A layer reaching up to training from inside a function: still an import, still refused.
    dense = package_copy / "tinynet/layers/core/dense.py"
    original = dense.read_text()
    reversed_import = "\n\ndef _reversed() -> None:\n    from tinynet.training import fit  # noqa\n"
    dense.write_text(original + reversed_import)
    try:
        broken = run_lint_imports(package_copy)
    finally:
        dense.write_text(original)
    assert broken.returncode != 0
    assert "tinynet.layers is not allowed to import tinynet.training" in broken.stdout
    assert "tinynet.layers.core.dense -> tinynet.training" in broken.stdout


def strongly_connected(graph: dict[str, set[str]]) -> list[list[str]]:
    """Tarjan's strongly connected components (iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components: list[list[str]] = []
    for root in graph:
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph.get(child, ())))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                components.append(component)
    return components


def test_no_import_cycle_counting_imports_inside_functions() -> None:
    graph = grimp.build_graph("tinynet", cache_dir=None)
    edges = {m: set(graph.find_modules_directly_imported_by(m)) for m in graph.modules}
    assert "tinynet.layers.core.dense" in edges["tinynet.layers"]  # the graph is real
    cycles = [sorted(c) for c in strongly_connected(edges) if len(c) > 1]
    self_loops = [m for m, targets in edges.items() if m in targets]
    assert cycles == [] and self_loops == []


def test_strongly_connected_finds_a_cycle() -> None:
    assert sorted(map(sorted, strongly_connected({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}))) == [
        ["a", "b", "c"], ["d"]]


def test_every_module_at_the_top_is_a_level_of_the_contract() -> None:
    """Few modules at the top, and each has its place in the levels (nothing outside the check)."""
    top = {p.name.removesuffix(".py") for p in (ROOT / "tinynet").iterdir()
           if p.name != "__init__.py" and (p.suffix == ".py" or (p / "__init__.py").exists())}
    (levels,) = [c for c in contracts() if c["id"] == "levels"]
    named = {m.strip().removeprefix("tinynet.") for level in levels["layers"] for m in level.split("|")}
    assert top == named
    assert len(top) <= 14, sorted(top)


def test_import_tinynet_loads_neither_scikit_learn_nor_matplotlib() -> None:
    code = ("import sys, tinynet; bad = [m for m in ('sklearn', 'matplotlib', 'torch') if m in sys.modules];"
            "assert not bad, bad")
    subprocess.run([sys.executable, "-c", code], check=True, timeout=120)


def test_architecture_page_lists_the_levels_of_the_contract() -> None:
    """docs/architecture.md's level table names, level by level, the packages of the contract."""
    levels = next(c for c in contracts() if c["id"] == "levels")["layers"]
    page = (ROOT / "docs/architecture.md").read_text()
    rows = re.findall(r"^\| (\d) \| ([^|]+) \|", page, flags=re.M)
    documented = {int(level): sorted(re.findall(r"`(tinynet[\w.]*)`", names)) for level, names in rows}
    expected = {len(levels) - i: sorted(name.strip() for name in layer.split("|"))
                for i, layer in enumerate(levels)}
    assert documented == expected
