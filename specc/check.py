"""The static checker: every pass, in order, over one spec file.

    load -> expand (vars, includes, blocks) -> schema -> graph (+ sub-models) -> shapes -> model checks

Each pass adds diagnostics to the result; a pass runs only when the passes it
depends on produced no errors, but every pass reports all of its own problems.
Nothing here imports TensorFlow or Keras.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Sequence

from .analysis.budget import check_budget
from .analysis.checks import check_class_weight, check_data_io, check_lint, check_loss, check_monitors
from .analysis.graph import Graph, build_graph
from .analysis.reuse import Resolver, SubModelInfo
from .analysis.shapes import NodeInfo, infer_shapes, totals
from .diagnostics import Diagnostic, Findings, Severity
from .expand import check_library, expand, is_library, needs_expansion
from .extends import has_extends, resolve_extends
from .layers import Params
from .loader import Document, load_file, load_text
from .overrides import apply_all
from .schema import Spec
from .schema.errors import validate_spec


@dataclass
class CheckResult(Findings):
    file: str
    doc: Document | None = None
    spec: Spec | None = None
    graph: Graph | None = None
    info: dict[str, NodeInfo] | None = None
    diagnostics: list[Diagnostic] = field(default_factory=list)
    budget: dict | None = None  # command-line budget limits, over the spec's own `budget:`
    submodels: dict[str, SubModelInfo] = field(default_factory=dict)  # what `type: Model` nodes call
    groups: dict[str, tuple[str, ...]] = field(default_factory=dict)  # layer -> the block uses it came from
    source: Document | None = None  # the document as loaded, before expansion (what `search:` keys point into)
    library: bool = False  # a file of blocks/models/vars for `include:`, checked as one: no model to build

    @property
    def base(self) -> Path:
        """The directory that relative paths in the spec start from."""
        location = self.doc.location if self.doc else None
        return location.parent if location is not None else Path.cwd()

    @property
    def ok(self) -> bool:
        return not self.errors

    @property
    def params(self) -> Params:
        return totals(self.info or {})


# -- pass 2: schema (the messages: specc/schema/errors.py) ------------------------
def _schema_pass(result: CheckResult) -> bool:
    result.spec, errors = validate_spec(result.doc)
    result.diagnostics += errors
    return result.spec is not None


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
    result.diagnostics += check_monitors(*args)
    result.diagnostics += check_class_weight(*args)
    result.diagnostics += check_lint(*args)
    result.diagnostics += check_budget(*args, overrides=result.budget)
    return True


def _extends_pass(result: CheckResult) -> bool:
    if not has_extends(result.doc):
        return True
    result.doc, errors = resolve_extends(result.doc)
    result.diagnostics += errors
    return not errors


def _expand_pass(result: CheckResult) -> bool:
    written = (result.source or result.doc).data  # as written: a spec that only `extends:` a library is no library
    if is_library(written):  # blocks/models/vars for `include:`, checked as far as they can be unused
        result.library = True
        result.diagnostics += check_library(result.doc)
        return False
    if not needs_expansion(result.doc):
        return True
    result.doc, result.groups, errors = expand(result.doc)
    result.diagnostics += errors
    return not errors


def _search_pass(result: CheckResult) -> bool:
    """The `search:` section: its keys and values, then the specs of its points (analysis/search.py)."""
    if result.spec.search is None or not result.ok:
        return True
    from .analysis.search import check_search

    result.diagnostics += check_search(result, check_document)
    return True


PASSES: tuple[tuple[str, Callable[[CheckResult], bool]], ...] = (
    ("extends", _extends_pass),
    ("expand", _expand_pass),
    ("schema", _schema_pass),
    ("graph", _graph_pass),
    ("shapes", _shape_pass),
    ("model", _model_pass),
    ("search", _search_pass),
)


def check_document(doc: Document, load_errors: list[Diagnostic] = (), budget: dict | None = None) -> CheckResult:
    result = CheckResult(file=doc.path, doc=doc, diagnostics=list(load_errors), budget=budget, source=doc)
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


def check_file(path: str | Path, display: str | None = None, *, overrides: Sequence[str] = (),
               budget: dict | None = None) -> CheckResult:
    """Load and check one spec file: the one entry point of `specc validate`, of every command that needs a
    valid spec and of the tests. ``overrides`` are `--set KEY=VALUE` assignments, applied in order to the
    loaded data before it is checked (the file is never changed); a bad one raises OverrideError, whose
    ``assignment`` names it. ``budget`` holds command-line budget limits, over the spec's own `budget:`."""
    doc, errors = load_file(path, display)
    return check_loaded(doc, errors, display or str(path), overrides=overrides, budget=budget)


def check_loaded(doc: Document | None, errors: list[Diagnostic], file: str, *, overrides: Sequence[str] = (),
                 budget: dict | None = None) -> CheckResult:
    """``check_file`` for a spec already loaded (text, standard input): ``doc`` None when it could not be
    loaded (``errors`` say why, ``file`` names it). Overrides apply to the spec merged over its base
    (`extends:`), so that they can set what the base gives."""
    if doc is None:
        return CheckResult(file=file, diagnostics=errors)
    if overrides and has_extends(doc) and not errors:  # overrides apply to the spec merged over its base
        doc, errors = resolve_extends(doc)
        if errors:
            return CheckResult(file=file, doc=doc, diagnostics=errors)
    apply_all(doc, overrides)
    return check_document(doc, errors, budget)


def require_model(result: CheckResult) -> CheckResult:
    """``result``, with an error if it is a block library: for the commands that need a model (all but
    `validate`, which checks a library as one)."""
    if result.library and result.ok:
        result.diagnostics.append(result.doc.error(
            "E101", "this file is a library of blocks, models or variables for `include:`, not a model spec: "
            "it has no `specc:` and `layers:`", help="include it from a spec to use what it defines"))
    return result


def check_text(text: str, path: str = "<string>", location: Path | None = None) -> CheckResult:
    """Check spec text; ``location`` is the file it came from, for includes and saved-model paths."""
    doc, errors = load_text(text, path)
    doc.location = location
    return check_document(doc, errors)
