"""The static checker: every pass, in order, over one spec file.

    load -> schema -> graph -> shapes -> model checks

Each pass adds diagnostics to the result; a pass runs only when the passes it
depends on produced no errors, but every pass reports all of its own problems.
Nothing here imports TensorFlow or Keras.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from pydantic import ValidationError

from .analysis.checks import check_loss
from .analysis.graph import Graph, build_graph
from .analysis.shapes import NodeInfo, infer_shapes, totals
from .diagnostics import Diagnostic, Severity, did_you_mean
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
        kind = "empty" if data is None else f"a {_kind(data)}, not a mapping"
        result.diagnostics.append(doc.error("E020", f"the spec is {kind}",
                                            help="a spec is a mapping that starts with `specc: 1` and has `layers:`"))
        return False
    version = data.get("specc")
    if "specc" in data and version not in SUPPORTED_VERSIONS:
        result.diagnostics.append(doc.error(
            "E104", f"unsupported spec version {version!r}. This specc reads version(s) "
            f"{', '.join(map(str, SUPPORTED_VERSIONS))}", ("specc",)))
        return False
    try:
        result.spec = Spec.model_validate(data)
    except ValidationError as e:
        seen = set()
        for err in e.errors():
            d = schema_diagnostic(err, doc)
            key = (d.code, d.path, d.message)
            if key not in seen:
                seen.add(key)
                result.diagnostics.append(d)
        return False
    return True


_QUOTED = re.compile(r"'([^']*)'")
_TYPES = {
    "int_type": "an integer", "int_from_float": "an integer", "float_type": "a number", "bool_type": "true or false",
    "string_type": "a string", "list_type": "a list", "dict_type": "a mapping",
    "model_type": "a mapping", "model_attributes_type": "a mapping", "tuple_type": "a list",
}


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
    if isinstance(value, (dict, list)):
        return f"a {_kind(value)}"
    text = repr(value) if isinstance(value, str) else ("null" if value is None else str(value).lower()
                                                       if isinstance(value, bool) else str(value))
    return text if len(text) <= 60 else text[:57] + "..."


def _owner(loc: tuple) -> str:
    """A readable name for what holds the location: a layer type or a section."""
    for part in reversed(loc[:-1]):
        if isinstance(part, str) and part in REGISTRY:
            return part
    names = [p for p in loc[:-1] if isinstance(p, str) and "[" not in p]
    return names[-1] if names else "the spec"


def _fields_at(loc: tuple) -> list[str]:
    """Known keys of the model that holds the last element of ``loc``."""
    from pydantic import BaseModel

    model: Any = Spec
    for part in loc[:-1]:
        if isinstance(part, int) or "[" in str(part):
            continue
        if isinstance(part, str) and part in REGISTRY:
            model = REGISTRY[part]
            continue
        fields = getattr(model, "model_fields", None)
        if fields and part in fields:
            model = _first_model(fields[part].annotation)
        else:
            found = _tagged(model, part)
            if found is not None:
                model = found
    if isinstance(model, type) and issubclass(model, BaseModel):
        return list(model.model_fields)
    return []


def _first_model(annotation):
    """The (first) Pydantic model inside an annotation such as list[X] | None."""
    from typing import get_args

    from pydantic import BaseModel

    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in get_args(annotation):
        found = _first_model(arg)
        if found is not None:
            return found
    return annotation


def _tagged(annotation, tag):
    """The member of a discriminated union whose `type` tag is ``tag``."""
    from typing import get_args

    from pydantic import BaseModel

    for arg in get_args(annotation) if annotation is not None else ():
        if isinstance(arg, type) and issubclass(arg, BaseModel):
            t = arg.model_fields.get("type")
            if t is not None and tag in getattr(t.annotation, "__args__", ()):
                return arg
        else:
            found = _tagged(arg, tag)
            if found is not None:
                return found
    return None


def schema_diagnostic(err: dict, doc: Document) -> Diagnostic:
    kind, loc, value, ctx = err["type"], err["loc"], err.get("input"), err.get("ctx") or {}
    last = loc[-1] if loc else None
    if kind == "union_tag_invalid":
        tag, expected = ctx.get("tag"), _QUOTED.findall(ctx.get("expected_tags", ""))
        where = loc + ("type",)
        if "layer" in [p for p in loc if isinstance(p, str)] and tag in REGISTRY:
            return doc.error("E302", f"{_owner(loc + ('x',))} wraps a recurrent layer ({', '.join(expected)}). "
                             f"Received: {tag}", where)
        if set(expected) <= set(REGISTRY):
            return doc.error("E103", f"unknown layer type '{tag}'", where,
                             help=did_you_mean(tag, REGISTRY) or "see `specc schema` or docs/spec-reference.md")
        return doc.error("E102", f"unknown type '{tag}'. Expected one of: {', '.join(expected)}", where,
                         help=did_you_mean(tag, expected))
    if kind == "union_tag_not_found":
        return doc.error("E101", "missing key 'type'", loc, help="every layer (and typed entry) starts with `type:`")
    if kind == "extra_forbidden":
        fields = [f for f in _fields_at(loc) if f != "type"]
        owner = _owner(loc)
        return doc.error("E100", f"unknown key '{last}' in {owner}", loc, key=True,
                         help=did_you_mean(str(last), fields))
    if kind == "missing":
        return doc.error("E101", f"missing required key '{last}' in {_owner(loc)}", loc[:-1])
    if kind == "literal_error":
        expected = _QUOTED.findall(ctx.get("expected", ""))
        if loc == ("specc",):
            return doc.error("E104", f"unsupported spec version {_shown(value)}", loc)
        listed = ", ".join(expected[:12]) + (", ..." if len(expected) > 12 else "")
        return doc.error("E102", f"invalid {last} {_shown(value)}. Expected one of: {listed}", loc,
                         help=did_you_mean(value, expected))
    if kind in _TYPES:
        hint = None
        if kind == "bool_type" and isinstance(value, str) and value.lower() in ("yes", "no", "on", "off", "y", "n"):
            hint = "YAML 1.2 booleans are only true and false"
        elif kind in ("int_type", "float_type") and isinstance(value, str) and _number(value):
            hint = "remove the quotes to write a number"
        elif kind == "int_type" and isinstance(value, float):
            hint = "write a whole number, without a decimal point"
        return doc.error("E102", f"{last} must be {_TYPES[kind]}. Received: {_shown(value)}" if last is not None
                         and not isinstance(last, int) else f"expected {_TYPES[kind]}. Received: {_shown(value)}",
                         loc, help=hint)
    bounds = {"greater_than": ("greater than", "gt"), "greater_than_equal": ("at least", "ge"),
              "less_than": ("less than", "lt"), "less_than_equal": ("at most", "le")}
    if kind in bounds:
        words, key = bounds[kind]
        return doc.error("E102", f"{last} must be {words} {ctx.get(key)}. Received: {_shown(value)}", loc)
    if kind in ("too_short", "too_long"):
        return doc.error("E102", f"{last} {err['msg'].replace('List should', 'should').lower()}", loc)
    if kind == "string_pattern_mismatch":
        return doc.error("E102", f"{last} {_shown(value)} is not a valid name (letters, digits, _ . -)", loc)
    message = err["msg"].removeprefix("Value error, ")
    return doc.error("E102", f"{message}", loc)


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
    return result.graph is not None


def _shape_pass(result: CheckResult) -> bool:
    result.info, errors = infer_shapes(result.graph, result.doc)
    result.diagnostics += errors
    return not errors


def _model_pass(result: CheckResult) -> bool:
    result.diagnostics += check_loss(result.spec, result.graph, result.info, result.doc)
    return True


PASSES: tuple[tuple[str, Callable[[CheckResult], bool]], ...] = (
    ("schema", _schema_pass),
    ("graph", _graph_pass),
    ("shapes", _shape_pass),
    ("model", _model_pass),
)


def check_document(doc: Document, load_errors: list[Diagnostic] = ()) -> CheckResult:
    result = CheckResult(file=doc.path, doc=doc, diagnostics=list(load_errors))
    if any(d.severity is Severity.ERROR for d in load_errors):
        # Loader errors (duplicate keys, tags, aliases) leave usable data; only
        # report schema problems elsewhere so one mistake is not reported twice.
        bad = {d.path for d in load_errors}
        if any(d.code in ("E010", "E014", "E015", "E003") for d in load_errors):
            return result
        probe = CheckResult(file=doc.path, doc=doc)
        _schema_pass(probe)
        result.diagnostics += [d for d in probe.diagnostics if not any(
            b and d.path and (d.path == b or d.path.startswith(b + ".") or d.path.startswith(b + "["))
            for b in bad)]
        return result
    for _name, run in PASSES:
        if not run(result):
            break
    return result


def check_file(path: str | Path, display: str | None = None) -> CheckResult:
    doc, errors = load_file(path, display)
    if doc is None:
        return CheckResult(file=display or str(path), diagnostics=errors)
    return check_document(doc, errors)


def check_text(text: str, path: str = "<string>") -> CheckResult:
    doc, errors = load_text(text, path)
    return check_document(doc, errors)
