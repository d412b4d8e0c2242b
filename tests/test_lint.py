"""The code style rules, including the one that keeps TensorFlow/Keras imports out of module level."""

import shutil
import subprocess
import sys
from pathlib import Path

from conftest import ROOT


def test_ruff_is_clean():
    beside = Path(sys.executable).parent / "ruff"  # installed with the dev extras into this environment
    ruff = str(beside) if beside.is_file() else shutil.which("ruff")
    assert ruff, "ruff is part of the dev extras: pip install -e '.[dev]'"
    out = subprocess.run([ruff, "check", "specc", "tests", "benchmarks"], cwd=ROOT, capture_output=True, text=True)
    assert out.returncode == 0, out.stdout
