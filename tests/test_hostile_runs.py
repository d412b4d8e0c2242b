"""Hostile inputs at training time: data files, run directories and resume state, beside the corpus of hostile
spec files (tests/data/hostile, tests/test_loader.py).

Every case runs the real CLI and asserts one clear line naming the file, no traceback, the exit code, and that a
run directory it touched is byte for byte as it was (its files hashed before and after).
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import shutil
import subprocess
import sys

import numpy as np
import pytest
from conftest import ROOT, run_cli

SPEC = """\
specc: 1
name: {name}
seed: 3
layers:
  - {{type: Dense, units: 8, activation: relu, input_dim: 4}}
  - {{type: Dense, units: 3, activation: softmax}}
compile:
  optimizer: {{type: Adam, learning_rate: 1.0e-2}}
  loss: sparse_categorical_crossentropy
  metrics: [accuracy]
train: {{epochs: {epochs}, batch_size: 16, validation_split: 0.2, resume_interval: 0}}
data:
  source: {{type: npz, path: {path}, x: features, y: labels}}
  test_split: 0.25
"""


def write_data(path, n=60):
    rng = np.random.default_rng(0)
    np.savez(path, features=rng.normal(0, 1, (n, 4)).astype("float32"), labels=rng.integers(0, 3, n))


def write_spec(folder, data="blobs.npz", name="hostile", epochs=1):
    spec = folder / f"{name}.yaml"
    spec.write_text(SPEC.format(name=name, path=data, epochs=epochs))
    return spec


def digest(folder) -> dict:
    """Every file under ``folder`` (relative path -> sha256): a run directory, byte for byte."""
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def refused(out, message, code=1):
    """One clean error: the exit code, the message, no traceback."""
    text = out.stdout + out.stderr
    assert out.returncode == code, text
    assert "Traceback" not in text, text
    assert message in out.stderr, out.stderr
    errors = [line for line in out.stderr.splitlines() if line.startswith("specc: error:")]
    assert len(errors) == (1 if code else 0), out.stderr


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """A finished run (1 epoch) and the folder of its spec and data."""
    folder = tmp_path_factory.mktemp("hostile-runs")
    write_data(folder / "blobs.npz")
    spec = write_spec(folder)
    run = folder / "run"
    out = run_cli("train", spec, "--run-dir", run, "-q")
    assert out.returncode == 0, out.stderr
    return folder, run


# -- data files ------------------------------------------------------------------------------------------------
def _hostile_data(folder):
    """(file name, what to write, the message) for data files that are damaged or not what they claim."""
    good = (folder / "blobs.npz").read_bytes()
    rng = np.random.default_rng(0)
    nan = {"features": rng.normal(0, 1, (60, 4)).astype("float32"), "labels": rng.integers(0, 3, 60)}
    nan["features"][37, 2] = np.nan
    np.savez(folder / "nan.npz", **nan)
    return [
        ("text.npz", b"not a zip at all\n", "text.npz: not a .npz file (not a zip archive"),
        ("truncated.npz", good[:300], "truncated.npz: cannot read the .npz file: a damaged zip archive"),
        ("garbage.npz", b"PK\x03\x04" + bytes(range(256)) * 4, "garbage.npz: cannot read the .npz file"),
        ("empty.npz", b"", "empty.npz: the data file is empty"),
        ("header.npy", b"\x93NUMPY\x01\x00\x10\x00{'descr': 'x'}\n", "header.npy: cannot read the .npy file"),
        ("nan.npz", None, "nan.npz: the features contain NaN or infinity, first in sample 37 of the file"),
    ]


@pytest.mark.slow
def test_damaged_data_files_in_train_evaluate_and_predict(trained, tmp_path):
    folder, run = trained
    before = digest(run)
    for name, content, message in _hostile_data(folder):
        if content is not None:
            (folder / name).write_bytes(content)
        if name.endswith(".npz"):  # train: nothing is written for a run that cannot start
            spec = write_spec(folder, data=name, name=f"spec-{name[:-4]}")
            target = tmp_path / f"run-{name}"
            refused(run_cli("train", spec, "--run-dir", target, "-q"), message)
            assert not target.exists()
            refused(run_cli("evaluate", run, "--data", folder / name), message)
        refused(run_cli("predict", run, folder / name, "-o", tmp_path / "out.npy"), message)
    assert not (tmp_path / "out.npy").exists()
    assert digest(run) == before


@pytest.mark.slow
def test_files_that_are_not_data(trained, tmp_path):
    folder, run = trained
    before = digest(run)
    png = folder / "picture.png"
    png.write_bytes(b"\x89PNG\r\n\x1a\n")
    refused(run_cli("predict", run, png, "-o", tmp_path / "out.npy"),
            "picture.png is an image, but this model does not take images (it was trained on npz data)")
    if os.path.exists("/dev/zero"):  # a device: it never ends; refused before it is opened
        (folder / "zero.npz").symlink_to("/dev/zero")
        refused(run_cli("predict", run, folder / "zero.npz", "-o", tmp_path / "out.npy"),
                "zero.npz is not a regular file")
    assert digest(run) == before


@pytest.mark.slow
def test_a_data_file_outside_the_project_is_never_quoted(tmp_path):
    """`train` reads data anywhere the user points it, but a message never shows what a file outside the spec's
    project (the folder holding .git) holds."""
    secret = "hunter2-TOKEN-4f1d"
    (tmp_path / "secrets.csv").write_text(f"{secret}:x:0:0\nroot:{secret}:1:1\n")
    (tmp_path / "project" / ".git").mkdir(parents=True)
    spec = tmp_path / "project" / "spec.yaml"
    spec.write_text(SPEC.format(name="csv", path="../secrets.csv", epochs=1).replace(
        "{type: npz, path: ../secrets.csv, x: features, y: labels}", "{type: csv, path: ../secrets.csv, label: y}"))
    out = run_cli("train", spec, "--run-dir", tmp_path / "run")
    refused(out, "secrets.csv: no column named 'y' among its 1 columns")
    assert secret not in out.stdout + out.stderr


# -- run directories ---------------------------------------------------------------------------------------------
def test_run_dir_below_a_regular_file(tmp_path):
    write_data(tmp_path / "blobs.npz")
    spec = write_spec(tmp_path)
    (tmp_path / "plain").write_text("a file\n")
    refused(run_cli("train", spec, "--run-dir", tmp_path / "plain" / "run"),
            "is below", code=1)
    refused(run_cli("train", spec, "--run-dir", tmp_path / "plain"), "is a file, not a folder")
    assert (tmp_path / "plain").read_text() == "a file\n"


@pytest.mark.slow
def test_a_run_directory_held_by_another_process_is_refused(tmp_path):
    """The lock itself: this test holds it, as a running `specc train` would."""
    write_data(tmp_path / "blobs.npz")
    spec = write_spec(tmp_path)
    run = tmp_path / "run"
    run.mkdir()
    fd = os.open(run, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        refused(run_cli("train", spec, "--run-dir", run, "-q"), "is in use by another specc process")
    finally:
        os.close(fd)
    assert list(run.iterdir()) == []


@pytest.mark.slow
def test_two_trainings_into_one_new_run_dir(tmp_path):
    """Started together with different specs: one trains, the other is refused, and the folder holds one run."""
    write_data(tmp_path / "blobs.npz")
    specs = [write_spec(tmp_path, name=name) for name in ("first", "second")]
    run = tmp_path / "run"
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    procs = [subprocess.Popen([sys.executable, "-m", "specc", "train", str(s), "--run-dir", str(run), "-q"],
                              cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for s in specs]
    results = [(p, *p.communicate(timeout=600)) for p in procs]
    codes = sorted(p.returncode for p, _, _ in results)
    assert codes == [0, 1], [err for _, _, err in results]
    winner = next(i for i, (p, _, _) in enumerate(results) if p.returncode == 0)
    loser_err = results[1 - winner][2]
    assert "Traceback" not in loser_err and "specc: error: run directory" in loser_err, loser_err
    assert ("in use by another specc process" in loser_err) or ("already exists and is not empty" in loser_err)
    info = json.loads((run / "run.json").read_text())
    assert info["status"] == "completed"
    assert info["spec_file"] == str(specs[winner])
    assert f"name: {('first', 'second')[winner]}" in (run / "spec.yaml").read_text()


@pytest.mark.slow
def test_resume_of_a_finished_run_changes_nothing(trained):
    _, run = trained
    before = digest(run)
    out = run_cli("train", "--resume", run, "-q")
    refused(out, "is already complete (completed, 1 epoch(s)); nothing to resume", code=0)
    assert digest(run) == before


@pytest.mark.slow
def test_resume_refuses_an_edited_spec_and_records_a_larger_epochs(trained, tmp_path):
    """An edited spec.yaml was resumed under the saved model, exit 0, its edits recorded but never trained; and
    `--resume --epochs N` hashed a spec.yaml with the new epochs that it never wrote."""
    _, run = trained
    edited = tmp_path / "edited"
    shutil.copytree(run, edited)
    spec = edited / "spec.yaml"
    spec.write_text(spec.read_text().replace("units: 8", "units: 16"))
    before = digest(edited)
    refused(run_cli("train", "--resume", edited, "--epochs", "2", "-q"),
            "spec.yaml is not the spec this run was trained with (its SHA-256 differs from run.json's)")
    assert digest(edited) == before
    extended = tmp_path / "extended"
    shutil.copytree(run, extended)
    out = run_cli("train", "--resume", extended, "--epochs", "2", "-q")
    assert out.returncode == 0, out.stderr
    text, info = (extended / "spec.yaml").read_text(), json.loads((extended / "run.json").read_text())
    assert "epochs: 2" in text and hashlib.sha256(text.encode()).hexdigest() == info["spec_sha256"]
    listed = run_cli("runs", extended)
    assert info["epochs_done"] == 2 and listed.returncode == 0 and "note:" not in listed.stdout + listed.stderr


def test_resume_of_a_run_that_failed_before_its_first_save_says_so(tmp_path):
    """It asked whether the run was trained by specc at all."""
    write_data(tmp_path / "blobs.npz")
    run = tmp_path / "run"
    run.mkdir()
    (run / "spec.yaml").write_text(write_spec(tmp_path).read_text())
    (run / "run.json").write_text(json.dumps({"status": "failed", "error": "the data ran out"}))
    before = digest(run)
    refused(run_cli("train", "--resume", run, "-q"),
            f"{run} stopped before it saved a resume state (status: failed): nothing to resume; train the spec again")
    assert digest(run) == before


def test_class_weights_that_do_not_fit_are_refused_before_the_run_directory(tmp_path):
    write_data(tmp_path / "blobs.npz")
    spec = write_spec(tmp_path)
    out = run_cli("train", spec, "--run-dir", tmp_path / "run", "-q", "--set", "train.class_weight=[1.0, 2.0]")
    assert out.returncode == 1 and "Traceback" not in out.stderr
    assert "error[E417]: train.class_weight gives 2 weight(s), but the model has 3 classes" in out.stderr
    assert not (tmp_path / "run").exists()


@pytest.mark.slow
def test_a_failure_after_the_run_directory_exists_is_recorded(tmp_path):
    import keras

    from specc.check import check_file
    from specc.runners.train import train_run

    class Failing(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            raise ValueError("the disk went away")

    write_data(tmp_path / "blobs.npz")
    spec = write_spec(tmp_path)
    with pytest.raises(ValueError, match="the disk went away"):
        train_run(check_file(spec), spec, tmp_path / "run", quiet=True, device="cpu", callbacks=[Failing()])
    info = json.loads((tmp_path / "run" / "run.json").read_text())
    assert info["status"] == "failed"
    assert info["error"] == "ValueError: the disk went away" and info["ended"]


# -- resume state --------------------------------------------------------------------------------------------------
def _interrupted_copy(run, to):
    """The finished run as a run interrupted after its first epoch (what --resume accepts)."""
    shutil.copytree(run, to)
    info = json.loads((to / "run.json").read_text())
    info.update(status="interrupted", epochs_done=0)
    (to / "run.json").write_text(json.dumps(info))
    return json.loads((to / "state.json").read_text())


def _lambda_model(path):
    probe = ("import sys, keras\n"
             "m = keras.Sequential([keras.Input((4,)), keras.layers.Lambda(lambda x: x * 2), keras.layers.Dense(3)])\n"
             "m.save(sys.argv[1])\n")
    subprocess.run([sys.executable, "-c", probe, str(path)], check=True, capture_output=True,
                   env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"})


@pytest.mark.slow
def test_hostile_resume_state_is_refused_and_left_alone(trained, tmp_path):
    _, run = trained
    cases = []
    state = _interrupted_copy(run, tmp_path / "lambda")
    _lambda_model(tmp_path / "lambda" / state["model"])
    cases.append(("lambda", "is not a specc state: Keras cannot load it safely"))
    state = _interrupted_copy(run, tmp_path / "escape")
    (tmp_path / "escape" / "state.json").write_text(json.dumps({**state, "model": "../../outside.keras"}))
    cases.append(("escape", "state.json is not a specc state: its model must be a file in the run's state/ folder"))
    _interrupted_copy(run, tmp_path / "not-json")
    (tmp_path / "not-json" / "state.json").write_text("{ not json")
    cases.append(("not-json", "state.json: not a resume state (state.json) written by specc"))
    state = _interrupted_copy(run, tmp_path / "arrays")
    (tmp_path / "arrays" / state["arrays"]).write_bytes(b"PK\x03\x04 damaged")
    cases.append(("arrays", "cannot read the .npz file: a damaged zip archive"))
    for name, change in (("history", {"history": {"loss": "abc"}}), ("counter", {"callbacks": {"best_checkpoint": "x"}}),
                         ("negative", {"epochs_done": -1})):  # crashed the run, or trained extra epochs
        state = _interrupted_copy(run, tmp_path / name)
        (tmp_path / name / "state.json").write_text(json.dumps({**state, **change}))
        cases.append((name, "state.json is not a specc state (fields missing or of the wrong kind)"))
    state = _interrupted_copy(run, tmp_path / "empty-model")
    (tmp_path / "empty-model" / state["model"]).write_bytes(b"")
    cases.append(("empty-model", "the state file is empty; the run cannot be resumed"))
    for name, message in cases:
        before = digest(tmp_path / name)
        refused(run_cli("train", "--resume", tmp_path / name, "-q"), message)
        assert digest(tmp_path / name) == before, name


@pytest.mark.slow
def test_a_damaged_model_file_says_so(trained, tmp_path):
    folder, run = trained
    for name, content, message in [("empty", b"", "model.keras: the model file is empty"),
                                   ("truncated", None, "model.keras: cannot load the model (")]:
        copy = tmp_path / name
        shutil.copytree(run, copy)
        model = copy / "model.keras"
        model.write_bytes(content if content is not None else model.read_bytes()[:500])
        before = digest(copy)
        refused(run_cli("evaluate", copy), message)
        refused(run_cli("predict", copy, folder / "blobs.npz", "-o", tmp_path / "out.npy"), message)
        assert "File not found" not in message
        assert digest(copy) == before
