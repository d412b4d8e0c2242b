"""`specc fmt`: one canonical layout for specs, keeping comments.

The canonical layout:
- keys in the order of the spec language (the Pydantic models' field order), with a layer's `type`,
  `name` and `inputs` first and its `input_shape` and `trainable` last;
- lists of scalars in flow style (`input_shape: [28, 28, 1]`);
- layers and other nested mappings in flow style when they hold no comment and fit in the line width;
  top-level sections in block style;
- two-space indentation, sequences indented under their key.

Only valid specs are formatted (the checker runs first), and the result is checked to load to the same data.
Comments stay attached to the key or item they follow.
"""

from __future__ import annotations

import io
import json
import math
import re
from collections import Counter
from typing import get_args

from pydantic import BaseModel

from .layers import REGISTRY
from .layers.base import Layer, LazyUnion
from .schema import Spec

WIDTH = 110
LAYER_FIRST = ("type", "name", "inputs")
LAYER_LAST = ("input_shape", "trainable")


def _yaml():
    from ruamel.yaml import YAML

    y = YAML(typ="rt")
    y.preserve_quotes = True
    y.width = 4096  # we choose flow/block ourselves; never let the emitter fold lines
    y.indent(mapping=2, sequence=4, offset=2)
    return y


def _models_in(annotation) -> list[type[BaseModel]]:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    out = []
    for arg in get_args(annotation):
        out += _models_in(arg)
    return out


def _kind_in(annotation, tag) -> type[BaseModel] | None:
    """The model of kind ``tag`` in a lazily built union of ``annotation`` (only that kind's family imported)."""
    for arg in get_args(annotation):
        found = arg.registry.get(tag) if isinstance(arg, LazyUnion) else _kind_in(arg, tag)
        if found is not None:
            return found
    return None


def _model_for(annotation, value) -> type[BaseModel] | None:
    models = _models_in(annotation)
    if isinstance(value, dict) and isinstance(value.get("type"), str):
        kind = _kind_in(annotation, value["type"])
        if kind is not None:
            return kind
    if isinstance(value, dict) and "type" in value:
        for m in models:
            t = m.model_fields.get("type")
            if t is not None and value["type"] in get_args(t.annotation):
                return m
        tag = str(value["type"])
        if tag in REGISTRY:
            return REGISTRY[tag]
    return models[0] if len(models) == 1 else None


def _key_order(model: type[BaseModel] | None, keys: list[str]) -> list[str]:
    if model is None:
        return keys
    fields = list(model.model_fields)
    if issubclass(model, Layer):
        middle = [f for f in fields if f not in LAYER_FIRST + LAYER_LAST]
        fields = [*LAYER_FIRST, *middle, *LAYER_LAST]
    elif "type" in fields:  # a typed mapping (optimizer, loss, source, schedule) names its type first
        fields.remove("type")
        fields.insert(0, "type")
    rank = {k: i for i, k in enumerate(fields)}
    return sorted(keys, key=lambda k: (rank.get(k, len(rank)), keys.index(k)))


def _has_comments(node, top: bool = True) -> bool:
    """Whether a comment sits inside the node. The end-of-line comment after a flow collection
    (`reshape: [8, 8, 1]  # images`) belongs to the parent's key and stays where it is."""
    from ruamel.yaml.comments import CommentedMap, CommentedSeq

    if isinstance(node, (CommentedMap, CommentedSeq)):
        ca = node.ca
        trailing_only = top and node.fa.flow_style()
        if (ca.comment and not trailing_only) or any(any(c is not None for c in (v or [])) for v in ca.items.values()):
            return True
        values = node.values() if isinstance(node, CommentedMap) else node
        return any(_has_comments(v, top=False) for v in values)
    return False


def _flow_text(node) -> str:
    """The node as one flow-style line (for measuring its width)."""
    if isinstance(node, dict):
        return "{" + ", ".join(f"{k}: {_flow_text(v)}" for k, v in node.items()) + "}"
    if isinstance(node, list):
        return "[" + ", ".join(_flow_text(v) for v in node) + "]"
    if node is None:
        return "null"
    if isinstance(node, bool):
        return str(node).lower()
    return str(node)


