"""Pass 3b: what `type: Model` and `type: Shared` nodes refer to.

A `Model` node calls a sub-model: an entry of `models:` (checked once on its
own; every use shares its weights) or a saved model (a .keras file or a run
directory, read as data by specc/importer.py: no Keras, no code). A `Shared`
node applies an earlier layer again. Each graph node gets what it refers to
(``node.ref``: a ModelCall or a Share), from which the shape pass infers it and
lowering builds it; the layer objects stay plain data.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field, replace
from pathlib import Path

from ..diagnostics import Diagnostic, did_you_mean
from ..filecache import FileCache
from ..layers import Params, Shape, ShapeError
from ..layers.base import fmt_shape, fmt_shapes
from ..layers.core import Input
from ..layers.models import Model, Shared
from ..loader import Document
from ..paths import saved_model_file
from ..userfiles import outside_project
from .graph import Graph, Node, build_graph
from .shapes import NodeInfo, infer_shapes

# A saved model's config as spec data, read once while the file is unchanged (a base shared by many specs)
_SAVED = FileCache()


@dataclass
class SubModelInfo:
    """A checked sub-model: its graph and static shapes, and where its weights come from."""

    key: str  # its name in `models:`, or the saved model's path as written
    graph: Graph
    info: dict[str, NodeInfo]
    doc: Document
    saved: Path | None = None  # a saved model whose weights it loads
    saved_outputs: list[str] = field(default_factory=list)  # the saved model's own outputs
    children: dict[str, SubModelInfo] = field(default_factory=dict)  # sub-models it calls, by key
    sequential: bool = False  # lowered as a keras.Sequential (SubModel.sequential)


@dataclass
class ModelCall:
    """What a `type: Model` node calls: a checked sub-model. The first call of a sub-model counts its weights;
    later calls share them."""

    sub: SubModelInfo
    layer: Model
    first: bool

    def infer(self, shapes: list[Shape], inputs_of=None) -> tuple[Shape, Params]:
        """The output shape and the parameters of this call on the given input shapes."""
        sub, inputs = self.sub, self.sub.graph.inputs
        if len(shapes) != len(inputs):
            raise ShapeError(f"model '{sub.key}' takes {len(inputs)} input(s) ({', '.join(inputs)}). Received: "
                             f"{len(shapes)}", field="inputs", code="E204")
        merged = []
        for name, got in zip(inputs, shapes):
            want = sub.info[name].shape
            fits = len(want) == len(got) and all(w is None or g is None or w == g for w, g in zip(want, got))
            if not fits:
                raise ShapeError(f"model '{sub.key}' expects {fmt_shape(want)} for its input '{name}'. Received: "
                                 f"{fmt_shape(got)}", code="E301" if len(want) == len(got) else "E300")
            merged.append((None, *(w if w is not None else g for w, g in zip(want[1:], got[1:]))))
        info = sub.info
        if merged != [sub.info[n].shape for n in inputs]:
            info = _reinfer(sub, merged)
        return info[sub.graph.outputs[0]].shape, (_params(sub, self.layer, info) if self.first else Params())


@dataclass
class Share:
    """What a `type: Shared` node applies again: the node whose layer (and weights) it reuses (for a share of a
    share, the original), reached through the node the spec names."""

    target: Node
    named: str  # the node the spec names (`layer:`)

    def infer(self, shapes: list[Shape], inputs_of) -> tuple[Shape, Params]:
        """The output shape on the given input shapes, which must fit the weights built for the named node's
        inputs; no parameters (the weights are counted once, at the shared layer itself)."""
        target = self.target.layer
        lo, hi = target.n_inputs
        if not lo <= len(shapes) <= hi:
            raise ShapeError(f"'{self.named}' ({target.kind()}) takes {lo if lo == hi else f'{lo} to {hi}'} "
                             f"input(s). Received: {len(shapes)}", field="inputs", code="E204")
        shape = target.output_of(shapes)
        built = inputs_of(self.named)
        if target.params(shapes) != target.params(built):
            raise ShapeError(
                f"'{self.named}' has weights built for input {fmt_shapes(built)}, which do not fit this "
                f"input. Received: {fmt_shapes(shapes)}", field="inputs",
                help="a shared layer keeps one set of weights: its inputs must have the same feature sizes")
        return shape, Params()


class Resolver:
    """Resolves the Model and Shared nodes of a graph and of every sub-model they reach."""

    def __init__(self, spec, doc: Document, base: Path, errors: list[Diagnostic], prefix: tuple = ()):
        self.spec = spec  # a Spec, or the plain data of an imported saved model
        self.doc = doc
        self.base = base
        self.errors = errors
        self.prefix = prefix
        self.done: dict[str, SubModelInfo | None] = {}
        self.stack: list[str] = []

    # -- graphs -------------------------------------------------------------
    def resolve(self, graph: Graph) -> dict[str, SubModelInfo]:
        """Hand every Model/Shared node of ``graph`` what it refers to; returns the sub-models it calls."""
        used: dict[str, SubModelInfo] = {}
        for node in graph.nodes:
            layer = node.layer
            if isinstance(layer, Shared):
                self._shared(graph, node)
            elif isinstance(layer, Model):
                sub = self._named(layer, node.loc) if layer.model is not None else self._saved(layer, node.loc)
                if sub is None:
                    continue
                node.ref = ModelCall(sub, layer, first=sub.key not in used)
                used[sub.key] = sub
        return used

    def _shared(self, graph: Graph, node) -> None:
        target = graph.by_name[node.layer.layer]
        while isinstance(target.layer, Shared):  # sharing a share is sharing the original
            target = graph.by_name[target.layer.layer]
        if isinstance(target.layer, (Input, Model)):
            what = "an Input" if isinstance(target.layer, Input) else "a Model layer (call the model again instead)"
            self.errors.append(self.doc.error("E204", f"'{target.name}' is {what}; Shared applies a layer with "
                                              f"weights again", node.loc + ("layer",)))
            return
        node.ref = Share(target, node.layer.layer)

    # -- sub-models from `models:` ---------------------------------------------
    def _named(self, layer: Model, loc: tuple) -> SubModelInfo | None:
        name = layer.model
        models = getattr(self.spec, "models", None) or {}
        if name not in models:
            known = sorted(models)
            hint = did_you_mean(name, known) or (f"the models are: {', '.join(known)}" if known else
                                                 "define it under `models:`")
            self.errors.append(self.doc.error("E207", f"model must name an entry of `models:`. Received: {name!r}",
                                              loc + ("model",), help=hint))
            return None
        if name in self.stack:
            chain = " -> ".join([*self.stack[self.stack.index(name):], name])
            self.errors.append(self.doc.error("E206", f"models use each other in a loop: {chain}", loc + ("model",)))
            self.done[name] = None
            return None
        if name not in self.done:
            self.stack.append(name)
            self.done[name] = self._check(name, models[name], self.prefix + ("models", name))
            self.stack.pop()
        return self.done[name]

    def _check(self, key: str, sub, prefix: tuple) -> SubModelInfo | None:
        graph, errors = build_graph(sub, self.doc, prefix)
        self.errors += errors
        if graph is None:
            return None
        if len(graph.outputs) != 1:
            self.errors.append(self.doc.error("E204", f"model '{key}' has {len(graph.outputs)} outputs; a model used "
                                              f"as a layer gives one", prefix + ("outputs",)))
            return None
        sequential = getattr(sub, "sequential", False)
        if sequential and (problem := _not_a_stack(graph)) is not None:
            node, why = problem
            self.errors.append(self.doc.error("E204", f"model '{key}' is `sequential: true`, a plain stack of layers, "
                                              f"but {why}", node.loc, help="remove `sequential: true`"))
            return None
        n = len(self.errors)
        children = self.resolve(graph)
        if len(self.errors) > n:
            return None
        info, errors = infer_shapes(graph, self.doc)
        self.errors += errors
        if errors:
            return None
        return SubModelInfo(key, graph, info, self.doc, children=children, sequential=sequential)

    # -- saved models ----------------------------------------------------------
    def _saved(self, layer: Model, loc: tuple) -> SubModelInfo | None:
        from pydantic import ValidationError

        from ..importer import ImportFailure, import_config, read_model_config
        from ..schema.reuse import SubModel

        key = f"{layer.path}#{layer.output or ''}"
        if key in self.done:
            return self.done[key]
        self.done[key] = None
        where = loc + ("path",)
        path = saved_model_file(layer.path, self.base)
        refused = outside_project(path, self.base)
        if refused:
            self.errors.append(self.doc.error("E208", f"cannot read the saved model: {refused}", where))
            return None
        try:
            data, problems = copy.deepcopy(_SAVED.get(path, lambda: import_config(read_model_config(path))))
        except ImportFailure as e:
            self.errors.append(self.doc.error("E208", f"cannot read the saved model: {e}", where))
            return None
        if problems:
            more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
            self.errors.append(self.doc.error("E208", f"the saved model uses what specc cannot express: "
                                              f"{problems[0]}{more}", where, help="`specc import` lists them all"))
            return None
        names = _layer_names(data.get("layers", []))
        for option in ("output", "trainable_from"):
            wanted = getattr(layer, option)
            if wanted is not None and wanted not in names:
                self.errors.append(self.doc.error(
                    "E208", f"{option} must name a layer of the saved model. Received: {wanted!r}", loc + (option,),
                    help=did_you_mean(wanted, names) or f"its layers are: {', '.join(names[:20])}"))
                return None
        sub_doc = Document(path=f"{layer.path} (saved model)", text="", data=data)
        saved_outputs = list(data.get("outputs") or names[-1:])
        try:
            sub = SubModel.model_validate({"layers": data["layers"],
                                           "outputs": [layer.output] if layer.output else data.get("outputs")})
            namespace = _Namespace(data)
        except ValidationError as e:  # a model that imports but does not validate is specc's bug; say so plainly
            self.errors.append(self.doc.error("E208", f"cannot use the saved model: {str(e).splitlines()[0]}", where))
            return None
        inner = Resolver(namespace, sub_doc, path.parent, errors := [])
        info = inner._check(key, sub, ())
        if errors or info is None:
            first = errors[0].message if errors else "it has no single output"
            self.errors.append(self.doc.error("E208", f"cannot use the saved model: {first}", where))
            return None
        info = replace(info, saved=path, saved_outputs=saved_outputs)
        self.done[key] = info
        return info


class _Namespace:
    """The `models:` of an imported saved model, validated on first use."""

    def __init__(self, data: dict):
        from ..schema.reuse import SubModel

        self.models = {k: SubModel.model_validate(v) for k, v in (data.get("models") or {}).items()}


def _not_a_stack(graph: Graph):
    """(node, why) where ``graph`` is not a plain stack of layers (one input, each layer fed by the one before,
    no shared layers, the last one its output), else None."""
    first, *rest = graph.nodes
    inputs = [n for n in graph.nodes if isinstance(n.layer, Input)]
    if inputs != [first]:
        return (inputs[1] if len(inputs) > 1 else first), "it does not start with its one Input"
    for before, node in zip(graph.nodes, rest):
        if isinstance(node.layer, Shared):
            return node, f"'{node.name}' applies a shared layer"
        if node.inputs != [before.name]:
            return node, f"'{node.name}' takes {', '.join(repr(i) for i in node.inputs)}, not '{before.name}'"
    if graph.outputs != [graph.nodes[-1].name]:
        return graph.by_name[graph.outputs[0]], f"its output is '{graph.outputs[0]}', not its last layer"
    return None


def _layer_names(layers: list) -> list[str]:
    return [item["name"] for item in layers if isinstance(item, dict) and isinstance(item.get("name"), str)]


def _reinfer(sub: SubModelInfo, shapes: list) -> dict[str, NodeInfo]:
    """The sub-model's shapes for inputs more specific than it declares (e.g. its None axes given)."""
    given = dict(zip(sub.graph.inputs, shapes))
    nodes = [replace(n, layer=Input(type="Input", shape=list(given[n.name][1:]), dtype=n.layer.dtype))
             if n.name in given else n for n in sub.graph.nodes]
    info, errors = infer_shapes(Graph(nodes, sub.graph.outputs), sub.doc)
    if errors:
        raise ShapeError(f"in model '{sub.key}': {errors[0].message}")
    return info


def _params(sub: SubModelInfo, layer: Model, info: dict[str, NodeInfo]) -> Params:
    """The weights of the layers that lead to the output (a saved model cut at `output` drops its head)."""
    needed = set(sub.graph.outputs)
    for node in reversed(sub.graph.nodes):
        if node.name in needed:
            needed.update(node.inputs)
    total, frozen = Params(), not layer.trainable or layer.trainable_from is not None
    for node in sub.graph.nodes:
        if node.name not in needed:
            continue
        frozen = frozen and node.name != layer.trainable_from
        p = info[node.name].params
        total = total + (p.frozen() if frozen or not layer.trainable else p)
    return total
