"""Pydantic's validation errors as located diagnostics (the schema pass's messages).

Pydantic reports an error as a kind (``missing``, ``extra_forbidden``, ``literal_error``, ...), a location
that mixes keys and indexes with union tags and member labels, and the value received. Here each location
is matched against the data (which parts are keys, which are tags), the errors of a plain union are
folded into one, and each kind has its own handler in ``HANDLERS``: one message per problem, located at
the key or value it is about, with a 'did you mean' where a name is misspelt.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, replace
from typing import Any, Callable

from pydantic import ValidationError

from ..diagnostics import Diagnostic, closest, closest_names, format_path, quoted_choices, short
from ..layers import REGISTRY
from ..layers.base import type_args
from ..loader import Document
from . import SUPPORTED_VERSIONS, Spec


def validate_spec(doc: Document) -> tuple[Spec | None, list[Diagnostic]]:
    """The document's data as a Spec, or None and the diagnostics that say why not."""
    data = doc.data
    if not isinstance(data, dict):
        if data is None:
            message = "the spec is empty"
        else:
            message = f"a spec must be a mapping (`specc: 1`, `layers: ...`). Received: {shown(data)}"
        return None, [doc.error("E020", message,
                                help="a spec is a mapping that starts with `specc: 1` and has `layers:`")]
    if "specc" in data and not _supported(data["specc"]):
        return None, [_version_error(doc, data["specc"])]
    try:
        return Spec.model_validate(data), []
    except ValidationError as e:
        return None, schema_diagnostics(e.errors(), doc)


def _supported(version: Any) -> bool:
    return type(version) is int and version in SUPPORTED_VERSIONS


def _version_error(doc: Document, version: Any) -> Diagnostic:
    expected = " or ".join(f"`specc: {v}`" for v in SUPPORTED_VERSIONS)
    hint = None
    if not isinstance(version, bool) and str(version).strip() in {str(v) for v in SUPPORTED_VERSIONS} | {
            f"{v}.0" for v in SUPPORTED_VERSIONS}:
        hint = f"write the version as a whole number without quotes: `specc: {str(version).strip().split('.')[0]}`"
    return doc.error("E104", f"unsupported spec version. Expected {expected}. Received: {shown(version)}",
                     ("specc",), help=hint)


_QUOTED = re.compile(r"'([^']*)'")
_TYPES = {
    "int_type": "an integer", "int_from_float": "an integer", "float_type": "a number", "bool_type": "true or false",
    "string_type": "a string", "list_type": "a list", "dict_type": "a mapping",
    "model_type": "a mapping", "model_attributes_type": "a mapping", "tuple_type": "a list",
}
_NAME_PATTERN = r"^[A-Za-z_][A-Za-z0-9_.\-]*$"
NAME_RULE_WHY = ("Keras accepts any name, but specc refuses spaces and other characters on purpose: a name is "
                 "written unquoted in `inputs:`, `outputs:` and per-output mappings, and in `--set layers.NAME.KEY=` "
                 "paths; use _ or - instead")
_MAX_LISTED = 12
_MAX_HINTS = 1000  # 'did you mean' searches per file


def _kind(value: Any) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "list"
    if isinstance(value, dict):
        return "mapping"
    return "null" if value is None else type(value).__name__


def shown(value: Any) -> str:
    """A received value as the user wrote it in YAML (short)."""
    if isinstance(value, (dict, list)):
        return ("an empty " if not value else "a ") + _kind(value)
    if value is None:
        text = "null"
    elif isinstance(value, bool):
        text = str(value).lower()
    elif isinstance(value, float) and not math.isfinite(value):
        text = ".nan" if math.isnan(value) else (".inf" if value > 0 else "-.inf")
    elif isinstance(value, str):
        text = repr(value)
    else:
        text = str(value)
    return text if len(text) <= 60 else text[:57] + "..."


# Roles of the parts of a Pydantic error location, found by walking the data.
_KEY, _INDEX, _TAG, _LABEL, _MISSING = "key", "index", "tag", "label", "missing"


