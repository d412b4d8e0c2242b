"""`specc train`: fit a checked spec on its data and write a run directory.

The run directory holds the resolved spec (as trained, after overrides and
defaults), the model (.keras), the history (CSV and JSON), metrics.json and
run.json (provenance). Every file is written atomically.
"""

from __future__ import annotations

import csv
import hashlib
import io
import platform
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

from .. import __version__
from ..check import CheckResult
from ..render import model_name
from ..schema.data import NpzSource
from . import RunError
from .backend import device_name, import_keras
from .files import atomic_keras_save, atomic_write_json, atomic_write_text

TrainError = RunError  # the name the CLI uses


def resolved_spec(result: CheckResult, base: Path, epochs: int | None = None) -> dict:
    """The spec as trained: defaults filled in, overrides applied, data paths absolute."""
    data = result.spec.model_dump(mode="json", exclude_none=True)
    if epochs is not None:
        data["train"]["epochs"] = epochs
    spec_data = result.spec.data
    if spec_data is not None:
        for key in ("source", "test"):
            source = getattr(spec_data, key)
            if isinstance(source, NpzSource) and not Path(source.path).is_absolute():
                data["data"][key]["path"] = str((base / source.path).resolve())
    return data


def dump_yaml(data: dict) -> str:
    import yaml

    return yaml.safe_dump(data, sort_keys=False, default_flow_style=None, width=100)


def default_run_dir(result: CheckResult) -> Path:
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    return Path("runs") / f"{model_name(result)}-{stamp}"


def _history_csv(history: dict) -> str:
    keys = list(history)
    out = io.StringIO()
    w = csv.writer(out)
    w.writerow(["epoch", *keys])
    for i in range(len(history[keys[0]]) if keys else 0):
        w.writerow([i + 1, *(history[k][i] for k in keys)])
    return out.getvalue()


def _split_metrics(history: dict) -> dict:
    last = {k: float(v[-1]) for k, v in history.items()}
    return {
        "train": {k: v for k, v in last.items() if not k.startswith("val_")},
        "validation": {k[4:]: v for k, v in last.items() if k.startswith("val_")},
    }


def train_run(result: CheckResult, spec_path: Path, run_dir: Path | None = None, epochs: int | None = None,
              quiet: bool = False) -> Path:
    keras = import_keras()

    from ..lower import keras_model
    from .data import load_arrays

    spec = result.spec
    base = Path(spec_path).resolve().parent
    run_dir = Path(run_dir) if run_dir is not None else default_run_dir(result)
    if run_dir.exists() and any(run_dir.iterdir()):
        raise RunError(f"run directory {run_dir} already exists and is not empty; choose another with --run-dir")
    started = datetime.now(timezone.utc)
    t0 = time.perf_counter()
    arrays = load_arrays(result, base, spec.seed)
    model = keras_model(result)
    if spec.compile is None:
        raise RunError("the spec has no `compile` section (optimizer and loss); add one to train")

    resolved = resolved_spec(result, base, epochs)
    run_dir.mkdir(parents=True, exist_ok=True)
    spec_text = dump_yaml(resolved)
    atomic_write_text(run_dir / "spec.yaml", spec_text)
    run_info = {
        "specc_version": __version__,
        "keras_version": keras.__version__,
        "backend": keras.backend.backend(),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "device": device_name(),
        "argv": sys.argv[1:],
        "spec_file": str(spec_path),
        "spec_sha256": hashlib.sha256(spec_text.encode()).hexdigest(),
        "seed": spec.seed,
        "data": {"source": arrays.description, "fingerprint": arrays.fingerprint,
                 "train_samples": len(arrays.x_train), "test_samples": len(arrays.x_test)},
        "started": started.isoformat(),
        "status": "running",
    }
    atomic_write_json(run_dir / "run.json", run_info)

    train = spec.train
    n_epochs = epochs if epochs is not None else train.epochs
    verbose = 0 if quiet else (1 if sys.stdout.isatty() else 2)
    try:
        history = model.fit(
            arrays.x_train, arrays.y_train,
            epochs=n_epochs, batch_size=train.batch_size,
            validation_split=train.validation_split or 0.0, shuffle=train.shuffle, verbose=verbose,
        ).history
    except KeyboardInterrupt:
        run_info.update(status="interrupted", ended=datetime.now(timezone.utc).isoformat())
        atomic_write_json(run_dir / "run.json", run_info)
        raise
    test = model.evaluate(arrays.x_test, arrays.y_test, batch_size=train.batch_size, verbose=0, return_dict=True)
    metrics = _split_metrics(history)
    metrics["test"] = {k: float(v) for k, v in test.items()}

    atomic_keras_save(model, run_dir / "model.keras")
    atomic_write_json(run_dir / "history.json", {k: [float(x) for x in v] for k, v in history.items()})
    atomic_write_text(run_dir / "history.csv", _history_csv(history))
    atomic_write_json(run_dir / "metrics.json", metrics)
    run_info.update(status="completed", epochs=n_epochs, ended=datetime.now(timezone.utc).isoformat(),
                    seconds=round(time.perf_counter() - t0, 3))
    atomic_write_json(run_dir / "run.json", run_info)
    if not quiet:
        for split in ("train", "validation", "test"):
            if metrics.get(split):
                shown = ", ".join(f"{k} {v:.4f}" for k, v in metrics[split].items())
                print(f"{split:>10}: {shown}")
    return run_dir
