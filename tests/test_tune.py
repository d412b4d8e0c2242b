"""`specc tune`: real Optuna, real storage (its journal file, a real PostgreSQL server), real (tiny) training,
several worker processes, kill and resume."""

import csv
import json
import os
import signal
import subprocess
import sys
import time

import pytest
from conftest import HEAVY, ROOT, probe_cli, run_cli

SPEC = """specc: 1
name: iris-sweep
description: A tiny sweep on iris.
seed: 7
vars: {{width: 8}}
layers:
  - {{type: Dense, units: "${{width}}", activation: relu, input_dim: 4, name: hidden}}
  - {{type: Dense, units: 3, activation: softmax}}
compile: {{optimizer: {{type: SGD, learning_rate: 0.05}}, loss: categorical_crossentropy, metrics: [accuracy]}}
train: {{epochs: {epochs}, batch_size: 16, validation_split: 0.2, resume_interval: 0, tensorboard: false}}
data: {{source: {{type: sklearn, name: iris}}, test_split: 0.2}}
{extra}search:
{search}"""


def write_spec(folder, search, epochs=2, extra="", name="sweep.yaml"):
    path = folder / name
    path.write_text(SPEC.format(epochs=epochs, extra=extra, search=search))
    return path


def results(sweep):
    return json.loads((sweep / "results.json").read_text())


def run_json(sweep, number):
    return json.loads((sweep / "trials" / f"{number:04d}" / "run.json").read_text())


# -- without training ------------------------------------------------------------
def test_dry_run_lists_points_counts_and_verdicts_without_tensorflow(tmp_path):
    spec = write_spec(tmp_path, """  sampler: grid
  space:
    vars.width: [4, 64]
    compile.optimizer.learning_rate: [0.05, 0.1]
""", extra="budget: {max_params: 200}\n")
    code, heavy, out = probe_cli("tune", spec, "--dry-run", heavy=(*HEAVY, "optuna"))
    assert code == 0, out.stdout + out.stderr
    assert heavy == []
    lines = out.stdout.splitlines()
    assert "grid points: 4 of 4" in lines
    points = [line for line in lines if line.startswith("     ")]
    assert len(points) == 4
    assert sum("vars.width=4 " in p and "35 params  ok" in p for p in points) == 2  # 4*4+4 + 4*3+3
    assert sum("vars.width=64 " in p and "515 params  invalid: E410" in p for p in points) == 2
    assert "E502" in out.stderr and "2 of 4 checked points fail" in out.stderr
    assert not (tmp_path / "sweeps").exists()


@pytest.mark.parametrize("case", ["no-search", "empty-space", "bad-study", "bad-storage", "unreachable"])
def test_usage_problems_get_one_message_and_exit_2(tmp_path, case):
    search = "  space:\n    vars.width: [4, 8]\n"
    args = []
    if case == "no-search":
        spec = tmp_path / "plain.yaml"
        spec.write_text(SPEC.format(epochs=1, extra="", search="").replace("search:\n", ""))
    elif case == "empty-space":
        spec = write_spec(tmp_path, "  space: {}\n")
    else:
        spec = write_spec(tmp_path, search)
        args = {"bad-study": ["--study", "no/slashes"], "bad-storage": ["--storage", "nonsense"],
                "unreachable": ["--storage", "postgresql://nobody@127.0.0.1:1/none"]}[case]
    out = run_cli("tune", spec, "--sweep-dir", tmp_path / "sw", *args)
    assert out.returncode == 2, out.stdout + out.stderr
    errors = [line for line in out.stderr.splitlines() if line.startswith("specc: error:")]
    assert len(errors) == 1 and "Traceback" not in out.stderr, out.stderr
    expected = {"no-search": "no `search:` section", "empty-space": "an empty search space",
                "bad-study": "--study takes a name", "bad-storage": "--storage takes a database URL",
                "unreachable": "cannot open the study storage postgresql://nobody@127.0.0.1:1/none"}[case]
    assert expected in errors[0]
    assert not (tmp_path / "sw").exists(), "nothing is left behind"


