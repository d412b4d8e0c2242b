"""Generate the reference pages in docs/ from the code, so they cannot drift.

    python -m specc.docgen          # rewrite docs/spec-reference.md, docs/errors.md, docs/specc.schema.json,
                                    # docs/gallery.md and the generated sections of hand-written pages
    python -m specc.docgen --check  # exit 1 if they are stale (tests run this)
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

from pydantic import BaseModel

from .diagnostics import CODES
from .layers import REGISTRY
from .layers.base import Layer
from .schema import Spec
from .schema.compile import LOSS_ALIASES, LOSSES, METRICS, OPTIMIZERS, SCHEDULES, Compile
from .schema.data import SOURCES, Data, Window
from .schema.train import Train

CATEGORIES = [
    ("core", "Core"),
    ("convolution", "Convolution"),
    ("pooling", "Pooling"),
    ("resampling", "Resampling: upsampling, padding and cropping"),
    ("reshaping", "Permuting axes"),
    ("normalization", "Normalization"),
    ("activation", "Activation layers"),
    ("regularization", "Noise and regularization"),
    ("merging", "Merging"),
    ("attention", "Attention"),
    ("embedding", "Embedding"),
    ("recurrent", "Recurrent"),
    ("wrapper", "Wrappers"),
    ("reuse", "Reuse: blocks, sub-models, shared layers"),
]


ARG_DOCS = {
    "units": "Number of output units (the size of the last axis).",
    "activation": "Activation function applied to the output; null means linear.",
    "use_bias": "Whether the layer adds a bias vector.",
    "filters": "Number of output channels.",
    "kernel_size": "Window size: one int for every axis, or one per axis.",
    "strides": "Step of the window: one int or one per axis.",
    "padding": "`valid`: no padding (output shrinks); `same`: pad so the output is input/stride.",
    "dilation_rate": "Spacing between kernel taps (atrous convolution).",
    "groups": "Split channels into this many independent groups.",
    "pool_size": "Window size of the pooling: one int or one per axis.",
    "kernel_initializer": "Initializer of the kernel weights.",
    "bias_initializer": "Initializer of the bias.",
    "recurrent_initializer": "Initializer of the recurrent kernel.",
    "kernel_regularizer": "Penalty on the kernel, e.g. `{l2: 1.0e-4}`.",
    "bias_regularizer": "Penalty on the bias.",
    "recurrent_regularizer": "Penalty on the recurrent kernel.",
    "activity_regularizer": "Penalty on the layer's output.",
    "rate": "Fraction of the inputs to drop, in [0, 1).",
    "seed": "Seed of this layer's randomness.",
    "keepdims": "Keep the pooled axes with size 1.",
    "size": "Upsampling factor: one int or one per axis.",
    "dropout": "Fraction of the inputs dropped at each step.",
    "recurrent_dropout": "Fraction of the recurrent state dropped at each step.",
    "recurrent_activation": "Activation of the gates.",
    "go_backwards": "Read the sequence in reverse.",
    "unroll": "Unroll the loop (faster for short sequences, more memory).",
    "axis": "The axis (or axes) normalized; -1 is the features axis.",
    "epsilon": "Small constant added for numerical stability.",
    "momentum": "Momentum of the moving averages (BatchNormalization) or of the updates (optimizers).",
    "center": "Learn an offset (beta).",
    "scale": "Learn a scale (gamma).",
    "input_dim": "Vocabulary size (Embedding) or number of input features (Dense).",
    "output_dim": "Size of each embedding vector.",
    "mask_zero": "Treat id 0 as padding and mask it downstream.",
    "target_shape": "Shape of each sample after reshaping (one axis may be -1).",
    "n": "Number of repetitions.",
    "merge_mode": "How the forward and backward outputs are joined.",
    "beta_1": "Decay rate of the first-moment estimates.",
    "beta_2": "Decay rate of the second-moment estimates.",
    "rho": "Decay rate of the moving average of squared gradients.",
    "nesterov": "Use Nesterov momentum.",
    "amsgrad": "Use the AMSGrad variant.",
    "learning_rate": "Step size: a number or a schedule mapping.",
    "epochs": "Number of passes over the training data.",
    "batch_size": "Samples per gradient step.",
    "shuffle": "Shuffle the training data before each epoch.",
}


def _type_text(schema: dict, defs: dict) -> str:
    refs = [s for s in schema.get("anyOf", schema.get("oneOf", [])) if "$ref" in s]
    if len(refs) > 8:
        return f"one of {len(refs)} kinds (see below)"
    if "items" in schema and len(schema["items"].get("oneOf", schema["items"].get("anyOf", []))) > 8:
        return "list of layers (see [Layers](#layers))"
    if "$ref" in schema:
        return f"`{schema['$ref'].rsplit('/', 1)[-1]}`"
    if "const" in schema:
        return f"`{schema['const']}`"
    if "enum" in schema:
        values = schema["enum"]
        shown = ", ".join(f"`{v}`" for v in values[:8]) + (", ..." if len(values) > 8 else "")
        return f"one of {shown}"
    for key in ("anyOf", "oneOf"):
        if key in schema:
            parts = [_type_text(s, defs) for s in schema[key] if s.get("type") != "null"]
            text = " or ".join(dict.fromkeys(parts))
            return text + (" or null" if any(s.get("type") == "null" for s in schema[key]) else "")
    kind = schema.get("type")
    if kind == "array":
        return f"list of {_type_text(schema.get('items', {}), defs)}"
    names = {"integer": "int", "number": "float", "boolean": "bool", "string": "string", "object": "mapping",
             "null": "null"}
    text = names.get(kind, "any")
    bounds = [(k, s) for k, s in (("exclusiveMinimum", ">"), ("minimum", ">="), ("exclusiveMaximum", "<"),
                                  ("maximum", "<=")) if k in schema]
    if bounds:
        text += " " + ", ".join(f"{s} {schema[k]}" for k, s in bounds)
    return text


def _default(field) -> str:
    if field.is_required():
        return "required"
    if field.default_factory is not None:
        return "see below" if isinstance(field.default_factory, type) else "—"
    value = field.default
    if value is None:
        return "null"
    if isinstance(value, bool):
        return f"`{str(value).lower()}`"
    return f"`{value}`"


def _fields_table(model: type[BaseModel], skip: frozenset = frozenset()) -> list[str]:
    schema = model.model_json_schema()
    props, defs = schema.get("properties", {}), schema.get("$defs", {})
    rows = ["| key | type | default | description |", "|---|---|---|---|"]
    for name, field in model.model_fields.items():
        if name in skip:
            continue
        desc = (field.description or ARG_DOCS.get(name, "")).replace("|", "\\|")
        rows.append(f"| `{name}` | {_type_text(props.get(name, {}), defs)} | {_default(field)} | {desc} |")
    return rows


def _doc(model) -> str:
    return " ".join((model.__doc__ or "").split())


def spec_reference() -> str:
    out = [
        "# Spec reference",
        "",
        "<!-- Generated by `python -m specc.docgen` from the code; do not edit by hand. -->",
        "",
        "A spec is one YAML file. Keys and layer arguments are Keras's own names. Unknown keys are errors.",
        "Scalars follow YAML 1.2: `1e-3` is a number, `yes`/`no`/`on`/`off` are plain strings (booleans are",
        "`true`/`false`). Anchors, aliases and tags such as `!!python/...` are refused.",
        "",
        "## Top level",
        "",
        *_fields_table(Spec),
        "",
        "## `compile`",
        "",
        *_fields_table(Compile),
        "",
        "### Optimizers",
        "",
        "`optimizer: adam` is short for `optimizer: {type: Adam}`. Every optimizer takes `learning_rate`",
        "(a number or a schedule), `weight_decay`, and the gradient clipping options `clipnorm`, `clipvalue`",
        "and `global_clipnorm`.",
        "",
    ]
    common = frozenset({"type", "learning_rate", "weight_decay", "clipnorm", "clipvalue", "global_clipnorm"})
    for name, model in OPTIMIZERS.items():
        out += [f"#### {name}", "", *_fields_table(model, skip=common - {"learning_rate"}), ""]
    out += ["### Learning-rate schedules", "", "Use a mapping with `type` as `learning_rate`.", ""]
    for model in SCHEDULES.values():
        out += [f"#### {model.__name__}", "", _doc(model), "", *_fields_table(model, skip=frozenset({"type"})), ""]
    out += [
        "### Losses",
        "",
        "`loss: NAME` or `loss: {type: NAME, from_logits: ..., label_smoothing: ..., delta: ...}`.",
        "",
        ", ".join(f"`{n}`" for n in LOSSES),
        "",
        "Aliases: " + ", ".join(f"`{a}` = `{n}`" for a, n in LOSS_ALIASES.items()) + ".",
        "",
        "### Metrics",
        "",
        ", ".join(f"`{n}`" for n in METRICS),
        "",
        "## `train`",
        "",
        *_fields_table(Train),
        "",
        "## `data`",
        "",
        *_fields_table(Data),
        "",
        "### Sources",
        "",
    ]
    for name, model in SOURCES.items():
        out += [f"#### `type: {name}`", "", _doc(model), "",
                *_fields_table(model, skip=frozenset({"type"})), ""]
    out += ["### `window`", "", _doc(Window), "", *_fields_table(Window), ""]
    from .schema.track import Track

    out += ["## `track`", "", _doc(Track), "", *_fields_table(Track), ""]
    out += _search_reference()
    out += _layers_reference()
    return "\n".join(out).rstrip() + "\n"


def _layers_reference() -> list[str]:
    """The `## Layers` part of the spec reference: the keys every layer takes, then each kind by category."""
    out = [
        "## Layers",
        "",
        "Every layer is a mapping with `type`; a layer without arguments may be written as a bare name",
        "(`- Flatten`). Each layer feeds the next unless it names its `inputs`. These keys apply to every layer:",
        "",
        *_fields_table(Layer, skip=frozenset({"type"})),
        "",
    ]
    base = frozenset(Layer.model_fields)
    for category, title in CATEGORIES:
        out += [f"### {title}", ""]
        for name, model in sorted(REGISTRY.items()):
            if model.category != category:
                continue
            out += [f"#### {name}", "", _doc(model), ""]
            own = {k for k in base - {"type"} if model.model_fields[k].annotation != Layer.model_fields[k].annotation}
            table = _fields_table(model, skip=base - own)  # a common key a kind redefines (Input's dtype) is its own
            out += (table if len(table) > 2 else ["No arguments besides the common ones."]) + [""]
    return out


def _search_reference() -> list[str]:
    from .analysis.search import MAX_CHECKED_POINTS
    from .schema.search import Categorical, FloatRange, IntRange, Objective, Pruner, Sampler, Search

    out = ["## `search`", "", _doc(Search), "", *_fields_table(Search), "",
           f"`specc validate` checks the space: every key names a value of the spec, every value fits the field it "
           f"sets, and the spec of every point (a grid's points, or the categorical choices with both ends of "
           f"each range) passes the static check, up to {MAX_CHECKED_POINTS} points.", ""]
    for title, model in (("objective", Objective), ("sampler", Sampler), ("pruner", Pruner)):
        out += [f"### `{title}`", "", _doc(model), "", *_fields_table(model), ""]
    out += ["### The space", "", "Each key is a spec key path, as for `--set`; each value one of:", ""]
    for model in (Categorical, IntRange, FloatRange):
        name = model.model_fields["type"].annotation.__args__[0]
        out += [f"#### `type: {name}`", "", _doc(model), "", *_fields_table(model, skip=frozenset({"type"})), ""]
    return out


def errors_reference() -> str:
    out = [
        "# Errors and warnings",
        "",
        "<!-- Generated by `python -m specc.docgen` from specc/diagnostics.py; do not edit by hand. -->",
        "",
        "Every problem is reported as `file:line:col: severity[CODE]: message`, followed by the source line,",
        "a caret under the offending text, the YAML path (`layers[3].units`) and, where possible, a hint.",
        "`specc validate` reports all problems in all files at once. Codes are stable; names are the",
        "human-readable form of each code.",
        "",
        "| code | name | severity | meaning |",
        "|---|---|---|---|",
    ]
    for code in CODES.values():
        out.append(f"| `{code.code}` | {code.name} | {code.severity.value} | {code.summary} |")
    out += [
        "",
        "Ranges: `E0xx` reading the file and YAML; `E1xx` the schema (keys, types, values); `E2xx` the graph",
        "(names, inputs, outputs); `E3xx` shapes; `E4xx` and `W4xx` the model as a whole (loss and output).",
    ]
    return "\n".join(out) + "\n"


def _intro(path) -> str:
    """The spec's opening comment, as prose."""
    lines = []
    for line in path.read_text().splitlines():
        if not line.startswith("#"):
            break
        lines.append(line.lstrip("#").strip())
    return " ".join(" ".join(lines).split())


