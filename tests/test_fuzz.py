"""Property tests: whatever the input, the checker answers with diagnostics and never raises.

(a) raw text and bytes, and YAML-looking token soup, through every entry point;
(b) structured fuzzing: documents shaped like specs (real and misspelt layer
    types, real and random fields, values of every YAML type, compile sections),
    dumped with yaml.safe_dump and checked.
"""

from __future__ import annotations

import math
import os
from contextlib import contextmanager

import yaml
from hypothesis import HealthCheck, assume, event, given, settings
from hypothesis import strategies as st

from specc import loader
from specc.check import check_text
from specc.diagnostics import CODES, Severity
from specc.layers import REGISTRY
from specc.loader import MAX_DEPTH, decode, load_text, resolve_plain
from specc.render import diagnostic_json, diagnostic_text
from specc.schema.compile import LOSS_ALIASES, LOSSES, METRICS, OPTIMIZERS

# Sized so that the whole file runs in well under 30 s; SPECC_FUZZ_SCALE=20 digs deeper.
SCALE = float(os.environ.get("SPECC_FUZZ_SCALE", "1"))


def examples(n: int) -> int:
    return max(1, int(n * SCALE))


FUZZ = settings(max_examples=examples(300), deadline=None, suppress_health_check=[HealthCheck.too_slow])
CHEAP = settings(FUZZ, max_examples=examples(1000))


def assert_diagnostics_sound(diagnostics, text: str | None = None) -> None:
    """Known codes, the catalogue's severity, and spans inside the text (when it is given)."""
    last_line = None if text is None else loader._line_col(text, len(text))[0]
    for d in diagnostics:
        assert d.code in CODES, d
        assert d.severity is CODES[d.code].severity
        assert d.message and isinstance(d.message, str)
        if d.span is not None:
            assert d.span.line >= 1 and d.span.col >= 1, d
            assert (d.span.end_line, d.span.end_col) >= (d.span.line, d.span.col), d
            if last_line is not None:
                assert d.span.line <= last_line, (d, last_line)
        diagnostic_json(d)
        diagnostic_text(d, "source line")


def check_everything(text: str):
    doc, errors = load_text(text, "fuzz.yaml")
    assert_diagnostics_sound(errors, text)
    result = check_text(text, "fuzz.yaml")
    assert_diagnostics_sound(result.diagnostics, text)
    for d in result.diagnostics:
        if d.span is not None:
            result.doc.line(d.span.line)  # the CLI prints it
    return result


# -- (a) unstructured input ------------------------------------------------------------
@CHEAP
@given(st.text())
def test_any_text(text):
    check_everything(text)


@CHEAP
@given(st.text(st.characters(codec=None, exclude_categories=())))  # lone surrogates and control characters too
def test_any_code_points(text):
    check_everything(text)


@CHEAP
@given(st.binary(max_size=2000))
def test_any_bytes(raw):
    text, errors = decode(raw, "fuzz.yaml")
    assert_diagnostics_sound(errors)
    assert (text is None) == bool(errors)
    if text is not None:
        check_everything(text)
    else:
        assert [d.code for d in errors] in (["E002"], ["E003"])


TOKENS = [
    "specc: 1", "layers:", "- ", "  ", "    ", "\n", "\t", ": ", ", ", "[", "]", "{", "}", "? ", "&a ", "*a", "&b ",
    "*b", "!!str ", "!!int ", "!!python/object:os.system ", "!foo ", "<<: ", "'", '"', "#", "---\n", "...\n",
    "%YAML 1.2\n", "%TAG !! tag:x,2000:\n", "|\n", ">-\n", "type: ", "Dense", "units: ", "8", "1e-3", "yes", "null",
    "~", ".nan", "0x1f", "input_dim: 4", "compile:", "loss: mse", "\\", "\x00", "\x85", "\ufeff", "é", "-", "%",
]


@CHEAP
@given(st.lists(st.sampled_from(TOKENS), max_size=60).map("".join))
def test_yaml_token_soup(text):
    check_everything(text)


NESTINGS = {
    "flow-sequence": lambda n: "[" * n + "]" * n,
    "flow-mapping": lambda n: "{a: " * n + "1" + "}" * n,
    "block-sequence": lambda n: "- " * n + "1\n",
    "block-mapping": lambda n: "".join("  " * i + "a:\n" for i in range(n)) + "  " * n + "1\n",
    "unclosed": lambda n: "[" * n,
}


