"""`specc export RUN_DIR --format savedmodel|tflite|onnx -o OUT`: artifacts that serve the same predictions.

A real `specc train` run (digits, one epoch) and a multi-input, multi-output model built and saved as train saves
it are exported through the CLI; each artifact is then loaded here independently of specc (TensorFlow's
serving signature, the LiteRT interpreter, onnxruntime) and its predictions are compared with Keras's.
"""

import json

import numpy as np
import pytest
from conftest import probe_cli, run_cli

pytestmark = pytest.mark.slow

FORMATS = ("savedmodel", "tflite", "onnx")
SUFFIX = {"savedmodel": "", "tflite": ".tflite", "onnx": ".onnx"}

DIGITS = """\
specc: 1
seed: 1
layers:
  - {type: Dense, units: 16, activation: relu, input_dim: 64}
  - {type: Dense, units: 10, activation: softmax}
compile: {optimizer: adam, loss: categorical_crossentropy, metrics: [accuracy]}
train: {epochs: 1, batch_size: 64}
data:
  source: {type: sklearn, name: digits}
  rescale: 0.0625
"""

# Two inputs (features and a sequence through a GRU: TFLite's built-in ops need a fixed batch size for it) and two
# outputs of the same width, so that swapped outputs would be caught.
MULTI = """\
specc: 1
seed: 7
layers:
  - {type: Input, name: features, shape: [6]}
  - {type: Input, name: steps, shape: [5, 3]}
  - {type: Dense, name: dense_features, units: 8, activation: relu, inputs: features}
  - {type: GRU, name: gru, units: 8, inputs: steps}
  - {type: Concatenate, name: joined, inputs: [dense_features, gru]}
  - {type: Dense, name: head_a, units: 3, activation: softmax}
  - {type: Dense, name: head_b, units: 3, inputs: joined}
outputs: [head_a, head_b]
"""

POOL3D = """\
specc: 1
layers:
  - {type: Input, shape: [4, 4, 4, 1]}
  - {type: MaxPooling3D, pool_size: 2}
  - Flatten
  - {type: Dense, units: 2}
"""


def built_run(folder, text):
    """A run directory as `specc train` leaves it, without the training: spec.yaml, run.json, model.keras."""
    from specc.check import check_text
    from specc.lower import keras_model
    from specc.runners.files import atomic_keras_save

    result = check_text(text)
    assert result.ok, [d.message for d in result.errors]
    folder.mkdir(parents=True)
    (folder / "spec.yaml").write_text(text)
    (folder / "run.json").write_text(json.dumps({"status": "completed"}))
    atomic_keras_save(keras_model(result), folder / "model.keras")
    return folder


@pytest.fixture(scope="module")
def digits_run(tmp_path_factory):
    d = tmp_path_factory.mktemp("digits")
    (d / "spec.yaml").write_text(DIGITS)
    out = run_cli("train", d / "spec.yaml", "--run-dir", d / "run", "-q")
    assert out.returncode == 0, out.stderr
    return d / "run"


@pytest.fixture(scope="module")
def multi_run(tmp_path_factory):
    return built_run(tmp_path_factory.mktemp("multi") / "run", MULTI)


def export(run, fmt, out, *extra):
    return run_cli("export", run, "--format", fmt, "-o", out, *extra)


def leftovers(folder, name):
    """Hidden temporary siblings an export may have left beside OUT."""
    return [p.name for p in folder.iterdir() if p.name.startswith(f".{name}.")]


def artifact_outputs(fmt, path, inputs, names):
    """Predictions of an exported artifact, loaded the way a server would, without specc."""
    if fmt == "savedmodel":
        import tensorflow as tf

        serving = tf.saved_model.load(str(path)).signatures["serving_default"]
        y = serving(**{n: tf.constant(x) for n, x in zip(names, inputs)})
        return [y[k].numpy() for k in sorted(y, key=lambda k: (len(k), k))]
    if fmt == "tflite":
        from ai_edge_litert.interpreter import Interpreter

        runner = Interpreter(model_path=str(path)).get_signature_runner()
        fixed = all(d["shape"][0] == 1 and d["shape_signature"][0] == 1 for d in runner.get_input_details().values())
        keys = sorted(runner.get_output_details(), key=lambda k: (len(k), k))
        rows = [{n: x[i:i + 1] for n, x in zip(names, inputs)} for i in range(len(inputs[0]))] if fixed else \
            [dict(zip(names, inputs))]
        parts = [runner(**feed) for feed in rows]
        return [np.concatenate([p[k] for p in parts]) for k in keys]
    import onnxruntime as ort

    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    return session.run(None, dict(zip(names, inputs)))


