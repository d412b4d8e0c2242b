"""Pass 3: turn the layer list into a graph of named nodes.

A plain list is a chain (each layer feeds the next); a layer that names its
``inputs`` can take any earlier or later node, so skip connections and
multi-input models use the same representation. The result is in
topological order.
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass, field
from typing import Any

from ..diagnostics import Diagnostic, did_you_mean
from ..layers import Layer
from ..layers.base import unique_name
from ..layers.core import Input
from ..layers.models import Shared
from ..loader import Document
from ..schema import Spec


@dataclass
class Node:
    name: str
    layer: Layer
    inputs: list[str]
    loc: tuple  # where the layer is in the spec, e.g. ('layers', 3)
    implicit: bool = False  # an Input made from a first layer's input_shape/input_dim
    after: tuple = ()  # nodes that must come first without feeding this one (a shared layer's owner)
    ref: Any = None  # what a Model or Shared node refers to, found by the reuse pass (reuse.ModelCall, reuse.Share)


@dataclass
class Graph:
    nodes: list[Node]  # topological order
    outputs: list[str]
    by_name: dict[str, Node] = field(init=False)

    def __post_init__(self):
        self.by_name = {n.name: n for n in self.nodes}

    @property
    def inputs(self) -> list[str]:
        return [n.name for n in self.nodes if isinstance(n.layer, Input)]

    def consumers(self) -> dict[str, list[str]]:
        out: dict[str, list[str]] = {n.name: [] for n in self.nodes}
        for n in self.nodes:
            for i in n.inputs:
                out[i].append(n.name)
        return out


def build_graph(spec: Spec, doc: Document, prefix: tuple = ()) -> tuple[Graph | None, list[Diagnostic]]:
    """The graph of ``spec.layers`` (a Spec, or a sub-model from ``models:`` found at ``prefix``)."""
    errors: list[Diagnostic] = []
    layers = spec.layers
    taken, tried = _written_names(layers, doc, prefix, errors), {}
    names = [layer.name or unique_name(layer.default_name(), taken, tried) for layer in layers]
    known = set(names)
    nodes: list[Node] = []
    for i, layer in enumerate(layers):
        loc = prefix + ("layers", i)
        declared = layer.input_names()
        if declared and any(ref.startswith("#") for ref in declared):  # `#3`: layers[3], wired by a block's copy
            declared = [names[int(ref[1:])] if ref[1:].isdigit() and int(ref[1:]) < i else ref for ref in declared]
        sample = layer.sample_shape()
        if isinstance(layer, Input):
            if layer.input_shape is not None:
                errors.append(doc.error("E203", "an Input takes `shape`, not `input_shape`", loc + ("input_shape",), key=True))
            if declared:
                errors.append(doc.error("E204", "an Input cannot have `inputs`", loc + ("inputs",), key=True))
            nodes.append(Node(names[i], layer, [], loc))
            continue
        if sample is not None:
            field_name = "input_dim" if getattr(layer, "input_dim", None) is not None else "input_shape"
            if i == 0 and declared is None:
                implicit = Input(type="Input", shape=list(sample))
                nodes.append(Node(unique_name("input_layer", taken, tried), implicit, [], loc + (field_name,), implicit=True))
                declared = [nodes[-1].name]
            else:
                errors.append(doc.error(
                    "E203", f"`{field_name}` is only allowed on the model's first layer", loc + (field_name,), key=True,
                    help="later layers take their input shape from the layer before them"))
        if declared is None:
            if i == 0:
                errors.append(doc.error(
                    "E202", "the model's input shape is not given", loc,
                    help="add `input_shape: [...]` (or `input_dim: n` for Dense) to the first layer, "
                         "or start with `- type: Input` and `shape: [...]`"))
                declared = []
            else:
                declared = [names[i - 1]]
        else:
            for j, ref in enumerate(declared):
                if ref not in known and not any(n.implicit and n.name == ref for n in nodes[:1]):
                    sub = ("inputs",) if isinstance(layer.inputs, str) else ("inputs", j)
                    errors.append(doc.error("E201", f"inputs must name a layer of this model. Received: {ref!r}",
                                            loc + sub, help=_suggest(ref, names, errors)))
        lo, hi = layer.n_inputs
        if (declared or layer.inputs is not None) and not lo <= len(declared) <= hi:  # `inputs: []` counts too
            want = f"exactly {lo}" if lo == hi else f"{lo} to {hi}"
            received = f"{len(declared)} ({', '.join(declared)})" if declared else "none"
            errors.append(doc.error("E204", f"{layer.kind()} takes {want} input{'' if hi == 1 else 's'}. Received: "
                                    f"{received}", loc + ("inputs",)))
        after = ()
        if isinstance(layer, Shared):
            if layer.layer not in known:
                errors.append(doc.error("E201", f"a Shared layer must name a layer of this model. Received: "
                                        f"{layer.layer!r}", loc + ("layer",),
                                        help=_suggest(layer.layer, [n for n in names if n != names[i]], errors)))
            else:
                after = (layer.layer,)
        nodes.append(Node(names[i], layer, list(declared), loc, after=after))

    all_names = [n.name for n in nodes]
    outputs = spec.outputs or [names[-1]]
    for j, ref in enumerate(spec.outputs or []):
        if ref not in all_names:
            errors.append(doc.error("E205", f"outputs must name a layer of this model. Received: {ref!r}",
                                    prefix + ("outputs", j), help=_suggest(ref, all_names, errors)))
    if errors:
        return None, errors

    ordered, cycle = _toposort(nodes)
    if cycle:
        return None, [_loop_error(cycle, doc)]
    return Graph(ordered, outputs), []


def _written_names(layers, doc: Document, prefix: tuple, errors: list) -> set[str]:
    """The layer names the spec writes (E200 for one written twice)."""
    taken: set[str] = set()
    first_named: dict[str, int] = {}
    for i, layer in enumerate(layers):
        if layer.name is None:
            continue
        if layer.name in first_named:
            errors.append(doc.error("E200", f"duplicate layer name '{layer.name}' (first used by layers"
                                    f"[{first_named[layer.name]}])", prefix + ("layers", i, "name")))
        else:
            first_named[layer.name] = i
            taken.add(layer.name)
    return taken


def _loop_error(cycle: list[Node], doc: Document) -> Diagnostic:
    names = [n.name for n in cycle + [cycle[0]]]
    if len(names) > 12:  # a hostile spec can loop through thousands of layers
        names = names[:5] + [f"... ({len(cycle) - 8} more)"] + names[-4:]
    chain = " -> ".join(names)
    return doc.error("E206", f"layers feed each other in a loop: {chain}", cycle[0].loc + ("inputs",))


def _suggest(ref: str, names: list[str], errors: list) -> str:
    """'did you mean', within bounds: difflib over thousands of names, thousands of times, would take minutes."""
    hint = did_you_mean(ref, names) if len(names) <= 1000 and len(errors) < 100 else None
    return hint or _known(names)


def _known(names: list[str]) -> str:
    shown = ", ".join(names[:20]) + (", ..." if len(names) > 20 else "")
    return f"the layers are: {shown}"


def _toposort(nodes: list[Node]) -> tuple[list[Node], list[Node]]:
    """Stable Kahn's algorithm (ready nodes in spec order); returns (order, []) or ([], a cycle)."""
    by_name = {n.name: n for n in nodes}
    pending = {n.name: len(set(n.inputs) | set(n.after)) for n in nodes}
    users: dict[str, list[str]] = {n.name: [] for n in nodes}
    for n in nodes:
        for i in set(n.inputs) | set(n.after):
            users[i].append(n.name)
    order: list[Node] = []
    position = {n.name: k for k, n in enumerate(nodes)}
    ready = [position[n.name] for n in nodes if pending[n.name] == 0]
    heapq.heapify(ready)
    while ready:
        node = nodes[heapq.heappop(ready)]
        order.append(node)
        for u in users[node.name]:
            pending[u] -= 1
            if pending[u] == 0:
                heapq.heappush(ready, position[u])
    if len(order) == len(nodes):
        return order, []
    # Walk back along unresolved inputs until a node repeats.
    left = [n for n in nodes if pending[n.name] > 0]
    seen: dict[str, int] = {}
    path: list[Node] = []
    node = left[0]
    while node.name not in seen:
        seen[node.name] = len(path)
        path.append(node)
        node = next(by_name[i] for i in (*node.inputs, *node.after) if pending[i] > 0)
    return [], path[seen[node.name]:]
