"""Importing Keras for the runners (specc/runners/backend.py): in specc's own process the garbage collector makes
no full pass during the import, only young ones, and what the import built is frozen; in anyone else's process
the collector is left alone."""

import json
import subprocess
import sys

import pytest
from conftest import ROOT

PROBE = """
import gc, json, sys
from specc.runners import backend
if {claim}:
    backend.claim_process()
passes = []
gc.callbacks.append(lambda phase, info: passes.append(info["generation"]) if phase == "start" else None)
thresholds = gc.get_threshold()
backend.import_keras()
print("@@" + json.dumps({{"full": passes.count(2), "young": len(passes) - passes.count(2),
                         "frozen": gc.get_freeze_count(), "enabled": gc.isenabled(),
                         "thresholds_kept": gc.get_threshold() == thresholds}}))
"""


def _import(claim: bool) -> dict:
    out = subprocess.run([sys.executable, "-c", PROBE.format(claim=claim)], cwd=ROOT, capture_output=True, text=True,
                         timeout=300)
    assert out.returncode == 0, out.stderr
    return json.loads(next(line for line in out.stdout.splitlines() if line.startswith("@@"))[2:])


@pytest.mark.parametrize("claim", [True, False])
def test_keras_s_import_makes_no_full_collection_only_in_specc_s_own_process(claim):
    seen = _import(claim)
    assert seen["enabled"] and seen["thresholds_kept"]
    assert seen["young"] > 100  # the import's short-lived cycles are still freed
    if claim:  # no full pass during the import, and none later over what it built
        assert seen["full"] == 0 and seen["frozen"] > 100_000
    else:  # a script's or a notebook's process: collected as usual, nothing frozen
        assert seen["full"] > 0 and seen["frozen"] == 0
