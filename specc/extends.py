"""Pass 1a: `extends: base.yaml`, a spec that inherits a whole other spec and overrides some of its keys.

How a spec and its base merge (docs/graphs.md#extends):

* mappings merge key by key, recursively: the extending spec's keys win, the base's other keys stay (in the
  base's order, new keys after them), at any depth (``train: {epochs: 5}`` keeps the base's other train keys);
* anything else replaces the base's value whole: a list (``layers``, ``metrics``, ``include``), a number, a
  string, ``null``;
* a base may extend another base, up to MAX_CHAIN files; files that extend each other in a loop are an error.

A base path is relative to the file that names it and stays inside the project tree (the folder above the spec
that holds .git or pyproject.toml), as ``include:`` paths do; it is read with the loader's limits (size, depth,
no aliases). Other paths in an inherited value (data files, ``include:``, saved models) are copied as written and
read from the extending spec's folder, like every path in it: keep a base beside its variants.

Every value of the merged document keeps where it came from, so a diagnostic about an inherited value points
into the base file, at its line and column.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from .diagnostics import Diagnostic, short
from .loader import Document, load_file

MAX_CHAIN = 16  # files in one extends chain, the spec included
KEY = "extends"


def has_extends(doc: Document) -> bool:
    return isinstance(doc.data, dict) and KEY in doc.data


def project_root(start: Path) -> Path:
    """The nearest directory above ``start`` that holds .git or pyproject.toml; else ``start`` itself."""
    for folder in (start, *start.parents):
        if (folder / ".git").exists() or (folder / "pyproject.toml").exists():
            return folder
    return start


def resolve_extends(doc: Document) -> tuple[Document, list[Diagnostic]]:
    """The spec merged over its bases (without the ``extends`` key), and the errors found on the way."""
    chain, errors = _chain(doc)
    if errors:
        return doc, errors
    data: Any = None
    for source in reversed(chain):
        data = _merge(data, {k: v for k, v in source.data.items() if k != KEY})
    merged = Document(path=doc.path, text=doc.text, data=data, location=doc.location,
                      sources={d.path: d for d in chain[1:]})
    _positions(merged, chain, data, ())
    return merged, []


def _chain(doc: Document) -> tuple[list[Document], list[Diagnostic]]:
    """The spec and its bases, the spec first."""
    location = doc.location.resolve() if doc.location is not None else None
    project = project_root(location.parent if location is not None else Path.cwd().resolve())
    chain, seen = [doc], [location]
    current = doc
    while isinstance(current.data, dict) and KEY in current.data:
        rel = current.data[KEY]
        loc = (KEY,)
        if not isinstance(rel, str) or not rel.strip():
            return chain, [current.error("E060", "extends must be the path of a spec file", loc)]
        if os.path.isabs(rel) or rel.startswith("~"):
            return chain, [current.error("E061", f"extends paths are relative to the extending file. Received: "
                                                 f"{short(rel)!r}", loc)]
        folder = current.location.resolve().parent if current.location is not None else Path.cwd().resolve()
        try:
            target = (folder / rel).resolve()
        except (OSError, ValueError, RuntimeError) as e:  # a NUL byte, a link loop
            return chain, [current.error("E060", f"cannot extend {short(rel)!r}: {e}", loc)]
        if not target.is_relative_to(project):
            return chain, [current.error("E061", f"extends leaves the project tree (the folder above the spec that "
                                                 f"holds .git or pyproject.toml). Received: {short(rel)!r}", loc,
                                         help="keep the base spec inside the project, beside its variants")]
        if target in seen:
            names = [_shown(p, project) for p in seen[seen.index(target):]] + [_shown(target, project)]
            return chain, [current.error("E062", f"specs extend each other in a loop: {' -> '.join(names)}", loc)]
        if len(chain) >= MAX_CHAIN:
            return chain, [current.error("E062", f"more than {MAX_CHAIN - 1} specs extend one another in a chain",
                                         loc)]
        display = os.path.relpath(target) if not os.path.relpath(target).startswith("..") else str(target)
        base, errors = load_file(target, display)
        if base is None:
            message = errors[0].message if errors else "cannot read it"
            return chain, [current.error("E060", f"cannot extend {short(rel)!r}: {message}", loc)]
        if errors:
            return chain, errors
        if not isinstance(base.data, dict):
            return chain, [current.error("E060", f"cannot extend {short(rel)!r}: it is not a spec (a mapping)", loc)]
        chain.append(base)
        seen.append(target)
        current = base
    return chain, []


def _shown(path: Path | None, project: Path) -> str:
    return "<stdin>" if path is None else os.path.relpath(path, project)


def _merge(base: Any, over: Any) -> Any:
    if isinstance(base, dict) and isinstance(over, dict):
        out = dict(base)
        for key, value in over.items():
            out[key] = _merge(base.get(key), value) if key in base else value
        return out
    return over


def _positions(merged: Document, chain: list[Document], value: Any, path: tuple) -> None:
    """Spans and origins of every part of the merged data: each from the first file of the chain (the spec,
    then its bases) that holds that part, which is the file the merged value came from. One walk over the merged
    data, carrying each file's part at the same place (no lookups from the top)."""
    stack = [(value, path, [(d, d.data) for d in chain])]
    while stack:
        node, where, holders = stack.pop()
        owner = holders[0][0] if holders else None
        if owner is not None:
            if where in owner.spans:
                merged.spans[where] = owner.spans[where]
            if where in owner.key_spans:
                merged.key_spans[where] = owner.key_spans[where]
            if owner is not chain[0]:
                merged.origins[where] = (owner.path, where)
        if isinstance(node, dict):
            for k, v in node.items():
                stack.append((v, where + (k,), [(d, s[k]) for d, s in holders if isinstance(s, dict) and k in s]))
        elif isinstance(node, list):
            for i, v in enumerate(node):
                stack.append((v, where + (i,), [(d, s[i]) for d, s in holders if isinstance(s, list) and i < len(s)]))
