"""Data-parallel training across worker processes (specc/runners/distribute.py): real JAX workers on
loopback, real runs of the CLI, real signals."""

import importlib.util
import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import ROOT, run_cli

from specc.runners.distribute import Cluster, DistributeError, cluster_from_env

SPEC = ROOT / "specs" / "digits_mlp.yaml"
needs_jax = pytest.mark.skipif(importlib.util.find_spec("jax") is None, reason="multi-worker training runs on JAX")


def children(pid: int) -> list[int]:
    """Process ids whose parent is `pid` (Linux /proc)."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            found.append(int(stat.parent.name))
    return sorted(found)


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def start_local(run_dir: Path, scratch: Path) -> subprocess.Popen:
    """`specc train --workers 2` on a run long enough to be stopped while it trains."""
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", "TMPDIR": str(scratch)}
    return subprocess.Popen([sys.executable, "-m", "specc", "train", str(SPEC), "--workers", "2", "--run-dir",
                             str(run_dir), "--epochs", "500", "--set", "train.early_stopping=null"],
                            cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def wait_for_workers(proc, run_dir: Path, timeout: float = 180) -> list[int]:
    """The two workers' process ids, once the chief has written run.json (data loaded, about to fit)."""
    deadline = time.monotonic() + timeout
    while not (run_dir / "run.json").exists():
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() < deadline, "the chief never started the run"
        time.sleep(0.1)
    workers = children(proc.pid)
    assert len(workers) == 2, workers
    return workers


# ---------------------------------------------------------------- the cluster's environment (no processes)


def test_cluster_from_the_environment():
    assert cluster_from_env({}) is None
    assert cluster_from_env({"KERAS_DISTRIBUTION_JOB_ADDRESSES": "10.0.0.1:1234,10.0.0.2:2345",
                             "KERAS_DISTRIBUTION_NUM_PROCESSES": "2", "KERAS_DISTRIBUTION_PROCESS_ID": "1"}) == \
        Cluster("10.0.0.1:1234", 2, 1, "KERAS_DISTRIBUTION_*")
    assert cluster_from_env({"JAX_COORDINATOR_ADDRESS": "head:7777", "JAX_NUM_PROCESSES": "4",
                             "JAX_PROCESS_ID": "0"}) == Cluster("head:7777", 4, 0, "JAX_*")
    # TF_CONFIG: the chief is worker 0, then the workers in order; its address hosts the coordinator
    tf_config = {"cluster": {"chief": ["a:2222"], "worker": ["b:2222", "c:2222"]}, "task": {"type": "worker", "index": 1}}
    assert cluster_from_env({"TF_CONFIG": json.dumps(tf_config)}) == Cluster("a:2222", 3, 2, "TF_CONFIG")
    tf_config = {"cluster": {"worker": ["b:2222", "c:2222"]}, "task": {"type": "worker", "index": 0}}
    assert cluster_from_env({"TF_CONFIG": json.dumps(tf_config)}).chief
    # a cluster of one is an ordinary run
    assert cluster_from_env({"TF_CONFIG": json.dumps({"cluster": {"worker": ["b:1"]},
                                                      "task": {"type": "worker", "index": 0}})}) is None


@pytest.mark.parametrize("environ, message", [
    ({"TF_CONFIG": "{not json"}, "TF_CONFIG is not valid JSON"),
    ({"TF_CONFIG": json.dumps({"cluster": {"worker": ["a:1", "b:1"], "ps": ["c:1"]},
                               "task": {"type": "ps", "index": 0}})}, "only `chief` and `worker` tasks"),
    ({"JAX_NUM_PROCESSES": "2", "JAX_PROCESS_ID": "2", "JAX_COORDINATOR_ADDRESS": "h:1"}, "from 0 to 1; got 2"),
    ({"JAX_NUM_PROCESSES": "2", "JAX_PROCESS_ID": "0"}, "must be HOST:PORT"),
    ({"KERAS_DISTRIBUTION_NUM_PROCESSES": "two"}, "KERAS_DISTRIBUTION_NUM_PROCESSES must be an integer"),
])
def test_a_misconfigured_cluster_is_reported(environ, message):
    with pytest.raises(DistributeError, match=message.replace("`", ".").replace("(", ".").replace(")", ".")):
        cluster_from_env(environ)


# ---------------------------------------------------------------- usage errors (no Keras imported)


def test_bad_worker_counts_and_conflicts_are_usage_errors(tmp_path):
    run = tmp_path / "run"
    for value in ("0", "-1", "65", "two"):
        out = run_cli("train", SPEC, "--workers", value, "--run-dir", run)
        assert out.returncode == 2, (value, out.stderr)
        assert "--workers" in out.stderr and "Traceback" not in out.stderr
    out = run_cli("train", SPEC, "--workers", "3", "--run-dir", run)  # 32 samples cannot be split in 3
    assert out.returncode == 2
    assert "train.batch_size 32 cannot be split evenly across 3 replicas" in out.stderr
    assert "--set train.batch_size=30" in out.stderr
    out = run_cli("train", SPEC, "--workers", "2", "--run-dir", run, env={"KERAS_BACKEND": "tensorflow"})
    assert out.returncode == 2 and "JAX backend" in out.stderr and "20585" in out.stderr
    env = {"KERAS_DISTRIBUTION_JOB_ADDRESSES": "127.0.0.1:1", "KERAS_DISTRIBUTION_NUM_PROCESSES": "3",
           "KERAS_DISTRIBUTION_PROCESS_ID": "0"}
    out = run_cli("train", SPEC, "--workers", "2", "--run-dir", run, env=env)
    assert out.returncode == 2 and "describes 3 workers" in out.stderr
    previous = tmp_path / "previous"
    previous.mkdir()
    (previous / "spec.yaml").write_text(SPEC.read_text())
    (previous / "run.json").write_text(json.dumps({"workers": 2, "replicas": 2}))
    for args in (("--resume", previous, "--workers", "2"), ("--resume", previous)):
        out = run_cli("train", *args)
        assert out.returncode == 2 and "cannot be resumed" in out.stderr, out.stderr
    assert not run.exists()


