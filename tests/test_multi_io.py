"""Models with several inputs and outputs: per-output losses, weights and metrics, data given per input/output
name, and train / evaluate / predict through the real CLI (specs/two_input.yaml).

Static checks run in-process on spec text; the runs are real subprocesses of `specc`.
"""

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from conftest import ROOT, run_cli

from specc.check import check_file, check_text
from specc.render import diagnostic_text
from specc.runners import RunError

SPEC = ROOT / "specs" / "two_input.yaml"
NPZ = ROOT / "specs" / "data" / "digit_halves.npz"

MODEL = """\
specc: 1
seed: 1
layers:
  - {type: Input, name: left, shape: [4]}
  - {type: Input, name: right, shape: [3]}
  - {type: Concatenate, name: joined, inputs: [left, right]}
  - {type: Dense, name: digit, units: 3, activation: softmax}
  - {type: Dense, name: high, units: 1, activation: sigmoid, inputs: joined}
outputs: [digit, high]
"""
COMPILE = """\
compile:
  loss: {digit: sparse_categorical_crossentropy, high: binary_crossentropy}
"""
DATA = """\
data:
  source: {type: npz, path: d.npz, x: {left: xa, right: xb}, y: {digit: yd, high: yh}}
"""


def rendered(text: str) -> str:
    result = check_text(text, "spec.yaml")
    return "\n".join(diagnostic_text(d, result.doc.line(d.span.line) if d.span else None)
                     for d in result.diagnostics) + "\n"


def located(text: str) -> list[tuple]:
    return [(d.code, d.span.line, d.span.col, d.path) for d in check_text(text).diagnostics]


# -- static checks ------------------------------------------------------------------------------
def test_a_two_input_two_output_spec_is_valid():
    assert check_text(MODEL + COMPILE + DATA).diagnostics == []
    result = check_file(SPEC)
    assert result.diagnostics == []
    c = result.spec.compile
    assert c.loss_for("digit").canonical == "sparse_categorical_crossentropy"
    assert c.loss_weights == {"digit": 1.0, "five_or_more": 0.5}
    assert c.metric_names("five_or_more") == ["accuracy", "auc"]


def test_a_wrong_output_name_in_loss_is_located_at_the_key():
    text = MODEL + "compile:\n  loss: {digit: sparse_categorical_crossentropy, hihg: binary_crossentropy}\n"
    assert rendered(text) == """\
spec.yaml:11:50: error[E407]: compile.loss keys must be output names of the model. Received: 'hihg'
    |
 11 |   loss: {digit: sparse_categorical_crossentropy, hihg: binary_crossentropy}
    |                                                  ^^^^
   = at: compile.loss.hihg
   = help: did you mean 'high'?
spec.yaml:11:3: error[E408]: every output needs a loss, but the loss mapping has none for 'high'
    |
 11 |   loss: {digit: sparse_categorical_crossentropy, hihg: binary_crossentropy}
    |   ^^^^
   = at: compile.loss
   = help: add `high: LOSS` to compile.loss, or give one loss for every output
"""


def test_wrong_output_names_in_loss_weights_and_metrics():
    text = MODEL + COMPILE + "  loss_weights: {digit: 1, hgh: 0.5}\n  metrics:\n    digits: [accuracy]\n"
    assert rendered(text) == """\
spec.yaml:12:28: error[E407]: compile.loss_weights keys must be output names of the model. Received: 'hgh'
    |
 12 |   loss_weights: {digit: 1, hgh: 0.5}
    |                            ^^^
   = at: compile.loss_weights.hgh
   = help: did you mean 'high'?
spec.yaml:14:5: error[E407]: compile.metrics keys must be output names of the model. Received: 'digits'
    |
 14 |     digits: [accuracy]
    |     ^^^^^^
   = at: compile.metrics.digits
   = help: did you mean 'digit'?
"""