def keras_outputs(run, inputs):
    import keras

    model = keras.saving.load_model(run / "model.keras")
    y = model(inputs if len(inputs) > 1 else inputs[0], training=False)
    return [np.asarray(t) for t in (y if isinstance(y, (list, tuple)) else [y])], [t.name for t in model.inputs]


@pytest.mark.parametrize("fmt", FORMATS)
def test_trained_run_exports_and_serves_keras_predictions(digits_run, tmp_path, fmt):
    out = tmp_path / f"digits{SUFFIX[fmt]}"
    result = export(digits_run, fmt, out, "--json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["written"] and report["format"] == fmt and report["path"] == str(out)
    size = sum(f.stat().st_size for f in out.rglob("*") if f.is_file()) if out.is_dir() else out.stat().st_size
    assert report["bytes"] == size > 0
    parity = report["parity"]
    assert parity["ok"] and parity["inputs"] == "test split" and parity["samples"] == 64 and parity["batches"] == 4
    assert parity["max_abs_diff"] <= 1e-4 and (parity["atol"], parity["rtol"]) == (1e-4, 1e-3)
    assert leftovers(tmp_path, out.name) == []

    x = np.random.default_rng(0).random((10, 64)).astype("float32")
    expected, names = keras_outputs(digits_run, [x])
    got = artifact_outputs(fmt, out, [x], names)
    assert len(got) == 1
    np.testing.assert_allclose(got[0], expected[0], atol=1e-4, rtol=1e-3)
    assert np.allclose(got[0].sum(axis=1), 1, atol=1e-4), "softmax rows"


@pytest.mark.parametrize("fmt", FORMATS)
def test_multi_input_multi_output_model_exports_with_parity(multi_run, tmp_path, fmt):
    out = tmp_path / f"multi{SUFFIX[fmt]}"
    result = export(multi_run, fmt, out, "--json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    parity = report["parity"]
    assert parity["ok"] and parity["inputs"] == "random (seed 0)"
    assert [o["name"] for o in parity["outputs"]] == ["head_a", "head_b"]
    assert [o["shape"] for o in parity["outputs"]] == [[None, 3], [None, 3]]
    assert report["batch_size"] == (1 if fmt == "tflite" else None)  # the GRU: built-in ops need a fixed batch

    rng = np.random.default_rng(1)
    inputs = [rng.standard_normal((7, 6)).astype("float32"), rng.standard_normal((7, 5, 3)).astype("float32")]
    expected, names = keras_outputs(multi_run, inputs)
    assert names == ["features", "steps"]
    got = artifact_outputs(fmt, out, inputs, names)
    assert len(got) == 2
    for g, e in zip(got, expected):
        np.testing.assert_allclose(g, e, atol=1e-4, rtol=1e-3)
    assert not np.allclose(expected[0], expected[1]), "the two heads differ, so an output swap would show"


def test_refuses_to_overwrite_unless_forced(digits_run, tmp_path):
    out = tmp_path / "served"
    out.mkdir()
    (out / "keep.txt").write_text("mine")
    refused = export(digits_run, "savedmodel", out)
    assert refused.returncode == 2
    assert refused.stderr.strip() == f"specc: error: {out} exists (use --force to overwrite)"
    assert (out / "keep.txt").read_text() == "mine"

    forced = export(digits_run, "savedmodel", out, "--force")
    assert forced.returncode == 0, forced.stderr
    assert not (out / "keep.txt").exists() and (out / "saved_model.pb").is_file()
    assert "parity:" in forced.stdout and "[ok]" in forced.stdout and "size:" in forced.stdout
    assert leftovers(tmp_path, out.name) == []


def test_parity_failure_leaves_nothing_and_keeps_the_old_file(multi_run, tmp_path):
    """With zero tolerance the GRU's float32 round-off in onnxruntime fails the check: exit 1, the OUT that
    --force would have replaced is kept as it was, and no temporary file is left beside it."""
    out = tmp_path / "multi.onnx"
    out.write_text("old model")
    failed = export(multi_run, "onnx", out, "--atol", "0", "--rtol", "0", "--force", "--json")
    assert failed.returncode == 1
    report = json.loads(failed.stdout)
    assert report["written"] is False and report["parity"]["ok"] is False and report["parity"]["max_abs_diff"] > 0
    lines = failed.stderr.strip().splitlines()
    assert len(lines) == 1 and "failed the parity check" in lines[0] and "nothing written" in lines[0]
    assert out.read_text() == "old model" and leftovers(tmp_path, out.name) == []


def test_a_model_the_converter_cannot_handle_is_a_clear_error(tmp_path):
    run = built_run(tmp_path / "run", POOL3D)
    out = tmp_path / "pool.tflite"
    result = export(run, "tflite", out)
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("specc: error: cannot export to tflite"), result.stderr
    assert "MaxPool3D" in lines[0] and "--format savedmodel or onnx" in lines[0]
    assert not out.exists() and leftovers(tmp_path, out.name) == []


def _probe(*args):
    code, heavy, out = probe_cli(*args)
    return {"code": code, "heavy": heavy}, out.stderr


def test_run_dir_problems_are_one_line_errors_without_tensorflow(tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    unfinished = tmp_path / "unfinished"
    unfinished.mkdir()
    (unfinished / "spec.yaml").write_text(DIGITS)
    (unfinished / "run.json").write_text(json.dumps({"status": "interrupted"}))
    a_file = tmp_path / "model.keras"
    a_file.write_text("")
    damaged = tmp_path / "damaged"  # a finished run whose model file is not a .keras archive: it said "not found"
    damaged.mkdir()
    (damaged / "spec.yaml").write_text(DIGITS)
    (damaged / "run.json").write_text(json.dumps({"status": "completed"}))
    (damaged / "model.keras").write_text("garbage\n")
    cases = [
        (tmp_path / "missing", "no such run directory"),
        (empty, "is not a run directory (no run.json, spec.yaml or model.keras)"),
        (a_file, "is not a run directory (a file"),
        (unfinished, "is an unfinished run (run.json status: interrupted): no model.keras yet; finish it with "
                     f"`specc train --resume {unfinished}`"),
        (damaged, "model.keras: not a .keras file (not a zip archive"),
    ]
    for run, message in cases:
        result, stderr = _probe("export", run, "--format", "onnx", "-o", tmp_path / "out.onnx")
        assert result == {"code": 1, "heavy": []}, (run, stderr)
        lines = stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("specc: error: ") and message in lines[0], stderr
    result, stderr = _probe("export", empty, "--format", "pb", "-o", tmp_path / "out")
    assert result["code"] == 2 and "unknown format 'pb' (choose savedmodel, tflite, onnx)" in stderr
    assert not (tmp_path / "out.onnx").exists()


def test_missing_optional_dependency_names_the_extra(digits_run, tmp_path):
    """An onnxruntime that cannot be imported (a package that raises ImportError, first on the path): the
    error names the extra to install, before TensorFlow is imported."""
    shadow = tmp_path / "shadow" / "onnxruntime"
    shadow.mkdir(parents=True)
    (shadow / "__init__.py").write_text("raise ImportError('No module named onnxruntime')\n")
    result = run_cli("export", digits_run, "--format", "onnx", "-o", tmp_path / "m.onnx",
                     env={"PYTHONPATH": str(shadow.parent)})
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "onnxruntime" in lines[0] and 'pip install "specc[export]"' in lines[0], result.stderr
    assert not (tmp_path / "m.onnx").exists()


def test_refuses_to_write_over_the_run_itself(digits_run):
    result = export(digits_run, "onnx", digits_run / "model.keras", "--force")
    assert result.returncode == 1 and "refusing to write over the run directory" in result.stderr
    assert (digits_run / "model.keras").stat().st_size > 1000


def test_parity_tolerance_is_elementwise_allclose():
    from types import SimpleNamespace

    from specc.runners.export import ExportReport, compare

    model = SimpleNamespace(output_names=["y"])
    ref = [[np.array([[1000.0, 0.0]], dtype="float32")]]
    ok = compare(model, ref, [[np.array([[1000.5, 5e-5]])]], "random (seed 0)", atol=1e-4, rtol=1e-3)
    assert ok.ok and ok.max_abs_diff == pytest.approx(0.5)  # 0.5 <= 1e-4 + 1e-3 * 1000
    assert ok.max_rel_diff == pytest.approx(0.5 / 1000)  # relative to the output's largest value
    bad = compare(model, ref, [[np.array([[1000.0, 2e-4]])]], "random (seed 0)", atol=1e-4, rtol=1e-3)
    assert not bad.ok and bad.outputs[0].name == "y"
    nan = compare(model, [[np.array([[np.nan]])]], [[np.array([[0.0]])]], "x", atol=1, rtol=1)
    assert not nan.ok, "a NaN where Keras has a number (or the reverse) fails"
    report = ExportReport(run_dir="r", format="onnx", path="m.onnx", written=False, bytes=1, seconds=0.0,
                          converter="c", runtime="r", batch_size=None, parity=nan)
    assert json.loads(json.dumps(report.to_json()))["parity"]["max_abs_diff"] is None, "strict JSON: null, not NaN"
