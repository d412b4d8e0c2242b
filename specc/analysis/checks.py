"""Pass 5: whole-model checks that need both the graph and the compile section."""

from __future__ import annotations

from pydantic import BaseModel

from ..diagnostics import Diagnostic, closest, did_you_mean, format_path, short
from ..layers.base import fmt_shape
from ..layers.core import Activation
from ..loader import Document
from ..schema import Spec
from ..schema.compile import Loss
from .graph import Graph, Node
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
    """Each output's loss against that output's units and activation; per-output mappings name outputs."""
    if spec.compile is None:
        return []
    c = spec.compile
    out = []
    outputs = graph.outputs
    per_output = not isinstance(c.loss, Loss)
    if per_output:
        out += _names_in(c.loss.root, outputs, "output", ("compile", "loss"), doc)
    if c.loss_weights is not None:
        out += _names_in(c.loss_weights, outputs, "output", ("compile", "loss_weights"), doc)
    if isinstance(c.metrics, dict):
        out += _names_in(c.metrics, outputs, "output", ("compile", "metrics"), doc)
    for output in outputs:
        loss = c.loss_for(output)
        if loss is None:
            out.append(doc.error("E408", f"every output needs a loss, but the loss mapping has none for '{output}'",
                                 ("compile", "loss"), key=True,
                                 help=f"add `{output}: LOSS` to compile.loss, or give one loss for every output"))
            continue
        if output in info:
            out += _output_loss(loss, output, graph, info, doc, ("compile", "loss") + ((output,) if per_output else ()))
    return out


def _names_in(mapping: dict, names: list[str], role: str, where: tuple, doc: Document) -> list[Diagnostic]:
    """E407 for each key of a per-input/per-output mapping that is not one of the model's ``names``."""
    out = []
    plural = f"{role}s"
    for key in mapping:
        if key in names:
            continue
        hint = did_you_mean(key, names) if len(names) <= 1000 and len(out) < 100 else None
        shown = ", ".join(names[:20]) + (", ..." if len(names) > 20 else "")
        out.append(doc.error("E407", f"{format_path(where)} keys must be {role} names of the model. Received: "
                             f"{short(key)!r}", where + (key,), key=True,
                             help=hint or f"the model's {plural} are: {shown}"))
    return out


def _output_loss(loss: Loss, output: str, graph: Graph, info: dict[str, NodeInfo], doc: Document,
                 where: tuple) -> list[Diagnostic]:
    out = []
    name = loss.canonical
    act = output_activation(graph, output) or "linear"
    units = info[output].shape[-1]
    logits = bool(loss.from_logits)
    if logits and act in ("softmax", "sigmoid"):
        out.append(doc.error("W401", f"the output '{output}' applies {act}, but the loss has from_logits: true",
                             where, help=f"remove the {act} activation or set from_logits: false"))
    if name in ("categorical_crossentropy", "sparse_categorical_crossentropy"):
        if units == 1:
            out.append(doc.error("E400", f"{name} needs one output unit per class, but '{output}' has 1",
                                 where, help="for two classes use 1 sigmoid unit with binary_crossentropy"))
        elif act == "sigmoid":
            out.append(doc.error("W402", f"{name} expects a softmax output, but '{output}' applies sigmoid, so the "
                                 "probabilities predict writes do not sum to 1", where,
                                 help="use activation: softmax (on TensorFlow, Keras computes this loss from the values "
                                 "before the sigmoid, so training is the same), or binary_crossentropy for multi-label "
                                 "outputs"))
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


# -- data arrays per model input and output --------------------------------------------------------
MAPPED_SOURCES = ("npz", "npy")  # sources whose `x`/`y` may map input/output names to arrays


def logged_quantities(spec: Spec, outputs: list[str]) -> list[str]:
    """What training logs for ``spec``'s model with ``outputs``: the loss and each metric (per output for
    several), and their `val_` twins."""
    names = {"loss"}
    if spec.compile is not None:
        if len(outputs) == 1:
            names |= set(spec.compile.metric_names(outputs[0]))
        else:
            for o in outputs:
                names |= {f"{o}_loss", *(f"{o}_{m}" for m in spec.compile.metric_names(o))}
    return sorted(names | {f"val_{n}" for n in names})


def check_monitors(spec: Spec, graph: Graph, info: dict[str, NodeInfo], doc: Document) -> list[Diagnostic]:
    """E416: a callback monitors a quantity that training does not log (Keras refuses it only after the run
    directory exists)."""
    if spec.compile is None:
        return []
    known = logged_quantities(spec, graph.outputs)
    out = []
    for key in ("early_stopping", "reduce_lr_on_plateau", "checkpoint"):
        monitor = getattr(getattr(spec.train, key, None), "monitor", None)
        if monitor is None or monitor in known:
            continue
        match = closest(monitor, known)
        out.append(doc.error("E416", f"train.{key} monitors '{short(monitor)}', which training does not log",
                             ("train", key, "monitor"),
                             help=f"did you mean '{match}'?" if match else "training logs: " + ", ".join(known)))
    return out


