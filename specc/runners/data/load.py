"""``load_arrays``: the data of a spec, whichever way it is given: checked against the model first, then one
source (prepare.py) or one per model input and output (named.py)."""

from __future__ import annotations

from pathlib import Path

from ...check import CheckResult
from .. import RunError
from .expected import check_data_files
from .named import load_named_arrays, per_name
from .prepare import prepare_arrays
from .records import Arrays


def load_arrays(result: CheckResult, base: Path, seed: int | None) -> Arrays:
    """The train/test (and validation) arrays for a valid spec, prepared and checked against the model."""
    data = result.spec.data
    if data is None:
        raise RunError("the spec has no `data` section; add one (see docs/training.md)")
    check_data_files(result, base)
    if per_name(data):
        return load_named_arrays(result, base, seed)
    return prepare_arrays(result, base, seed)