def _roles(loc: tuple, data: Any, kind: str) -> list[str]:
    """What each part of ``loc`` is: a key or index in the data, a discriminated union's
    tag (``Dense``), a union member's label (``list[constrained-int]``), or a missing key."""
    roles: list[str] = []
    node, tag_used = data, False
    for i, part in enumerate(loc):
        if isinstance(node, dict) and not tag_used and isinstance(part, str) and node.get("type") == part:
            roles.append(_TAG)
            tag_used = True
        elif isinstance(node, str) and node == part and not tag_used:
            roles.append(_TAG)  # the short form `- Flatten`
            tag_used = True
        elif isinstance(node, dict) and isinstance(part, str) and part in node:
            roles.append(_KEY)
            node, tag_used = node[part], False
        elif isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node):
            roles.append(_INDEX)
            node, tag_used = node[part], False
        elif i == len(loc) - 1 and kind == "missing":
            roles.append(_MISSING)
        else:
            roles.append(_LABEL)
    return roles


def _clean(loc: tuple, roles: list[str]) -> tuple:
    """The location in the data: keys, indexes and a missing key, without tags and labels."""
    return tuple(p for p, r in zip(loc, roles) if r in (_KEY, _INDEX, _MISSING))


def _name(clean: tuple) -> str:
    """How a message names a location: 'units', 'input_shape[0]', 'loss type', 'layers[2]'."""
    for i in range(len(clean) - 1, -1, -1):
        if isinstance(clean[i], str):
            name = format_path(clean[i:])
            if clean[i] == "type" and i > 0 and isinstance(clean[i - 1], str):
                return f"{clean[i - 1]} type"
            return name
    return "the spec" if not clean else format_path(clean)


def _owner(loc: tuple, roles: list[str]) -> str:
    """What holds the last part of ``loc``: a layer type or tag (Dense, Adam), or a section."""
    for part, role in zip(reversed(loc[:-1]), reversed(roles[:-1])):
        if role in (_TAG, _KEY):
            return str(part)
    return "the spec"


def _value_at(data: Any, clean: tuple) -> Any:
    node = data
    for part in clean:
        try:
            node = node[part]
        except (KeyError, IndexError, TypeError):
            return None
    return node


def _is_model(annotation) -> bool:
    from pydantic import BaseModel

    return isinstance(annotation, type) and issubclass(annotation, BaseModel)


def _fields_at(loc: tuple) -> list[str]:
    """Known keys of the model that holds the last element of ``loc``."""
    model = _model_at(loc[:-1])
    return list(model.model_fields) if model is not None else []


def _model_at(loc: tuple):
    """The Pydantic model at a (raw, tagged) location, or None."""
    annotation = _annotation_at(loc)
    return annotation if _is_model(annotation) else _first_model(annotation)


def _tags_at(loc: tuple) -> list[str]:
    """The `type` tags a discriminated union at ``loc`` accepts."""
    out: list[str] = []

    def walk(annotation):
        if _is_model(annotation):
            t = annotation.model_fields.get("type")
            out.extend(a for a in getattr(t.annotation, "__args__", ()) if isinstance(a, str) and t is not None)
            return
        for arg in type_args(annotation):
            walk(arg)

    walk(_annotation_at(loc))
    return list(dict.fromkeys(out))


def _annotation_at(loc: tuple):
    annotation: Any = Spec
    for part in loc:
        if isinstance(part, int):
            continue
        if isinstance(part, str) and part in REGISTRY:
            annotation = REGISTRY[part]
            continue
        model = annotation if _is_model(annotation) else _first_model(annotation)
        if model is not None and part in model.model_fields:
            annotation = model.model_fields[part].rebuild_annotation()
            continue
        found = _tagged(annotation, part)
        if found is not None:
            annotation = found
        # otherwise a union member's label: the model stays
    return annotation


def _first_model(annotation):
    """The (first) Pydantic model inside an annotation such as list[X] | None, or None."""
    if _is_model(annotation):
        return annotation
    for arg in type_args(annotation):
        found = _first_model(arg)
        if found is not None:
            return found
    return None


def _tagged(annotation, tag):
    """The member of a discriminated union whose `type` tag is ``tag``."""
    for arg in type_args(annotation) if annotation is not None else ():
        if _is_model(arg):
            t = arg.model_fields.get("type")
            if t is not None and tag in getattr(t.annotation, "__args__", ()):
                return arg
        else:
            found = _tagged(arg, tag)
            if found is not None:
                return found
    return None