def check_class_weight(spec: Spec, graph: Graph, info: dict[str, NodeInfo], doc: Document) -> list[Diagnostic]:
    """E417: one weight per class of the model's single output (two for one sigmoid unit)."""
    weights = spec.train.class_weight
    if not isinstance(weights, list) or len(graph.outputs) != 1:
        return []
    shape = info[graph.outputs[0]].shape
    units = shape[-1] if len(shape) == 2 and isinstance(shape[-1], int) else None
    if units is None or len(weights) == max(units, 2):
        return []
    return [doc.error("E417", f"train.class_weight gives {len(weights)} weight(s), but the model has {max(units, 2)} "
                              f"classes ('{graph.outputs[0]}' has {units} unit(s))", ("train", "class_weight"),
                      help="give one weight per class, in the order of the class ids")]


def check_data_io(spec: Spec, graph: Graph, info: dict[str, NodeInfo], doc: Document) -> list[Diagnostic]:
    """The data gives one array per model input and per output: `x`/`y` mappings name the model's inputs and
    outputs, and a model with several of either reads a source that can hold several arrays."""
    data = spec.data
    if data is None:
        return []
    out = []
    inputs, outputs = graph.inputs, graph.outputs
    mapped = False
    for part in ("source", "validation", "test"):
        src = getattr(data, part)
        if src is None:
            continue
        where = ("data", part)
        if src.type not in MAPPED_SOURCES:
            if len(inputs) > 1 or len(outputs) > 1:
                out.append(doc.error(
                    "E409", f"the model has {_count(inputs, 'input')} and {_count(outputs, 'output')}, but a "
                    f"{src.type} source gives one array of features and one of labels. Received: {src.type!r}",
                    where + ("type",), help="use an npz or npy source whose `x` and `y` map each input and output "
                    "name to its array"))
            continue
        for field, names, role in (("x", inputs, "input"), ("y", outputs, "output")):
            value = getattr(src, field)
            if isinstance(value, dict):
                mapped = True
                out += _names_in(value, names, role, where + (field,), doc)
                missing = [n for n in names if n not in value]
                if missing:
                    out.append(doc.error(
                        "E409", f"data.{part}.{field} gives no array for the model's {role} "
                        f"{', '.join(repr(m) for m in missing[:10])}", where + (field,), key=True,
                        help=f"add `{missing[0]}: ARRAY` to the mapping"))
            elif value is not None and len(names) > 1:
                example = ", ".join(f"{n}: ..." for n in names[:3]) + (", ..." if len(names) > 3 else "")
                out.append(doc.error(
                    "E409", f"the model has {_count(names, role)} ({', '.join(names[:10])}), so data.{part}.{field} "
                    f"must map each {role} name to an array. Received: {value!r}", where + (field,),
                    help=f"write `{field}: {{{example}}}`"))
    if mapped or len(inputs) > 1 or len(outputs) > 1:
        why = "with several inputs or outputs, or `x`/`y` mappings"
        for field, text in (("window", "data.window applies"), ("noise", "data.noise applies"),
                            ("classes", "data.classes applies")):
            if getattr(data, field, None):
                out.append(doc.error("E409", f"{text} to models with one input and one output, not {why}",
                                     ("data", field), key=True))
        if data.target == "input":
            out.append(doc.error("E409", f"data.target: input (an autoencoder) applies to models with one input and "
                                 f"one output, not {why}", ("data", "target"), key=True))
    if len(inputs) == 1:
        out += check_vocabulary(spec, graph, doc)
    if len(inputs) == 1 and len(outputs) == 1:
        out += check_targets(spec, graph, info, doc)
    if len(outputs) > 1 and spec.train.class_weight is not None:
        out.append(doc.error("E409", "train.class_weight applies to models with one output; this one has "
                             f"{_count(outputs, 'output')}", ("train", "class_weight"), key=True,
                             help="remove it, or weight the outputs with compile.loss_weights"))
    return out


def token_embeddings(graph: Graph) -> list[Node]:
    """The Embedding layers that read the model's (only) input as it comes: token ids from the data."""
    return [node for node in graph.nodes if node.inputs == [graph.inputs[0]] and node.layer.kind() == "Embedding"]


def check_vocabulary(spec: Spec, graph: Graph, doc: Document) -> list[Diagnostic]:
    """E418: an Embedding that reads the token ids of imdb or reuters with `num_words` has a row for every id,
    0 to num_words - 1; Keras would fail on the first larger one, mid-training. (A text folder's vocabulary is
    known once learnt from the training texts: the data step checks it.)"""
    src = spec.data.source if spec.data is not None else None
    size = getattr(src, "num_words", None)
    if size is None:
        return []
    return [doc.error("E418", f"the Embedding '{node.name}' has input_dim {node.layer.input_dim}, but "
                      f"data.source.num_words gives token ids up to {size - 1}", node.loc + ("input_dim",),
                      help=f"give '{node.name}' input_dim: {size}, or set num_words: {node.layer.input_dim}")
            for node in token_embeddings(graph) if node.layer.input_dim < size]


