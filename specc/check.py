"""The static checker: every pass, in order, over one spec file.

    load -> expand (vars, includes, blocks) -> schema -> graph (+ sub-models) -> shapes -> model checks

Each pass adds diagnostics to the result; a pass runs only when the passes it
depends on produced no errors, but every pass reports all of its own problems.
Nothing here imports TensorFlow or Keras.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Callable

from pydantic import ValidationError

from .analysis.budget import check_budget
from .analysis.checks import check_data_io, check_lint, check_loss
from .analysis.graph import Graph, build_graph
from .analysis.reuse import Resolver, SubModelInfo
from .analysis.shapes import NodeInfo, infer_shapes, totals
from .diagnostics import Diagnostic, Severity, closest, format_path, short
from .expand import check_library, expand, is_library, needs_expansion
from .layers import REGISTRY, Params
from .loader import Document, load_file, load_text
from .schema import SUPPORTED_VERSIONS, Spec


@dataclass
class CheckResult:
    file: str
    doc: Document | None = None
    spec: Spec | None = None
    graph: Graph | None = None
    info: dict[str, NodeInfo] | None = None
    diagnostics: list[Diagnostic] = field(default_factory=list)
    budget: dict | None = None  # command-line budget limits, over the spec's own `budget:`
    submodels: dict[str, SubModelInfo] = field(default_factory=dict)  # what `type: Model` nodes call
    groups: dict[str, tuple[str, ...]] = field(default_factory=dict)  # layer -> the block uses it came from

    @property
    def base(self) -> Path:
        """The directory that relative paths in the spec start from."""
        location = self.doc.location if self.doc else None
        return location.parent if location is not None else Path.cwd()

    @property
    def errors(self) -> list[Diagnostic]:
        return [d for d in self.diagnostics if d.severity is Severity.ERROR]

    @property
    def warnings(self) -> list[Diagnostic]:
        return [d for d in self.diagnostics if d.severity is Severity.WARNING]

    @property
    def ok(self) -> bool:
        return not self.errors

    @property
    def params(self) -> Params:
        return totals(self.info or {})


# -- pass 2: schema -----------------------------------------------------------
def _schema_pass(result: CheckResult) -> bool:
    doc = result.doc
    data = doc.data
    if not isinstance(data, dict):
        if data is None:
            message = "the spec is empty"
        else:
            message = f"a spec must be a mapping (`specc: 1`, `layers: ...`). Received: {_shown(data)}"
        result.diagnostics.append(doc.error("E020", message,
                                            help="a spec is a mapping that starts with `specc: 1` and has `layers:`"))
        return False
    if "specc" in data and not _supported(data["specc"]):
        result.diagnostics.append(_version_error(doc, data["specc"]))
        return False
    try:
        result.spec = Spec.model_validate(data)
    except ValidationError as e:
        result.diagnostics += schema_diagnostics(e.errors(), doc)
        return False
    return True


def _supported(version: Any) -> bool:
    return type(version) is int and version in SUPPORTED_VERSIONS


def _version_error(doc: Document, version: Any) -> Diagnostic:
    expected = " or ".join(f"`specc: {v}`" for v in SUPPORTED_VERSIONS)
    hint = None
    if not isinstance(version, bool) and str(version).strip() in {str(v) for v in SUPPORTED_VERSIONS} | {
            f"{v}.0" for v in SUPPORTED_VERSIONS}:
        hint = f"write the version as a whole number without quotes: `specc: {str(version).strip().split('.')[0]}`"
    return doc.error("E104", f"unsupported spec version. Expected {expected}. Received: {_shown(version)}",
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


def _shown(value: Any) -> str:
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
    from typing import get_args

    out: list[str] = []

    def walk(annotation):
        if _is_model(annotation):
            t = annotation.model_fields.get("type")
            out.extend(a for a in getattr(t.annotation, "__args__", ()) if isinstance(a, str) and t is not None)
            return
        for arg in get_args(annotation):
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
            annotation = model.model_fields[part].annotation
            continue
        found = _tagged(annotation, part)
        if found is not None:
            annotation = found
        # otherwise a union member's label: the model stays
    return annotation


def _first_model(annotation):
    """The (first) Pydantic model inside an annotation such as list[X] | None, or None."""
    from typing import get_args

    if _is_model(annotation):
        return annotation
    for arg in get_args(annotation):
        found = _first_model(arg)
        if found is not None:
            return found
    return None


def _tagged(annotation, tag):
    """The member of a discriminated union whose `type` tag is ``tag``."""
    from typing import get_args

    for arg in get_args(annotation) if annotation is not None else ():
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
        self.memo: dict[tuple, str | None] = {}

    def closest(self, word: Any, choices) -> str | None:
        key = (word if isinstance(word, str) else None, tuple(choices))
        if key not in self.memo:
            if self.budget <= 0:
                return None
            self.budget -= 1
            self.memo[key] = closest(word, key[1])
        return self.memo[key]


def schema_diagnostic(err: dict, doc: Document, hints: _Hints | None = None) -> Diagnostic:
    """One Pydantic error as a located diagnostic."""
    kind, loc, value, ctx = err["type"], err["loc"], err.get("input"), err.get("ctx") or {}
    hints = hints or _Hints()

    def did_you_mean(word, choices):
        match = hints.closest(word, choices)
        return f"did you mean '{match}'?" if match is not None else None

    roles = _roles(loc, doc.data, kind)
    clean = _clean(loc, roles)
    name = _name(clean)
    last = clean[-1] if clean else None
    received = f"Received: {_shown(value)}"
    if kind == "union_type":
        wanted = ctx["expected"]
        text = ", ".join(wanted[:-1]) + f" or {wanted[-1]}" if len(wanted) > 1 else wanted[0]
        return doc.error("E102", f"{name} must be {text}. {received}", clean, help=_type_hint(kind, value))
    if kind == "union_tag_invalid":
        tag, expected = ctx.get("tag"), _QUOTED.findall(ctx.get("expected_tags", ""))
        node = _value_at(doc.data, clean)
        where = clean + ("type",) if isinstance(node, dict) else clean
        shown = _shown(node.get("type") if isinstance(node, dict) else node)
        if "layer" in [p for p in loc if isinstance(p, str)] and tag in REGISTRY:
            wrapper = next((p for p, r in zip(reversed(loc), reversed(roles)) if r == _TAG), "this wrapper")
            return doc.error("E302", f"{wrapper} can only wrap a recurrent layer "
                             f"({', '.join(expected)}). Received: {shown}", where)
        if set(expected) <= set(REGISTRY):
            return doc.error("E103", f"unknown layer type: expected a layer type that specc knows. Received: {shown}",
                             where,
                             help=did_you_mean(tag, REGISTRY) or "the layer types are: " + ", ".join(sorted(REGISTRY)))
        field_name = _name(clean)
        what = f"{field_name} type" if isinstance(node, dict) else field_name
        return doc.error("E102", f"{what} must be one of: {', '.join(expected)}. Received: {shown}", where,
                         help=did_you_mean(tag, expected))
    if kind == "union_tag_not_found":
        layer = len(clean) >= 2 and clean[-2] in ("layers", "layer") or clean[-1:] == ("layer",)
        tags = _tags_at(loc)
        return doc.error("E101", f"missing required key 'type' in {name}", clean,
                         help="every layer starts with `type:` (or is a bare type name, such as `- Flatten`)"
                         if layer else f"add `type:`, one of: {', '.join(tags)}" if tags else None)
    if kind == "extra_forbidden":
        fields = [f for f in _fields_at(loc) if f != "type"]
        owner = _owner(loc, roles)
        hint = did_you_mean(str(last), fields)
        if hint is None and fields:
            hint = f"{owner} takes: {', '.join(fields)}"
        return doc.error("E100", f"unknown key '{short(last)}' in {owner}", clean, key=True, help=hint)
    if kind == "missing":
        owner = _owner(loc, roles)
        hint = {"specc": "start the spec with `specc: 1`",
                "layers": "list the model's layers under `layers:`"}.get(last) if len(clean) == 1 else None
        return doc.error("E101", f"missing required key '{last}' in {owner}", clean[:-1], help=hint)
    if kind == "literal_error":
        expected = _QUOTED.findall(ctx.get("expected", ""))
        if clean == ("specc",):
            return _version_error(doc, value)
        listed = ", ".join(expected[:_MAX_LISTED])
        hint = did_you_mean(value, expected)
        if len(expected) > _MAX_LISTED:
            listed += f", ... ({len(expected)} in all)"
            hint = hint or "the options are: " + ", ".join(expected)
        return doc.error("E102", f"{name} must be one of: {listed}. {received}", clean, help=hint)
    if kind in _TYPES:
        layer_entry = isinstance(last, int) and len(clean) >= 2 and clean[-2] in ("layers",)
        hint = _type_hint(kind, value)
        if layer_entry and kind in ("model_type", "model_attributes_type", "dict_type"):
            hint = "a layer is a mapping that starts with `type:`, or a bare type name such as `- Flatten`"
        return doc.error("E102", f"{name} must be {_TYPES[kind]}. {received}", clean, help=hint)
    bounds = {"greater_than": ("greater than", "gt"), "greater_than_equal": ("at least", "ge"),
              "less_than": ("less than", "lt"), "less_than_equal": ("at most", "le")}
    if kind in bounds:
        words, key = bounds[kind]
        nan = isinstance(value, float) and math.isnan(value)
        return doc.error("E102", f"{name} must be {words} {ctx.get(key)}. {received}", clean,
                         help=".nan is not a number any bound admits" if nan else None)
    if kind in ("too_short", "too_long"):
        bound = ctx.get("min_length") if kind == "too_short" else ctx.get("max_length")
        actual = ctx.get("actual_length")
        words = "at least" if kind == "too_short" else "at most"
        got = "an empty list" if actual == 0 else f"{actual} {_plural(actual, 'entry', 'entries')}"
        return doc.error("E102", f"{name} must have {words} {bound} {_plural(bound, 'entry', 'entries')}. "
                         f"Received: {got}", clean)
    if kind in ("string_too_short", "string_too_long"):
        bound = ctx.get("min_length") if kind == "string_too_short" else ctx.get("max_length")
        words = "at least" if kind == "string_too_short" else "at most"
        got = "an empty string" if value == "" else f"{len(value)} characters" if isinstance(value, str) else \
            _shown(value)
        return doc.error("E102", f"{name} must have {words} {bound} {_plural(bound, 'character', 'characters')}. "
                         f"Received: {got}", clean)
    if kind == "string_pattern_mismatch":
        why = None
        if ctx.get("pattern") == _NAME_PATTERN:
            rule = "start with a letter or _ and hold only letters, digits, _ . and -"
            why = NAME_RULE_WHY
        else:
            rule = f"match the pattern {ctx.get('pattern')}"
        return doc.error("E102", f"{name} must {rule}. {received}", clean, help=why)
    message = err["msg"].removeprefix("Value error, ")
    if kind == "value_error":
        # A model's own check ("from_logits applies to ..."): point at the first key it names.
        node = _value_at(doc.data, clean)
        if isinstance(node, dict):
            words = set(re.findall(r"[A-Za-z_][A-Za-z0-9_]*", message))
            named = next((k for k in node if isinstance(k, str) and k in words), None)
            if named is not None:
                return doc.error("E102", message, clean + (named,), key=True)
        return doc.error("E102", message, clean)
    return doc.error("E102", f"{name}: {message[:1].lower() + message[1:]}. {received}", clean)


def _type_hint(kind: str, value: Any) -> str | None:
    if kind == "bool_type" and isinstance(value, str) and value.lower() in ("yes", "no", "on", "off", "y", "n"):
        return "YAML 1.2 booleans are only true and false"
    if kind in ("int_type", "float_type", "union_type") and isinstance(value, str) and _number(value):
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


# -- passes 3-5 ---------------------------------------------------------------
def _graph_pass(result: CheckResult) -> bool:
    result.graph, errors = build_graph(result.spec, result.doc)
    result.diagnostics += errors
    if result.graph is None:
        return False
    errors = []
    result.submodels = Resolver(result.spec, result.doc, result.base, errors).resolve(result.graph)
    result.diagnostics += errors
    return not errors


def _shape_pass(result: CheckResult) -> bool:
    result.info, errors = infer_shapes(result.graph, result.doc)
    result.diagnostics += errors
    return not errors


def _model_pass(result: CheckResult) -> bool:
    args = (result.spec, result.graph, result.info, result.doc)
    result.diagnostics += check_loss(*args)
    result.diagnostics += check_data_io(*args)
    result.diagnostics += check_lint(*args)
    result.diagnostics += check_budget(*args, overrides=result.budget)
    return True


def _expand_pass(result: CheckResult) -> bool:
    if is_library(result.doc.data):  # blocks/models/vars for `include:`, checked as far as they can be unused
        result.diagnostics += check_library(result.doc)
        return False
    if not needs_expansion(result.doc):
        return True
    result.doc, result.groups, errors = expand(result.doc)
    result.diagnostics += errors
    return not errors


PASSES: tuple[tuple[str, Callable[[CheckResult], bool]], ...] = (
    ("expand", _expand_pass),
    ("schema", _schema_pass),
    ("graph", _graph_pass),
    ("shapes", _shape_pass),
    ("model", _model_pass),
)


def check_document(doc: Document, load_errors: list[Diagnostic] = (), budget: dict | None = None) -> CheckResult:
    result = CheckResult(file=doc.path, doc=doc, diagnostics=list(load_errors), budget=budget)
    if any(d.severity is Severity.ERROR for d in load_errors):
        # Loader errors (duplicate keys, tags, aliases) leave usable data; only
        # report schema problems elsewhere so one mistake is not reported twice.
        if any(d.code in ("E002", "E003", "E010", "E014", "E015") for d in load_errors):
            return result
        bad = {d.loc for d in load_errors if d.loc} | {p for p in doc.refused if p}
        probe = CheckResult(file=doc.path, doc=doc)
        _schema_pass(probe)
        result.diagnostics += [d for d in probe.diagnostics if not _under(d.loc, bad)]
        return result
    for _name, run in PASSES:
        if not run(result):
            break
    return result


def _under(loc: tuple | None, bad: set[tuple]) -> bool:
    """Whether ``loc`` is at or below one of ``bad`` (a set lookup per level: no pairwise prefix tests)."""
    return bool(loc) and any(loc[:k] in bad for k in range(1, len(loc) + 1))


def check_file(path: str | Path, display: str | None = None, budget: dict | None = None) -> CheckResult:
    doc, errors = load_file(path, display)
    if doc is None:
        return CheckResult(file=display or str(path), diagnostics=errors)
    return check_document(doc, errors, budget)


def check_text(text: str, path: str = "<string>", location: Path | None = None) -> CheckResult:
    """Check spec text; ``location`` is the file it came from, for includes and saved-model paths."""
    doc, errors = load_text(text, path)
    doc.location = location
    return check_document(doc, errors)
