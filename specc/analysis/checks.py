"""Pass 5: whole-model checks that need both the graph and the compile section."""

from __future__ import annotations

from pydantic import BaseModel

from ..diagnostics import Diagnostic
from ..layers.core import Activation
from ..loader import Document
from ..schema import Spec
from .graph import Graph
from .shapes import NodeInfo


def output_activation(graph: Graph, name: str) -> str | None:
    """The activation applied last on the way to output ``name`` (None: linear)."""
    seen: set[str] = set()
    while name not in seen:  # a loop, not recursion: a spec may chain thousands of Dropouts
        seen.add(name)
        node = graph.by_name[name]
        layer = node.layer
        if isinstance(layer, Activation):
            return layer.activation
        act = getattr(layer, "activation", None)
        if act is not None:
            return act
        inner = getattr(layer, "layer", None)
        if inner is not None and getattr(inner, "activation", None):
            return inner.activation
        if layer.kind() in ("Dropout", "Flatten", "Reshape") and node.inputs:
            name = node.inputs[0]
            continue
        return None
    return None


def check_loss(spec: Spec, graph: Graph, info: dict[str, NodeInfo], doc: Document) -> list[Diagnostic]:
    if spec.compile is None or len(graph.outputs) != 1 or graph.outputs[0] not in info:
        return []
    out = []
    loss = spec.compile.loss
    name = loss.canonical
    output = graph.outputs[0]
    act = output_activation(graph, output) or "linear"
    units = info[output].shape[-1]
    where = ("compile", "loss")
    logits = bool(loss.from_logits)
    if logits and act in ("softmax", "sigmoid"):
        out.append(doc.error("W401", f"the output '{output}' applies {act}, but the loss has from_logits: true",
                             where, help=f"remove the {act} activation or set from_logits: false"))
    if name in ("categorical_crossentropy", "sparse_categorical_crossentropy"):
        if units == 1:
            out.append(doc.error("E400", f"{name} needs one output unit per class, but '{output}' has 1",
                                 where, help="for two classes use 1 sigmoid unit with binary_crossentropy"))
        elif act == "sigmoid":
            out.append(doc.error("W402", f"{name} expects a softmax output, but '{output}' applies sigmoid", where,
                                 help="use activation: softmax, or binary_crossentropy for multi-label outputs"))
        elif act == "linear" and not logits:
            out.append(doc.error("W402", f"'{output}' has no activation, so {name} receives raw scores", where,
                                 help="add activation: softmax, or use the loss with from_logits: true"))
    if name in ("binary_crossentropy", "binary_focal_crossentropy"):
        if act == "softmax":
            out.append(doc.error("W402", f"{name} expects sigmoid outputs, but '{output}' applies softmax", where,
                                 help="use activation: sigmoid, or categorical_crossentropy for one class per sample"))
        elif act == "linear" and not logits:
            out.append(doc.error("W402", f"'{output}' has no activation, so {name} receives raw scores", where,
                                 help="add activation: sigmoid, or use the loss with from_logits: true"))
    if act == "softmax" and units == 1:
        out.append(doc.error("W402", f"softmax over the single unit of '{output}' always outputs 1.0", where,
                             help="use activation: sigmoid for one output unit"))
    return out


# -- lint rules: warnings about specs that work but are probably not what was meant ---------------
def check_lint(spec: Spec, graph: Graph, info: dict[str, NodeInfo], doc: Document) -> list[Diagnostic]:
    out = []
    for name in graph.outputs:
        node = graph.by_name[name]
        if node.layer.kind() in ("Dropout", "SpatialDropout1D", "SpatialDropout2D", "GaussianDropout"):
            out.append(doc.error("W403", f"the output '{name}' is a {node.layer.kind()} layer", node.loc,
                                 help="remove it, or move it before the last layer"))
    needed = set(graph.outputs)
    for node in reversed(graph.nodes):
        if node.name in needed:
            needed.update(node.inputs)
    for node in graph.nodes:
        if node.name not in needed and not node.implicit:
            out.append(doc.error("W404", f"layer '{node.name}' does not lead to any output", node.loc,
                                 help="connect it with `inputs:` or list it in `outputs:`, or remove it"))
    if spec.seed is None and spec.data is not None and spec.compile is not None:
        out.append(doc.error("W405", "the spec trains but sets no seed, so two runs give different results",
                             (), help="add `seed: 42` (any integer) at the top level"))
    if spec.compile is not None:
        optimizer = spec.compile.optimizer
        lr = optimizer.learning_rate
        where = ("compile", "optimizer", "learning_rate")
        value = lr if isinstance(lr, float | int) else getattr(lr, "initial_learning_rate", None)
        if isinstance(lr, BaseModel) and getattr(lr, "warmup_target", None):
            value = lr.warmup_target
        if value is not None and value > 0 and not 1e-6 <= value <= 1.0:
            out.append(doc.error("W406", f"learning rate {value:g} is outside the usual range 1e-6 to 1",
                                 where, help="typical values: 1e-3 for Adam, 1e-2 to 1e-1 for SGD"))
    return out
