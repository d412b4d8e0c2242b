"""The fast commands never import TensorFlow or Keras (nor numpy): checked in a fresh interpreter."""

import json
import subprocess
import sys

import pytest
from conftest import ROOT

HEAVY = ("tensorflow", "keras", "numpy", "jax", "torch", "sklearn")

PROBE = """
import sys, runpy
sys.argv = ["specc", *{args!r}]
try:
    runpy.run_module("specc", run_name="__main__")
except SystemExit as e:
    code = e.code
else:
    code = 0
import json
print("@@" + json.dumps({{"code": code, "heavy": [m for m in {heavy!r} if m in sys.modules]}}))
"""


@pytest.mark.parametrize(
    "args",
    [
        ["--help"],
        ["validate", "--help"],
        ["validate", "specs/"],
        ["validate", "--format", "json", "specs/course_cnn.yaml"],
        ["summary", "specs/course_cnn.yaml"],
        ["summary", "--json", "specs/bidirectional_rnn.yaml"],
        ["schema"],
        ["train", "--help"],
    ],
)
def test_fast_commands_do_not_import_tensorflow(args):
    out = subprocess.run([sys.executable, "-c", PROBE.format(args=args, heavy=HEAVY)],
                         capture_output=True, text=True, cwd=ROOT, timeout=60)
    line = next(x for x in out.stdout.splitlines() if x.startswith("@@"))
    result = json.loads(line[2:])
    assert result["code"] in (0, None), out.stdout + out.stderr
    assert result["heavy"] == [], f"{args} imported {result['heavy']}"


def test_invalid_spec_does_not_import_tensorflow(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("specc: 1\nlayers:\n  - {type: Dense, units: 0, input_dim: 3}\n")
    out = subprocess.run([sys.executable, "-c", PROBE.format(args=["validate", str(bad)], heavy=HEAVY)],
                         capture_output=True, text=True, cwd=ROOT, timeout=60)
    result = json.loads(next(x for x in out.stdout.splitlines() if x.startswith("@@"))[2:])
    assert result == {"code": 1, "heavy": []}
