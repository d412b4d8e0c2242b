"""The search space, checked statically: its keys, its values, and the specs its points make.

A point of the space is the spec with the point's values written in (specc/overrides.py, as `--set`
would) and its `search:` section removed: a normal spec, checked by the normal checker. Here:

1. each key names a value of the spec (E500) and each value of the space is one the field at that key
   accepts (E501), tried one at a time on the spec as written;
2. then the points themselves (E502): every point of a grid or of the categorical product, with the two
   ends of each numeric range, up to MAX_CHECKED_POINTS of them (W504 beyond). A failure is reported once,
   with the values it follows from, the layer where it fails and how many of the checked points fail.

Budgets (`budget:` and validate's --max-* options) apply to every checked point, so to the largest model of
the space. Nothing here imports TensorFlow; the checker is passed in (``check``) to keep the pipeline's order.
"""

from __future__ import annotations

import copy
import itertools
from dataclasses import dataclass, field, replace
from typing import Any, Callable

from ..diagnostics import Diagnostic, closest, short
from ..loader import Document
from ..overrides import OverrideError, parse_key, set_value
from ..schema.search import Categorical, FloatRange, Search
from .checks import logged_quantities

MAX_CHECKED_POINTS = 512
_VALUE_CODES = ("E0", "E1")  # reading and schema: the value itself is wrong for its field


@dataclass
class PointCheck:
    """One point of the space and what the checker says of its spec."""

    values: dict[str, Any]
    errors: list[Diagnostic] = field(default_factory=list)
    params: int | None = None
    result: Any = None  # the CheckResult of the point's spec

    @property
    def ok(self) -> bool:
        return not self.errors