def test_wrong_names_in_data_mappings():
    data = """\
data:
  source:
    type: npz
    path: d.npz
    x: {left: xa, rihgt: xb}
    y: {digit: yd, hi: yh, high: yh}
  test: {type: npy, x: {left: a.npy, right: b.npy}, y: {digit: d.npy, aux: h.npy}}
"""
    assert located(MODEL + COMPILE + data) == [
        ("E407", 16, 19, "data.source.x.rihgt"),
        ("E409", 16, 5, "data.source.x"),  # no array for 'right'
        ("E407", 17, 20, "data.source.y.hi"),
        ("E407", 18, 71, "data.test.y.aux"),
        ("E409", 18, 53, "data.test.y"),  # no array for 'high'
    ]
    messages = [d.message for d in check_text(MODEL + COMPILE + data).diagnostics]
    assert messages[0] == "data.source.x keys must be input names of the model. Received: 'rihgt'"
    assert messages[1] == "data.source.x gives no array for the model's input 'right'"


def test_several_inputs_or_outputs_need_mappings_and_a_source_with_several_arrays():
    one_array = "data:\n  source: {type: npz, path: d.npz, x: x, y: y}\n"
    assert [(c, line, col) for c, line, col, _ in located(MODEL + COMPILE + one_array)] == [
        ("E409", 13, 39), ("E409", 13, 45)]
    message = check_text(MODEL + COMPILE + one_array).diagnostics[0].message
    assert message == ("the model has 2 inputs (left, right), so data.source.x must map each input name to an "
                       "array. Received: 'x'")
    sklearn = "data:\n  source: {type: sklearn, name: digits}\n"
    assert located(MODEL + COMPILE + sklearn) == [("E409", 13, 18, "data.source.type")]


def test_options_for_one_input_and_output_are_refused_with_mappings():
    found = located(MODEL + COMPILE + DATA + "  window: {size: 3}\ntrain: {class_weight: balanced}\n")
    assert [(c, p) for c, _, _, p in found] == [("E409", "data.window"), ("E409", "train.class_weight")]
    from specc.schema.data import Data

    if "classes" in Data.model_fields:  # keeping some classes: for one output's labels only
        assert located(MODEL + COMPILE + DATA + "  classes: [0, 1]\n")[0][::3] == ("E409", "data.classes")
    found = located(MODEL + COMPILE + DATA + "  target: input\n  noise: 0.1\n")
    assert [(c, p) for c, _, _, p in found] == [("E409", "data.noise"), ("E409", "data.target")]
    assert check_text(MODEL + COMPILE + DATA + "  target: input\n").diagnostics[0].message == (
        "data.target: input (an autoencoder) applies to models with one input and one output, not with several "
        "inputs or outputs, or `x`/`y` mappings")


def test_each_outputs_loss_is_checked_against_that_output():
    text = MODEL + "compile:\n  loss: {digit: binary_crossentropy, high: categorical_crossentropy}\n"
    found = [(d.code, d.path, d.message) for d in check_text(text).diagnostics]
    assert found == [
        ("W402", "compile.loss.digit", "binary_crossentropy expects sigmoid outputs, but 'digit' applies softmax"),
        ("E400", "compile.loss.high", "categorical_crossentropy needs one output unit per class, but 'high' has 1"),
    ]
    # One loss for every output: each output is checked with it, located at the loss.
    found = [(d.code, d.path) for d in check_text(MODEL + "compile: {loss: binary_crossentropy}\n").diagnostics]
    assert found == [("W402", "compile.loss")]


def test_single_output_specs_check_as_before():
    text = ("specc: 1\nlayers:\n  - {type: Dense, units: 8, activation: relu, input_dim: 4}\n"
            "  - {type: Dense, units: 1, activation: sigmoid}\ncompile:\n  loss: categorical_crossentropy\n")
    assert [(d.code, d.path, d.span.line, d.span.col) for d in check_text(text).diagnostics] == [
        ("E400", "compile.loss", 6, 9)]
    # A mapping works for one output too, keyed by its name.
    text = text.replace("loss: categorical_crossentropy", "loss: {dense_1: binary_crossentropy}")
    assert check_text(text).diagnostics == []


# -- lowering -----------------------------------------------------------------------------------
def test_single_output_models_compile_as_before():
    import keras

    from specc.lower import keras_model

    model = keras_model(check_file(ROOT / "specs" / "digits_mlp.yaml"))
    assert isinstance(model.loss, keras.losses.CategoricalCrossentropy)
    out = model.evaluate(np.zeros((4, 64), "float32"), np.eye(10, dtype="float32")[:4], verbose=0,
                         return_dict=True)
    assert sorted(out) == ["accuracy", "loss"]


