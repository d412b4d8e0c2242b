"""specc/check.py (the passes, in order, and the entry points) and specc/schema/errors.py (Pydantic's errors
as diagnostics, one handler per kind). The messages themselves are pinned by tests/golden."""

import pytest

from specc.check import PASSES, check_file, check_text
from specc.loader import load_text
from specc.schema.errors import HANDLERS, schema_diagnostic

GOOD = "specc: 1\nlayers:\n  - {type: Dense, units: 2, input_dim: 3}\n"


def test_the_passes_run_in_order():
    assert [name for name, _ in PASSES] == ["extends", "expand", "schema", "graph", "shapes", "model", "search"]
    result = check_text(GOOD)
    assert result.ok and result.spec is not None and result.graph is not None
    assert result.info["dense"].shape == (None, 2) and result.params.total == 8


@pytest.mark.parametrize("text, reached", [
    ("specc: 1\nlayers:\n  - {type: Dense, unit: 2, input_dim: 3}\n", "schema"),
    ("specc: 1\nlayers:\n  - {type: Dense, units: 2, input_dim: 3}\n  - {type: Dense, units: 2, inputs: nope}\n",
     "graph"),
    ("specc: 1\nlayers:\n  - {type: Conv2D, filters: 2, kernel_size: 3, input_shape: [4]}\n", "shapes"),
])
def test_a_pass_runs_only_when_the_passes_before_it_found_no_error(text, reached):
    result = check_text(text)
    assert not result.ok
    assert (result.spec is not None) == (reached != "schema")
    assert (result.graph is not None) == (reached not in ("schema", "graph"))
    assert (result.info is not None) == (reached == "shapes")
    if reached == "shapes":  # the shapes pass reports its error and keeps what it inferred before it
        assert "conv2d" not in result.info and "input_layer" in result.info


def test_check_file_says_a_missing_file_is_missing(tmp_path):
    result = check_file(tmp_path / "none.yaml", overrides=["train.epochs=3"])
    assert [d.code for d in result.diagnostics] == ["E001"] and result.doc is None


def test_the_spec_folder_is_where_relative_paths_start(tmp_path):
    path = tmp_path / "spec.yaml"
    path.write_text(GOOD)
    assert check_file(path).base == tmp_path


def test_every_kind_of_pydantic_error_has_a_handler_and_others_a_plain_message():
    """The schema pass words each kind of Pydantic error with its handler; a kind without one still becomes a
    located E102 that says what was received."""
    assert {"missing", "extra_forbidden", "literal_error", "union_tag_invalid", "int_type"} <= set(HANDLERS)
    doc, _ = load_text("specc: 1\nlayers:\n  - {type: Dense, units: 2}\n")
    d = schema_diagnostic({"type": "some_future_kind", "loc": ("layers", 0, "Dense", "units"), "input": 2,
                           "msg": "Value is odd"}, doc)
    assert (d.code, d.message) == ("E102", "units: value is odd. Received: 2")
    assert d.span.line == 3
    missing = schema_diagnostic({"type": "missing", "loc": ("layers", 0, "Dense", "units"), "input": {},
                                 "msg": "Field required"}, doc)
    assert (missing.code, missing.message) == ("E101", "missing required key 'units' in Dense")


def test_checking_builds_only_the_layer_kinds_a_spec_uses():
    """Each kind's validator is built the first time a spec uses it (LazyUnion in specc/layers/base.py): checking
    an MLP builds Dense, Dropout and Input (its `input_dim` stands for one), not the other kinds. A fresh
    interpreter, so no other test has built any."""
    import subprocess
    import sys

    from conftest import ROOT

    code = ("from specc.check import check_text\nfrom specc.layers import REGISTRY\n"
            "assert check_text('specc: 1\\nlayers:\\n  - {type: Dense, units: 2, input_dim: 3}\\n"
            "  - {type: Dropout, rate: 0.5}\\n').ok\n"
            "print(' '.join(sorted(k for k, c in REGISTRY.items() if c.__pydantic_complete__)))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["Dense", "Dropout", "Input"]


def test_a_monitor_may_name_any_quantity_training_logs_per_output_too():
    text = """specc: 1
layers:
  - {type: Input, shape: [4], name: x}
  - {type: Dense, units: 3, activation: softmax, name: kind, inputs: x}
  - {type: Dense, units: 1, name: size, inputs: x}
outputs: [kind, size]
compile:
  optimizer: adam
  loss: {kind: sparse_categorical_crossentropy, size: mse}
  metrics: {kind: [accuracy], size: [mean_absolute_error]}
train:
  early_stopping: {monitor: val_kind_accuracy}
  reduce_lr_on_plateau: {monitor: size_loss}
  checkpoint: {monitor: val_loss}
"""
    assert check_text(text).ok, check_text(text).errors
    wrong = check_text(text.replace("val_kind_accuracy", "val_accuracy"))
    assert [(d.code, d.help) for d in wrong.errors] == [("E416", "did you mean 'val_kind_accuracy'?")]


@pytest.mark.parametrize("value, hint", [
    ('"10"', "remove the quotes to write a number"),
    ("1_0", "YAML 1.2 numbers have no underscores: write 10"),  # was: remove the quotes (there were none)
])
def test_a_number_written_as_text_gets_the_hint_that_fits(value, hint):
    result = check_text(f"specc: 1\nlayers:\n  - {{type: Dense, units: {value}, input_dim: 3}}\n")
    assert [(d.code, d.help) for d in result.errors] == [("E102", hint)]


@pytest.mark.parametrize("source, input_dim, codes", [
    ("{type: keras, name: imdb, num_words: 5000, output_sequence_length: 10}", 5000, []),
    ("{type: keras, name: imdb, num_words: 5000, output_sequence_length: 10}", 4000, ["E418"]),
    ("{type: keras, name: imdb, output_sequence_length: 10}", 4000, []),  # the full vocabulary: not known here
    # a text folder's vocabulary may be smaller than max_tokens: checked once learnt (tests/test_data.py)
    ("{type: text, path: t, max_tokens: 1000, output_sequence_length: 10}", 50, []),
])
def test_an_embedding_has_a_row_for_every_token_id_of_imdb_s_num_words(source, input_dim, codes):
    result = check_text(f"""specc: 1
seed: 1
layers:
  - {{type: Embedding, input_dim: {input_dim}, output_dim: 8, input_shape: [10]}}
  - {{type: GlobalAveragePooling1D}}
  - {{type: Dense, units: 2, activation: softmax}}
compile: {{optimizer: adam, loss: sparse_categorical_crossentropy}}
data:
  source: {source}
""")
    assert [d.code for d in result.errors] == codes, [d.message for d in result.errors]