def gallery() -> str:
    """docs/gallery.md: every example in specs/ with its diagram, parameters and commands."""
    from .check import check_file
    from .plot import build_diagram, to_mermaid
    from .render import model_name

    root = Path(__file__).resolve().parent.parent
    out = [
        "# Gallery",
        "",
        "<!-- Generated by `python -m specc.docgen` from specs/; do not edit by hand. -->",
        "",
        "Every example in [specs/](../specs/), in the order of the course. Diagrams are `specc plot` output",
        "(Mermaid, rendered by GitHub); parameter counts are specc's static figures, which the test suite checks",
        "against Keras.",
        "",
    ]
    order = ["single_neuron", "logistic_regression", "one_hidden_layer", "dense_pima", "digits_mlp", "digits_cnn",
             "course_cnn", "conv_autoencoder", "simple_rnn", "lstm", "gru", "stacked_rnn", "bidirectional_rnn",
             "lstm_autoencoder"]
    paths = sorted((root / "specs").glob("*.yaml"), key=lambda p: (order.index(p.stem) if p.stem in order
                                                                  else len(order), p.stem))
    for path in paths:
        result = check_file(path, display=f"specs/{path.name}")
        spec, total = result.spec, result.params
        source = spec.data.source if spec.data is not None else None
        data = f"`{source.type}`" + (f" ({getattr(source, 'name', None) or getattr(source, 'path', '')})"
                                     if source is not None else "") if source is not None else "none"
        out += [
            f"## {model_name(result)}",
            "",
            f"[specs/{path.name}](../specs/{path.name}): {spec.description or ''}",
            "",
            _intro(path),
            "",
            f"**Parameters:** {total.total:,} ({total.trainable:,} trainable). "
            f"**Optimizer:** {spec.compile.optimizer.type}. **Loss:** {spec.compile.loss.canonical}. "
            f"**Data:** {data}.",
            "",
            "```sh",
            f"specc summary specs/{path.name}",
            f"specc train specs/{path.name}",
            "```",
            "",
            "```mermaid",
            to_mermaid(build_diagram(result)).rstrip(),
            "```",
            "",
        ]
    return "\n".join(out).rstrip() + "\n"


