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
        if any(i not in info for i in node.inputs):
            continue  # an upstream error was reported already
        shapes = [info[i].shape for i in node.inputs]
        try:
            shape = node.layer.infer(shapes)
            params = node.layer.params(shapes)
        except ShapeError as e:
            loc = node.loc + ((e.field,) if e.field else ())
            source = ", ".join(f"'{i}'" for i in node.inputs)
            message = e.message if not source else f"{e.message} (from {source})"
            errors.append(doc.error(e.code, f"layer '{node.name}': {message}", loc, help=e.help))
            continue
        info[node.name] = NodeInfo(tuple(shape), params)
    return info, errors


def totals(info: dict[str, NodeInfo]) -> Params:
    total = Params()
    for item in info.values():
        total = total + item.params
    return total
