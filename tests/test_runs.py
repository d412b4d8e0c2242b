"""`specc runs`: the table of real run directories (and sweeps), in every format, without TensorFlow."""

import csv
import io
import json
import shutil

import pytest
from conftest import probe_cli, run_cli

pytestmark = pytest.mark.slow  # the runs are trained for real (once per test process)


def metrics(run):
    return json.loads((run / "metrics.json").read_text())


def test_table_shows_what_differs_and_nothing_else(tiny_runs):
    out = run_cli("runs", tiny_runs["root"])
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    head = lines[0].split()
    assert head == ["run", "name", "status", "started", "duration", "epochs", "params", "test_accuracy", "test_loss",
                    "compile.optimizer.learning_rate"]  # the only spec value the two runs differ in
    rows = {line.split()[0].rsplit("/", 1)[-1]: line.split() for line in lines[1:]}
    assert set(rows) == {"a", "b"}
    for name, rate in (("a", "0.01"), ("b", "0.05")):
        row = rows[name]
        assert row[1:3] == ["blobs", "completed"]
        assert row[6:8] == ["3", "131"]  # epochs; parameters: 4*16+16 + 16*3+3
        assert row[8] == f"{metrics(tiny_runs[name])['test']['accuracy']:.4f}"
        assert row[-1] == rate
    assert out.stderr == ""


def test_json_has_every_metric_and_the_differing_spec_values(tiny_runs):
    out = run_cli("runs", tiny_runs["a"], tiny_runs["b"], "--format", "json")
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    assert [r["run"].rsplit("/", 1)[-1] for r in data["runs"]] == ["a", "b"]  # oldest first
    for item in data["runs"]:
        run = tiny_runs[item["run"].rsplit("/", 1)[-1]]
        assert item["metrics"] == metrics(run)
        info = json.loads((run / "run.json").read_text())
        assert item["seconds"] == info["seconds"] and item["started"] == info["started"]
        assert item["params"] == 131 and item["epochs"] == 3
    assert [r["spec"] for r in data["runs"]] == [{"compile.optimizer.learning_rate": 0.01},
                                                 {"compile.optimizer.learning_rate": 0.05}]
    assert data["notes"] == []


def test_one_run_shows_no_spec_columns(tiny_runs):
    data = json.loads(run_cli("runs", tiny_runs["a"], "-f", "json").stdout)
    assert len(data["runs"]) == 1 and data["runs"][0]["spec"] == {}


@pytest.mark.parametrize("key", ["accuracy", "test_loss", "val_accuracy"])
def test_sort_puts_the_best_first(tiny_runs, key):
    out = run_cli("runs", tiny_runs["root"], "--sort", key, "-f", "csv")
    if key == "val_accuracy":  # the table has test metrics only: a clear usage error, listing the columns
        assert out.returncode == 2 and "test_accuracy" in out.stderr
        return
    assert out.returncode == 0, out.stderr
    column = key if key.startswith("test_") else f"test_{key}"
    values = [float(r[column]) for r in csv.DictReader(io.StringIO(out.stdout))]
    assert len(values) == 2
    assert values == sorted(values, reverse=key == "accuracy")
    reverse = run_cli("runs", tiny_runs["root"], "--sort", key, "--reverse", "-f", "csv")
    assert [float(r[column]) for r in csv.DictReader(io.StringIO(reverse.stdout))] == values[::-1]


def test_csv_keeps_full_values_and_markdown_is_a_table(tiny_runs):
    rows = list(csv.DictReader(io.StringIO(run_cli("runs", tiny_runs["root"], "-f", "csv").stdout)))
    by_name = {r["run"].rsplit("/", 1)[-1]: r for r in rows}
    assert float(by_name["a"]["test_loss"]) == metrics(tiny_runs["a"])["test"]["loss"]  # not rounded
    assert by_name["b"]["compile.optimizer.learning_rate"] == "0.05"
    md = run_cli("runs", tiny_runs["root"], "-f", "markdown").stdout.splitlines()
    assert md[0].startswith("| run | name | status |") and md[1].startswith("|---|")
    assert len(md) == 4 and all(line.count("|") == md[0].count("|") for line in md)