# ---------------------------------------------------------------- real workers


@needs_jax
@pytest.mark.slow
def test_two_local_workers_train_like_one(tmp_path):
    """Same seed, same initial weights, same batch order, the global batch split 16 + 16: the run follows the
    single-worker one (on the same JAX backend). The differences are float summation order and the one sample
    per epoch that cannot be split between two replicas (1295 = 40 x 32 + 15: the last batch keeps 14); measured
    about 5e-4 in loss after 3 epochs. The tolerance, 0.02, is 40 times that, and far below what a semantic
    mistake costs: with a global batch of 64 (each worker feeding 32) the loss ends 3 epochs 0.4 higher."""
    one, two, scratch = tmp_path / "one", tmp_path / "two", tmp_path / "tmp"
    scratch.mkdir()
    single = run_cli("train", SPEC, "--run-dir", one, "--epochs", "3", "--json", env={"KERAS_BACKEND": "jax"})
    assert single.returncode == 0, single.stderr
    out = run_cli("train", SPEC, "--run-dir", two, "--epochs", "3", "--workers", "2", "--json",
                  env={"TMPDIR": str(scratch)})
    assert out.returncode == 0, out.stderr
    reference, metrics = json.loads(single.stdout)["metrics"], json.loads(out.stdout)["metrics"]  # clean stdout
    for split in ("train", "validation", "test"):
        for name in ("loss", "accuracy"):
            assert metrics[split][name] == pytest.approx(reference[split][name], abs=0.02), (split, name)
    history = json.loads((two / "history.json").read_text())
    assert len(history["loss"]) == 3 and history["loss"][-1] < history["loss"][0] - 0.5
    assert metrics["test"]["accuracy"] > 0.8
    info = json.loads((two / "run.json").read_text())
    assert (info["workers"], info["replicas"], info["backend"], info["status"]) == (2, 2, "jax", "completed")
    assert info["distribution"]["engine"] == "jax.distributed + keras.distribution.DataParallel"
    assert info["distribution"]["configured_by"] == "--workers"
    assert (info["distribution"]["global_batch_size"], info["distribution"]["per_replica_batch_size"]) == (32, 16)
    assert {p.name for p in two.iterdir()} == {p.name for p in one.iterdir()}  # the chief wrote a whole run
    assert not list(scratch.iterdir()), "the other worker's files are removed"


@needs_jax
@pytest.mark.slow
def test_workers_started_by_a_cluster_launcher_follow_tf_config(tmp_path):
    """Each machine runs `specc train SPEC` with its TF_CONFIG; only the chief writes its run directory."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    procs = []
    for kind, run_dir in (("chief", tmp_path / "chief"), ("worker", tmp_path / "worker")):
        config = {"cluster": {"chief": [f"127.0.0.1:{port}"], "worker": ["127.0.0.1:1"]},
                  "task": {"type": kind, "index": 0}}
        env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", "TF_CONFIG": json.dumps(config), "JAX_PLATFORMS": "cpu",
               "TMPDIR": str(tmp_path)}
        procs.append(subprocess.Popen([sys.executable, "-m", "specc", "train", str(SPEC), "--epochs", "1", "-q",
                                       "--run-dir", str(run_dir)], cwd=ROOT, env=env, stdout=subprocess.PIPE,
                                      stderr=subprocess.PIPE, text=True))
    outs = [p.communicate(timeout=300) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], outs
    assert "worker 1 of 2: done" in outs[1][1]
    info = json.loads((tmp_path / "chief" / "run.json").read_text())
    assert (info["workers"], info["distribution"]["configured_by"]) == (2, "TF_CONFIG")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["chief"], "the worker wrote nothing that was kept"


@needs_jax
@pytest.mark.slow
def test_a_dead_worker_fails_the_whole_command(tmp_path):
    run_dir, scratch = tmp_path / "run", tmp_path / "tmp"
    scratch.mkdir()
    proc = start_local(run_dir, scratch)
    workers = wait_for_workers(proc, run_dir)
    os.kill(workers[1], signal.SIGKILL)
    _, err = proc.communicate(timeout=120)  # a hang guard, not a speed test: the launcher notices at once
    assert proc.returncode == 1
    assert "specc: error: worker 1 of 2 was killed by SIGKILL; stopped the other workers" in err
    assert "Traceback" not in err
    assert not any(alive(pid) for pid in workers)
    assert json.loads((run_dir / "run.json").read_text())["status"] == "failed: worker 1 was killed by SIGKILL"
    assert not list(scratch.iterdir())


@needs_jax
@pytest.mark.slow
def test_ctrl_c_stops_every_worker(tmp_path):
    run_dir, scratch = tmp_path / "run", tmp_path / "tmp"
    scratch.mkdir()
    proc = start_local(run_dir, scratch)
    workers = wait_for_workers(proc, run_dir)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130
    assert "interrupted: stopped 2 workers" in err and "cannot be resumed" in err
    assert not any(alive(pid) for pid in workers)
    assert json.loads((run_dir / "run.json").read_text())["status"] == "interrupted"
    assert not list(scratch.iterdir())
