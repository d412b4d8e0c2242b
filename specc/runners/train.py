"""`specc train`: fit a checked spec on its data and write a run directory.

The run directory holds the resolved spec (as trained: defaults filled in,
overrides applied), the final model and the best checkpoint (.keras), the
history (CSV and JSON, rewritten after every epoch), metrics.json, plots,
TensorBoard logs and run.json (provenance). Every file is written atomically.
`--resume` continues an interrupted run and ends with exactly the weights an
uninterrupted run would have (see pipeline.py and callbacks.py).
"""

from __future__ import annotations

import hashlib
import platform
import sys
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from .. import __version__
from ..check import CheckResult
from ..render import model_name
from . import RunError
from .files import atomic_keras_save, atomic_write_json, atomic_write_text
from .rundir import check_new_run_dir, read_json, read_resume_state, record_failure, take_run_dir


class Interrupted(Exception):
    """Training stopped on a signal; the run can be resumed."""

    def __init__(self, run_dir: Path, epochs_done: int):
        super().__init__(f"interrupted after {epochs_done} epoch(s); resume with `specc train --resume {run_dir}`")
        self.run_dir = run_dir


def resolved_spec(result: CheckResult, base: Path) -> dict:
    """The spec as trained: defaults filled in, overrides applied, data paths absolute."""
    data = result.spec.model_dump(mode="json", exclude_none=True)
    spec_data = result.spec.data
    if spec_data is not None:
        for value in data["data"].values():
            if isinstance(value, dict) and "path" in value and not Path(value["path"]).is_absolute():
                value["path"] = str((base / value["path"]).resolve())
            for name in ("x", "y"):  # .npy pairs name files (or a mapping of them, per input/output)
                if isinstance(value, dict) and value.get("type") == "npy" and isinstance(value.get(name), str):
                    if not Path(value[name]).is_absolute():
                        value[name] = str((base / value[name]).resolve())
                if isinstance(value, dict) and value.get("type") == "npy" and isinstance(value.get(name), dict):
                    value[name] = {k: v if Path(v).is_absolute() else str((base / v).resolve())
                                   for k, v in value[name].items()}
    for layers in [data["layers"], *(m["layers"] for m in (data.get("models") or {}).values())]:
        for layer in layers:  # saved models that `type: Model` layers start from
            if layer.get("type") == "Model" and "path" in layer and not Path(layer["path"]).is_absolute():
                layer["path"] = str((base / layer["path"]).resolve())
    return data


def dump_yaml(data: dict) -> str:
    """YAML text in specc's canonical layout (the same as `specc fmt`)."""
    import yaml

    from ..fmt import format_text

    return format_text(yaml.safe_dump(data, sort_keys=False, default_flow_style=None, width=100))


def default_run_dir(result: CheckResult) -> Path:
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    return Path("runs") / f"{model_name(result)}-{stamp}"


@dataclass
class RunContext:
    spec: object
    run_dir: Path
    epochs: int
    steps_per_epoch: int
    has_validation: bool
    tty: bool
    quiet: bool
    tensorboard_available: bool
    history: dict = field(default_factory=dict)
    restored: dict = field(default_factory=dict)
    restored_best_weights: list | None = None
    best_epoch: int | None = None
    interrupted: int | None = None  # the signal that asked training to stop

    def monitor(self, name: str) -> str:
        """A `val_` quantity falls back to its training counterpart when there is no validation data."""
        return name if self.has_validation or not name.startswith("val_") else name[4:]

    def say(self, message: str) -> None:
        if not self.quiet:
            print(message, file=sys.stderr, flush=True)


def _tensorboard_available() -> bool:
    """Keras's TensorBoard callback writes through ``tensorflow.summary``, on every backend, and needs the
    tensorboard package besides (TensorFlow no longer ships it): a JAX-only install trains without logs."""
    import importlib.util

    return all(importlib.util.find_spec(name) is not None for name in ("tensorboard", "tensorflow"))


