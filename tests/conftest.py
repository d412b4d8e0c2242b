import os
import subprocess
import sys
from pathlib import Path

import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

ROOT = Path(__file__).resolve().parent.parent
SPECS = sorted((ROOT / "specs").glob("*.yaml"))


def run_cli(*args, cwd=None, env=None, timeout=300):
    """Run the real CLI in a subprocess: `python -m specc ARGS`."""
    full_env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", **(env or {})}
    return subprocess.run(
        [sys.executable, "-m", "specc", *map(str, args)],
        capture_output=True, text=True, cwd=cwd or ROOT, env=full_env, timeout=timeout,
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


def probe_cli(*args, heavy=HEAVY, timeout=120):
    """Run `specc ARGS` in a fresh interpreter: (its exit code, which of ``heavy`` it imported, the process)."""
    import json

    out = subprocess.run([sys.executable, "-c", _PROBE.format(args=[str(a) for a in args], heavy=heavy)],
                         capture_output=True, text=True, cwd=ROOT, timeout=timeout)
    line = next((x for x in out.stdout.splitlines() if x.startswith("@@")), None)
    assert line is not None, out.stdout + out.stderr
    result = json.loads(line[2:])
    return result["code"], result["heavy"], out


@pytest.fixture
def cli():
    return run_cli


PG_BIN = Path("/usr/lib/postgresql/15/bin")


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