@contextmanager
def pure_python_parser():
    saved = loader._Parser
    loader._Parser = loader.PurePythonParser
    try:
        yield
    finally:
        loader._Parser = saved


@CHEAP
@given(st.lists(st.sampled_from(TOKENS), max_size=60).map("".join))
def test_both_parsers_agree(text):
    """The pure-Python parser is the fallback without libyaml: where both read the text, they
    give the same data, positions and diagnostics. (Where one finds a syntax error the other
    does not, that is PyYAML's: e.g. tabs as separators, https://github.com/yaml/pyyaml/issues/594,
    `{a:}`, or a byte-order mark after the start.)"""
    assume("\ufeff" not in text[1:])
    doc_c, errors_c = load_text(text)
    with pure_python_parser():
        doc_py, errors_py = load_text(text)
    assert_diagnostics_sound(errors_py)
    codes_c, codes_py = {d.code for d in errors_c}, {d.code for d in errors_py}
    if "E010" in codes_c | codes_py:
        return
    assert codes_py == codes_c
    assert repr(doc_py.data) == repr(doc_c.data)
    # The same starts (they differ on where a block collection ends, and on where an
    # empty, implicit value sits), for every path.
    assert doc_py.spans.keys() == doc_c.spans.keys()
    for path, span in doc_c.spans.items():
        if (span.line, span.col) != (span.end_line, span.end_col):
            assert (doc_py.spans[path].line, doc_py.spans[path].col) == (span.line, span.col), path


@settings(max_examples=examples(40), deadline=None)
@given(st.sampled_from(sorted(NESTINGS)), st.integers(MAX_DEPTH - 3, 3 * MAX_DEPTH))
def test_nesting_around_the_depth_cap(kind, depth):
    result = check_everything(NESTINGS[kind](depth))
    codes = {d.code for d in result.diagnostics}
    if depth > MAX_DEPTH:
        assert codes == {"E014"}
    else:
        assert "E014" not in codes


# -- the loader against PyYAML's own dumper -------------------------------------------
def plain_string(s: str) -> bool:
    """Strings that YAML 1.2 also reads as strings (safe_dump quotes by YAML 1.1 rules, so
    it writes `1e3` and `0o17` bare, which 1.2 reads as numbers)."""
    return resolve_plain(s) == s and isinstance(resolve_plain(s), str)


# PyYAML writes NEL and the Unicode line separators unescaped with allow_unicode, and then
# cannot read its own output back either; leave them to the token soup above.
texts = st.text(st.characters(exclude_categories=("Cs",), exclude_characters="\x85\u2028\u2029"), max_size=20)
int64 = st.integers(-(2**63), 2**63 - 1)  # the loader refuses integers past 64 bits (E102)
scalars = st.one_of(st.none(), st.booleans(), int64, st.floats(allow_nan=False), texts.filter(plain_string))
documents = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(texts, inner, max_size=4),
    max_leaves=25,
)


@FUZZ
@given(documents, st.booleans())
def test_round_trip_of_safe_dump(data, flow):
    text = yaml.safe_dump(data, default_flow_style=flow, allow_unicode=True)
    doc, errors = load_text(text)
    assert errors == []
    assert doc.data == data
    assert () in doc.spans


# -- (b) structured fuzzing -------------------------------------------------------------
def misspell(draw, word: str) -> str:
    how = draw(st.sampled_from(["drop", "swap", "case", "extra", "same", "same"]))
    i = draw(st.integers(0, max(0, len(word) - 2)))
    if how == "drop" and len(word) > 1:
        return word[:i] + word[i + 1:]
    if how == "swap" and len(word) > 2:
        return word[:i] + word[i + 1] + word[i] + word[i + 2:]
    if how == "case":
        return word.lower()
    if how == "extra":
        return word[:i] + draw(st.sampled_from("aeiousx_")) + word[i:]
    return word


VALUE_WORDS = ["relu", "softmax", "sigmoid", "tanh", "same", "valid", "causal", "concat", "sum", "zeros", "ones",
               "glorot_uniform", "he_normal", "float32", "auto", "labels", "input", "digits", "iris", "mean"]