def _prune_unions(errors: list[dict], data: Any) -> list[dict]:
    """One error per problem in a plain union (``kernel_size: int | list[int]``).

    Pydantic reports every member's failure. When some member accepted the
    kind of value (a list for list[int]) only its errors matter; when none
    did, the members' type errors become one: "an integer or a list".
    """
    groups: dict[tuple, dict[Any, list[dict]]] = {}
    order: list = []
    for err in errors:
        roles = _roles(err["loc"], data, err["type"])
        if _LABEL not in roles:
            order.append(err)
            continue
        i = roles.index(_LABEL)
        point = tuple(err["loc"][:i])
        if point not in groups:
            groups[point] = {}
            order.append(point)
        groups[point].setdefault(err["loc"][i], []).append(err)
    out: list[dict] = []
    for item in order:
        if isinstance(item, dict):
            out.append(item)
            continue
        branches = groups[item]

        def rejected(errs, point=item):
            return len(errs) == 1 and errs[0]["type"] in _TYPES and len(errs[0]["loc"]) == len(point) + 1

        kept = [errs for errs in branches.values() if not rejected(errs)]
        if kept:
            for errs in kept:
                out += errs
            continue
        first = next(iter(branches.values()))[0]
        wanted = list(dict.fromkeys(_TYPES[errs[0]["type"]] for errs in branches.values()))
        out.append({"type": "union_type", "loc": item, "input": first.get("input"), "msg": first["msg"],
                    "ctx": {"expected": wanted}})
    return out


def schema_diagnostics(errors: list[dict], doc: Document) -> list[Diagnostic]:
    """Pydantic's errors as located diagnostics: one per problem, in the order found."""
    out: list[Diagnostic] = []
    seen = set()
    missing: dict[tuple, int] = {}  # (mapping path, key) -> index in out of its missing-key error
    suggests: dict[tuple, tuple] = {}  # (mapping path, key) -> (index in out, name) of an unknown key suggesting it
    hints = _Hints()
    for err in _prune_unions(errors, doc.data):
        d = schema_diagnostic(err, doc, hints=hints)
        if (d.code, d.path, d.message) in seen:
            continue
        seen.add((d.code, d.path, d.message))
        clean = _clean(err["loc"], _roles(err["loc"], doc.data, err["type"]))
        if err["type"] == "missing" and clean:
            missing[(clean[:-1], clean[-1])] = len(out)
        elif err["type"] == "extra_forbidden" and clean:
            target = hints.closest(str(clean[-1]), [f for f in _fields_at(err["loc"]) if f != "type"])
            if target is not None:
                suggests.setdefault((clean[:-1], target), (len(out), clean[-1]))
        out.append(d)
    # `unit: 3` where `units` is required: one typo behind two errors, so each names the other.
    for spot, (index, key) in suggests.items():
        if spot in missing:
            typo = out[index]
            where = f" at line {typo.span.line}" if typo.span else ""
            out[missing[spot]] = replace(out[missing[spot]], help=f"is '{key}'{where} a misspelling of it?")
    return out


class _Hints:
    """'Did you mean' searches for one file: remembered, and bounded, since difflib is the
    costly part of reporting a hostile file's hundred thousand unknown keys."""

    def __init__(self, budget: int = _MAX_HINTS):
        self.budget = budget
        self.memo: dict[tuple, str | list[str] | None] = {}

    def closest(self, word: Any, choices) -> str | None:
        return self._search(closest, word, choices)

    def closest_names(self, word: Any, choices) -> list[str]:
        return self._search(closest_names, word, choices) or []

    def _search(self, find: Callable, word: Any, choices):
        key = (find.__name__, word if isinstance(word, str) else None, tuple(choices))
        if key not in self.memo:
            if self.budget <= 0:
                return None
            self.budget -= 1
            self.memo[key] = find(word, key[2])
        return self.memo[key]


@dataclass
class _Error:
    """One Pydantic error, with its location matched against the data."""

    kind: str
    loc: tuple
    value: Any
    ctx: dict
    msg: str
    doc: Document
    hints: _Hints
    roles: list[str]
    clean: tuple  # the location in the data: keys and indexes only

    @property
    def name(self) -> str:
        return _name(self.clean)

    @property
    def last(self) -> Any:
        return self.clean[-1] if self.clean else None

    @property
    def received(self) -> str:
        return f"Received: {shown(self.value)}"

    def did_you_mean(self, word: Any, choices) -> str | None:
        match = self.hints.closest(word, choices)
        return f"did you mean '{match}'?" if match is not None else None

    def error(self, message: str, loc: tuple | None = None, **kwargs) -> Diagnostic:
        return self.doc.error("E102", message, self.clean if loc is None else loc, **kwargs)