def test_per_output_losses_weights_and_metrics_reach_keras():
    from specc.lower import keras_model

    model = keras_model(check_file(SPEC))
    assert sorted(model.loss) == ["digit", "five_or_more"]
    x = {"left": np.ones((6, 8, 4), "float32"), "right": np.zeros((6, 8, 4), "float32")}
    y = {"digit": np.arange(6), "five_or_more": np.array([0, 1, 0, 1, 0, 1], "float32")}
    out = model.evaluate(x, y, verbose=0, return_dict=True)
    assert sorted(out) == ["digit_accuracy", "digit_loss", "five_or_more_accuracy", "five_or_more_auc",
                           "five_or_more_loss", "loss"]
    assert out["loss"] == pytest.approx(out["digit_loss"] + 0.5 * out["five_or_more_loss"], rel=1e-5)


# -- data ---------------------------------------------------------------------------------------
def _arrays(spec_text: str, folder: Path, seed: int = 0):
    from specc.runners.data import load_arrays

    (folder / "spec.yaml").write_text(spec_text)
    result = check_file(folder / "spec.yaml")
    assert result.ok, [d.message for d in result.errors]
    return load_arrays(result, folder, seed)


def _write_npz(folder: Path, n: int = 50, **extra):
    rng = np.random.default_rng(0)
    arrays = {"xa": rng.normal(5, 2, (n, 4)), "xb": rng.normal(-3, 4, (n, 3)), "yd": np.arange(n) % 3,
              "yh": (np.arange(n) % 2).astype("float32")}
    arrays.update(extra)
    np.savez(folder / "d.npz", **arrays)
    return arrays


def test_npz_mappings_split_every_array_with_the_same_rows(tmp_path):
    raw = _write_npz(tmp_path, xa=np.repeat(np.arange(50.0)[:, None], 4, 1), yd=np.arange(50) % 3)
    spec = MODEL + COMPILE + DATA + "  test_split: 0.2\n  normalize: true\ntrain: {validation_split: 0.25}\n"
    a = _arrays(spec, tmp_path)
    assert set(a.x_train) == {"left", "right"} and set(a.y_train) == {"digit", "high"}
    assert [len(v) for v in (a.x_train["left"], a.x_val["right"], a.x_test["left"], a.y_test["high"])] == [30, 10,
                                                                                                         10, 10]
    # Rows stay together across arrays: row i of `left` (all equal to its sample id) labels the same sample.
    prep = json.loads(json.dumps(a.artifacts["preprocessing.json"]))
    ids = np.rint(a.x_train["left"][:, 0] * prep["std"]["left"][0] + prep["mean"]["left"][0]).astype(int)
    np.testing.assert_array_equal(a.y_train["digit"], raw["yd"][ids])
    np.testing.assert_array_equal(a.y_train["high"], raw["yh"][ids])
    # Each input is normalized with its own training statistics.
    assert set(prep["mean"]) == {"left", "right"}
    np.testing.assert_allclose(a.x_train["right"].mean(axis=0), 0, atol=1e-5)
    assert a.y_train["digit"].dtype == np.int32  # sparse labels for sparse_categorical_crossentropy
    assert a.y_train["high"].dtype == np.float32  # raw labels for binary_crossentropy


def test_one_input_and_several_outputs_give_the_input_array_itself(tmp_path):
    _write_npz(tmp_path)
    spec = """\
specc: 1
seed: 1
layers:
  - {type: Input, name: features, shape: [4]}
  - {type: Dense, name: digit, units: 3, activation: softmax}
  - {type: Dense, name: high, units: 1, activation: sigmoid, inputs: features}
outputs: [digit, high]
compile: {loss: {digit: categorical_crossentropy, high: binary_crossentropy}}
data:
  source: {type: npz, path: d.npz, x: xa, y: {digit: yd, high: yh}}
"""
    a = _arrays(spec, tmp_path)
    assert isinstance(a.x_train, np.ndarray) and a.x_train.shape[1:] == (4,)
    assert a.y_train["digit"].shape[1:] == (3,)  # one-hot for categorical_crossentropy


