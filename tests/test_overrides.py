"""specc/overrides.py: `--set KEY=VALUE`, applied to the loaded spec before it is checked (docs/training-config.md)."""

import pytest
from conftest import ROOT, run_cli

from specc.check import check_file
from specc.loader import load_text
from specc.overrides import OverrideError, apply, apply_all, parse_key

SPEC = """\
specc: 1
layers:
  - {type: Dense, units: 8, input_dim: 4, name: hidden}
  - {type: Dense, units: 3, activation: softmax}
compile: {optimizer: adam, loss: sparse_categorical_crossentropy}
train: {epochs: 2}
"""


def doc():
    document, errors = load_text(SPEC, "spec.yaml")
    assert errors == []
    return document


def test_keys_are_dotted_paths_with_indexes_and_names():
    assert parse_key("train.batch_size") == ["train", "batch_size"]
    assert parse_key("layers[2].units") == ["layers", 2, "units"]
    assert parse_key("layers.encoder.units") == ["layers", "encoder", "units"]
    for bad in ("", "a..b", "layers[x]", "a[1"):
        with pytest.raises(OverrideError, match="cannot read the key"):
            parse_key(bad)


def test_a_short_form_on_the_way_is_expanded():
    """`compile.optimizer.learning_rate=...` over `optimizer: adam` (the documented short form) becomes the
    mapping form, spelt as the mapping form spells it, and the result checks with that learning rate."""
    document = doc()
    assert apply(document, "compile.optimizer.learning_rate=0.01") == ("compile", "optimizer", "learning_rate")
    assert document.data["compile"]["optimizer"] == {"type": "Adam", "learning_rate": 0.01}


def test_values_are_yaml_and_layers_are_found_by_index_or_name():
    document = doc()
    apply_all(document, ["layers.hidden.units=16", "layers[1].activation=null", "train.epochs=5",
                         "compile.optimizer={type: SGD, momentum: 0.9}", "train.shuffle=false"])
    assert document.data["layers"][0]["units"] == 16
    assert document.data["layers"][1]["activation"] is None
    assert document.data["train"] == {"epochs": 5, "shuffle": False}
    assert document.data["compile"]["optimizer"] == {"type": "SGD", "momentum": 0.9}


@pytest.mark.parametrize("assignment, message", [
    ("train.epochs", "expected KEY=VALUE"),
    ("layers.nope.units=3", "no layer named 'nope' in layers (named layers: hidden); a layer without a name is also "
                            "set by its index: layers[0], layers[1], ..."),
    ("layers[5].units=3", "index 5 is out of range (2 items)"),
    ("layers.units=3", "'units' names a key of a list"),
    ("train.epochs=[1", "cannot read the value '[1'"),
])
def test_a_bad_assignment_says_what_is_wrong_and_which_it_was(assignment, message):
    document = doc()
    with pytest.raises(OverrideError, match=message.replace("[", r"\[").replace("(", r"\(").replace(")", r"\)")) as e:
        apply_all(document, ["train.epochs=3", assignment])
    assert e.value.assignment == assignment


UNNAMED = """\
specc: 1
layers:
  - {type: Dense, units: 8, input_dim: 4, name: dense_1}
  - {type: Dense, units: 6}
  - {type: Dropout, rate: 0.1}
  - {type: Dense, units: 3, activation: softmax}
compile: {optimizer: adam, loss: sparse_categorical_crossentropy}
"""


def test_an_unnamed_layer_is_set_by_the_name_keras_gives_it(tmp_path):
    """The names `specc summary` shows (dense, dense_2 here, since the spec took dense_1 itself) work in `--set`."""
    path = tmp_path / "spec.yaml"
    path.write_text(UNNAMED)
    names = list(check_file(path).info)
    assert names[1:] == ["dense_1", "dense", "dropout", "dense_2"]
    result = check_file(path, overrides=["layers.dense_2.units=7", "layers.dropout.rate=0.3", "layers.dense.units=5"])
    assert result.ok, [d.message for d in result.errors]
    assert [layer.model_dump(exclude_none=True).get("units") for layer in result.spec.layers] == [8, 5, None, 7]
    assert result.spec.layers[2].rate == 0.3