values = st.recursive(
    st.one_of(
        st.none(), st.booleans(), st.integers(-3, 40), st.integers(), st.floats(allow_nan=True),
        st.sampled_from(VALUE_WORDS), st.text(max_size=8),
    ),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.sampled_from(["l1", "l2", "type", "x"]), inner,
                                                                 max_size=3),
    max_leaves=6,
)
shapes = st.lists(st.one_of(st.integers(1, 12), st.none(), st.integers(-2, 0)), min_size=0, max_size=4)


@st.composite
def layer(draw, first: bool, names: list[str]):
    kind = draw(st.sampled_from(sorted(REGISTRY)))
    tag = misspell(draw, kind) if draw(st.integers(0, 9)) == 0 else kind
    if draw(st.integers(0, 7)) == 0:
        return tag  # the short form `- Flatten`
    fields = [f for f in REGISTRY[kind].model_fields if f not in ("type", "input_shape")]
    entry: dict = {"type": tag}
    for field in draw(st.lists(st.sampled_from(fields), max_size=4, unique=True)) if fields else []:
        key = misspell(draw, field) if draw(st.integers(0, 12)) == 0 else field
        entry[key] = draw(layer_value(field))
    if first and draw(st.integers(0, 4)):
        entry["input_shape"] = draw(shapes)
    if names and draw(st.integers(0, 6)) == 0:
        entry["inputs"] = draw(st.sampled_from(names + ["nowhere"]))
    if draw(st.integers(0, 3)) == 0:
        entry["name"] = draw(st.sampled_from(["a", "b", "c", "out", "x y", ""]))
    if kind in ("Bidirectional", "TimeDistributed") and draw(st.booleans()):
        inner = draw(st.sampled_from(["LSTM", "GRU", "SimpleRNN", "Dense", "Conv2D", "Nope"]))
        entry["layer"] = {"type": inner, "units": draw(st.integers(0, 8))}
    return entry


def layer_value(field: str):
    typical = {
        "units": st.integers(-1, 64), "filters": st.integers(-1, 16), "kernel_size": st.one_of(
            st.integers(0, 5), st.lists(st.integers(0, 5), max_size=3)),
        "strides": st.one_of(st.integers(0, 3), st.lists(st.integers(0, 3), max_size=3)),
        "pool_size": st.one_of(st.integers(0, 4), st.lists(st.integers(0, 4), max_size=3)),
        "rate": st.floats(-0.5, 1.5), "activation": st.sampled_from(VALUE_WORDS + ["glu", None]),
        "padding": st.sampled_from(["same", "valid", "causal", "full"]), "return_sequences": st.booleans(),
        "target_shape": shapes, "shape": shapes, "n": st.integers(-1, 5), "input_dim": st.integers(-1, 10),
        "size": st.one_of(st.integers(0, 3), st.lists(st.integers(0, 3), max_size=2)),
        "input_length": st.integers(0, 10), "output_dim": st.integers(0, 10),
    }
    return st.one_of(typical.get(field, values), values) if field in typical else values


@st.composite
def compile_section(draw):
    out: dict = {}
    if draw(st.booleans()):
        name = draw(st.sampled_from(sorted(OPTIMIZERS)))
        if draw(st.booleans()):
            out["optimizer"] = misspell(draw, name.lower())
        else:
            opt: dict = {"type": misspell(draw, name)}
            if draw(st.booleans()):
                opt["learning_rate"] = draw(st.one_of(
                    st.floats(-1, 1), st.just("0.01"),
                    st.fixed_dictionaries({"type": st.sampled_from(["ExponentialDecay", "CosineDecay", "Nope"]),
                                           "decay_steps": st.integers(-1, 100)})))
            if draw(st.booleans()):
                opt[draw(st.sampled_from(["clipnorm", "global_clipnorm", "clipvalue", "momentum", "beta_1"]))] = \
                    draw(st.floats(-1, 2))
            out["optimizer"] = opt
    if draw(st.integers(0, 5)):
        loss = misspell(draw, draw(st.sampled_from(sorted(LOSSES) + sorted(LOSS_ALIASES))))
        if draw(st.booleans()):
            out["loss"] = loss
        else:
            out["loss"] = {"type": loss, **draw(st.dictionaries(
                st.sampled_from(["from_logits", "label_smoothing", "delta"]), values, max_size=2))}
    if draw(st.booleans()):
        out["metrics"] = draw(st.lists(st.sampled_from(sorted(METRICS) + ["acc", "f1"]), max_size=3))
    return out