def _class_weight(train, y) -> dict | None:
    import numpy as np

    if train.class_weight is None:
        return None
    labels = y.argmax(-1) if y.ndim > 1 and y.shape[-1] > 1 else y.reshape(-1).astype(int)
    if train.class_weight == "balanced":
        counts = np.bincount(labels)
        return {i: float(len(labels) / (len(counts) * c)) for i, c in enumerate(counts) if c}
    if labels.size and int(labels.max()) >= len(train.class_weight):
        raise RunError(f"train.class_weight gives {len(train.class_weight)} weight(s), but the labels have "
                       f"{int(labels.max()) + 1} classes: give one weight per class")
    return {i: float(w) for i, w in enumerate(train.class_weight)}


def train_run(result: CheckResult, spec_path: Path | None, run_dir: Path | None = None, quiet: bool = False,
              resume: Path | None = None, device: str = "auto", cluster=None, callbacks: list | None = None,
              provenance: dict | None = None) -> tuple[Path, dict]:
    """Train; returns (run directory, metrics). Raises RunError for user problems, Interrupted on a signal.
    `cluster` (distribute.Cluster): this process is one worker of a data-parallel run. `callbacks`: more Keras
    callbacks (a sweep's pruning); `provenance`: more keys for run.json (a sweep's trial)."""
    from contextlib import ExitStack

    with ExitStack() as scope:  # what holds while this run trains (a resumed run's way of reading its data)
        return _train_run(scope, result, spec_path, run_dir, quiet, resume, device, cluster, callbacks or [],
                          provenance or {})