def schema_diagnostic(err: dict, doc: Document, hints: _Hints | None = None) -> Diagnostic:
    """One Pydantic error as a located diagnostic."""
    kind, loc = err["type"], err["loc"]
    roles = _roles(loc, doc.data, kind)
    e = _Error(kind, loc, err.get("input"), err.get("ctx") or {}, err["msg"], doc, hints or _Hints(), roles,
               _clean(loc, roles))
    handler = HANDLERS.get(kind, _other)
    return handler(e)


def _union_type(e: _Error) -> Diagnostic:
    wanted = e.ctx["expected"]
    text = ", ".join(wanted[:-1]) + f" or {wanted[-1]}" if len(wanted) > 1 else wanted[0]
    return e.error(f"{e.name} must be {text}. {e.received}", help=_type_hint(e.kind, e.value))


def unknown_layer_help(tag: Any, hints: _Hints) -> str:
    """The layer types an unknown ``tag`` may have meant, and where all of them are listed."""
    names = hints.closest_names(tag, REGISTRY)
    listed = "every layer type is listed in docs/spec-reference.md#layers and by `specc schema`"
    return f"did you mean {quoted_choices(names)}? ({listed})" if names else f"no layer type is spelt like it; {listed}"


def _union_tag_invalid(e: _Error) -> Diagnostic:
    tag, expected = e.ctx.get("tag"), _QUOTED.findall(e.ctx.get("expected_tags", ""))
    node = _value_at(e.doc.data, e.clean)
    where = e.clean + ("type",) if isinstance(node, dict) else e.clean
    got = shown(node.get("type") if isinstance(node, dict) else node)
    if "layer" in [p for p in e.loc if isinstance(p, str)] and tag in REGISTRY:
        wrapper = next((p for p, r in zip(reversed(e.loc), reversed(e.roles)) if r == _TAG), "this wrapper")
        return e.doc.error("E302", f"{wrapper} can only wrap a recurrent layer "
                           f"({', '.join(expected)}). Received: {got}", where)
    if set(expected) <= set(REGISTRY):
        return e.doc.error("E103", f"unknown layer type: expected a layer type that specc knows. Received: {got}",
                           where,
                           help=unknown_layer_help(tag, e.hints))
    what = f"{e.name} type" if isinstance(node, dict) else e.name
    return e.error(f"{what} must be one of: {', '.join(expected)}. Received: {got}", where,
                   help=e.did_you_mean(tag, expected))


def _union_tag_not_found(e: _Error) -> Diagnostic:
    clean = e.clean
    layer = len(clean) >= 2 and clean[-2] in ("layers", "layer") or clean[-1:] == ("layer",)
    tags = _tags_at(e.loc)
    return e.doc.error("E101", f"missing required key 'type' in {e.name}", clean,
                       help="every layer starts with `type:` (or is a bare type name, such as `- Flatten`)"
                       if layer else f"add `type:`, one of: {', '.join(tags)}" if tags else None)


def _extra_forbidden(e: _Error) -> Diagnostic:
    fields = [f for f in _fields_at(e.loc) if f != "type"]
    owner = _owner(e.loc, e.roles)
    hint = e.did_you_mean(str(e.last), fields)
    if hint is None and fields:
        hint = f"{owner} takes: {', '.join(fields)}"
    return e.doc.error("E100", f"unknown key '{short(e.last)}' in {owner}", e.clean, key=True, help=hint)


def _missing(e: _Error) -> Diagnostic:
    owner = _owner(e.loc, e.roles)
    hint = {"specc": "start the spec with `specc: 1`",
            "layers": "list the model's layers under `layers:`"}.get(e.last) if len(e.clean) == 1 else None
    return e.doc.error("E101", f"missing required key '{e.last}' in {owner}", e.clean[:-1], help=hint)


def _literal_error(e: _Error) -> Diagnostic:
    expected = _QUOTED.findall(e.ctx.get("expected", ""))
    if e.clean == ("specc",):
        return _version_error(e.doc, e.value)
    listed = ", ".join(expected[:_MAX_LISTED])
    hint = e.did_you_mean(e.value, expected)
    if len(expected) > _MAX_LISTED:
        listed += f", ... ({len(expected)} in all)"
        hint = hint or "the options are: " + ", ".join(expected)
    return e.error(f"{e.name} must be one of: {listed}. {e.received}", help=hint)


def _wrong_type(e: _Error) -> Diagnostic:
    last, clean = e.last, e.clean
    layer_entry = isinstance(last, int) and len(clean) >= 2 and clean[-2] in ("layers",)
    hint = _type_hint(e.kind, e.value)
    if layer_entry and e.kind in ("model_type", "model_attributes_type", "dict_type"):
        hint = "a layer is a mapping that starts with `type:`, or a bare type name such as `- Flatten`"
    return e.error(f"{e.name} must be {_TYPES[e.kind]}. {e.received}", help=hint)


