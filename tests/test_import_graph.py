"""The package's import graph: each part imports only the layers below it, counting every import (module
level, inside functions and under ``TYPE_CHECKING``), and the cycle finder the graph checks use."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "replayer"


def _modules(root: Path) -> dict[str, Path]:
    out = {}
    for path in root.rglob("*.py"):
        parts = list(path.relative_to(root.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        out[".".join(parts)] = path
    return out


def _imports(name: str, path: Path, known: dict[str, Path]) -> set[str]:
    """The package's modules that module ``name`` imports (a ``from pkg import sub`` names the submodule)."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name in known}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*parts, base] if base else parts)
            for alias in node.names:
                sub = f"{base}.{alias.name}"
                if sub in known:
                    found.add(sub)
                elif base in known:
                    found.add(base)
    found.discard(name)
    return found


def import_graph(root: Path = PACKAGE) -> dict[str, set[str]]:
    """Module -> the package's modules it imports."""
    known = _modules(root)
    return {name: _imports(name, path, known) for name, path in known.items()}


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import cycle as a path (first module repeated at the end), or None."""
    colour: dict[str, int] = {}  # 1: on the current path, 2: done
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        colour[node] = 1
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if colour.get(nxt) == 1:
                return [*stack[stack.index(nxt):], nxt]
            if nxt not in colour and (cycle := visit(nxt)) is not None:
                return cycle
        stack.pop()
        colour[node] = 2
        return None

    for start in sorted(graph):
        if start not in colour and (cycle := visit(start)) is not None:
            return cycle
    return None


#: What each part of the package may import (docs/architecture.md): nothing runs back up the layers.
_BOTTOM = {"errors", "limits"}
MAY_IMPORT: dict[str, set[str]] = {
    "errors": set(),
    "limits": set(),
    "lifetime": set(),
    "environment": {"errors"},
    "project_file": {"errors"},
    "cassettes": _BOTTOM,
    "o2ims": _BOTTOM | {"cassettes"},
    "security": _BOTTOM | {"o2ims"},
    # record.redact: the default secret-header names; diff.rules (no imports of its own): the one path-pattern
    # syntax, which --ignore-body shares with the diff's rules
    "matching": _BOTTOM | {"cassettes", "o2ims", "record", "diff"},
    "record": _BOTTOM | {"__init__", "cassettes", "o2ims", "matching"},
    "diff": _BOTTOM | {"cassettes", "o2ims"},
    "har": _BOTTOM | {"cassettes", "record"},
    "synthetic": _BOTTOM | {"o2ims", "security"},
    # record.redact: targets in logs and the journal are shown redacted
    "server": _BOTTOM | {"__init__", "lifetime", "cassettes", "o2ims", "matching", "record", "security", "synthetic"},
}


def _part(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


def _fresh_graph(root: Path = PACKAGE) -> dict[str, set[str]]:
    """``import_graph()`` computed in a fresh interpreter: CPython 3.11's ``ast.parse`` can fail with
    "AST constructor recursion depth mismatch" in a process where another test hit a RecursionError."""
    code = "import json, pathlib, sys; from tests.test_import_graph import import_graph; " \
           "print(json.dumps({k: sorted(v) for k, v in import_graph(pathlib.Path(sys.argv[1])).items()}))"
    done = subprocess.run([sys.executable, "-c", code, str(root)], capture_output=True, text=True, timeout=120,
                          cwd=PACKAGE.parent, check=True)
    return {k: set(v) for k, v in json.loads(done.stdout).items()}


def test_each_part_imports_only_the_layers_below_it() -> None:
    wrong = sorted(
        f"{module} imports {target}"
        for module, targets in _fresh_graph().items() if _part(module) in MAY_IMPORT
        for target in targets if _part(target) != _part(module) and _part(target) not in MAY_IMPORT[_part(module)]
    )
    assert wrong == []


@pytest.mark.parametrize(("graph", "expected"), [
    ({"a": {"b"}, "b": {"c"}, "c": set()}, None),
    ({"a": {"b"}, "b": {"c"}, "c": {"a"}}, ["a", "b", "c", "a"]),
    ({"a": {"b"}, "b": {"b2"}, "b2": {"b"}}, ["b", "b2", "b"]),
])
def test_find_cycle(graph: dict[str, set[str]], expected: list[str] | None) -> None:
    assert find_cycle(graph) == expected


def test_lazy_and_type_checking_imports_count(tmp_path: Path) -> None:
    pkg = tmp_path / "pkg"
    (pkg / "sub").mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    (pkg / "sub" / "__init__.py").write_text("")
    (pkg / "a.py").write_text("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from pkg.sub import b\n")
    (pkg / "sub" / "b.py").write_text("def f():\n    from .. import a\n")
    graph = _fresh_graph(pkg)
    assert graph["pkg.a"] == {"pkg.sub.b"} and graph["pkg.sub.b"] == {"pkg.a"}
    assert find_cycle(graph) == ["pkg.a", "pkg.sub.b", "pkg.a"]