def test_class_names_are_encoded_per_output(tmp_path):
    _write_npz(tmp_path, yd=np.array(["cat", "dog", "eel"] * 16 + ["cat", "dog"]))
    a = _arrays(MODEL + COMPILE + DATA, tmp_path)
    prep = a.artifacts["preprocessing.json"]
    assert prep["classes"] == {"digit": ["cat", "dog", "eel"]}
    assert set(np.unique(a.y_train["digit"])) == {0, 1, 2}


def test_data_problems_are_one_message_naming_the_file(tmp_path):
    _write_npz(tmp_path, yh=np.zeros(49, "float32"))
    with pytest.raises(RunError, match=r"d\.npz: the arrays have different numbers of samples: input 'left' has "
                                       r"50, output 'high' has 49"):
        _arrays(MODEL + COMPILE + DATA, tmp_path)
    _write_npz(tmp_path)
    with pytest.raises(RunError, match=r"d\.npz: no array named 'xc' \(the file has: xa, xb, yd, yh\)"):
        _arrays(MODEL + COMPILE + DATA.replace("right: xb", "right: xc"), tmp_path)
    _write_npz(tmp_path, xb=np.zeros((50, 5)))
    with pytest.raises(RunError, match=r"samples have shape \(5,\) but the model's input 'right' expects \(3,\)"):
        _arrays(MODEL + COMPILE + DATA, tmp_path)


NPY_DATA = """\
data:
  source: {type: npy, x: {left: xa.npy, right: xb.npy}, y: {digit: yd.npy, high: yh.npy}}
  normalize: true
train: {batch_size: 8, validation_split: 0.2}
"""


def test_npy_mappings_stream_with_the_same_batches_as_in_memory(tmp_path, monkeypatch):
    from specc.runners.pipeline import Batching, batches, hold_out, training_input

    for name, a in _write_npz(tmp_path, n=60).items():
        np.save(tmp_path / f"{name}.npy", a)
    spec = MODEL + COMPILE + NPY_DATA
    monkeypatch.setenv("SPECC_STREAM", "never")
    memory = _arrays(spec, tmp_path)
    monkeypatch.setenv("SPECC_STREAM", "always")
    lazy = _arrays(spec, tmp_path)
    assert all(getattr(lazy.x_train[k], "streamed", False) for k in ("left", "right"))
    assert not any(getattr(memory.x_train[k], "streamed", False) for k in ("left", "right"))

    def first_epoch(arrays):
        x, y, _, _ = hold_out(arrays.x_train, arrays.y_train, 0)
        data, kw = training_input(x, y, Batching(8, 3, 0, 1, True, "tensorflow"))
        return [(bx, by) for bx, by in data.take(kw["steps_per_epoch"]).as_numpy_iterator()]

    got, want = first_epoch(lazy), first_epoch(memory)
    assert len(got) == len(want) == 5
    for (gx, gy), (wx, wy) in zip(got, want):
        for k in ("left", "right"):
            np.testing.assert_allclose(gx[k], wx[k], rtol=1e-6)
        for k in ("digit", "high"):
            np.testing.assert_array_equal(gy[k], wy[k])
    test = list(batches(lazy.x_test, lazy.y_test, 8, "tensorflow").as_numpy_iterator())
    np.testing.assert_allclose(np.concatenate([b[0]["right"] for b in test]), memory.x_test["right"], rtol=1e-6)


def test_single_array_data_is_prepared_as_before(tmp_path):
    """The single-array path is untouched: the same arrays and the same fingerprint as before several inputs
    and outputs existed (the value recorded then)."""
    from specc.runners.data import load_arrays

    result = check_file(ROOT / "specs" / "digits_mlp.yaml")
    a = load_arrays(result, ROOT / "specs", result.spec.seed)
    assert isinstance(a.x_train, np.ndarray) and isinstance(a.y_train, np.ndarray)
    assert a.fingerprint == "feafa3afd083e026"


