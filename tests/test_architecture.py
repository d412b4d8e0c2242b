"""The shape of the code stays as docs/architecture.md describes it: the import contracts hold (import-linter),
no import cycles, no function over 80 lines, no private name (`_x`) imported from another module."""

import ast
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import ROOT

PACKAGE = ROOT / "specc"
MAX_FUNCTION_LINES = 80


def modules() -> dict[str, tuple[Path, bool]]:
    """Every module of specc: dotted name -> (file, whether it is a package's __init__)."""
    out = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = list(path.relative_to(ROOT).with_suffix("").parts)
        package = parts[-1] == "__init__"
        out[".".join(parts[:-1] if package else parts)] = (path, package)
    return out


def imports(name: str, package: bool, tree: ast.AST, known: dict) -> list[tuple[str, str | None, int]]:
    """(module imported, name imported from it or None, line) for every import of a specc module, at module
    level or inside a function (a lazy import is a dependency too)."""
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out += [(a.name, None, node.lineno) for a in node.names if a.name.split(".")[0] == "specc"]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = name.split(".") if package else name.split(".")[:-1]
                base = base[: len(base) - (node.level - 1)]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            if target.split(".")[0] != "specc":
                continue
            for alias in node.names:
                if f"{target}.{alias.name}" in known:  # `from . import sub`: the submodule itself
                    out.append((f"{target}.{alias.name}", None, node.lineno))
                else:
                    out.append((target, alias.name, node.lineno))
    return out


def graph() -> tuple[dict[str, set[str]], list[str]]:
    """The import graph between specc's modules, and every private name imported from another module."""
    known = modules()
    edges: dict[str, set[str]] = {m: set() for m in known}
    private = []
    for name, (path, package) in known.items():
        for target, imported, line in imports(name, package, ast.parse(path.read_text()), known):
            while target not in known and "." in target:
                target = target.rsplit(".", 1)[0]
            if target == name or target not in known:
                continue
            edges[name].add(target)
            if imported and imported.startswith("_") and not imported.startswith("__"):
                private.append(f"{path.relative_to(ROOT)}:{line} imports {imported} from {target}")
    return edges, private


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan's algorithm, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found = []
    for root in edges:
        if root in index:
            continue
        work = [(root, iter(sorted(edges[root])))]
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
                    work.append((child, iter(sorted(edges[child]))))
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
                if len(component) > 1:
                    found.append(sorted(component))
    return found


def test_the_cycle_finder_finds_cycles():
    edges = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}, "e": {"e"}}
    assert cycles(edges) == [["a", "b", "c"]]
    assert cycles({"a": {"b"}, "b": set()}) == []


def test_no_import_cycles():
    edges, _ = graph()
    assert len(edges) > 50  # the walk found the package
    assert cycles(edges) == []


def test_no_private_name_is_imported_from_another_module():
    """What another module needs is public, in one place."""
    _, private = graph()
    assert private == []


def test_no_function_is_longer_than_80_lines():
    long = []
    for path, _ in modules().values():
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                lines = node.end_lineno - node.lineno + 1
                if lines > MAX_FUNCTION_LINES:
                    long.append(f"{path.relative_to(ROOT)}:{node.lineno} {node.name} ({lines} lines)")
    assert long == []


def test_the_import_contracts_hold():
    """pyproject.toml's [tool.importlinter] contracts: the pipeline's layers, the data steps' layers, and the
    Keras config reader that imports neither the checker nor the formatter."""
    code = "import sys; from importlinter.cli import lint_imports; sys.exit(lint_imports(no_cache=True))"
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True,
                         env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"})
    assert out.returncode == 0, out.stdout + out.stderr
    assert "0 broken" in out.stdout


def test_the_architecture_page_names_every_pass_and_contract():
    from specc.check import PASSES

    tomllib = pytest.importorskip("tomllib")  # Python 3.11+

    page = (ROOT / "docs" / "architecture.md").read_text()
    contracts = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]["contracts"]
    assert len(contracts) >= 3
    for contract in contracts:
        assert f"*{contract['name']}*" in page, contract["name"]
    for name, _ in PASSES:
        assert f"| {name} |" in page, name


def test_every_layer_family_has_its_test_module():
    """specc/layers/<family>.py is checked against Keras by tests/test_layers_<family>.py (Block, Model and Shared,
    which refer to other parts of a spec, by tests/test_expand.py and tests/test_reuse.py)."""
    families = {p.stem for p in (PACKAGE / "layers").glob("*.py")} - {"__init__", "base", "models"}
    assert len(families) >= 10
    missing = sorted(f for f in families if not (ROOT / "tests" / f"test_layers_{f}.py").is_file())
    assert missing == []
