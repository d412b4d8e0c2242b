"""`specc evaluate RUN_DIR`: metrics of a trained run on its test split."""

from __future__ import annotations

import json
from pathlib import Path

from . import RunError
from .backend import import_keras


def evaluate_run(run_dir: Path, data: Path | None = None) -> dict:
    """Reload the run's spec, data and model; return the test metrics."""
    from ..check import check_file

    run_dir = Path(run_dir)
    for name in ("spec.yaml", "model.keras", "run.json"):
        if not (run_dir / name).is_file():
            raise RunError(f"{run_dir} is not a complete run directory (no {name})")
    result = check_file(run_dir / "spec.yaml")
    if not result.ok:
        first = result.errors[0]
        raise RunError(f"{run_dir / 'spec.yaml'}: {first.message}")
    info = json.loads((run_dir / "run.json").read_text())

    keras = import_keras()

    from .data import load_arrays

    if data is not None:
        raise RunError("--data is not supported yet")
    arrays = load_arrays(result, run_dir, result.spec.seed)
    expected = info.get("data", {}).get("fingerprint")
    if expected and arrays.fingerprint != expected:
        raise RunError(f"the data differs from the data the run was trained on (fingerprint {arrays.fingerprint}, "
                       f"run.json says {expected})")
    model = keras.saving.load_model(run_dir / "model.keras")
    out = model.evaluate(arrays.x_test, arrays.y_test, batch_size=result.spec.train.batch_size, verbose=0,
                         return_dict=True)
    return {k: float(v) for k, v in out.items()}