def label(value: Any) -> str:
    """A value as a person writes it in YAML flow style (and as Optuna stores a mapping choice)."""
    import json

    if isinstance(value, str):
        return value
    if isinstance(value, bool) or value is None:
        return json.dumps(value)
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {label(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(label(v) for v in value) + "]"
    return repr(value) if isinstance(value, float) else str(value)


def describe(values: dict[str, Any]) -> str:
    return ", ".join(f"{k}={label(v)}" for k, v in values.items())


def trial_document(doc: Document, values: dict[str, Any]) -> Document:
    """The spec of one point: ``doc`` (as loaded, before expansion) with the values set and no `search:`.
    Raises OverrideError for a key that cannot be set."""
    data = {k: copy.deepcopy(v) for k, v in doc.data.items() if k != "search"}
    out = replace(doc, data=data)
    for key, value in values.items():
        set_value(out, key, copy.deepcopy(value))
    return out


def probe_values(search: Search) -> dict[str, list]:
    """The values the static check tries per key: a grid's values, a categorical's choices, a range's ends."""
    out = {}
    grid = search.grid_space() if search.sampler.type == "grid" else None
    for key, param in search.space.items():
        if grid is not None:
            out[key] = grid[key]
        elif isinstance(param, Categorical):
            out[key] = list(param.choices)
        else:
            out[key] = [param.low, param.high]
    return out


def count_points(values: dict[str, list]) -> int:
    n = 1
    for v in values.values():
        n *= len(v)
    return n


def points(values: dict[str, list], limit: int | None = None) -> list[dict[str, Any]]:
    """The product of the values, in grid order (the first key varies slowest), at most ``limit`` of them."""
    keys = list(values)
    product = itertools.product(*(values[k] for k in keys))
    return [dict(zip(keys, combo)) for combo in itertools.islice(product, limit)]


def check_point(doc: Document, values: dict[str, Any], check: Callable, budget: dict | None = None) -> PointCheck:
    """Check the spec of one point with ``check`` (check.check_document)."""
    point = PointCheck(values=values)
    try:
        tdoc = trial_document(doc, values)
    except OverrideError as e:
        point.errors = [doc.error("E500", str(e), ("search", "space", next(iter(values), "")), key=True)]
        return point
    point.result = check(tdoc, (), budget)
    point.errors = point.result.errors
    if point.result.info is not None and (point.ok or point.result.graph is not None):
        point.params = point.result.params.total
    return point


def _key_loc(key: str) -> tuple:
    return ("search", "space", key)


def _value_loc(doc: Document, key: str, search: Search, value: Any) -> tuple:
    """Where a probed value is written in the search section: the choice, or the range's end."""
    param = search.space[key]
    raw = doc.data["search"]["space"][key]
    if isinstance(param, Categorical):
        index = next((i for i, c in enumerate(param.choices) if c == value), 0)
        return _key_loc(key) + ((index,) if isinstance(raw, list) else ("choices", index))
    end = "low" if value == param.low else "high" if value == param.high else None
    return _key_loc(key) + ((end,) if end else ())


def _check_keys(doc: Document, search: Search) -> list[Diagnostic]:
    """Keys that name nothing: unreadable, an unknown variable or layer (the schema catches the rest)."""
    out = []
    variables = doc.data.get("vars") if isinstance(doc.data.get("vars"), dict) else {}
    for key in search.space:
        try:
            parts = parse_key(key)
        except OverrideError as e:
            out.append(doc.error("E500", str(e), _key_loc(key), key=True))
            continue
        if parts[0] == "search":
            out.append(doc.error("E500", f"search.space cannot set the search itself. Received: '{short(key)}'",
                                 _key_loc(key), key=True))
        elif parts[0] == "vars" and len(parts) == 2 and parts[1] not in variables:
            match = closest(str(parts[1]), list(variables))
            out.append(doc.error("E500", f"the spec has no variable '{short(parts[1])}'", _key_loc(key), key=True,
                                 help=f"did you mean 'vars.{match}'?" if match else
                                 ("the variables are: " + ", ".join(variables) if variables else
                                  "define it under `vars:` first")))
    return out


def _check_values(doc: Document, search: Search, check: Callable, base: set, skip=frozenset()) -> list[Diagnostic]:
    """Each probed value alone on the spec as written: keys that name no field (E500), values that the field
    refuses (E501). Failures of shapes and the like are left to the points (E502)."""
    out = []
    for key, values in probe_values(search).items():
        if key in skip:
            continue
        for value in values:
            point = check_point(doc, {key: value}, check)
            new = [d for d in point.errors if (d.code, d.path, d.message) not in base]
            if point.result is None:  # the key cannot be set at all
                out.append(replace(point.errors[0], span=doc.span(_key_loc(key), key=True), path=f"search.space.{key}",
                                   loc=_key_loc(key)))
                break
            unknown = [d for d in new if d.code == "E100"]
            if unknown:
                d = unknown[0]
                out.append(doc.error("E500", f"'{short(key)}' names no value of the spec: {d.message}",
                                     _key_loc(key), key=True, help=d.help))
                break
            refused = [d for d in new if d.code.startswith(_VALUE_CODES)]
            if refused:
                d = refused[0]
                where = f" (at {d.path})" if d.path else ""
                out.append(doc.error("E501", f"'{short(key)}' cannot be {short(repr(value) if isinstance(value, str) else label(value))}: "
                                     f"{d.message}{where}",
                                     _value_loc(doc, key, search, value), help=_value_help(search.space[key], d)))
    return out


def _value_help(param, refused: Diagnostic) -> str | None:
    """The hint for a probed value the field refused: for a whole number that a float range gives (8.0), the
    range's type, not the spec file's spelling of the number."""
    if isinstance(param, FloatRange) and "must be an integer" in refused.message:
        return "search this key with `type: int`: a float range gives numbers such as 8.0"
    return refused.help


def _culprits(failing: list[dict], all_points: list[dict]) -> dict[str, Any]:
    """The values that every failing point shares and some checked point does not: what the failure follows from."""
    first = failing[0]
    out = {}
    for key, value in first.items():
        if all(p[key] == value for p in failing) and any(p[key] != value for p in all_points):
            out[key] = value
    return out or dict(first)


def summarize_failures(doc: Document, checked: list[PointCheck]) -> list[Diagnostic]:
    """One E502 per distinct failure (code and place) among the checked points."""
    groups: dict[tuple, list[tuple[PointCheck, Diagnostic]]] = {}
    for point in checked:
        for d in point.errors:
            groups.setdefault((d.code, d.path), []).append((point, d))
    out = []
    everything = [p.values for p in checked]
    for (_code, path), hits in groups.items():
        failing = [p.values for p, _ in hits]
        culprit = _culprits(failing, everything)
        first = hits[0][1]
        where = f" (at {path}" + (f", line {first.span.line})" if first.span else ")") if path else ""
        n = len({tuple(map(label, v.values())) for v in failing})
        out.append(doc.error(
            "E502", f"{describe(culprit)}: {first.message}{where}: {n} of {len(checked)} checked points fail",
            _key_loc(next(iter(culprit))), key=True, help=first.help))
    return out


def objective_problem(doc: Document, result) -> Diagnostic | None:
    """E503: the objective names a quantity that training does not log."""
    spec = result.spec
    metric = spec.search.objective.metric
    known = logged_quantities(spec, result.graph.outputs if result.graph is not None else [])
    if metric in known:
        return None
    match = closest(metric, known)
    return doc.error("E503", f"the objective '{short(metric)}' is not a quantity that training logs",
                     ("search", "objective", "metric"),
                     help=f"did you mean '{match}'?" if match else "training logs: " + ", ".join(known))


def check_search(result, check: Callable) -> list[Diagnostic]:
    """All the static checks of a spec's `search:` section. ``result`` is the spec's CheckResult (valid as
    written), ``check`` is check.check_document."""
    doc, search = result.source, result.spec.search
    out = []
    problem = objective_problem(doc, result)
    if problem is not None:
        out.append(problem)
    bad_keys = _check_keys(doc, search)
    out += bad_keys
    base = {(d.code, d.path, d.message) for d in result.diagnostics}
    out += _check_values(doc, search, check, base, skip={d.loc[-1] for d in bad_keys})
    if any(d.code in ("E500", "E501") for d in out):
        return out
    values = probe_values(search)
    total = count_points(values)
    checked = [check_point(doc, p, check, result.budget) for p in points(values, MAX_CHECKED_POINTS)]
    out += summarize_failures(doc, checked)
    if total > MAX_CHECKED_POINTS:
        out.append(doc.error("W504", f"the space has {total:,} points to check; {MAX_CHECKED_POINTS} were checked",
                             ("search", "space"), key=True))
    return out
