"""The Python API (specc/api.py): the same checks, text and runs as the command line, as objects."""

import io
import json

import pytest
from conftest import ROOT, run_cli

import specc
from specc.diagnostics import Severity

BAD = "specc: 1\nlayers:\n  - {type: Dense, units: 0, input_dim: 3}\n  - {type: Dense, units: 2, activation: nope}\n"


def test_load_a_file_text_or_stream_gives_the_same_checked_spec():
    path = ROOT / "specs" / "digits_mlp.yaml"
    text = path.read_text()
    from_file = specc.load(path)
    from_text = specc.load(text)
    from_stream = specc.load(io.BytesIO(text.encode()), name="<stdin>")
    assert from_file.params == from_text.params == from_stream.params
    assert from_file.params["total"] == 64 * 64 + 64 + 64 * 10 + 10
    assert (from_file.file, from_text.file, from_stream.file) == (str(path), "<string>", "<stdin>")
    assert from_file.name == "digits-mlp"


def test_overrides_apply_before_checking_and_a_bad_one_is_a_value_error():
    spec = specc.load(ROOT / "specs" / "digits_mlp.yaml", overrides=["layers[0].units=32"])
    assert spec.params["total"] == 64 * 32 + 32 + 32 * 10 + 10
    with pytest.raises(ValueError, match="expected KEY=VALUE"):
        specc.load(ROOT / "specs" / "digits_mlp.yaml", overrides=["nonsense"])
    # one string was read a character at a time ("expected KEY=VALUE, got 't'")
    with pytest.raises(TypeError, match=r"not one string: overrides=\['train.epochs=2'\]"):
        specc.load(ROOT / "specs" / "digits_mlp.yaml", overrides="train.epochs=2")
    with pytest.raises(TypeError, match="not one string"):
        spec.train(overrides="train.epochs=2")
    with pytest.raises(ValueError, match=r"unknown device 'tpu' \(choose cpu, gpu or auto\)"):
        spec.train(device="tpu")


def test_spec_error_carries_every_diagnostic_as_data_and_prints_as_the_cli(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text(BAD)
    with pytest.raises(specc.SpecError) as caught:
        specc.load(bad)
    e = caught.value
    assert [d.code for d in e.errors] == ["E102", "E102"]
    first = e.diagnostics[0]
    assert (first.file, first.line, first.column) == (str(bad), 3, 26)
    assert first.severity is Severity.ERROR and "greater than 0" in first.message
    assert e.diagnostics[1].help  # a did-you-mean for the activation
    cli = run_cli("summary", bad)
    assert cli.returncode == 1
    assert cli.stderr == str(e) + "\n"


def test_a_missing_file_is_a_spec_error_not_an_exit(tmp_path):
    with pytest.raises(specc.SpecError) as caught:
        specc.load(tmp_path / "missing.yaml")
    assert caught.value.errors[0].code == "E001"


def test_summary_and_plot_are_what_the_cli_prints_and_writes(tmp_path):
    spec = specc.load(ROOT / "specs" / "course_cnn.yaml")
    assert run_cli("summary", "specs/course_cnn.yaml").stdout == spec.summary() + "\n"
    assert spec.summary_data() == json.loads(run_cli("summary", "--json", "specs/course_cnn.yaml").stdout)
    svg = spec.plot(tmp_path / "cnn.svg")
    assert "<svg" in svg and (tmp_path / "cnn.svg").read_text() == svg
    spec.plot(tmp_path / "cnn.mmd")
    assert (tmp_path / "cnn.mmd").read_text().startswith("flowchart")
    with pytest.raises(ValueError, match="unknown diagram format '.txt'"):  # a PlotError that was no ValueError
        spec.plot(tmp_path / "cnn.txt")
    assert not (tmp_path / "cnn.txt").exists()


def test_build_gives_a_plain_keras_model_with_the_static_parameter_count():
    keras = pytest.importorskip("keras")
    spec = specc.load(ROOT / "specs" / "course_cnn.yaml")
    model = spec.build()
    assert isinstance(model, keras.Model)
    assert model.count_params() == spec.params["total"]
    assert model.optimizer is not None


def test_train_open_evaluate_predict(tmp_path):
    pytest.importorskip("keras")
    import numpy as np
    from sklearn.datasets import load_digits

    spec = specc.load(ROOT / "specs" / "digits_mlp.yaml")
    run = spec.train(run_dir=tmp_path / "run", epochs=1, verbose=False)
    assert run.dir == tmp_path / "run"
    assert set(run.history) >= {"loss", "accuracy", "val_loss"} and len(run.history["loss"]) == 1
    assert run.info["status"] == "completed" and run.info["epochs_done"] == 1
    again = specc.open_run(tmp_path / "run")
    assert again.metrics == run.metrics and 0.0 <= again.metrics["test"]["accuracy"] <= 1.0
    assert again.spec.params == spec.params
    assert again.evaluate() == pytest.approx(run.metrics["test"], rel=1e-4)
    digits = load_digits()
    x, y = digits.data[:50], digits.target[:50]
    probabilities = again.predict(x)
    assert probabilities.shape == (50, 10)
    assert np.allclose(probabilities.sum(axis=1), 1.0, atol=1e-4)
    on_arrays = again.evaluate(x, y)
    accuracy = float((probabilities.argmax(axis=1) == y).mean())
    assert on_arrays["accuracy"] == pytest.approx(accuracy, abs=1e-6)
    with pytest.raises(specc.RunError, match="y was given without x"):  # it evaluated the test split instead
        again.evaluate(None, y)
    with pytest.raises(specc.RunError, match=r"y must hold a label per sample \(an array or a list\); got int"):  # a bare TypeError
        again.evaluate(x, 5)
    html = again._repr_html_()
    assert "completed" in html and "accuracy" in html and "data:image/png;base64," in html


def test_run_errors_are_exceptions(tmp_path):
    with pytest.raises(specc.RunError, match="not a run directory"):
        specc.open_run(tmp_path)


def test_from_keras_turns_a_live_model_into_spec_text():
    keras = pytest.importorskip("keras")
    model = keras.Sequential([keras.Input((8,)), keras.layers.Dense(4, activation="relu"),
                              keras.layers.Dense(1, activation="sigmoid")], name="tiny")
    text = specc.from_keras(model)
    spec = specc.load(text)
    assert spec.params["total"] == model.count_params()
    assert spec.name == "tiny"


def test_from_keras_refuses_what_a_spec_cannot_say():
    keras = pytest.importorskip("keras")
    model = keras.Sequential([keras.Input((8,)), keras.layers.Lambda(lambda t: t * 2)])
    with pytest.raises(ValueError, match="Lambda"):
        specc.from_keras(model)


def test_public_names_are_few_and_documented():
    assert sorted(specc.__all__) == ["Run", "RunError", "Spec", "SpecError", "from_keras", "load", "open_run"]
    for name in specc.__all__:
        assert getattr(specc, name).__doc__
    assert (ROOT / "specc" / "py.typed").is_file()
