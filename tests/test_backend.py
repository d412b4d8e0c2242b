"""Importing Keras for the runners (specc/runners/backend.py): in specc's own process the garbage collector is
paused for the import and what it built is frozen; in anyone else's process the collector is left alone."""

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
full = []
gc.callbacks.append(lambda phase, info: full.append(1) if phase == "start" and info["generation"] == 2 else None)
backend.import_keras()
print("@@" + json.dumps({{"full": len(full), "frozen": gc.get_freeze_count(), "enabled": gc.isenabled()}}))
"""


def _import(claim: bool) -> dict:
    out = subprocess.run([sys.executable, "-c", PROBE.format(claim=claim)], cwd=ROOT, capture_output=True, text=True,
                         timeout=300)
    assert out.returncode == 0, out.stderr
    return json.loads(next(line for line in out.stdout.splitlines() if line.startswith("@@"))[2:])


@pytest.mark.parametrize("claim", [True, False])
def test_the_collector_is_paused_for_keras_s_import_only_in_specc_s_own_process(claim):
    seen = _import(claim)
    assert seen["enabled"]
    if claim:  # no full pass during the import, and none later over what it built
        assert seen["full"] == 0 and seen["frozen"] > 100_000
    else:  # a script's or a notebook's process: collected as usual, nothing frozen
        assert seen["full"] > 0 and seen["frozen"] == 0