@st.composite
def specs(draw):
    n = draw(st.integers(0, 6))
    names = ["a", "b", "c", "out"]
    spec: dict = {"specc": draw(st.sampled_from([2, "1", 1.0, None])) if draw(st.integers(0, 9)) == 0 else 1}
    if draw(st.integers(0, 20)):
        spec["layers"] = [draw(layer(i == 0, names)) for i in range(n)]
    if draw(st.integers(0, 2)) == 0:
        spec["compile"] = draw(compile_section())
    if draw(st.integers(0, 4)) == 0:
        spec["outputs"] = draw(st.lists(st.sampled_from(names + ["dense", "nowhere"]), max_size=2))
    if draw(st.integers(0, 4)) == 0:
        spec["train"] = draw(st.dictionaries(st.sampled_from(["epochs", "batch_size", "shuffle", "validation_split",
                                                               "epoch"]), values, max_size=3))
    if draw(st.integers(0, 5)) == 0:
        spec["data"] = {"source": {"type": draw(st.sampled_from(["sklearn", "npz", "csv"])),
                                   "name": draw(st.sampled_from(["digits", "iris", "mnist"]))}}
    if draw(st.integers(0, 8)) == 0:
        spec[misspell(draw, "description")] = draw(values)
    return spec


# Layers that fit an input of a given sample rank, and the rank they output: chains of
# them are mostly valid specs, so the shape pass and the model checks run too.
units, small = st.integers(1, 32), st.integers(1, 4)
act = st.sampled_from(["relu", "tanh", "sigmoid", "softmax", "linear", None])
pad = st.sampled_from(["same", "valid"])
rnn = st.fixed_dictionaries({"type": st.sampled_from(["LSTM", "GRU", "SimpleRNN"]), "units": units,
                             "return_sequences": st.booleans()})
BY_RANK = {
    1: [
        (st.fixed_dictionaries({"type": st.just("Dense"), "units": units, "activation": act}), 1),
        (st.fixed_dictionaries({"type": st.just("Dropout"), "rate": st.floats(0, 0.9)}), 1),
        (st.fixed_dictionaries({"type": st.just("Activation"), "activation": act.filter(bool)}), 1),
        (st.fixed_dictionaries({"type": st.just("RepeatVector"), "n": small}), 2),
        (st.just({"type": "BatchNormalization"}), 1),
        (st.just("LayerNormalization"), 1),
    ],
    2: [
        (rnn, None),
        (st.fixed_dictionaries({"type": st.just("Bidirectional"), "layer": rnn}), None),
        (st.fixed_dictionaries({"type": st.just("Conv1D"), "filters": units, "kernel_size": small,
                                "padding": st.sampled_from(["same", "causal", "valid"])}), 2),
        (st.fixed_dictionaries({"type": st.sampled_from(["MaxPooling1D", "AveragePooling1D"]), "pool_size": small,
                                "padding": pad}), 2),
        (st.sampled_from(["GlobalAveragePooling1D", "GlobalMaxPooling1D", "Flatten"]), 1),
        (st.fixed_dictionaries({"type": st.just("TimeDistributed"),
                                "layer": st.fixed_dictionaries({"type": st.just("Dense"), "units": units})}), 2),
        (st.fixed_dictionaries({"type": st.just("UpSampling1D"), "size": small}), 2),
        (st.fixed_dictionaries({"type": st.just("Dense"), "units": units, "activation": act}), 2),
    ],
    3: [
        (st.fixed_dictionaries({"type": st.sampled_from(["Conv2D", "Conv2DTranspose"]), "filters": units,
                                "kernel_size": small, "padding": pad, "strides": st.integers(1, 2)}), 3),
        (st.fixed_dictionaries({"type": st.sampled_from(["MaxPooling2D", "AveragePooling2D"]),
                                "pool_size": st.integers(1, 2), "padding": pad}), 3),
        (st.fixed_dictionaries({"type": st.just("UpSampling2D"), "size": st.integers(1, 2)}), 3),
        (st.sampled_from(["GlobalAveragePooling2D", "GlobalMaxPooling2D", "Flatten"]), 1),
    ],
}


