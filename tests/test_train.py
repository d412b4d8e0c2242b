"""`specc train` and `specc evaluate` end to end: real data, real Keras, real files."""

import json

import numpy as np
import pytest
from conftest import ROOT, blobs, run_cli, weights

SPEC = """\
specc: 1
name: npz-mlp
seed: 3
layers:
  - {{type: Dense, units: 16, activation: relu, input_dim: 4}}
  - {{type: Dense, units: 3, activation: softmax}}
compile:
  optimizer: {{type: Adam, learning_rate: 1.0e-2}}
  loss: {loss}
  metrics: [accuracy]
train: {{epochs: 5, batch_size: 16, validation_split: 0.2}}
data:
  source: {{type: npz, path: {path}, x: features, y: labels}}
  test_split: 0.25
"""


@pytest.fixture
def npz_spec(tmp_path):
    blobs(tmp_path / "blobs.npz")
    spec = tmp_path / "spec.yaml"
    spec.write_text(SPEC.format(path="blobs.npz", loss="sparse_categorical_crossentropy"))
    return spec


@pytest.mark.slow
def test_train_then_evaluate_reproduces_metrics(npz_spec, tmp_path):
    run = tmp_path / "run"
    out = run_cli("train", npz_spec, "--run-dir", run)
    assert out.returncode == 0, out.stderr
    assert {p.name for p in run.iterdir()} >= {"spec.yaml", "model.keras", "best.keras", "history.csv",
                                               "history.json", "metrics.json", "run.json", "state.json",
                                               "learning_curves.png", "confusion_matrix.png", "tensorboard"}
    assert (run / "learning_curves.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert any((run / "tensorboard").rglob("events.out.tfevents.*"))
    assert not [p for p in run.iterdir() if p.name.startswith(".")], "no temporary files left behind"
    metrics = json.loads((run / "metrics.json").read_text())
    assert metrics["test"]["accuracy"] > 0.9  # separable blobs
    history = json.loads((run / "history.json").read_text())
    assert len(history["loss"]) == 5 and history["loss"][-1] < history["loss"][0]
    assert (run / "history.csv").read_text().splitlines()[0].startswith("epoch,")
    info = json.loads((run / "run.json").read_text())
    assert info["status"] == "completed" and info["seed"] == 3 and info["epochs_done"] == 5
    assert info["backend"] == "tensorflow" and len(info["spec_sha256"]) == 64
    data = info["data"]
    assert data["train_samples"] + data["validation_samples"] + data["test_samples"] == 240
    # The resolved spec is itself a valid spec.
    assert run_cli("validate", run / "spec.yaml").returncode == 0
    out = run_cli("evaluate", run, "--json")
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout) == pytest.approx(metrics["test"], abs=1e-6)


@pytest.mark.slow
def test_seed_makes_runs_repeatable(npz_spec, tmp_path):
    for name in ("a", "b"):
        assert run_cli("train", npz_spec, "--run-dir", tmp_path / name, "--epochs", "2", "-q").returncode == 0
    a = json.loads((tmp_path / "a" / "history.json").read_text())
    b = json.loads((tmp_path / "b" / "history.json").read_text())
    assert a == b


@pytest.mark.slow
def test_epochs_override_and_one_hot_labels(tmp_path):
    blobs(tmp_path / "blobs.npz")
    spec = tmp_path / "spec.yaml"
    spec.write_text(SPEC.format(path="blobs.npz", loss="categorical_crossentropy"))
    out = run_cli("train", spec, "--run-dir", tmp_path / "run", "--epochs", "2", "-q")
    assert out.returncode == 0, out.stderr
    resolved = (tmp_path / "run" / "spec.yaml").read_text()
    assert "epochs: 2" in resolved and str(tmp_path / "blobs.npz") in resolved
    assert len(json.loads((tmp_path / "run" / "history.json").read_text())["loss"]) == 2


