"""Interruption and resumption: a run killed at any point and resumed ends with the same weights
as a run that was never interrupted (same machine, seed set)."""

import json
import os
import signal
import subprocess
import sys

import numpy as np
import pytest
from conftest import ROOT, run_cli, wait_for_epoch, weights

from specc.runs import read_run

pytestmark = pytest.mark.slow

SPEC = ROOT / "specs" / "digits_mlp.yaml"  # has Dropout: its random state must be restored too
ARGS = ["--epochs", "8", "--set", "train.resume_interval=0", "--set", "train.early_stopping={patience: 50}",
        "--set", "train.reduce_lr_on_plateau={patience: 1, factor: 0.5}", "-q"]


def start(run_dir, env=None):
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", **(env or {})}
    return subprocess.Popen([sys.executable, "-m", "specc", "train", str(SPEC), "--run-dir", str(run_dir), *ARGS],
                            cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    run_dir = tmp_path_factory.mktemp("ref") / "run"
    out = run_cli("train", SPEC, "--run-dir", run_dir, *ARGS)
    assert out.returncode == 0, out.stderr
    return run_dir


@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGINT, signal.SIGTERM], ids=["SIGKILL", "SIGINT", "SIGTERM"])
def test_killed_and_resumed_run_matches_uninterrupted(reference, tmp_path, sig):
    run_dir = tmp_path / "run"
    proc = start(run_dir)
    wait_for_epoch(proc, run_dir, 3)
    proc.send_signal(sig)
    _, err = proc.communicate(timeout=60)
    if sig == signal.SIGKILL:
        assert proc.returncode == -signal.SIGKILL
        assert read_run(run_dir).status == "killed"  # run.json still says running: nothing holds the folder
    else:
        assert proc.returncode == 130, err
        assert "resume with `specc train --resume" in err
        info = json.loads((run_dir / "run.json").read_text())
        assert info["status"] == "interrupted" and info["epochs_done"] >= 3
    assert not (run_dir / "model.keras").exists()
    out = run_cli("train", "--resume", run_dir, "-q")
    assert out.returncode == 0, out.stderr
    info = json.loads((run_dir / "run.json").read_text())
    assert info["status"] == "completed" and info["resumed"]
    ref_hist = json.loads((reference / "history.json").read_text())
    assert json.loads((run_dir / "history.json").read_text()) == ref_hist
    for a, b in zip(weights(reference / "model.keras"), weights(run_dir / "model.keras"), strict=True):
        np.testing.assert_array_equal(a, b)
    assert json.loads((run_dir / "metrics.json").read_text()) == json.loads((reference / "metrics.json").read_text())


def test_jax_backend_resumes_exactly_too(tmp_path):
    pytest.importorskip("jax")
    jax_env = {"KERAS_BACKEND": "jax"}
    ref = tmp_path / "ref"
    out = run_cli("train", SPEC, "--run-dir", ref, *ARGS, env=jax_env)
    assert out.returncode == 0, out.stderr
    assert json.loads((ref / "run.json").read_text())["backend"] == "jax"
    run_dir = tmp_path / "run"
    proc = start(run_dir, jax_env)
    wait_for_epoch(proc, run_dir, 3)
    proc.send_signal(signal.SIGKILL)
    proc.communicate(timeout=60)
    out = run_cli("train", "--resume", run_dir, "-q", env=jax_env)
    assert out.returncode == 0, out.stderr
    assert json.loads((run_dir / "history.json").read_text()) == json.loads((ref / "history.json").read_text())
    for a, b in zip(weights(ref / "model.keras"), weights(run_dir / "model.keras"), strict=True):
        np.testing.assert_array_equal(a, b)


def test_resume_refuses_a_finished_or_foreign_directory(reference, tmp_path):
    out = run_cli("train", "--resume", tmp_path)
    assert out.returncode == 2 and "not a run directory" in out.stderr
    out = run_cli("train", SPEC, "--resume", reference)
    assert out.returncode == 2
