"""`specc predict RUN_DIR INPUT -o OUT`."""

from __future__ import annotations

from pathlib import Path

from . import RunError


def predict_run(run_dir: Path, input: Path, output: Path) -> int:
    raise RunError("predict is not implemented yet")