@pytest.mark.parametrize(
    "setup, message",
    [
        (lambda d: None, "data file not found"),
        (lambda d: np.savez(d / "blobs.npz", x=np.zeros((4, 4))), "no array named 'features'"),
        (lambda d: blobs(d / "blobs.npz", label_offset=5), "labels range from 5 to 7, but the output layer"),
        (lambda d: np.savez(d / "blobs.npz", features=np.zeros((8, 5)), labels=np.zeros(8, int)),
         "samples have shape (5,) but the model's input"),
        (lambda d: np.savez(d / "blobs.npz", features=np.zeros((8, 4)), labels=np.zeros(7, int)),
         "'features' has 8 samples but 'labels' has 7"),
    ],
    ids=["missing-file", "missing-array", "labels-out-of-range", "wrong-shape", "length-mismatch"],
)
def test_bad_data_is_a_clear_error_before_training(tmp_path, setup, message):
    setup(tmp_path)
    spec = tmp_path / "spec.yaml"
    spec.write_text(SPEC.format(path="blobs.npz", loss="sparse_categorical_crossentropy"))
    out = run_cli("train", spec, "--run-dir", tmp_path / "run")
    assert out.returncode == 1
    assert message in out.stderr
    assert "Traceback" not in out.stderr
    assert not (tmp_path / "run").exists(), "nothing is written for a run that cannot start"


@pytest.mark.slow
def test_overrides_json_output_and_device(npz_spec, tmp_path):
    out = run_cli("train", npz_spec, "--run-dir", tmp_path / "run", "--json", "--device", "cpu",
                  "--set", "train.epochs=2", "--set", "compile.optimizer={type: SGD, learning_rate: 0.05}",
                  "--set", "layers[0].units=8", "--set", "train.class_weight=balanced")
    assert out.returncode == 0, out.stderr
    doc = json.loads(out.stdout)  # nothing but the JSON on stdout
    assert set(doc) == {"run_dir", "metrics"} and set(doc["metrics"]) == {"train", "validation", "test"}
    resolved = (tmp_path / "run" / "spec.yaml").read_text()
    assert "type: SGD" in resolved and "units: 8" in resolved and "epochs: 2" in resolved
    assert json.loads((tmp_path / "run" / "run.json").read_text())["device"] == "cpu"


@pytest.mark.parametrize(
    "assignment, code, message",
    [
        ("train.epochs=0", 1, "epochs must be greater than 0"),
        ("layers.nope.units=3", 2, "no layer named 'nope'"),
        ("train.batch_size", 2, "expected KEY=VALUE"),
        ("layers[9].units=3", 2, "index 9 is out of range"),
        ("compile.optimizer.momentum=0.9", 1, "unknown key 'momentum' in Adam"),
    ],
)
def test_bad_overrides(npz_spec, tmp_path, assignment, code, message):
    out = run_cli("train", npz_spec, "--run-dir", tmp_path / "run", "--set", assignment)
    assert out.returncode == code
    assert message in out.stderr and "Traceback" not in out.stderr
    assert not (tmp_path / "run").exists()


@pytest.mark.slow
def test_early_stopping_and_nan(npz_spec, tmp_path):
    out = run_cli("train", npz_spec, "--run-dir", tmp_path / "es", "-q", "--set", "train.epochs=60",
                  "--set", "train.early_stopping={patience: 0, min_delta: 10.0}")
    assert out.returncode == 0, out.stderr
    info = json.loads((tmp_path / "es" / "run.json").read_text())
    assert info["epochs_done"] < 60 and info["status"].startswith("stopped early")
    # The model holds the first epoch's weights again (no later epoch improved by 10): so do its metrics.
    history = json.loads((tmp_path / "es" / "history.json").read_text())
    metrics = json.loads((tmp_path / "es" / "metrics.json").read_text())
    assert len(history["val_loss"]) == 2
    assert metrics["validation"]["loss"] == history["val_loss"][0] != history["val_loss"][-1]
    assert metrics["train"]["loss"] == history["loss"][0]
    # model.keras holds the weights put back, not the last epoch's kept for --resume (which it is copied from when
    # the model ends with the last epoch's weights).
    state = json.loads((tmp_path / "es" / "state.json").read_text())
    final, resumable = weights(tmp_path / "es" / "model.keras"), weights(tmp_path / "es" / state["model"])
    with np.load(tmp_path / "es" / state["arrays"]) as saved:  # early stopping's best weights, kept for --resume
        best = [saved[f"best_{i}"] for i in range(len(final))]
    assert all(np.array_equal(a, b) for a, b in zip(final, best, strict=True))
    assert not all(np.array_equal(a, b) for a, b in zip(final, resumable, strict=True))
    out = run_cli("train", npz_spec, "--run-dir", tmp_path / "nan", "-q", "--set", "train.epochs=20",
                  "--set", "compile.optimizer={type: SGD, learning_rate: 1.0e+30}")
    assert out.returncode == 0, out.stderr
    info = json.loads((tmp_path / "nan" / "run.json").read_text())
    assert info["status"] == "stopped: loss became NaN" and info["epochs_done"] < 20