@st.composite
def chains(draw):
    rank = draw(st.integers(1, 3))
    sample = draw(st.lists(st.integers(1, 12), min_size=rank, max_size=rank))
    layers: list = []
    for _ in range(draw(st.integers(1, 6))):
        strategy, out_rank = draw(st.sampled_from(BY_RANK[rank]))
        entry = draw(strategy)
        if isinstance(entry, dict):
            entry = {k: v for k, v in entry.items() if v is not None}
            if out_rank is None:  # a recurrent layer: sequences keep the rank
                inner = entry.get("layer", entry)
                out_rank = 2 if inner["return_sequences"] else 1
        layers.append(entry)
        rank = out_rank
    head = layers[0] if isinstance(layers[0], dict) else {"type": layers[0]}
    layers[0] = {**head, "input_shape": sample}
    spec = {"specc": 1, "layers": layers}
    if draw(st.booleans()):
        spec["compile"] = {"optimizer": draw(st.sampled_from(["adam", "sgd", "rmsprop"])),
                           "loss": draw(st.sampled_from(["mse", "categorical_crossentropy", "binary_crossentropy",
                                                         "sparse_categorical_crossentropy"]))}
    for _ in range(draw(st.integers(0, 2)) if draw(st.integers(0, 2)) == 0 else 0):
        mutate(draw, spec)
    return spec


def mutate(draw, spec: dict) -> None:
    """One mistake a person could make: a misspelt type or key, a wrong value, a missing key."""
    i = draw(st.integers(0, len(spec["layers"]) - 1))
    entry = spec["layers"][i]
    if not isinstance(entry, dict):
        spec["layers"][i] = misspell(draw, entry)
        return
    if not entry:  # an earlier mutation dropped every key
        entry["type"] = draw(st.sampled_from(sorted(REGISTRY)))
        return
    key = draw(st.sampled_from(sorted(entry)))
    how = draw(st.sampled_from(["misspell-key", "value", "drop", "misspell-type"]))
    if how == "misspell-key":
        entry[misspell(draw, key)] = entry.pop(key)
    elif how == "value":
        entry[key] = draw(values)
    elif how == "drop":
        del entry[key]
    else:
        entry["type"] = misspell(draw, str(entry.get("type", "Dense")))


@settings(max_examples=examples(1000), deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
@given(st.one_of(specs(), chains()), st.booleans())
def test_spec_shaped_documents(spec, flow):
    text = yaml.safe_dump(spec, default_flow_style=flow, sort_keys=False)
    result = check_everything(text)
    event("valid" if result.ok else "invalid: " + min(d.code for d in result.errors))
    if result.ok:
        # A valid spec has a graph and a static shape and parameter count for every node.
        assert result.spec is not None and result.graph is not None and result.info is not None
        for node in result.graph.nodes:
            info = result.info[node.name]
            assert isinstance(info.shape, tuple) and len(info.shape) >= 1
            assert all(d is None or (isinstance(d, int) and d >= 0) for d in info.shape)
            assert info.params.total >= 0
        assert set(result.graph.outputs) <= set(result.info)
    else:
        assert any(d.severity is Severity.ERROR for d in result.diagnostics)
    again = check_text(text, "fuzz.yaml")
    assert again.diagnostics == result.diagnostics  # deterministic


@FUZZ
@given(specs())
def test_schema_errors_point_into_the_file(spec):
    text = yaml.safe_dump(spec, sort_keys=False)
    result = check_text(text, "fuzz.yaml")
    lines = text.count("\n") + 1
    for d in result.diagnostics:
        if d.span is not None:
            assert d.span.line <= lines, (d, text)
        if d.path is not None and result.doc is not None:
            assert d.span is not None, d  # a path in the data always has a position


@FUZZ
@given(st.integers())
def test_integers_round_trip_or_are_refused(n):
    doc, errors = load_text(yaml.safe_dump({"v": n}))
    if -(2**63) <= n < 2**63:
        assert errors == [] and doc.data["v"] == n
    else:
        assert [d.code for d in errors] == ["E102"] and doc.data["v"] is None


@settings(max_examples=examples(60), deadline=None)
@given(st.floats(allow_nan=True, allow_infinity=True))
def test_floats_survive_yaml(x):
    text = yaml.safe_dump({"v": x})
    value = load_text(text)[0].data["v"]
    assert (math.isnan(x) and math.isnan(value)) or value == x
