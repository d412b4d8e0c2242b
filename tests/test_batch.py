"""specc/batch.py: many files checked in worker processes say exactly what one process says."""

import json
import shutil
import subprocess
import sys
import textwrap

import pytest
from conftest import ROOT, run_cli

from specc.batch import FILES_PER_WORKER, worker_count


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    """A project of 150 specs: every golden broken spec (diagnostics with source lines, in several files) and
    the shipped specs (includes, saved models, data) twice."""
    root = tmp_path_factory.mktemp("corpus")
    (root / "pyproject.toml").write_text("")
    for sub in ("blocks", "pretrained", "data"):
        shutil.copytree(ROOT / "specs" / sub, root / sub)
    for golden in sorted((ROOT / "tests" / "golden").glob("*.yaml")):
        shutil.copy(golden, root / f"golden_{golden.name}")
    for copy in range(2):
        for spec in sorted((ROOT / "specs").glob("*.yaml")):
            shutil.copy(spec, root / f"spec{copy}_{spec.name}")
    assert len(list(root.glob("*.yaml"))) > 2 * FILES_PER_WORKER
    return root


@pytest.mark.parametrize("form", ["text", "json", "github", "sarif"])
def test_workers_report_what_one_process_reports(corpus, form):
    one = run_cli("validate", "--jobs", "1", "--format", form, ".", cwd=corpus)
    two = run_cli("validate", "--jobs", "2", "--format", form, ".", cwd=corpus)
    assert one.returncode == two.returncode == 1, one.stdout[-2000:] + one.stderr
    assert two.stdout == one.stdout
    assert two.stderr == one.stderr
    if form == "json":
        files = json.loads(one.stdout)["files"]
        assert {f["valid"] for f in files} == {True, False}
        assert [f["file"] for f in files] == sorted(f["file"] for f in files)  # in the order of the files


_WHO_CHECKED = """
import os, sys, threading
from pathlib import Path
from specc import batch

original = batch.check_one


def tagged(path, policy):
    return os.getpid(), original(path, policy)


batch.check_one = tagged
if sys.argv[2] == "thread":  # another thread running: forking is unsafe, so nothing may be forked
    threading.Thread(target=threading.Event().wait, daemon=True).start()
files = sorted(Path(sys.argv[1]).glob("*.yaml"))
pids = [pid for pid, _ in batch.check_files(files, batch.Policy(), jobs=2)]
print(len(files), len(pids), len(set(pids) - {os.getpid()}))
"""


def _who_checked(corpus, mode):
    out = subprocess.run([sys.executable, "-c", textwrap.dedent(_WHO_CHECKED), str(corpus), mode],
                         capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert out.returncode == 0, out.stderr
    return [int(n) for n in out.stdout.split()]


def test_many_files_are_checked_by_workers(corpus):
    files, checked, workers = _who_checked(corpus, "plain")
    assert checked == files
    assert workers == 2


def test_a_process_with_threads_checks_files_itself(corpus):
    files, checked, workers = _who_checked(corpus, "thread")
    assert checked == files
    assert workers == 0


def test_worker_count():
    assert worker_count(10, jobs=4) == 4
    assert worker_count(3, jobs=8) == 3  # never more processes than files
    assert worker_count(FILES_PER_WORKER - 1) == 1  # a few files: not worth a process
    assert worker_count(10_000) >= 1