def templates_table() -> str:
    """docs/diagrams-and-templates.md's table of `specc init` templates, from specc/templates/."""
    from .check import check_file
    from .templates import TEMPLATES

    folder = Path(__file__).resolve().parent / "templates"
    out = ["| template | what it is | data | parameters |", "|---|---|---|---|"]
    for name, summary in TEMPLATES.items():
        result = check_file(folder / f"{name}.yaml", display=f"specc/templates/{name}.yaml")
        source = result.spec.data.source
        data = f"scikit-learn `{source.name}`" if source.type == "sklearn" else f"`{source.type}`"
        out.append(f"| `{name}` | {summary} | {data} | {result.params.total:,} |")
    return "\n".join(out) + "\n"


def json_schema() -> str:
    from .jsonschema import schema_text

    return schema_text()


def _signature(obj, drop_self: bool = False) -> str:
    """``(source: Source, overrides: Iterable[str] = (), *, name: str | None = None) -> Spec``."""
    import inspect

    sig = inspect.signature(obj)
    parts, star = [], False
    for p in sig.parameters.values():
        if drop_self and p.name == "self":
            continue
        if p.kind is p.KEYWORD_ONLY and not star:
            parts.append("*")
            star = True
        text = p.name
        if p.annotation is not p.empty:
            text += f": {p.annotation}"
        if p.default is not p.empty:
            text += f" = {p.default!r}"
        parts.append(text)
    ret = f" -> {sig.return_annotation}" if sig.return_annotation is not sig.empty else ""
    return f"({', '.join(parts)}){ret}"


