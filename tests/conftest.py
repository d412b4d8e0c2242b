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


def probe_python(code: str, heavy=HEAVY, timeout=120):
    """Run Python ``code`` in a fresh interpreter: (which of ``heavy`` it imported, the process)."""
    import json

    probe = code + f"\nimport sys, json\nprint('@@' + json.dumps([m for m in {tuple(heavy)!r} if m in sys.modules]))\n"
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, cwd=ROOT, timeout=timeout)
    line = next((x for x in out.stdout.splitlines() if x.startswith("@@")), None)
    assert line is not None, out.stdout + out.stderr
    return json.loads(line[2:]), out


@pytest.fixture
def cli():
    return run_cli