# Class counts of the built-in classification datasets, and the sources whose labels are class ids.
CLASS_COUNTS = {("sklearn", "digits"): 10, ("sklearn", "iris"): 3, ("sklearn", "wine"): 3,
                ("sklearn", "breast_cancer"): 2, ("keras", "mnist"): 10, ("keras", "fashion_mnist"): 10,
                ("keras", "cifar10"): 10, ("keras", "cifar100"): 100, ("keras", "imdb"): 2, ("keras", "reuters"): 46}
CLASS_ID_SOURCES = ("csv", "images", "text")  # one label per sample: a class id or a class name


def check_targets(spec: Spec, graph: Graph, info: dict[str, NodeInfo], doc: Document) -> list[Diagnostic]:
    """The model's output against the targets it will be trained with, where the spec determines them: an
    autoencoder's input, the class count of a built-in dataset or of data.classes, class-id labels."""
    data = spec.data
    if data is None or spec.compile is None:
        return []
    (name,), (output,) = graph.inputs, graph.outputs
    if name not in info or output not in info:
        return []
    node, shape = graph.by_name[output], info[output].shape
    if data.target == "input":
        want = info[name].shape
        if not _fits(shape, want):
            return [doc.error("E415", f"data.target: input trains the output '{output}' to reproduce the input, but "
                              f"it gives {fmt_shape(shape)} for an input of {fmt_shape(want)}", node.loc,
                              help=_resize_hint(graph, info, want, output))]
        return []
    loss = spec.compile.loss_for(output)
    name = loss.canonical if loss is not None else None
    if name not in ("categorical_crossentropy", "sparse_categorical_crossentropy"):
        return []
    src = data.source
    out = []
    if data.labels == "raw" and name == "categorical_crossentropy" and (
            (src.type, getattr(src, "name", None)) in CLASS_COUNTS or src.type in CLASS_ID_SOURCES):
        out.append(doc.error("E414", f"data.labels: raw keeps the {src.type} source's labels as class ids, but "
                             f"categorical_crossentropy needs one-hot labels", ("data", "labels"),
                             help="remove `labels: raw` (auto one-hot encodes them for this loss), or use "
                             "sparse_categorical_crossentropy"))
    count = len(data.classes) if data.classes else CLASS_COUNTS.get((src.type, getattr(src, "name", None)))
    if count is not None and data.labels != "raw" and shape[-1] is not None and shape[-1] < count:
        what = "data.classes keeps" if data.classes else f"the {src.type} dataset '{src.name}' has"
        out.append(doc.error("E415", f"{what} {count} classes, but the output '{output}' has {shape[-1]} unit(s); "
                             f"{name} needs one unit per class", node.loc,
                             help=f"give '{output}' {count} units"))
    return out


def _resize_hint(graph: Graph, info: dict[str, NodeInfo], want: tuple, output: str) -> str:
    """Which layer to change: the output's last axis, or the layer after which the size never comes back."""
    shape = info[output].shape
    if len(shape) == len(want) and _fits(shape[:-1] + (None,), want):
        return f"give '{output}' {want[-1]} units (filters), the input's last axis"
    after = None
    for node in graph.nodes:  # in order: the last layer that left the input's size, for good
        here = info.get(node.name)
        if here is None or node.name == graph.inputs[0]:
            continue
        if _fits(here.shape, want) or (len(here.shape) == len(want) and _fits(here.shape[:-1] + (None,), want)):
            after = None
        elif after is None:
            after = node.name
    culprit = after or output
    return (f"'{culprit}' makes the size {fmt_shape(info[culprit].shape)} and no later layer gives back "
            f"{fmt_shape(want)}: change it, or add layers that restore the size (UpSampling, Conv2DTranspose "
            f"with strides) before '{output}'")


def _fits(shape, want) -> bool:
    return len(shape) == len(want) and all(a is None or b is None or a == b for a, b in zip(shape[1:], want[1:]))


def _count(names: list, role: str) -> str:
    return f"{len(names)} {role}{'' if len(names) == 1 else 's'}"


# -- lint rules: warnings about specs that work but are probably not what was meant ---------------
def check_lint(spec: Spec, graph: Graph, info: dict[str, NodeInfo], doc: Document) -> list[Diagnostic]:
    out = []
    for name in graph.outputs:
        node = graph.by_name[name]
        if node.layer.kind() in ("Dropout", "SpatialDropout1D", "SpatialDropout2D", "GaussianDropout"):
            out.append(doc.error("W403", f"the output '{name}' is a {node.layer.kind()} layer", node.loc,
                                 help="remove it, or move it before the last layer"))
        shapes = [info[i].shape for i in node.inputs if i in info]
        if node.layer.kind() == "Dense" and shapes and len(shapes[0]) >= 4:
            out.append(doc.error("W407", f"the output '{name}' is a Dense layer on a {len(shapes[0])}-D input, so it "
                                 "predicts one vector per position", node.loc,
                                 help="add Flatten or GlobalAveragePooling2D before it for one prediction per sample"))
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