def _docstring(obj) -> str:
    import inspect

    text = inspect.getdoc(obj) or ""
    text = re.sub(r":(?:class|func|meth|attr):`~?([^`]+)`", r"`\1`", text)
    return re.sub(r"``([^`]+)``", r"`\1`", text)


def python_reference() -> str:
    """docs/python.md: the hand-written guide, then the reference of every public name (from their docstrings)."""
    import inspect

    import specc

    from . import api

    root = Path(__file__).resolve().parent.parent
    page = (root / "docs" / "python.md").read_text() if (root / "docs" / "python.md").is_file() else ""
    marker = "<!-- Generated by `python -m specc.docgen` from specc/api.py; do not edit below by hand. -->"
    out = [page.split(marker)[0].rstrip() + "\n", marker, ""]
    for name, obj in [*((n, getattr(api, n)) for n in specc.__all__), ("diagnostics.Diagnostic", api.Diagnostic)]:
        short = name.rsplit(".", 1)[-1]
        if inspect.isclass(obj):
            out += [f"### `specc.{name}`", "", _docstring(obj), ""]
            for attr, member in vars(obj).items():
                if attr.startswith("_"):
                    continue
                if isinstance(member, property):
                    out += [f"#### `{short}.{attr}`", "", _docstring(member), ""]
                elif inspect.isfunction(member):
                    out += [f"#### `{short}.{attr}{_signature(member, drop_self=True)}`", "", _docstring(member), ""]
        else:
            out += [f"### `specc.{name}{_signature(obj)}`", "", _docstring(obj), ""]
    return "\n".join(out).rstrip() + "\n"


