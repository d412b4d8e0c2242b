"""Importing Keras for the runners (specc/runners/backend.py): in specc's own process the garbage collector makes
no full pass during the import, only young ones, and what the import built is frozen, and the optional packages
Keras would load for features specc never uses are left out; in anyone else's process both are left alone."""

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
keras = backend.import_keras()
seen = {{"full": passes.count(2), "young": len(passes) - passes.count(2), "frozen": gc.get_freeze_count(),
        "enabled": gc.isenabled(), "thresholds_kept": gc.get_threshold() == thresholds,
        "loaded": sorted(name for name in backend.OPTIONAL_PACKAGES if name in sys.modules),
        "finders": len(sys.meta_path), "backend": keras.backend.backend()}}
import sklearn.preprocessing, pandas  # still importable afterwards, by anyone
print("@@" + json.dumps(seen))
"""


def _import(claim: bool, env: dict | None = None) -> dict:
    out = subprocess.run([sys.executable, "-c", PROBE.format(claim=claim)], cwd=ROOT, capture_output=True, text=True,
                         timeout=300, env=env)
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


def test_keras_s_optional_packages_are_left_out_only_in_specc_s_own_process():
    """Keras and TensorFlow load scikit-learn, pandas, matplotlib, SciPy and JAX when they are installed (the dev
    extra installs them all); specc's own process leaves them out of the import, and takes its finder away after."""
    own, script = _import(True), _import(False)
    assert own["loaded"] == [] and own["backend"] == "tensorflow"
    assert {"sklearn", "pandas", "matplotlib", "scipy", "jax"} <= set(script["loaded"])
    assert own["finders"] == script["finders"]


def test_jax_is_kept_on_keras_s_jax_backend():
    import os

    seen = _import(True, env={**os.environ, "KERAS_BACKEND": "jax"})
    assert seen["backend"] == "jax" and "jax" in seen["loaded"]
    assert not {"sklearn", "pandas", "matplotlib"} & set(seen["loaded"])