# -- train, evaluate, predict through the CLI -------------------------------------------------
@pytest.fixture(scope="module")
def run(tmp_path_factory):
    run_dir = tmp_path_factory.mktemp("two") / "run"
    out = run_cli("train", SPEC, "--run-dir", run_dir, "--epochs", "3", "--set", "train.resume_interval=0", "-q")
    assert out.returncode == 0, out.stderr
    return run_dir


PER_OUTPUT = ["digit_accuracy", "digit_loss", "five_or_more_accuracy", "five_or_more_auc", "five_or_more_loss",
              "loss"]


@pytest.mark.slow
def test_train_writes_per_output_metrics_history_and_plots(run):
    metrics = json.loads((run / "metrics.json").read_text())
    for split in ("train", "validation", "test"):
        assert sorted(metrics[split]) == PER_OUTPUT, split
    test = metrics["test"]
    # Keras averages each output's loss over batches separately from the total: equal up to the last batch.
    assert test["loss"] == pytest.approx(test["digit_loss"] + 0.5 * test["five_or_more_loss"], rel=0.05)
    header = (run / "history.csv").read_text().splitlines()[0].split(",")
    assert header[0] == "epoch" and set(header[1:]) == set(PER_OUTPUT) | {f"val_{k}" for k in PER_OUTPUT}
    for name in ("learning_curves.png", "confusion_matrix_digit.png", "confusion_matrix_five_or_more.png"):
        assert (run / name).read_bytes()[:4] == b"\x89PNG", name
    info = json.loads((run / "run.json").read_text())
    assert info["data"] | {"fingerprint": None} == {
        "source": str(NPZ), "fingerprint": None, "train_samples": 1295, "validation_samples": 143, "test_samples": 359}
    assert info["status"] == "completed"


@pytest.mark.slow
def test_evaluate_reproduces_the_test_metrics_and_reads_new_data(run, tmp_path):
    out = run_cli("evaluate", run, "--json")
    assert out.returncode == 0, out.stderr
    metrics = json.loads((run / "metrics.json").read_text())
    assert json.loads(out.stdout) == pytest.approx(metrics["test"], rel=1e-6)
    # New labelled data: arrays named by the model's input and output names (or as in the spec's file).
    with np.load(NPZ) as f:
        np.savez(tmp_path / "new.npz", left=f["left_half"][:40], right=f["right_half"][:40],
                 digit=f["digit"][:40], five_or_more=f["five_or_more"][:40])
    out = run_cli("evaluate", run, "--data", tmp_path / "new.npz", "--json")
    assert out.returncode == 0, out.stderr
    assert sorted(json.loads(out.stdout)) == PER_OUTPUT
    from specc.runners.evaluate import evaluate_run

    np.savez(tmp_path / "unlabelled.npz", left=np.zeros((2, 8, 4)), right=np.zeros((2, 8, 4)))
    with pytest.raises(RunError, match="no array for the model's output 'digit'"):
        evaluate_run(run, tmp_path / "unlabelled.npz")


@pytest.mark.slow
def test_predict_takes_one_array_per_input_and_writes_one_per_output(run, tmp_path):
    with np.load(NPZ) as f:
        left, right, digit = f["left_half"][:30], f["right_half"][:30], f["digit"][:30]
    np.savez(tmp_path / "in.npz", left=left, right=right)
    out = run_cli("predict", run, tmp_path / "in.npz", "-o", tmp_path / "out.npz")
    assert out.returncode == 0, out.stderr
    assert "30 predictions" in out.stdout
    with np.load(tmp_path / "out.npz") as p:
        assert {k: p[k].shape for k in p.files} == {"digit": (30, 10), "five_or_more": (30, 1)}
        np.testing.assert_allclose(p["digit"].sum(axis=1), 1, rtol=1e-5)
        assert (p["digit"].argmax(axis=1) == digit).mean() > 0.5  # trained for only 3 epochs
    from specc.runners.predict import predict_run

    assert predict_run(run, tmp_path / "in.npz", tmp_path / "out.csv") == 30
    lines = (tmp_path / "out.csv").read_text().splitlines()
    assert lines[0].split(",") == ["digit_class", *(f"digit_prob_{i}" for i in range(10)), "five_or_more_class",
                                   "five_or_more_prob_0", "five_or_more_prob_1"]
    assert len(lines) == 31
    with pytest.raises(RunError) as e:
        predict_run(run, tmp_path / "in.npz", tmp_path / "out.npy")
    assert str(e.value) == (f"{tmp_path / 'out.npy'}: the model has 2 outputs (digit, five_or_more); write a .npz "
                            f"(one array per output) or a .csv")
    assert not (tmp_path / "out.npy").exists()
    np.save(tmp_path / "in.npy", left)
    with pytest.raises(RunError, match=r"one array per input name \(left, right\)"):
        predict_run(run, tmp_path / "in.npy", tmp_path / "out.npz")


