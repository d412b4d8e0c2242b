"""Command-line overrides: `--set KEY=VALUE`, applied to the loaded spec before it is checked.

Keys are dotted paths with list indexes or layer names:

    train.batch_size=64
    compile.optimizer.learning_rate=3e-4
    layers[2].units=128          (the third layer)
    layers.encoder.units=32      (the layer named `encoder`)
    layers.dense_1.units=32      (an unnamed layer, by the name Keras gives it, as `specc summary` shows)

Values are YAML 1.2 flow values read by specc's own loader: numbers (`1e-3`), `true`/`false`, `null`,
strings, lists (`[64, 64]`) and mappings (`{type: SGD, momentum: 0.9}`). A short form on the way is
expanded, so `compile.optimizer.learning_rate=0.01` works when the spec says `optimizer: adam`.
"""

from __future__ import annotations

import re

from .loader import Document, load_text

_PART = re.compile(r"([^.\[\]]+)|\[(\d+)\]")


class OverrideError(ValueError):
    """A `--set` assignment that cannot be applied; ``assignment`` is the KEY=VALUE it was given."""

    assignment: str | None = None


def parse_key(key: str) -> list:
    parts, pos = [], 0
    for m in _PART.finditer(key):
        if m.start() != pos and key[pos:m.start()] != ".":
            raise OverrideError(f"cannot read the key '{key}'")
        parts.append(int(m.group(2)) if m.group(2) is not None else m.group(1))
        pos = m.end()
    if not parts or pos != len(key):
        raise OverrideError(f"cannot read the key '{key}'")
    return parts


def flatten(data, prefix: str = "", lists: bool = False) -> dict:
    """Key paths to values, in the form `--set` reads: ``{"compile.optimizer.learning_rate": 0.001}``.
    With ``lists``, a list of mappings (the layers) is entered too: ``layers[1].rate``; a list of plain
    values (``metrics: [accuracy]``) stays one value."""
    out = {}
    if isinstance(data, dict):
        for k, v in data.items():
            out.update(flatten(v, f"{prefix}.{k}" if prefix else str(k), lists))
    elif lists and isinstance(data, list) and any(isinstance(v, (dict, list)) for v in data):
        for i, v in enumerate(data):
            out.update(flatten(v, f"{prefix}[{i}]", lists))
    else:
        out[prefix] = data
    return out


def parse_value(text: str):
    doc, errors = load_text(text, "<--set>")
    if errors:
        raise OverrideError(f"cannot read the value '{text}': {errors[0].message}")
    return doc.data


def apply_all(doc: Document, assignments) -> None:
    """Apply KEY=VALUE assignments in order (see :func:`apply`); a problem the checker then finds in a value set
    here is reported at its assignment, not at the file's text for the value it replaced."""
    for assignment in assignments:
        try:
            path = apply(doc, assignment)
        except OverrideError as e:
            e.assignment = assignment
            raise
        for table in (doc.spans, doc.key_spans):
            for inside in [p for p in table if p[:len(path)] == path]:
                del table[inside]
        doc.spans[path] = None  # a position of its own, with no line in the file: the checker lands on it
        doc.origins[path] = (f"--set {assignment}", path)


def apply(doc: Document, assignment: str) -> tuple:
    """Apply one KEY=VALUE to the document's data; returns the path that was set."""
    if "=" not in assignment:
        raise OverrideError(f"expected KEY=VALUE, got '{assignment}'")
    key, _, text = assignment.partition("=")
    return set_value(doc, key.strip(), parse_value(text))


def set_value(doc: Document, key: str, value) -> tuple:
    """Set the value at a key path (as `--set` reads it) in the document's data; returns the path that was set."""
    parts = parse_key(key)
    if not isinstance(doc.data, dict):
        raise OverrideError("the spec is not a mapping")
    node, path = doc.data, []
    for i, part in enumerate(parts[:-1]):
        nxt = parts[i + 1]
        if isinstance(node, list) and isinstance(part, str):  # a layer by name
            part = _layer_index(node, part, path)
        if isinstance(node, list):
            if not isinstance(part, int) or not -len(node) <= part < len(node):
                raise OverrideError(f"{key}: index {part} is out of range ({len(node)} items)")
            part %= len(node)
        elif not isinstance(node, dict):
            raise OverrideError(f"{key}: '{'.'.join(map(str, path))}' is not a mapping or list")
        child = node.get(part) if isinstance(node, dict) else node[part]
        if isinstance(child, str) and isinstance(nxt, str):  # expand a short form: adam -> {type: Adam}
            child = {"type": _canonical_type(child)}
        if child is None:
            child = {} if isinstance(nxt, str) else []
        if isinstance(node, dict):
            node[part] = child
        else:
            node[part] = child
        node = child
        path.append(part)
    last = parts[-1]
    if isinstance(node, list):
        if isinstance(last, str):
            raise OverrideError(f"{key}: '{last}' names a key of a list")
        if not -len(node) <= last < len(node):
            raise OverrideError(f"{key}: index {last} is out of range ({len(node)} items)")
        node[last % len(node)] = value
        path.append(last % len(node))
    elif isinstance(node, dict):
        node[last] = value
        path.append(last)
    else:
        raise OverrideError(f"{key}: '{'.'.join(map(str, path))}' is not a mapping")
    return tuple(path)


def _layer_index(layers: list, name: str, path: list) -> int:
    """The index of the layer called ``name``: its own `name:`, or else the name Keras gives it (dense, dense_1, ...,
    as `specc summary` shows, from each kind's ``default_name``), known here when every item is a layer of a known
    kind (no block or repeat, nothing given by a variable) so that the list is built as it stands."""
    from .layers import REGISTRY  # the spec models: not for `specc runs`, which reads keys only
    from .layers.base import unique_name

    names = [item.get("name") if isinstance(item, dict) else None for item in layers]
    if name in names:
        return names.index(name)
    items = [{"type": item} if isinstance(item, str) else item for item in layers]  # `- Flatten`: no arguments
    if all(isinstance(item, dict) and item.get("type") in REGISTRY and "repeat" not in item for item in items):
        taken, tried = {n for n in names if isinstance(n, str)}, {}
        given = [n if isinstance(n, str) else
                 unique_name(REGISTRY[item["type"]].model_construct(**item).default_name(), taken, tried)
                 for n, item in zip(names, items)]
        if name in given:
            return given.index(name)
    where = ".".join(map(str, path))
    named = [n for n in names if isinstance(n, str)]
    by_index = f"; a layer without a name is also set by its index: {where}[0], {where}[1], ..." \
        if len(named) < len(layers) else ""
    raise OverrideError(f"no layer named '{name}' in {where} (named layers: {', '.join(named) or 'none'}){by_index}")


def _canonical_type(name: str) -> str:
    """A short form's type as the mapping form spells it: `adam` is `{type: Adam}`."""
    from .schema.compile import OPTIMIZERS

    return next((n for n in OPTIMIZERS if n.lower() == name.lower()), name)