# -- trained sweeps ----------------------------------------------------------------
MIXED = """  objective: {metric: val_loss}
  sampler: grid
  space:
    vars.width: [4, 64]
    compile.optimizer.learning_rate: [0.05, 1.0e+30]
"""


@pytest.fixture(scope="module")
def mixed_sweep(tmp_path_factory):
    """A grid with a point that trains, one whose loss diverges and two that break the budget."""
    folder = tmp_path_factory.mktemp("mixed")
    spec = write_spec(folder, MIXED, extra="budget: {max_params: 200}\n")
    out = run_cli("tune", spec, "--sweep-dir", folder / "sweep", env={"CI": "1"})
    assert out.returncode == 0, out.stderr
    return folder / "sweep", out


@pytest.mark.slow
def test_every_state_is_recorded_and_the_sweep_goes_on(mixed_sweep):
    sweep, out = mixed_sweep
    data = results(sweep)
    assert data["objective"] == {"metric": "val_loss", "direction": "minimize"}
    states = {(t["params"]["vars.width"], t["params"]["compile.optimizer.learning_rate"]): t for t in data["trials"]}
    assert {k: t["state"] for k, t in states.items()} == {
        (4, 0.05): "complete", (4, 1e30): "failed", (64, 0.05): "invalid", (64, 1e30): "invalid"}
    assert "the loss became NaN" in states[(4, 1e30)]["message"]
    assert "E410" in states[(64, 0.05)]["message"]
    for t in data["trials"]:  # each trial has its run directory, its state in run.json
        info = json.loads((sweep / t["run_dir"] / "run.json").read_text())
        assert info["trial"]["state"] == t["state"] and info["trial"]["number"] == t["number"]
        assert (sweep / t["run_dir"] / "model.keras").exists() == (t["state"] != "invalid")
    best = states[(4, 0.05)]
    assert data["best"] == {k: best[k] for k in ("number", "params", "value", "run_dir")}
    history = json.loads((sweep / best["run_dir"] / "history.json").read_text())
    assert best["value"] == min(history["val_loss"]) and best["epochs"] == 2
    rows = list(csv.DictReader((sweep / "results.csv").open()))
    assert [r["state"] for r in rows] == [t["state"] for t in data["trials"]]
    sweep_info = json.loads((sweep / "sweep.json").read_text())
    assert sweep_info["status"] == "complete" and sweep_info["trials"] == 4
    assert {p.name for p in (sweep / "plots").iterdir()} >= {"history.png", "params.png"}
    assert "leaderboard (1 complete, 2 invalid, 1 failed)" in out.stderr
    assert out.stderr.count("\ntrial ") >= 4  # a plain line per finished trial when not on a terminal


@pytest.mark.slow
def test_best_yaml_reproduces_the_best_trial_exactly(mixed_sweep, tmp_path):
    sweep, _ = mixed_sweep
    best = sweep / "best.yaml"
    assert "search:" not in best.read_text()
    out = run_cli("train", best, "--run-dir", tmp_path / "again", "-q")
    assert out.returncode == 0, out.stderr
    trial = sweep / results(sweep)["best"]["run_dir"]
    for name in ("metrics.json", "history.json"):
        assert json.loads((tmp_path / "again" / name).read_text()) == json.loads((trial / name).read_text())


@pytest.mark.slow
def test_resume_refuses_a_changed_spec_and_shows_the_difference(mixed_sweep, tmp_path):
    sweep, _ = mixed_sweep
    spec = json.loads((sweep / "sweep.json").read_text())["spec_file"]
    text = open(spec).read()
    try:
        with open(spec, "w") as f:
            f.write(text.replace("[4, 64]", "[4, 32]"))
        out = run_cli("tune", "--resume", sweep)
    finally:
        with open(spec, "w") as f:
            f.write(text)
    assert out.returncode == 2
    assert "-    vars.width: [4, 64]" in out.stderr and "+    vars.width: [4, 32]" in out.stderr
    assert "start a new study" in out.stderr