@pytest.mark.slow
def test_a_resumed_run_keeps_the_loss_weights(run, tmp_path):
    """--resume recompiles the saved model: with the spec's loss weights, it ends exactly where an
    uninterrupted run does."""
    resumed = tmp_path / "resumed"
    shutil.copytree(run, resumed)
    out = run_cli("train", "--resume", resumed, "--epochs", "4", "-q")
    assert out.returncode == 0, out.stderr
    straight = tmp_path / "straight"
    out = run_cli("train", SPEC, "--run-dir", straight, "--epochs", "4", "--set", "train.resume_interval=0", "-q")
    assert out.returncode == 0, out.stderr
    a = json.loads((resumed / "metrics.json").read_text())["test"]
    b = json.loads((straight / "metrics.json").read_text())["test"]
    assert a == pytest.approx(b, rel=1e-6)


@pytest.mark.slow
def test_single_output_predict_can_write_npz(tmp_path):
    run_dir = tmp_path / "mlp"
    out = run_cli("train", ROOT / "specs" / "logistic_regression.yaml", "--run-dir", run_dir, "--epochs", "1", "-q")
    assert out.returncode == 0, out.stderr
    import sklearn.datasets

    from specc.runners.predict import predict_run

    np.save(tmp_path / "x.npy", sklearn.datasets.load_breast_cancer().data[:7])
    for suffix in ("npy", "npz"):
        assert predict_run(run_dir, tmp_path / "x.npy", tmp_path / f"p.{suffix}") == 7
    with np.load(tmp_path / "p.npz") as f:
        assert f.files == ["dense"]  # named after the model's output
        np.testing.assert_array_equal(f["dense"], np.load(tmp_path / "p.npy"))


@pytest.mark.slow
def test_a_streamed_npy_run_trains_and_evaluates_from_its_run_directory(tmp_path, monkeypatch):
    """npy files per input and output, streamed: training (with streamed validation), the test evaluation and
    the confusion matrices read batch by batch, and the run's spec.yaml names the files by absolute path."""
    from specc.runners.evaluate import evaluate_run

    data = tmp_path / "data"
    data.mkdir()
    with np.load(NPZ) as f:
        for name in f.files:
            np.save(data / f"{name}.npy", f[name][:400])
    text = SPEC.read_text()
    start = text.index("data:\n")
    text = text[:start] + """\
data:
  source:
    type: npy
    x: {left: data/left_half.npy, right: data/right_half.npy}
    y: {digit: data/digit.npy, five_or_more: data/five_or_more.npy}
  normalize: true
"""
    (tmp_path / "spec.yaml").write_text(text)
    out = run_cli("train", tmp_path / "spec.yaml", "--run-dir", tmp_path / "run", "--epochs", "2", "-q",
                  env={"SPECC_STREAM": "always"})
    assert out.returncode == 0, out.stderr
    run = tmp_path / "run"
    assert json.loads((run / "run.json").read_text())["stream"] == "always"
    assert (run / "confusion_matrix_digit.png").is_file()
    assert f"left: {data / 'left_half.npy'}" in (run / "spec.yaml").read_text()
    monkeypatch.setenv("SPECC_STREAM", "always")  # as the run was trained (and restored after the test)
    shutil.move(tmp_path / "spec.yaml", tmp_path / "moved.yaml")  # the run needs only its own spec.yaml
    metrics = json.loads((run / "metrics.json").read_text())
    assert evaluate_run(run) == pytest.approx(metrics["test"], rel=1e-5)
