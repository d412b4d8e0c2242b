"""Pass 4: static output shapes and parameter counts, node by node.

Each layer kind's own ``infer``/``params`` rules do the work; this pass feeds
them in topological order and turns their ShapeErrors into located
diagnostics. A node whose inputs failed is skipped, so one mistake is reported
once, while independent branches are still checked.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..diagnostics import Diagnostic
from ..layers import Params, Shape, ShapeError
from ..loader import Document
from .graph import Graph


@dataclass(frozen=True)
class NodeInfo:
    shape: Shape
    params: Params


def infer_shapes(graph: Graph, doc: Document) -> tuple[dict[str, NodeInfo], list[Diagnostic]]:
    info: dict[str, NodeInfo] = {}
    errors: list[Diagnostic] = []
    for node in graph.nodes:
        if any(i not in info for i in (*node.inputs, *node.after)):
            continue  # an upstream error was reported already
        shapes = [info[i].shape for i in node.inputs]
        source = ", ".join(f"'{i}'" for i in node.inputs)
        # The source goes before the message, which ends with what was received.
        where = f"layer '{node.name}'" + (f" (input from {source})" if source else "")
        try:
            if node.ref is not None:  # a Model or Shared node: what it refers to decides (analysis/reuse.py)
                shape, params = node.ref.infer(shapes, lambda name: [info[i].shape for i in graph.by_name[name].inputs])
            else:
                shape, params = node.layer.output_of(shapes), node.layer.params(shapes)
        except ShapeError as e:
            loc = node.loc + ((e.field,) if e.field else ())
            errors.append(doc.error(e.code, f"{where}: {e.message}", loc, help=e.help))
            continue
        size = _size(shape)
        if size > MAX_SIZE or params.total > MAX_SIZE:
            # Later rules multiply sizes, and Python will not print an integer past 4,300 digits.
            what = "values in one sample of its output" if size > MAX_SIZE else "parameters"
            errors.append(doc.error("E301", f"{where}: more than 2**63 {what}", node.loc,
                                    help="no Keras model is this large; check the sizes"))
            continue
        info[node.name] = NodeInfo(tuple(shape), params)
    return info, errors


MAX_SIZE = 2**63 - 1  # values per sample, or parameters, of one layer


def _size(shape: Shape) -> int:
    """Values in one sample (unknown axes count as 1), stopping as soon as it is too many."""
    size = 1
    for d in shape[1:]:
        if d is not None:
            size *= max(d, 1)
            if size > MAX_SIZE:
                break
    return size


def totals(info: dict[str, NodeInfo]) -> Params:
    total = Params()
    for item in info.values():
        total = total + item.params
    return total