def test_status_filter_broken_and_foreign_folders(tiny_runs, tmp_path):
    root = tmp_path / "runs"
    shutil.copytree(tiny_runs["a"], root / "done")
    shutil.copytree(tiny_runs["b"], root / "stopped")
    info = json.loads((root / "stopped" / "run.json").read_text())
    (root / "stopped" / "run.json").write_text(json.dumps({**info, "status": "interrupted"}))
    (root / "bad").mkdir()
    (root / "bad" / "run.json").write_text("{not json")
    (root / "photos").mkdir()
    (root / "photos" / "cat.jpg").write_bytes(b"\xff\xd8")
    (root / "nospec").mkdir()
    (root / "nospec" / "run.json").write_text(json.dumps({"status": "completed", "started": "2020-01-01T00:00"}))
    out = run_cli("runs", root)
    assert out.returncode == 0, out.stderr
    assert "Traceback" not in out.stderr
    status = {line.split()[0].rsplit("/", 1)[-1]: line.split()[2] for line in out.stdout.splitlines()[1:]}
    assert status == {"done": "completed", "stopped": "interrupted", "bad": "broken", "nospec": "completed"}
    assert f"note: {root / 'bad'}: run.json is not valid JSON" in out.stderr
    assert f"note: {root / 'photos'}: skipped, not a specc run (no run.json)" in out.stderr
    assert f"note: {root / 'nospec'}: no spec.yaml" in out.stderr
    only = run_cli("runs", root, "--status", "interrupted", "--status", "broken", "-f", "json")
    assert sorted(r["run"].rsplit("/", 1)[-1] for r in json.loads(only.stdout)["runs"]) == ["bad", "stopped"]


def test_a_sweep_lists_its_trials(tiny_runs, tmp_path):
    """The layout `specc tune` writes: trials/NNNN run directories, results.json also naming trials that never
    trained (an invalid point)."""
    sweep = tmp_path / "sweep"
    for number, name in ((0, "a"), (1, "b")):
        shutil.copytree(tiny_runs[name], sweep / "trials" / f"{number:04d}")
    results = {"objective": {"metric": "val_accuracy", "direction": "maximize"}, "trials": [
        {"number": 0, "params": {"compile.optimizer.learning_rate": 0.01}, "value": 0.9, "state": "complete",
         "epochs": 3, "run_dir": "trials/0000", "message": None},
        {"number": 1, "params": {"compile.optimizer.learning_rate": 0.05}, "value": 0.5, "state": "pruned",
         "epochs": 3, "run_dir": "trials/0001", "message": None},
        {"number": 2, "params": {"compile.optimizer.learning_rate": 9.0}, "value": None, "state": "invalid",
         "epochs": 0, "run_dir": None, "message": "E301 learning_rate too large"}]}
    (sweep / "results.json").write_text(json.dumps(results))
    (sweep / "sweep.json").write_text(json.dumps({"specc_sweep": 1, "name": "blobs", "objective": results["objective"],
                                                  "trials": 3, "status": "complete"}))
    data = json.loads(run_cli("runs", tmp_path, "-f", "json").stdout)
    assert [(r["trial"]["number"], r["status"]) for r in data["runs"]] == [(0, "completed"), (1, "pruned"),
                                                                          (2, "invalid")]
    assert all(r["sweep"] == str(sweep) for r in data["runs"])
    assert data["runs"][2]["notes"] == ["E301 learning_rate too large"]
    # paths that reach the same runs list each once (each was listed once per path, and counted in sorts)
    again = run_cli("runs", sweep / "trials" / "0000", tmp_path, sweep, tiny_runs["a"], tiny_runs["a"], "-f", "json")
    assert again.returncode == 0 and "no runs found" not in again.stderr, again.stderr
    listed = sorted(r["run"] for r in json.loads(again.stdout)["runs"])
    assert listed == sorted([str(sweep / "trials" / f"{n:04d}") for n in range(3)] + [str(tiny_runs["a"])])