def _sort_keys(node, model) -> None:
    """Reorder a mapping's keys in place; each key keeps the comments attached to it."""
    keys = _key_order(model, list(node.keys()))
    if keys == list(node.keys()):
        return
    items = [(k, node[k]) for k in keys]
    comments = dict(node.ca.items)
    for k in list(node.keys()):
        del node[k]
    for k, v in items:
        node[k] = v
    node.ca.items.clear()
    node.ca.items.update(comments)


def _reorder(node, model, depth: int, indent: int):
    from ruamel.yaml.comments import CommentedMap, CommentedSeq

    if isinstance(node, CommentedMap):
        fields = model.model_fields if model is not None else {}
        _sort_keys(node, model)
        for k in node:
            sub = fields.get(k)
            child_model = _model_for(sub.rebuild_annotation(), node[k]) if sub is not None else None
            _reorder(node[k], child_model, depth + 1, indent + 2)
        if depth <= 1:
            node.fa.set_block_style()
        elif not _has_comments(node) and indent + len(_flow_text(node)) <= WIDTH:
            node.fa.set_flow_style()
        else:
            node.fa.set_block_style()
    elif isinstance(node, CommentedSeq):
        item_annotation = None
        if model is not None:
            item_annotation = model
        for item in node:
            _reorder(item, _model_for(item_annotation, item) if item_annotation is not None else None,
                     depth + 1, indent + 4)
        scalars = all(not isinstance(v, (dict, list)) for v in node)
        if scalars and not _has_comments(node):
            node.fa.set_flow_style()
        elif depth >= 2 and not _has_comments(node) and indent + len(_flow_text(node)) <= WIDTH:
            node.fa.set_flow_style()
        else:
            node.fa.set_block_style()


def _layer_list(layers, indent: int) -> None:
    """A list of layers: block style, each layer in flow style when it fits (see _reorder). Anything else (a
    `${variable}` that stands for the list) is left as it is."""
    from ruamel.yaml.comments import CommentedSeq

    if not isinstance(layers, CommentedSeq):
        return
    for item in layers:
        _reorder(item, _model_for(Layer, item), 2, indent)
    layers.fa.set_block_style()


class FormatError(Exception):
    pass


def format_text(text: str) -> str:
    """The canonical layout of a valid spec's text."""
    from ruamel.yaml.comments import CommentedMap

    y = _yaml()
    try:
        data = y.load(text)
    except Exception as e:  # noqa: BLE001 - ruamel raises many kinds; the checker ran first
        raise FormatError(f"cannot parse for formatting: {e}") from None
    if not isinstance(data, CommentedMap):
        raise FormatError("the spec is not a mapping")
    _sort_keys(data, Spec)
    for key in data:
        field = Spec.model_fields.get(key)
        if field is None:
            continue
        if key == "layers":
            _layer_list(data[key], 4)
            continue
        if key in ("models", "blocks") and isinstance(data[key], CommentedMap):
            # each entry as a small spec: its keys in order, its layers one per line like the spec's own
            entry_model = _models_in(field.annotation)[0]
            for entry in data[key].values():
                if not isinstance(entry, CommentedMap):
                    continue
                _sort_keys(entry, entry_model)
                for k in entry:
                    if k == "layers":
                        _layer_list(entry[k], 8)
                    else:
                        sub = entry_model.model_fields.get(k)
                        _reorder(entry[k], _model_for(sub.rebuild_annotation(), entry[k]) if sub else None, 3, 6)
                entry.fa.set_block_style()
            data[key].fa.set_block_style()
            continue
        _reorder(data[key], _model_for(field.rebuild_annotation(), data[key]), 1, 0)
    out = io.StringIO()
    y.dump(data, out)
    return out.getvalue()


