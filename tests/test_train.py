"""`specc train` and `specc evaluate` end to end: real data, real Keras, real files."""

import json

import numpy as np
import pytest

from conftest import ROOT, run_cli

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


def blobs(path, n=240, classes=3, seed=0, label_offset=0):
    """Three well-separated Gaussian blobs in 4-D: any working model learns them."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, classes, n)
    centers = rng.normal(0, 4, (classes, 4))
    x = centers[y] + rng.normal(0, 0.5, (n, 4))
    np.savez(path, features=x.astype("float32"), labels=(y + label_offset).astype("int64"))


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
    assert {p.name for p in run.iterdir()} >= {"spec.yaml", "model.keras", "history.csv", "history.json",
                                               "metrics.json", "run.json"}
    assert not [p for p in run.iterdir() if p.name.startswith(".")], "no temporary files left behind"
    metrics = json.loads((run / "metrics.json").read_text())
    assert metrics["test"]["accuracy"] > 0.9  # separable blobs
    history = json.loads((run / "history.json").read_text())
    assert len(history["loss"]) == 5 and history["loss"][-1] < history["loss"][0]
    assert (run / "history.csv").read_text().splitlines()[0].startswith("epoch,")
    info = json.loads((run / "run.json").read_text())
    assert info["status"] == "completed" and info["seed"] == 3 and info["epochs"] == 5
    assert info["backend"] == "tensorflow" and len(info["spec_sha256"]) == 64
    assert info["data"]["train_samples"] + info["data"]["test_samples"] == 240
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