_BOUNDS = {"greater_than": ("greater than", "gt"), "greater_than_equal": ("at least", "ge"),
           "less_than": ("less than", "lt"), "less_than_equal": ("at most", "le")}


def _bound(e: _Error) -> Diagnostic:
    words, key = _BOUNDS[e.kind]
    nan = isinstance(e.value, float) and math.isnan(e.value)
    return e.error(f"{e.name} must be {words} {e.ctx.get(key)}. {e.received}",
                   help=".nan is not a number any bound admits" if nan else None)


def _length(e: _Error) -> Diagnostic:
    too_short = e.kind == "too_short"
    bound = e.ctx.get("min_length") if too_short else e.ctx.get("max_length")
    actual = e.ctx.get("actual_length")
    words = "at least" if too_short else "at most"
    got = "an empty list" if actual == 0 else f"{actual} {_plural(actual, 'entry', 'entries')}"
    return e.error(f"{e.name} must have {words} {bound} {_plural(bound, 'entry', 'entries')}. Received: {got}")


def _string_length(e: _Error) -> Diagnostic:
    too_short = e.kind == "string_too_short"
    bound = e.ctx.get("min_length") if too_short else e.ctx.get("max_length")
    words = "at least" if too_short else "at most"
    value = e.value
    got = "an empty string" if value == "" else f"{len(value)} characters" if isinstance(value, str) else \
        shown(value)
    return e.error(f"{e.name} must have {words} {bound} {_plural(bound, 'character', 'characters')}. "
                   f"Received: {got}")


def _pattern(e: _Error) -> Diagnostic:
    if e.ctx.get("pattern") == _NAME_PATTERN:
        rule = "start with a letter or _ and hold only letters, digits, _ . and -"
        return e.error(f"{e.name} must {rule}. {e.received}", help=NAME_RULE_WHY)
    return e.error(f"{e.name} must match the pattern {e.ctx.get('pattern')}. {e.received}")


def _value_error(e: _Error) -> Diagnostic:
    """A model's own check ("from_logits applies to ..."): at the first key it names."""
    message = e.msg.removeprefix("Value error, ")
    node = _value_at(e.doc.data, e.clean)
    if isinstance(node, dict):
        words = set(re.findall(r"[A-Za-z_][A-Za-z0-9_]*", message))
        named = next((k for k in node if isinstance(k, str) and k in words), None)
        if named is not None:
            return e.error(message, e.clean + (named,), key=True)
    return e.error(message)


def _other(e: _Error) -> Diagnostic:
    message = e.msg.removeprefix("Value error, ")
    return e.error(f"{e.name}: {message[:1].lower() + message[1:]}. {e.received}")


# Each kind of Pydantic error, and the handler that words it.
HANDLERS: dict[str, Callable[[_Error], Diagnostic]] = {
    "union_type": _union_type,
    "union_tag_invalid": _union_tag_invalid,
    "union_tag_not_found": _union_tag_not_found,
    "extra_forbidden": _extra_forbidden,
    "missing": _missing,
    "literal_error": _literal_error,
    **{kind: _wrong_type for kind in _TYPES},
    **{kind: _bound for kind in _BOUNDS},
    "too_short": _length, "too_long": _length,
    "string_too_short": _string_length, "string_too_long": _string_length,
    "string_pattern_mismatch": _pattern,
    "value_error": _value_error,
}


def _type_hint(kind: str, value: Any) -> str | None:
    if kind == "bool_type" and isinstance(value, str) and value.lower() in ("yes", "no", "on", "off", "y", "n"):
        return "YAML 1.2 booleans are only true and false"
    if kind in ("int_type", "float_type", "union_type") and isinstance(value, str) and _number(value):
        if "_" in value:  # Python reads 1_000; YAML 1.2 reads it as text
            return f"YAML 1.2 numbers have no underscores: write {value.replace('_', '')}"
        return "remove the quotes to write a number"
    if kind == "int_type" and isinstance(value, float):
        if math.isfinite(value) and value.is_integer():
            return f"write {int(value)}; YAML reads a number with a decimal point or an exponent as a float"
        return "write a whole number"
    return None


def _plural(n: Any, one: str, many: str) -> str:
    return one if n == 1 else many


def _number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