@pytest.mark.slow
def test_pruned_trials_keep_their_run_directory(tmp_path):
    """Median pruning: after the first trial, one that learns nothing is stopped at its first epoch."""
    spec = write_spec(tmp_path, """  objective: {metric: val_loss}
  sampler: grid
  pruner: {type: median, n_startup_trials: 1}
  space:
    compile.optimizer.learning_rate: [0.3, 1.0e-9]
""", epochs=4)
    out = run_cli("tune", spec, "--sweep-dir", tmp_path / "sw")
    assert out.returncode == 0, out.stderr
    trials = {t["params"]["compile.optimizer.learning_rate"]: t for t in results(tmp_path / "sw")["trials"]}
    first = min(trials.values(), key=lambda t: t["number"])
    other = max(trials.values(), key=lambda t: t["number"])
    # GridSampler orders the grid by the seed (the spec's, 7): the point that learns runs first
    assert first["params"]["compile.optimizer.learning_rate"] == 0.3
    assert first["state"] == "complete" and first["epochs"] == 4
    assert other["state"] == "pruned" and other["epochs"] < 4, other
    info = run_json(tmp_path / "sw", other["number"])
    assert info["trial"]["state"] == "pruned" and info["epochs_done"] == other["epochs"]
    assert (tmp_path / "sw" / other["run_dir"] / "model.keras").exists()


def wait_for(predicate, proc, timeout=240):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        assert proc.poll() is None, proc.communicate()
        time.sleep(0.05)
    raise AssertionError("the sweep did not get there in time")


def epochs_saved(run_dir):
    try:
        return json.loads((run_dir / "state.json").read_text())["epochs_done"]
    except (OSError, ValueError, KeyError):
        return 0


