import os
import subprocess
import sys
from pathlib import Path

import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

ROOT = Path(__file__).resolve().parent.parent
SPECS = sorted((ROOT / "specs").glob("*.yaml"))


def run_cli(*args, cwd=None, env=None, timeout=300, umask=-1, input=None):
    """Run the real CLI in a subprocess: `python -m specc ARGS` (with ``umask``, under that umask; ``input``: its
    standard input)."""
    full_env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", **(env or {})}
    return subprocess.run(
        [sys.executable, "-m", "specc", *map(str, args)],
        capture_output=True, text=True, cwd=cwd or ROOT, env=full_env, timeout=timeout, umask=umask, input=input,
    )


# Modules a static command must not import (TensorFlow alone costs seconds and half a gigabyte).
HEAVY = ("tensorflow", "keras", "numpy", "jax", "torch", "sklearn")

_PROBE = """
import sys, runpy, json
sys.argv = ["specc", *{args!r}]
try:
    runpy.run_module("specc", run_name="__main__")
except SystemExit as e:
    code = e.code
else:
    code = 0
print("@@" + json.dumps({{"code": code, "heavy": [m for m in {heavy!r} if m in sys.modules]}}))
"""


def probe_cli(*args, heavy=HEAVY, timeout=120, env=None, cwd=None):
    """Run `specc ARGS` in a fresh interpreter: (its exit code, which of ``heavy`` it imported, the process).
    ``env``: variables added to the environment (shell completion is asked for this way)."""
    import json

    out = subprocess.run([sys.executable, "-c", _PROBE.format(args=[str(a) for a in args], heavy=heavy)],
                         capture_output=True, text=True, cwd=cwd or ROOT, timeout=timeout,
                         env={**os.environ, **(env or {})})
    line = next((x for x in out.stdout.splitlines() if x.startswith("@@")), None)
    assert line is not None, out.stdout + out.stderr
    result = json.loads(line[2:])
    return result["code"], result["heavy"], out


def probe_python(code: str, heavy=HEAVY, timeout=120):
    """Run Python ``code`` in a fresh interpreter: (which of ``heavy`` it imported, the process)."""
    import json

    probe = code + f"\nimport sys, json\nprint('@@' + json.dumps([m for m in {tuple(heavy)!r} if m in sys.modules]))\n"
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, cwd=ROOT, timeout=timeout)
    line = next((x for x in out.stdout.splitlines() if x.startswith("@@")), None)
    assert line is not None, out.stdout + out.stderr
    return json.loads(line[2:]), out


def env_with_specc_on_path(folder: Path) -> dict:
    """An environment with a `specc` command on PATH that runs this checkout (what shells and their
    completion scripts call)."""
    bin_dir = folder / "bin"
    bin_dir.mkdir(exist_ok=True)
    exe = bin_dir / "specc"
    exe.write_text(f'#!/bin/sh\nexec "{sys.executable}" -m specc "$@"\n')
    exe.chmod(0o755)
    return {**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}",
            "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
            "_TYPER_COMPLETE_TEST_DISABLE_SHELL_DETECTION": "1"}


def assert_names_its_schema(spec: Path) -> None:
    """The spec's first line is the yaml-language-server modeline, and the schema file it names (relative to
    the spec, as editors resolve it) validates the spec."""
    import json
    import re

    import jsonschema

    from specc.loader import load_text

    text = spec.read_text()
    match = re.match(r"# yaml-language-server: \$schema=(\S+)\n", text)
    assert match, text.splitlines()[0]
    schema = json.loads((spec.parent / match.group(1)).read_text())
    jsonschema.validate(load_text(text)[0].data, schema)


@pytest.fixture
def cli():
    return run_cli


def blobs(path, n=240, classes=3, seed=0, label_offset=0):
    """Three well-separated Gaussian blobs in 4-D: any working model learns them."""
    import numpy as np

    rng = np.random.default_rng(seed)
    y = rng.integers(0, classes, n)
    centers = rng.normal(0, 4, (classes, 4))
    x = centers[y] + rng.normal(0, 0.5, (n, 4))
    np.savez(path, features=x.astype("float32"), labels=(y + label_offset).astype("int64"))


TINY_SPEC = """\
specc: 1
name: blobs
seed: 3
layers:
  - {type: Dense, units: 16, activation: relu, input_dim: 4}
  - {type: Dense, units: 3, activation: softmax}
compile:
  optimizer: {type: Adam, learning_rate: 1.0e-2}
  loss: sparse_categorical_crossentropy
  metrics: [accuracy]
train: {epochs: 3, batch_size: 16, validation_split: 0.2, tensorboard: false}
data:
  source: {type: npz, path: blobs.npz, x: features, y: labels}
  test_split: 0.25
"""


@pytest.fixture(scope="session")
def tiny_runs(tmp_path_factory) -> dict:
    """Two real runs of a tiny classifier (131 parameters, 3 epochs) that differ only in the learning rate
    (`a`: 0.01, `b`: 0.05), trained once per test process under one folder (`root`). Read them; copy one
    before changing it."""
    base = tmp_path_factory.mktemp("tiny_runs")
    blobs(base / "blobs.npz")
    spec = base / "blobs.yaml"
    spec.write_text(TINY_SPEC)
    root = base / "runs"
    runs = {"spec": spec, "root": root}
    for name, rate in (("a", "0.01"), ("b", "0.05")):
        out = run_cli("train", spec, "--run-dir", root / name, "-q", "--set", f"compile.optimizer.learning_rate={rate}")
        assert out.returncode == 0, out.stderr
        runs[name] = root / name
    return runs


@pytest.fixture(scope="session")
def postgres_url():
    """A real PostgreSQL server on 127.0.0.1 (Debian's postgresql package; .ci/run installs it), started in a
    temporary directory as an unprivileged user (postgres refuses to run as root) and stopped at the end.
    Fails, never skips, when it cannot start."""
    import shutil
    import socket
    import tempfile
    import time

    bins = sorted(Path("/usr/lib/postgresql").glob("*/bin/pg_ctl"))
    assert bins, "PostgreSQL is not installed (apt-get install postgresql; .ci/run does it)"
    bin_dir = bins[-1].parent
    as_user: list[str] = []
    if os.geteuid() == 0:
        as_user = ["runuser", "-u", "postgres", "--"]
    root = Path(tempfile.mkdtemp(prefix="specc-pg-"))
    if as_user:
        shutil.chown(root, "postgres", "postgres")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    data, log = root / "data", root / "log"

    def run(*cmd):
        out = subprocess.run([*as_user, *map(str, cmd)], capture_output=True, text=True, timeout=120)
        assert out.returncode == 0, f"{cmd[0]} failed: {out.stdout}{out.stderr}" + (
            log.read_text() if log.exists() else "")

    run(bin_dir / "initdb", "-D", data, "-A", "trust", "-U", "postgres")
    run(bin_dir / "pg_ctl", "-D", data, "-l", log, "-w", "-o",
        f"-h 127.0.0.1 -p {port} -k {root} -c fsync=off", "start")
    try:
        run(bin_dir / "createdb", "-h", "127.0.0.1", "-p", port, "-U", "postgres", "specc")
        yield f"postgresql://postgres@127.0.0.1:{port}/specc"
    finally:
        run(bin_dir / "pg_ctl", "-D", data, "-m", "immediate", "stop")
        time.sleep(0.1)
        shutil.rmtree(root, ignore_errors=True)