PAGES = {
    "docs/spec-reference.md": spec_reference,
    "docs/errors.md": errors_reference,
    "docs/specc.schema.json": json_schema,
    "docs/gallery.md": gallery,
    "docs/python.md": python_reference,
}


# Generated parts of hand-written pages: the text between `<!-- generated: KEY ... -->` and
# `<!-- end generated: KEY -->` is replaced.
SECTIONS = {
    "docs/diagrams-and-templates.md": {"templates": templates_table},
}


def fill_sections(text: str, sections: dict) -> str:
    """``text`` with each generated section's body made afresh; a page that lost its markers is an error."""
    import re

    for key, make in sections.items():
        begin = f"<!-- generated: {key} by `python -m specc.docgen`; do not edit by hand -->\n"
        end = f"<!-- end generated: {key} -->"
        pattern = re.compile(re.escape(begin) + r".*?" + re.escape(end), re.S)
        found = pattern.search(text)
        if found is None:
            raise SystemExit(f"docgen: the markers of the generated section '{key}' are missing")
        text = text[:found.start()] + begin + make() + end + text[found.end():]
    return text


def main(argv: list[str]) -> int:
    root = Path(__file__).resolve().parent.parent
    check = "--check" in argv
    stale = []
    pages = {**PAGES, **{rel: (lambda rel=rel: fill_sections((root / rel).read_text(), SECTIONS[rel]))
                         for rel in SECTIONS}}
    for rel, make in pages.items():
        path = root / rel
        text = make()
        if check:
            if not path.is_file() or path.read_text() != text:
                stale.append(rel)
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text)
    if stale:
        print("stale: " + ", ".join(stale) + " (run `python -m specc.docgen`)")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