def test_damaged_sweeps_and_an_empty_run_json_are_notes_not_tracebacks(tiny_runs, tmp_path):
    """Each of these crashed `specc runs` over the whole parent folder, or `report` and `compare`."""
    root = tmp_path / "runs"
    shutil.copytree(tiny_runs["a"], root / "good")
    shutil.copytree(tiny_runs["b"], root / "odd" / "trials" / "\u00b2")  # '²'.isdigit() is True; int() refuses it
    (root / "odd" / "sweep.json").write_text(json.dumps({"objective": {"metric": 5}}))
    (root / "odd" / "results.json").write_text(json.dumps({"trials": 5}))
    (root / "empty").mkdir()
    (root / "empty" / "run.json").write_text("{}")
    out = run_cli("runs", root, "-f", "json")
    assert out.returncode == 0 and "Traceback" not in out.stderr, out.stderr
    found = {r["run"].rsplit("/", 1)[-1]: r for r in json.loads(out.stdout)["runs"]}
    assert found["good"]["status"] == "completed" and found["\u00b2"]["trial"]["number"] is None
    assert found["empty"]["status"] == "broken" and found["empty"]["notes"] == ["run.json is empty ({}): no run specc wrote"]
    report = run_cli("report", root / "odd", "-o", tmp_path / "odd.html")
    assert report.returncode == 0 and "Traceback" not in report.stderr, report.stderr
    for args in (["report", root / "empty", "-o", tmp_path / "empty.html"], ["compare", root / "good", root / "empty"]):
        refused = run_cli(*args)
        assert refused.returncode == 2 and refused.stderr.strip().endswith("run.json is empty ({}): no run specc wrote")


def test_usage_errors(tiny_runs, tmp_path):
    for args, expected in ((["--status", "complete"], "did you mean 'completed'"),
                           (["-f", "yaml"], "unknown format"),
                           ([str(tmp_path / "missing")], "no such folder")):
        out = run_cli("runs", tiny_runs["root"], *args)
        assert out.returncode == 2 and expected in out.stderr, out.stderr
    empty = run_cli("runs", tmp_path)
    assert empty.returncode == 0 and "no runs" in empty.stderr


def test_runs_never_imports_tensorflow(tiny_runs):
    code, heavy, out = probe_cli("runs", tiny_runs["root"])
    assert code in (0, None), out.stderr
    assert heavy == []


_HOLD = """
import sys, time
from contextlib import ExitStack
from pathlib import Path
from specc.runners.rundir import take_run_dir
scope = ExitStack()
take_run_dir(scope, Path(sys.argv[1]), new=False)  # the lock `specc train` holds while it runs
print("held", flush=True)
time.sleep(600)
"""


def test_a_running_run_whose_process_is_gone_is_killed(tiny_runs, tmp_path):
    """run.json says "running" until the run ends; a SIGKILL ends it with nothing written. `specc runs` tells
    the two apart by the run directory's lock, for runs of this machine."""
    import platform
    import signal
    import subprocess
    import sys

    root = tmp_path / "runs"
    for name, host in (("here", platform.node()), ("elsewhere", "another-machine")):
        shutil.copytree(tiny_runs["a"], root / name)
        info = json.loads((root / name / "run.json").read_text())
        (root / name / "run.json").write_text(json.dumps({**info, "status": "running", "host": host}))

    def statuses():
        out = run_cli("runs", root, "-f", "json")
        assert out.returncode == 0, out.stderr
        return {r["run"].rsplit("/", 1)[-1]: r["status"] for r in json.loads(out.stdout)["runs"]}

    holder = subprocess.Popen([sys.executable, "-c", _HOLD, str(root / "here")], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        assert statuses() == {"here": "running", "elsewhere": "running"}
    finally:
        holder.send_signal(signal.SIGKILL)
        holder.wait(timeout=60)
    assert statuses() == {"here": "killed", "elsewhere": "running"}  # another machine's run: cannot be told
    only = run_cli("runs", root, "--status", "killed", "-f", "json")
    assert [r["run"].rsplit("/", 1)[-1] for r in json.loads(only.stdout)["runs"]] == ["here"]