@pytest.mark.slow
@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGINT], ids=["SIGKILL", "SIGINT"])
def test_a_stopped_sweep_resumes_without_training_anything_twice(tmp_path, sig):
    spec = write_spec(tmp_path, """  sampler: grid
  space:
    compile.optimizer.learning_rate: [0.05, 0.1]
""", epochs=6)
    sweep = tmp_path / "sw"
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", "CI": "1"}
    proc = subprocess.Popen([sys.executable, "-m", "specc", "tune", str(spec), "--sweep-dir", str(sweep)], cwd=ROOT,
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    wait_for(lambda: epochs_saved(sweep / "trials" / "0001") >= 2, proc)
    proc.send_signal(sig)
    _, err = proc.communicate(timeout=120)
    if sig == signal.SIGKILL:
        assert proc.returncode == -signal.SIGKILL
    else:
        assert proc.returncode == 130, err
        assert f"specc tune --resume {sweep}" in err
        assert json.loads((sweep / "sweep.json").read_text())["status"] == "interrupted"
    first = run_json(sweep, 0)
    assert first["status"] == "completed"
    out = run_cli("tune", "--resume", sweep, env={"CI": "1"})
    assert out.returncode == 0, out.stderr
    data = results(sweep)
    assert [t["state"] for t in data["trials"]] == ["complete", "complete"]
    assert run_json(sweep, 0) == first, "a finished trial is kept as it was"
    resumed = run_json(sweep, 1)
    assert resumed["resumed"] and resumed["resumed"][0]["from_epoch"] >= 2 and resumed["status"] == "completed"
    # the resumed trial ends as an uninterrupted training of the same spec would
    again = tmp_path / "again"
    out = run_cli("train", sweep / "trials" / "0001" / "spec.yaml", "--run-dir", again, "-q")
    assert out.returncode == 0, out.stderr
    for name in ("history.json", "metrics.json"):
        assert json.loads((sweep / "trials" / "0001" / name).read_text()) == json.loads((again / name).read_text())


def _independent_workers(tmp_path, storage, study="shared"):
    """Two `specc tune` processes that share nothing but the storage URL (own sweep directories)."""
    spec = write_spec(tmp_path, """  sampler: {type: random, seed: 3}
  trials: 4
  space:
    compile.optimizer.learning_rate: {type: float, low: 0.01, high: 0.3, log: true}
""", epochs=1)
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", "CI": "1"}
    procs = [subprocess.Popen([sys.executable, "-m", "specc", "tune", str(spec), "--storage", storage, "--study",
                               study, "--sweep-dir", str(tmp_path / f"machine{i}")], cwd=ROOT, env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for i in range(2)]
    outs = [p.communicate(timeout=400) for p in procs]
    for p, (_, err) in zip(procs, outs):
        assert p.returncode == 0, err
    trained = {}
    for i in range(2):
        for run in (tmp_path / f"machine{i}" / "trials").iterdir():
            assert run.name not in trained, f"trial {run.name} trained twice"
            trained[run.name] = json.loads((run / "run.json").read_text())
    assert sorted(trained) == ["0000", "0001", "0002", "0003"]
    assert all(info["trial"]["state"] == "complete" for info in trained.values())
    last = max((results(tmp_path / f"machine{i}") for i in range(2)), key=lambda r: len(r["trials"]))
    assert [t["number"] for t in last["trials"]] == [0, 1, 2, 3]
    assert len({t["params"]["compile.optimizer.learning_rate"] for t in last["trials"]}) == 4
    return trained


@pytest.mark.slow
def test_workers_share_a_study_through_the_journal_file(tmp_path):
    _independent_workers(tmp_path, f"journal:{tmp_path / 'shared.journal'}")


@pytest.mark.slow
def test_workers_share_a_study_through_postgresql(tmp_path, postgres_url):
    _independent_workers(tmp_path, postgres_url)
    out = run_cli("tune", write_spec(tmp_path, "  space:\n    vars.width: [4, 8]\n", name="other.yaml"),
                  "--storage", postgres_url, "--study", "shared", "--sweep-dir", tmp_path / "other")
    assert out.returncode == 2 and "searches another spec or space" in out.stderr


def _doc_commands():
    import re

    text = (ROOT / "docs" / "tuning.md").read_text()
    return [line.strip() for block in re.findall(r"```sh\n(.*?)```", text, re.S) for line in block.strip().splitlines()]


@pytest.mark.slow
def test_every_command_of_the_tuning_chapter_runs(tmp_path, postgres_url):
    """docs/tuning.md, in order: the optimizer comparison, its dry run, best.yaml, resume, --jobs and a shared
    PostgreSQL study."""
    import shlex

    (tmp_path / "specs").symlink_to(ROOT / "specs")
    lines = _doc_commands()
    assert len(lines) == 7 and all(line.startswith("specc ") for line in lines)
    outs = []
    for line in lines:
        args = shlex.split(line.replace("postgresql://USER@HOST/DB", postgres_url))[1:]
        out = run_cli(*args, cwd=tmp_path, env={"CI": "1"}, timeout=900)
        assert out.returncode == 0, f"{line}\n{out.stdout}{out.stderr}"
        outs.append(out)
    assert "grid points: 5 of 5" in outs[1].stdout and outs[1].stdout.count("4,810 params  ok") == 5
    sweep = tmp_path / "sweeps" / "optimizers"
    data = results(sweep)
    optimizers = {t["params"]["compile.optimizer"]["type"] for t in data["trials"]}
    assert optimizers == {"SGD", "Adam", "Adadelta", "Adagrad", "RMSprop"}
    assert [t["state"] for t in data["trials"]] == ["complete"] * 5
    documented = (ROOT / "docs" / "tuning.md").read_text()
    assert "leaderboard (5 complete):" in documented and "leaderboard (5 complete):" in outs[2].stderr
    best = sweep / data["best"]["run_dir"]
    retrained = sorted((tmp_path / "runs").iterdir())[-1]  # `specc train best.yaml` wrote runs/NAME-TIME
    assert json.loads((retrained / "metrics.json").read_text()) == json.loads((best / "metrics.json").read_text())
    assert results(sweep)["trials"] == data["trials"], "--resume of a finished sweep trains nothing"
    jobs = results(tmp_path / "sweeps" / "optimizers-2")
    assert len(jobs["trials"]) == 5 and len({t["pid"] for t in jobs["trials"]}) == 2, "two workers trained"
    shared = results(tmp_path / "sweeps" / "machine-a")
    assert [t["state"] for t in shared["trials"]] == ["complete"] * 5
