"""Write docs/api.md, the API reference, from the docstrings of ``tinynet.__all__`` and of
the public names (``__all__``) of every other public module, where ``tn`` does not re-export them.

    python docs/gen_api.py           # rewrite docs/api.md
    python docs/gen_api.py --check   # exit 1 if docs/api.md is out of date

Names are grouped by the module that defines them; a name ``tn`` re-exports is
written ``tn.Name``, any other ``tinynet.module.Name``. Each entry shows the call
signature (parameter names and defaults), the docstring (with its ``Shape:``
line and einsum specs) and, for classes, the public methods the class defines.
"""

from __future__ import annotations

import argparse
import inspect
import sys
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

import importlib  # noqa: E402
import pkgutil  # noqa: E402

import tinynet  # noqa: E402

OUTPUT = HERE / "api.md"
PROTOCOL = {"forward", "backward", "output_shape", "get_config", "extra_repr"}


def public_modules() -> list[str]:
    """Every module of the package whose dotted name has no ``_``-prefixed part, in order."""
    names = [info.name for info in pkgutil.walk_packages(tinynet.__path__, "tinynet.")]
    return sorted(n for n in names if not any(part.startswith("_") for part in n.split(".")))


def format_default(value: Any) -> str:
    if isinstance(value, type):
        module = value.__module__
        return f"np.{value.__name__}" if module == "numpy" else value.__name__
    if callable(value) and hasattr(value, "__name__"):
        return value.__name__
    return repr(value)


def signature(obj: Any) -> str:
    """``(a, b=1, *rest, c=None)`` without annotations, which the docstrings explain."""
    try:
        sig = inspect.signature(obj)
    except (TypeError, ValueError):
        return "(...)"
    parts = []
    star_done = False
    for param in sig.parameters.values():
        if param.name == "self":
            continue
        if param.kind is param.VAR_POSITIONAL:
            parts.append(f"*{param.name}")
            star_done = True
            continue
        if param.kind is param.VAR_KEYWORD:
            parts.append(f"**{param.name}")
            continue
        if param.kind is param.KEYWORD_ONLY and not star_done:
            parts.append("*")
            star_done = True
        text = param.name
        if param.default is not inspect.Parameter.empty:
            text += f"={format_default(param.default)}"
        parts.append(text)
    return "(" + ", ".join(parts) + ")"


def methods(cls: type) -> list[str]:
    """Public methods and properties the class itself defines (not the Layer protocol's)."""
    lines = []
    for name, member in vars(cls).items():
        if name.startswith("_") or name in PROTOCOL:
            continue
        if isinstance(member, property):
            doc = inspect.getdoc(member) or ""
            lines.append(f"- `.{name}` (property){': ' + doc.splitlines()[0] if doc else ''}")
        elif inspect.isfunction(member) or isinstance(member, (staticmethod, classmethod)):
            func = member.__func__ if isinstance(member, (staticmethod, classmethod)) else member
            doc = inspect.getdoc(func) or ""
            lines.append(f"- `.{name}{signature(func)}`{': ' + doc.splitlines()[0] if doc else ''}")
    return lines


def entry(name: str, obj: Any) -> list[str]:
    """The section of one name; ``name`` is ``tn.Name`` or a full ``tinynet.module.Name``."""
    lines = [f"### `{name}`", ""]
    if isinstance(obj, str):
        return [*lines, f"`{name} = {obj!r}`", ""]
    kind = "class" if isinstance(obj, type) else "function"
    lines += ["```text", f"{kind} {name}{signature(obj)}", "```", ""]
    doc = inspect.getdoc(obj)
    if doc and isinstance(obj, type) and doc == inspect.getdoc(object):
        doc = None
    if doc:
        lines += ["```text", doc.replace("```", "'''"), "```", ""]
    else:
        lines += ["(no docstring)", ""]
    if isinstance(obj, type):
        extra = methods(obj)
        if extra:
            lines += ["Methods:", "", *extra, ""]
    return lines


def module_of(obj: Any) -> str:
    if isinstance(obj, str):
        return "tinynet"
    module = getattr(obj, "__module__", "tinynet") or "tinynet"
    return module


def beyond_tn() -> dict[str, list[tuple[str, Any]]]:
    """``module -> [(full name, object)]`` for the classes and functions in the ``__all__`` of
    every public module that the module defines itself and ``tn`` does not re-export."""
    exported = {id(getattr(tinynet, name)) for name in tinynet.__all__}
    found: dict[str, list[tuple[str, Any]]] = {}
    for module_name in public_modules():
        module = importlib.import_module(module_name)
        for name in getattr(module, "__all__", []):
            obj = getattr(module, name)
            if (isinstance(obj, type) or inspect.isfunction(obj)) and id(obj) not in exported \
                    and getattr(obj, "__module__", None) == module_name:
                found.setdefault(module_name, []).append((f"{module_name}.{name}", obj))
    return found


def anchor_of(title: str) -> str:
    """GitHub's anchor of the heading ``### `title```: lower case, dots dropped."""
    return "".join(c for c in title.lower() if c.isalnum() or c in "_-")


def render() -> str:
    groups: dict[str, list[tuple[str, Any]]] = {}
    for name in tinynet.__all__:
        obj = getattr(tinynet, name)
        groups.setdefault(module_of(obj), []).append((f"tn.{name}", obj))
    for module, entries in beyond_tn().items():
        groups.setdefault(module, []).extend(entries)
    lines = [
        "# API reference",
        "",
        "Every public name of `tinynet` (`import tinynet as tn`), grouped by the module that "
        "defines it, and the public names of sub-package modules that `tn` does not re-export "
        "(written in full, such as `tinynet.layers.state.Snapshot`). "
        "Generated from the docstrings by `python docs/gen_api.py`; edit the "
        "docstrings, not this file. Shapes use `B` for the batch axis; see "
        "[einsum.md](einsum.md) for the index notation of the specs.",
        "",
    ]
    seen: dict[str, int] = {}
    for module in sorted(groups):
        links = []
        for title, _ in groups[module]:
            anchor = anchor_of(title)  # repeats (tn.Einsum, tn.einsum) get -1, -2
            count = seen.get(anchor, 0)
            seen[anchor] = count + 1
            short = title.removeprefix("tn.") if title.startswith("tn.") else title.rsplit(".", 1)[1]
            links.append(f"[`{short}`](#{anchor}{f'-{count}' if count else ''})")
        lines.append(f"- `{module}`: {', '.join(links)}")
    lines.append("")
    for module in sorted(groups):
        lines += [f"## `{module}`", ""]
        first = (inspect.getdoc(sys.modules[module]) or "").split("\n\n")[0] if module in sys.modules else ""
        if first:
            lines += [" ".join(first.split()), ""]
        for title, obj in groups[module]:
            lines += entry(title, obj)
    return "\n".join(lines).rstrip() + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Generate docs/api.md from the docstrings.")
    parser.add_argument("--check", action="store_true", help="only check that docs/api.md is current")
    args = parser.parse_args(argv)
    text = render()
    if args.check:
        current = OUTPUT.read_text(encoding="utf-8") if OUTPUT.exists() else ""
        if current != text:
            print("docs/api.md is out of date: run python docs/gen_api.py", file=sys.stderr)
            return 1
        print("docs/api.md is up to date")
        return 0
    OUTPUT.write_text(text, encoding="utf-8")
    extra = sum(len(entries) for entries in beyond_tn().values())
    print(f"wrote {OUTPUT} ({len(tinynet.__all__)} names of tn, {extra} beyond it)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