def test_a_layer_written_as_its_bare_type_counts_in_the_names(tmp_path):
    path = tmp_path / "spec.yaml"
    path.write_text(UNNAMED.replace("  - {type: Dropout, rate: 0.1}\n", "  - Flatten\n  - {type: Dropout, rate: 0.1}\n"))
    assert list(check_file(path).info)[1:] == ["dense_1", "dense", "flatten", "dropout", "dense_2"]
    result = check_file(path, overrides=["layers.dense_2.units=7"])
    assert result.ok and result.spec.layers[4].units == 7


def test_a_kind_s_own_default_name_is_used(tmp_path):
    """An Input is `input_layer` (not the type's snake case, `input`), as the graph names it."""
    path = tmp_path / "spec.yaml"
    path.write_text(UNNAMED.replace("  - {type: Dense, units: 8, input_dim: 4, name: dense_1}\n",
                                    "  - {type: Input, shape: [4]}\n  - {type: Dense, units: 8, name: dense_1}\n"))
    assert list(check_file(path).info)[0] == "input_layer"
    result = check_file(path, overrides=["layers.input_layer.shape=[6]"])
    assert result.ok and result.spec.layers[0].shape == [6]


def test_a_list_with_blocks_is_not_named_for_set_but_its_indexes_work():
    text = UNNAMED.replace("  - {type: Dropout, rate: 0.1}\n", "  - {type: Dropout, rate: 0.1, repeat: 2}\n")
    document, _ = load_text(text, "spec.yaml")
    with pytest.raises(OverrideError, match=r"no layer named 'dense_2'.*also set by its index"):
        apply(document, "layers.dense_2.units=7")
    apply(document, "layers[3].units=7")
    assert document.data["layers"][3]["units"] == 7


def test_check_file_applies_overrides_to_the_loaded_spec_never_to_the_file(tmp_path):
    path = tmp_path / "spec.yaml"
    path.write_text(SPEC)
    result = check_file(path, overrides=["compile.optimizer.learning_rate=0.01", "layers.hidden.units=16"])
    assert result.ok, [d.message for d in result.errors]
    assert result.spec.compile.optimizer.learning_rate == 0.01
    assert result.info["hidden"].params.total == 4 * 16 + 16
    assert path.read_text() == SPEC
    assert check_file(path).spec.compile.optimizer.type == "Adam"


def test_an_override_that_breaks_the_spec_is_reported_at_the_assignment_not_the_file(tmp_path):
    """It pointed at the file's line for the value the override replaced (`units: 8`, "Received: 0"), and an
    unknown key at the spec's first line."""
    path = tmp_path / "spec.yaml"
    path.write_text(SPEC)
    result = check_file(path, overrides=["layers.hidden.units=0", "nosuch=1", "compile.optimizer={type: SGD, momentum: x}"])
    assert [(d.code, d.file, d.span, d.path) for d in result.errors] == [
        ("E102", "--set layers.hidden.units=0", None, "layers[0].units"),
        ("E102", "--set compile.optimizer={type: SGD, momentum: x}", None, "compile.optimizer"),
        ("E100", "--set nosuch=1", None, "nosuch"),
    ]
    kept = check_file(path, overrides=["layers.hidden.units=0", "train.epochs=3"])
    assert [(d.file, d.path) for d in kept.errors] == [("--set layers.hidden.units=0", "layers[0].units")]
    assert check_file(path, overrides=["train.epochs=0"]).errors[0].file == "--set train.epochs=0"
    assert check_file(path).doc.spans[("train", "epochs")].line == 6  # the file's own positions are kept


def test_the_cli_reports_a_bad_override_as_a_usage_error():
    out = run_cli("summary", ROOT / "specs" / "digits_mlp.yaml", "--set", "layers[99].units=3")
    assert out.returncode == 2
    assert "--set layers[99].units=3:" in out.stderr and "out of range" in out.stderr