def format_file_text(text: str, path: str = "<string>") -> tuple[str | None, list]:
    """Check, then format; returns (new text, diagnostics). New text is None when the spec is invalid."""
    from pathlib import Path

    from .check import check_text
    from .loader import load_text

    result = check_text(text, path, Path(path) if Path(path).is_file() else None)
    if not result.ok:
        return None, result.diagnostics
    new = format_text(text)
    before, _ = load_text(text, path)
    after, errors = load_text(new, path)
    if errors or after.data != before.data:
        raise FormatError(f"{path}: formatting would change the spec's meaning; please report this")
    kept = Counter(comment for _, comment in comments(new))
    for line, comment in comments(text):  # ruamel drops a comment inside a flow collection that spans lines
        kept[comment] -= 1
        if kept[comment] < 0:
            raise FormatError(f"line {line}: formatting would drop the comment '{comment}' (inside a {{...}} or "
                              f"[...] that spans lines); put it on a line of its own, then format again")
    return new, []


def comments(text: str) -> list[tuple[int, str]]:
    """The comments in YAML ``text``, with their line numbers: a ``#`` at a line's start or after a space, outside
    quotes."""
    found = []
    for number, line in enumerate(text.splitlines(), 1):
        quote = None
        for i, ch in enumerate(line):
            if quote:
                quote = None if ch == quote else quote
            elif ch in "'\"" and (i == 0 or line[i - 1] in " \t[{,:-"):
                quote = ch
            elif ch == "#" and (i == 0 or line[i - 1] in " \t"):
                found.append((number, line[i:].rstrip()))
                break
    return found


# -- writing a spec given as data (`specc import`) ---------------------------------------------------
_PLAIN_SCALAR = re.compile(r"^[A-Za-z_][A-Za-z0-9_.\-]*$")
_SPECIAL_WORDS = {"true", "false", "null", "yes", "no", "on", "off", "y", "n", "~"}


def spec_yaml(spec: dict, comments=()) -> str:
    """A spec given as plain data (what its YAML loads to) as YAML text in the canonical layout: the comment
    lines first, each layer on one line where it fits, the ones that do not fit in block style."""
    lines = [f"# {c}" for c in comments]
    for key, value in spec.items():
        if key in ("layers",):
            lines.append(f"{key}:")
            lines += _layer_lines(value, 2, WIDTH)
        elif key == "models":
            lines.append("models:")
            for name, body in value.items():
                lines.append(f"  {_scalar(name)}:")
                for k, v in body.items():
                    if k == "layers":
                        lines.append("    layers:")
                        lines += _layer_lines(v, 6, WIDTH)
                    else:
                        lines.append(f"    {k}: {_flow(v)}")
        else:
            lines.append(f"{key}: {_flow(value)}")
    return "\n".join(lines) + "\n"


def _layer_lines(layers: list, indent: int, width: int) -> list[str]:
    pad = " " * indent
    out = []
    for layer in layers:
        if isinstance(layer, str) or indent + 2 + len(_flow_text(layer)) <= width:
            out.append(f"{pad}- {_flow(layer)}")
            continue
        first = True
        for k, v in layer.items():
            lead = f"{pad}- " if first else f"{pad}  "
            first = False
            out += _block_value(lead, k, v, indent + 2, width)
    return out


def _block_value(lead: str, key: str, value, indent: int, width: int) -> list[str]:
    if isinstance(value, dict) and value and indent + 2 + len(_flow_text(value)) > width:
        lines = [f"{lead}{key}:"]
        for k, v in value.items():
            lines += _block_value(" " * (indent + 2), k, v, indent + 2, width)
        return lines
    return [f"{lead}{key}: {_flow(value)}"]


def _flow(value) -> str:
    if isinstance(value, dict):
        return "{" + ", ".join(f"{_scalar(k)}: {_flow(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(_flow(v) for v in value) + "]"
    return _scalar(value)


def _scalar(value) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return ".nan"
        if math.isinf(value):
            return ".inf" if value > 0 else "-.inf"
        text = repr(value)
        if "e" in text and "." not in text.split("e")[0]:
            mantissa, exponent = text.split("e")
            text = f"{mantissa}.0e{exponent}"
        return text
    text = str(value)
    if _PLAIN_SCALAR.match(text) and text.lower() not in _SPECIAL_WORDS:
        return text
    return json.dumps(text)