@pytest.mark.slow
def test_mixed_precision_keeps_outputs_float32(npz_spec, tmp_path):
    out = run_cli("train", npz_spec, "--run-dir", tmp_path / "run", "-q", "--set", "train.epochs=2",
                  "--set", "train.precision=mixed_bfloat16")
    assert out.returncode == 0, out.stderr
    probe = ("import keras\n"
             f"m = keras.saving.load_model({str(tmp_path / 'run' / 'model.keras')!r})\n"
             "print(m.layers[1].dtype_policy.name, m.layers[-1].dtype_policy.name, m.output.dtype)\n")
    import subprocess
    import sys

    shown = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True).stdout.split()
    assert shown == ["mixed_bfloat16", "float32", "float32"]


def test_evaluate_needs_a_run_directory(tmp_path):
    out = run_cli("evaluate", tmp_path)
    assert out.returncode == 1 and "not a complete run directory" in out.stderr


def test_train_refuses_invalid_spec(tmp_path):
    spec = tmp_path / "s.yaml"
    spec.write_text("specc: 1\nlayers: [{type: LSTM, units: 4, input_shape: [3]}]\n")
    out = run_cli("train", spec, "--run-dir", tmp_path / "run")
    assert out.returncode == 1 and "error[E300]" in out.stderr
    assert not (tmp_path / "run").exists()


def test_default_spec_in_readme_exists():
    readme = (ROOT / "README.md").read_text()
    assert "specc train specs/digits_mlp.yaml" in readme


def test_raw_class_ids_with_categorical_crossentropy_stop_before_the_run_directory(tmp_path):
    blobs(tmp_path / "blobs.npz")
    spec = tmp_path / "spec.yaml"
    spec.write_text(SPEC.format(path="blobs.npz", loss="categorical_crossentropy"))
    out = run_cli("train", spec, "--run-dir", tmp_path / "run", "--set", "data.labels=raw")
    assert out.returncode == 1 and "Traceback" not in out.stderr, out.stderr
    assert "labels have shape () per sample, but the output 'dense_1' gives (3,)" in out.stderr
    assert "categorical_crossentropy needs one-hot labels" in out.stderr
    assert not (tmp_path / "run").exists()


AUTOENCODER = """\
specc: 1
seed: 1
layers:
  - {type: Dense, units: 8, activation: relu, input_dim: 64}
  - {type: Dense, units: 64, activation: sigmoid}
compile: {optimizer: adam, loss: mse}
train: {epochs: 1, batch_size: 64, validation_split: 0.1}
data: {source: {type: sklearn, name: digits}, rescale: 0.0625, target: input}
"""


def test_an_autoencoder_run_writes_no_class_names(tmp_path):
    spec = tmp_path / "ae.yaml"
    spec.write_text(AUTOENCODER)
    out = run_cli("train", spec, "--run-dir", tmp_path / "run", "-q")
    assert out.returncode == 0, out.stderr
    assert (tmp_path / "run" / "model.keras").exists() and not (tmp_path / "run" / "classes.json").exists()


def test_timings_file_records_keras_s_import_the_first_step_and_each_epoch(npz_spec, tmp_path):
    """SPECC_TIMINGS, which benchmarks/run.py reads (and the hand-written twins write alike)."""
    timings = tmp_path / "timings.jsonl"
    out = run_cli("train", npz_spec, "--run-dir", tmp_path / "run", "-q", "--epochs", "2",
                  env={"SPECC_TIMINGS": str(timings)})
    assert out.returncode == 0, out.stderr
    events = [json.loads(line) for line in timings.read_text().splitlines()]
    assert [e["event"] for e in events] == ["keras_import", "keras_imported", "first_step", "epoch", "epoch"]
    assert [e["t"] for e in events] == sorted(e["t"] for e in events)
    assert [e["epoch"] for e in events if e["event"] == "epoch"] == [1, 2]
    assert all(e["seconds"] > 0 for e in events if e["event"] == "epoch")
