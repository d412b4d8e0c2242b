"""Tracking with MLflow: real runs logged to a real `mlflow server` process on 127.0.0.1 (sqlite backend in a
temporary folder) and to a local store, a server that is down, the missing extra, the `track:` section."""

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request

import pytest
from conftest import ROOT, run_cli

pytestmark = pytest.mark.slow  # a tracking server is started and real runs are trained


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """`mlflow server` on a free loopback port, its runs in sqlite and its artifacts in a temporary folder."""
    folder = tmp_path_factory.mktemp("mlflow")
    port = free_port()
    log = open(folder / "server.log", "w")
    proc = subprocess.Popen([sys.executable, "-m", "mlflow", "server", "--backend-store-uri",
                             f"sqlite:///{folder / 'db.sqlite'}", "--artifacts-destination", str(folder / "artifacts"),
                             "--host", "127.0.0.1", "--port", str(port), "--workers", "1"],
                            stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 240  # database migrations take a while on a busy machine
        while True:
            try:
                with urllib.request.urlopen(f"{url}/health", timeout=5) as r:
                    if r.status == 200:
                        break
            except OSError:
                pass
            assert proc.poll() is None, (folder / "server.log").read_text()[-3000:]
            assert time.monotonic() < deadline, "mlflow server did not start"
            time.sleep(1)
        yield url
    finally:
        os.killpg(proc.pid, signal.SIGTERM)  # the server and the workers it started
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
        log.close()


def client(uri):
    from mlflow.tracking import MlflowClient

    return MlflowClient(tracking_uri=uri)


def only_run(uri, experiment):
    c = client(uri)
    found = c.get_experiment_by_name(experiment)
    assert found is not None, f"no experiment {experiment}"
    runs = c.search_runs([found.experiment_id])
    assert len(runs) == 1
    return c, runs[0]


def check_logged(c, mlrun, run_dir, tmp_path):
    """What MLflow holds is what the run directory holds."""
    history = json.loads((run_dir / "history.json").read_text())
    metrics = json.loads((run_dir / "metrics.json").read_text())
    info = json.loads((run_dir / "run.json").read_text())
    assert mlrun.info.status == "FINISHED"
    params = mlrun.data.params
    assert params["compile.optimizer.learning_rate"] == "0.01" and params["layers.0.units"] == "16"
    assert not [k for k in params if k.startswith("track")]
    for name, values in history.items():
        logged = sorted((m.step, m.value) for m in c.get_metric_history(mlrun.info.run_id, name))
        assert logged == [(i + 1, pytest.approx(v)) for i, v in enumerate(values)]
    for name, value in metrics["test"].items():
        assert mlrun.data.metrics[f"test_{name}"] == pytest.approx(value)
    tags = mlrun.data.tags
    assert tags["specc.version"] == info["specc_version"] and tags["specc.spec_sha256"] == info["spec_sha256"]
    assert tags["specc.status"] == "completed"
    names = {a.path for a in c.list_artifacts(mlrun.info.run_id)}
    assert names >= {"spec.yaml", "run.json", "metrics.json", "history.csv", "model.keras", "learning_curves.png",
                     "confusion_matrix.png", "report.html"}
    local = c.download_artifacts(mlrun.info.run_id, "spec.yaml", str(tmp_path))
    assert open(local).read() == (run_dir / "spec.yaml").read_text()


def test_train_logs_to_a_tracking_server(server, tiny_runs, tmp_path):
    run = tmp_path / "run"
    out = run_cli("train", tiny_runs["spec"], "--run-dir", run, "-q", "--track", "mlflow",
                  "--set", f"track.uri={server}", "--set", "track.experiment=live",
                  "--set", "compile.optimizer.learning_rate=0.01")
    assert out.returncode == 0, out.stderr
    c, mlrun = only_run(server, "live")
    check_logged(c, mlrun, run, tmp_path)
    record = json.loads((run / "run.json").read_text())["tracking"]["mlflow"]
    assert record == {"uri": server, "experiment": "live", "run_id": mlrun.info.run_id, "problems": []}
    assert f"logged to MLflow ({server}, experiment 'live') as run {mlrun.info.run_id}" in out.stderr


def test_a_server_that_is_down_loses_nothing(server, tiny_runs, tmp_path):
    down = f"http://127.0.0.1:{free_port()}"
    run = tmp_path / "run"
    out = run_cli("train", tiny_runs["spec"], "--run-dir", run, "-q", "--set", f"track.uri={down}",
                  "--set", "track.experiment=later")
    assert out.returncode == 0, out.stderr
    assert "Traceback" not in out.stderr
    assert "not everything was logged" in out.stderr and f"specc track {run}" in out.stderr
    info = json.loads((run / "run.json").read_text())
    assert info["status"] == "completed" and info["tracking"]["mlflow"]["run_id"] is None
    assert "start the run" in info["tracking"]["mlflow"]["problems"][0]
    for name in ("model.keras", "metrics.json", "history.json", "spec.yaml", "learning_curves.png"):
        assert (run / name).is_file()
    # Later, with the server up: the whole run, every epoch included.
    out = run_cli("track", run, "--uri", server)
    assert out.returncode == 0, out.stderr
    c, mlrun = only_run(server, "later")
    check_logged(c, mlrun, run, tmp_path)


def test_a_local_store_and_a_sweep(tiny_runs, tmp_path):
    """No server: a sqlite store in a file. A sweep directory: a parent run with a nested run per trial."""
    store = f"sqlite:///{tmp_path / 'mlflow.db'}"
    sweep = tmp_path / "sweep"
    for number, name in ((0, "a"), (1, "b")):
        shutil.copytree(tiny_runs[name], sweep / "trials" / f"{number:04d}")
    (sweep / "sweep.json").write_text(json.dumps({"specc_sweep": 1, "name": "blobs", "status": "complete",
                                                  "objective": {"metric": "val_accuracy", "direction": "maximize"}}))
    (sweep / "results.json").write_text(json.dumps({"trials": [], "best": {"number": 1, "value": 0.9}}))
    out = run_cli("track", sweep, "--uri", store, "--experiment", "sweeps", cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    c = client(store)
    runs = c.search_runs([c.get_experiment_by_name("sweeps").experiment_id])
    parents = [r for r in runs if "mlflow.parentRunId" not in r.data.tags]
    assert len(parents) == 1 and parents[0].data.metrics == {"best_val_accuracy": 0.9}
    trials = sorted((r for r in runs if r not in parents), key=lambda r: r.info.run_name)
    assert [r.info.run_name for r in trials] == ["trial 0", "trial 1"]
    assert all(r.data.tags["mlflow.parentRunId"] == parents[0].info.run_id for r in trials)
    assert trials[0].data.params["compile.optimizer.learning_rate"] == "0.01"
    assert trials[1].data.params["compile.optimizer.learning_rate"] == "0.05"
    saved = json.loads((sweep / "tracking.json").read_text())["mlflow"]
    assert saved["run_id"] == parents[0].info.run_id and saved["problems"] == []


def test_without_the_extra_one_clear_message(tiny_runs, tmp_path):
    blocker = tmp_path / "block"
    blocker.mkdir()
    (blocker / "sitecustomize.py").write_text(
        "import sys\n"
        "class NoMlflow:\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name.split('.')[0] == 'mlflow':\n"
        "            raise ModuleNotFoundError(\"No module named 'mlflow'\")\n"
        "sys.meta_path.insert(0, NoMlflow())\n")
    env = {"PYTHONPATH": os.pathsep.join([str(blocker), str(ROOT)])}
    out = run_cli("train", tiny_runs["spec"], "--run-dir", tmp_path / "run", "--track", "mlflow", env=env)
    assert out.returncode == 2
    assert out.stderr.strip() == 'specc: error: MLflow tracking needs the mlflow extra: pip install "specc[mlflow]"'
    assert not (tmp_path / "run").exists()
    out = run_cli("track", tiny_runs["a"], env=env)
    assert out.returncode == 2 and 'pip install "specc[mlflow]"' in out.stderr


def test_the_track_section_is_checked(tmp_path):
    spec = tmp_path / "spec.yaml"
    spec.write_text("specc: 1\nlayers:\n  - {type: Dense, units: 1, input_dim: 2}\n"
                    "track:\n  type: wandb\n  experimnet: x\n")
    out = run_cli("validate", spec)
    assert out.returncode == 1
    assert f"{spec}:5:9: error" in out.stdout and "mlflow" in out.stdout
    assert f"{spec}:6:3: error" in out.stdout and "experiment" in out.stdout
    schema = json.loads(run_cli("schema").stdout)
    assert "track" in schema["properties"]
    assert run_cli("train", spec, "--track", "wandb").returncode == 2


def test_specc_tune_nests_each_trial_under_the_sweep_and_writes_hparams(tmp_path):
    """A real sweep (two grid points, one epoch each) with `track:`: one parent run, a nested run per trial; and
    TensorBoard's HParams data (which every sweep writes)."""
    store = f"sqlite:///{tmp_path / 'mlflow.db'}"
    spec = tmp_path / "sweep.yaml"
    spec.write_text(f"""specc: 1
name: iris-sweep
seed: 7
layers:
  - {{type: Dense, units: 8, activation: relu, input_dim: 4}}
  - {{type: Dense, units: 3, activation: softmax}}
compile: {{optimizer: {{type: SGD, learning_rate: 0.05}}, loss: categorical_crossentropy, metrics: [accuracy]}}
train: {{epochs: 1, batch_size: 16, validation_split: 0.2, tensorboard: false}}
data: {{source: {{type: sklearn, name: iris}}, test_split: 0.2}}
track: {{uri: "{store}", experiment: tuned}}
search:
  sampler: grid
  space:
    compile.optimizer.learning_rate: [0.05, 0.1]
""")
    out = run_cli("tune", spec, "--sweep-dir", tmp_path / "sweep", env={"CI": "1"}, cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    c = client(store)
    runs = c.search_runs([c.get_experiment_by_name("tuned").experiment_id])
    parents = [r for r in runs if "mlflow.parentRunId" not in r.data.tags]
    assert len(parents) == 1 and len(runs) == 3
    parent = parents[0]
    assert parent.info.status == "FINISHED" and parent.data.params["search.sampler.type"] == "grid"
    assert "best_val_accuracy" in parent.data.metrics or "best_val_loss" in parent.data.metrics
    trials = [r for r in runs if r is not parent]
    assert all(r.data.tags["mlflow.parentRunId"] == parent.info.run_id for r in trials)
    assert sorted(r.data.params["compile.optimizer.learning_rate"] for r in trials) == ["0.05", "0.1"]
    assert all(r.info.status == "FINISHED" and "test_accuracy" in r.data.metrics for r in trials)
    assert {a.path for a in c.list_artifacts(parent.info.run_id)} >= {"results.json", "report.html", "sweep.json"}
    # The same sweep wrote TensorBoard's HParams data: the experiment, and a session per trial.
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
    from tensorboard.plugins.hparams import metadata, plugin_data_pb2

    board = tmp_path / "sweep" / "tensorboard"
    root = EventAccumulator(str(board))
    root.Reload()
    experiment = plugin_data_pb2.HParamsPluginData.FromString(
        root.PluginTagToContent(metadata.PLUGIN_NAME)["_hparams_/experiment"]).experiment
    assert [h.name for h in experiment.hparam_infos] == ["compile.optimizer.learning_rate"]
    sessions = sorted(p.name for p in board.iterdir() if p.is_dir())
    assert sessions == ["trial-0000", "trial-0001"]
    for name in sessions:
        session = EventAccumulator(str(board / name))
        session.Reload()
        start = plugin_data_pb2.HParamsPluginData.FromString(
            session.PluginTagToContent(metadata.PLUGIN_NAME)["_hparams_/session_start_info"]).session_start_info
        assert start.hparams["compile.optimizer.learning_rate"].number_value in (0.05, 0.1)
        assert experiment.metric_infos[0].name.tag in session.Tags()["tensors"]
    # ... and `specc runs` and `specc report` read the real sweep directory.
    listed = json.loads(run_cli("runs", tmp_path / "sweep", "-f", "json").stdout)["runs"]
    assert [r["trial"]["number"] for r in listed] == [0, 1]  # the grid's order is the sampler's
    assert sorted(r["spec"]["compile.optimizer.learning_rate"] for r in listed) == [0.05, 0.1]
    out = run_cli("report", tmp_path / "sweep", "-o", tmp_path / "sweep.html")
    assert out.returncode == 0, out.stderr
    page = (tmp_path / "sweep.html").read_text()
    assert page.count('<article aria-labelledby="trial-') == 2 and "plots" in page
