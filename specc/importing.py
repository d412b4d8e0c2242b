"""`specc import`: a Keras model as a spec text, checked.

The model's config is read and converted as data by specc/importer.py (which the checker also uses for
``type: Model, path: ...``), written in `specc fmt`'s layout by :func:`specc.fmt.spec_yaml`, and checked as
`specc validate` checks it; its static output shapes are compared with the shapes Keras recorded in the
config, and any difference is a problem too.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .check import CheckResult, check_text
from .fmt import spec_yaml
from .importer import Problem, convert, read_model_config, recorded_shapes


@dataclass
class Imported:
    spec: dict
    problems: list[Problem]
    text: str | None = None  # the YAML, when there were no problems
    result: CheckResult | None = None  # the static check of the text


def to_yaml(spec: dict, source: str | None = None) -> str:
    """The spec as readable YAML in `specc fmt`'s layout, with a header saying where it came from."""
    what = f" from {Path(source).name}" if source else ""
    return spec_yaml(spec, [f"Imported{what} by `specc import`: Keras model '{spec.get('name')}'.",
                            "Layer names are Keras's; arguments equal to specc's defaults are left out."])


def import_model(path, source: str | None = None) -> Imported:
    """Read, convert, write and check: the spec text when nothing is lost, the problems otherwise.
    Raises ImportFailure for a file that is not a readable model."""
    return import_serialized(read_model_config(path), source or str(path))


def import_serialized(config: dict, source: str | None = None) -> Imported:
    """``import_model`` for a serialized model already in memory (``json.loads(model.to_json())``)."""
    spec, problems, names = convert(config)
    imported = Imported(spec, list(problems))
    if problems:
        return imported
    text = to_yaml(spec, source)
    result = check_text(text, str(Path(source or spec.get("name") or "model").with_suffix(".yaml").name))
    imported.result = result
    for d in result.errors:
        where = _layer_at(spec, d.loc)
        imported.problems.append(Problem(where[0], where[1], f"the imported spec does not check: {d.message}"))
    if result.ok:
        imported.problems += _shape_problems(config, names, result)
    if not imported.problems:
        imported.text = text
    return imported


def _layer_at(spec: dict, loc) -> tuple[str, str]:
    node: Any = spec
    name, kind = "", "spec"
    for part in loc or ():
        try:
            node = node[part]
        except (KeyError, IndexError, TypeError):
            break
        if isinstance(node, dict) and "type" in node:
            name, kind = str(node.get("name", "")), str(node["type"])
        elif isinstance(node, str) and part != "type":
            kind = node
    return name, kind


def _shape_problems(config: dict, names: dict, result) -> list[Problem]:
    """Where specc's static output shape differs from the shape Keras recorded for the same tensor
    (a functional config records the shape of every tensor a layer is called on)."""
    recorded = recorded_shapes(config)
    out = []
    for key, shape in recorded.items():
        name = names.get(key)
        if name is None or name not in (result.info or {}) or not isinstance(shape, list):
            continue
        ours = list(result.info[name].shape)
        if ours != shape:
            node = result.graph.by_name[name]
            out.append(Problem(name, node.layer.kind(), f"specc computes the output shape {tuple(ours)}, but Keras "
                               f"recorded {tuple(shape)}"))
    return out