def _train_run(scope, result: CheckResult, spec_path: Path | None, run_dir: Path | None, quiet: bool,
               resume: Path | None, device: str, cluster, extra_callbacks: list, provenance: dict
               ) -> tuple[Path, dict]:
    # --- multi-worker training (distribute.py): join the cluster before Keras is imported ---
    worker = None
    if cluster is not None:
        if resume is not None:
            raise RunError("a multi-worker run cannot be resumed (see docs/distributed.md); train it again")
        from .distribute import start_worker

        worker = start_worker(cluster, device)
    # ---
    if resume is None and spec_path is not None:  # a missing data file is said before seconds of importing Keras
        from .data.expected import check_data_files

        check_data_files(result, Path(spec_path).resolve().parent)
    from .backend import configure_device, device_name, import_keras, performance

    configure_device(device)
    keras = import_keras()
    import numpy as np

    from .callbacks import load_state, make_callbacks, seed_states, write_history
    from .data import load_arrays, stream_mode
    from .pipeline import batches, hold_out, n_samples, steps, streamed, training_input
    from .tracking import finish_tracking, tracking_callbacks

    spec = result.spec
    train = spec.train
    seed = spec.seed if spec.seed is not None else 0
    backend = keras.backend.backend()

    if spec.compile is None:
        raise RunError("the spec has no `compile` section (optimizer and loss); add one to train")
    info: dict = {}
    if resume is not None:
        from .data import run_stream_mode

        run_dir = Path(resume)
        if not (run_dir / "state.json").is_file():
            raise RunError(f"{run_dir} has no state.json: nothing to resume (was it trained by specc?)")
        base = run_dir
        take_run_dir(scope, run_dir, new=False)
        info = read_json(run_dir / "run.json", "run record (run.json)")
        scope.enter_context(run_stream_mode(info))
    else:
        base = Path(spec_path).resolve().parent
        run_dir = Path(run_dir) if run_dir is not None else default_run_dir(result)
        if worker is not None:  # multi-worker: only the chief writes the run directory
            run_dir = worker.run_dir(run_dir)
        check_new_run_dir(run_dir)

    started = datetime.now(timezone.utc)
    t0 = time.perf_counter()
    arrays = load_arrays(result, base, spec.seed)
    if arrays.x_val is not None:
        x_train, y_train, x_val, y_val = arrays.x_train, arrays.y_train, arrays.x_val, arrays.y_val
    else:
        x_train, y_train, x_val, y_val = hold_out(arrays.x_train, arrays.y_train, train.validation_split)
    if n_samples(x_train) == 0:
        raise RunError(f"{arrays.description}: no training samples left after the test and validation splits")

    resolved = resolved_spec(result, base)
    spec_text = dump_yaml(resolved)
    if resume is not None:
        if info.get("data", {}).get("fingerprint") not in (None, arrays.fingerprint):
            raise RunError("the data differs from the data this run was trained on; cannot resume exactly")
        state, model = read_resume_state(keras, run_dir)
    else:
        take_run_dir(scope, run_dir)
        scope.push(record_failure(run_dir, info))
        atomic_write_text(run_dir / "spec.yaml", spec_text)
        state = None

    used = device_name()
    perf = performance(train, used, backend)  # the spec's precision/XLA/steps per call, or the fast preset's
    if resume is not None:
        outputs, names = result.graph.outputs, list(model.output_names)
        model.compile(optimizer=model.optimizer, loss=model.loss, loss_weights=spec.compile.keras_loss_weights(
                      outputs, names), metrics=spec.compile.keras_metrics(outputs, names),
                      jit_compile=perf["jit_compile"], steps_per_execution=perf["steps_per_execution"])
    else:
        from ..lower import keras_model

        keras.utils.set_random_seed(seed)
        model = keras_model(result, **perf)

    ctx = RunContext(spec=spec, run_dir=run_dir, epochs=train.epochs, steps_per_epoch=steps(n_samples(x_train), train.batch_size),
                     has_validation=x_val is not None, tty=sys.stderr.isatty(), quiet=quiet,
                     tensorboard_available=_tensorboard_available())
    if train.fast:  # say what the preset chose here: it depends on the device and backend
        xla = {True: "on", False: "off"}.get(perf["jit_compile"], "Keras's choice")
        ctx.say(f"fast preset on {used} ({backend}): precision {perf['precision']}, XLA {xla}, "
                f"{perf['steps_per_execution']} batch(es) per compiled call")
    first_epoch = 0
    if state is not None:
        first_epoch = state["epochs_done"]
        ctx.history = state["history"]
        ctx.restored = state["callbacks"]
        ctx.best_epoch = state.get("best_epoch")
        saved = state["saved_arrays"]
        for i, variable in enumerate(seed_states(model)):
            variable.assign(saved[f"seed_{i}"])
        best = [saved[k] for k in sorted((k for k in saved if k.startswith("best_")), key=lambda k: int(k[5:]))]
        ctx.restored_best_weights = best or None
        keras.utils.set_random_seed(seed)

    info.update({
        "specc_version": __version__,
        "keras_version": keras.__version__,
        "backend": backend,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "device": used,
        "argv": sys.argv[1:],
        "spec_file": str(spec_path) if spec_path else info.get("spec_file"),
        "spec_sha256": hashlib.sha256(spec_text.encode()).hexdigest(),
        "seed": spec.seed,
        "params": {"total": result.params.total, "trainable": result.params.trainable},  # as `specc summary`
        "precision": perf["precision"],
        "fast": train.fast,
        "stream": stream_mode(),
        "workers": 1,
        "replicas": 1,
        "data": {"source": arrays.description, "fingerprint": arrays.fingerprint,
                 "train_samples": n_samples(x_train), "validation_samples": 0 if x_val is None else n_samples(x_val),
                 "test_samples": n_samples(arrays.x_test)},
        "started": info.get("started", started.isoformat()),
        "status": "running",
    })
    info.update(provenance)
    if worker is not None:  # multi-worker: workers, replicas, engine
        info.update(worker.provenance(train.batch_size))
    if resume is not None:
        info.setdefault("resumed", []).append({"at": started.isoformat(), "from_epoch": first_epoch})
    atomic_write_json(run_dir / "run.json", info)
    scope.push(record_failure(run_dir, info))  # from here on a failure is recorded (resumed runs too)

    if arrays.classes is not None and (spec.data is None or spec.data.target != "input"):  # not an autoencoder's
        atomic_write_json(run_dir / "classes.json", list(arrays.classes))
    for name, content in (getattr(arrays, "artifacts", None) or {}).items():
        if isinstance(content, (bytes, bytearray)):
            from .files import atomic_write_bytes

            atomic_write_bytes(run_dir / name, bytes(content))
        else:
            atomic_write_json(run_dir / name, content)

    callbacks = make_callbacks(ctx)
    callbacks[-1:-1] = extra_callbacks  # before the epoch state, which then sees a stop they ask for
    callbacks += tracking_callbacks(ctx, info) if cluster is None or cluster.chief else []  # track: (MLflow)
    data, fit_kw = training_input(x_train, y_train, train.batch_size, seed, first_epoch, train.epochs,
                                  train.shuffle, backend)
    if worker is not None:  # multi-worker: this worker's share of every global batch; signals stop it at once
        data, fit_kw = worker.training_input(x_train, y_train, train.batch_size, seed, first_epoch, train.shuffle)
        callbacks += worker.callbacks(train)
    status = "completed"
    validation, validation_batch = (x_val, y_val), train.batch_size
    if x_val is None:
        validation = None
    elif streamed(x_val) or streamed(y_val):  # read batch by batch, never whole
        validation, validation_batch = batches(x_val, y_val, train.batch_size, backend), None
    if first_epoch < train.epochs:
        try:
            model.fit(data, epochs=train.epochs, initial_epoch=first_epoch, verbose=0, callbacks=callbacks,
                      validation_data=validation,
                      validation_batch_size=validation_batch, shuffle=False,  # the pipeline shuffles
                      class_weight=_class_weight(train, y_train), **fit_kw)
        except KeyboardInterrupt:  # a second Ctrl-C: stop immediately
            ctx.interrupted = ctx.interrupted or 2
    if worker is not None:  # multi-worker: evaluate, plot and save on one device
        model = worker.local_model(model, result, perf)
    epochs_done = len(ctx.history.get("loss", []))
    if ctx.interrupted is not None:
        epochs_done = load_state(run_dir)["epochs_done"] if (run_dir / "state.json").is_file() else 0
        info.update(status="interrupted", epochs_done=epochs_done, ended=datetime.now(timezone.utc).isoformat())
        atomic_write_json(run_dir / "run.json", info)
        raise Interrupted(run_dir, epochs_done)
    if ctx.history.get("loss") and not np.isfinite(ctx.history["loss"][-1]):
        status = "stopped: loss became NaN"
    elif epochs_done < train.epochs:
        status = f"stopped early after {epochs_done} epochs"

    if not n_samples(arrays.x_test):
        test = {}
    elif streamed(arrays.x_test) or streamed(arrays.y_test):
        test = model.evaluate(batches(arrays.x_test, arrays.y_test, train.batch_size, backend), verbose=0,
                              return_dict=True)
    else:
        test = model.evaluate(arrays.x_test, arrays.y_test, batch_size=train.batch_size, verbose=0,
                              return_dict=True)
    last = {k: v[-1] for k, v in ctx.history.items()}
    metrics = {
        "train": {k: v for k, v in last.items() if not k.startswith("val_")},
        "validation": {k[4:]: v for k, v in last.items() if k.startswith("val_")},
        "test": {k: float(v) for k, v in test.items()},
    }
    atomic_keras_save(model, run_dir / "model.keras")
    from ..lower import named_submodels

    for key, sub in named_submodels(result, model).items():  # usable on their own, e.g. a trained encoder
        atomic_keras_save(sub, run_dir / "models" / f"{key}.keras")
    write_history(run_dir, ctx.history)
    atomic_write_json(run_dir / "metrics.json", metrics)
    from .plots import write_plots

    write_plots(run_dir, ctx.history, model, arrays, train.batch_size)
    info.update(status=status, epochs_done=epochs_done, best_epoch=ctx.best_epoch,
                ended=datetime.now(timezone.utc).isoformat(), seconds=round(time.perf_counter() - t0, 3))
    atomic_write_json(run_dir / "run.json", info)
    finish_tracking(callbacks, run_dir)  # the test metrics and files, once the run directory is complete
    if worker is not None:
        worker.done()
    return run_dir, metrics

