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

from ..check import CheckResult
from ..paths import spec_relative
from ..render import model_name
from ..version import __version__
from . import RunError
from .files import atomic_keras_save, atomic_write_bytes, atomic_write_json, atomic_write_text
from .rundir import check_new_run_dir, read_json, read_resume_state, record_failure, take_run_dir


class Interrupted(Exception):
    """Training stopped on a signal; the run can be resumed."""

    def __init__(self, run_dir: Path, epochs_done: int):
        super().__init__(f"interrupted after {epochs_done} epoch(s); resume with `specc train --resume {run_dir}`")
        self.run_dir = run_dir


def resolved_spec(result: CheckResult, base: Path) -> dict:
    """The spec as trained: defaults filled in, overrides applied, data and saved-model paths absolute."""
    def absolute(value: str) -> str:
        return value if Path(value).is_absolute() else str(spec_relative(value, base).resolve())

    data = result.spec.model_dump(mode="json", exclude_none=True)
    for value in (data.get("data") or {}).values() if result.spec.data is not None else ():
        if isinstance(value, dict) and "path" in value:
            value["path"] = absolute(value["path"])
        for name in ("x", "y"):  # .npy pairs name files (or a mapping of them, per input/output)
            if isinstance(value, dict) and value.get("type") == "npy" and isinstance(value.get(name), str):
                value[name] = absolute(value[name])
            if isinstance(value, dict) and value.get("type") == "npy" and isinstance(value.get(name), dict):
                value[name] = {k: absolute(v) for k, v in value[name].items()}
    for layers in [data["layers"], *(m["layers"] for m in (data.get("models") or {}).values())]:
        for layer in layers:  # saved models that `type: Model` layers start from
            if layer.get("type") == "Model" and "path" in layer:
                layer["path"] = absolute(layer["path"])
    return data


def dump_yaml(data: dict) -> str:
    """YAML text in specc's canonical layout (the same as `specc fmt`)."""
    import yaml

    from ..fmt import format_text

    return format_text(yaml.safe_dump(data, sort_keys=False, default_flow_style=None, width=100))


def _epoch_held(callbacks: list, epochs_done: int) -> int:
    """The index in the history of the epoch whose weights the model holds after fitting: the last one, or the
    best one when early stopping put its weights back (`restore_best_weights`, the default)."""
    import keras

    for callback in callbacks:
        if isinstance(callback, keras.callbacks.EarlyStopping) and callback.restore_best_weights \
                and callback.best_weights is not None:
            return callback.best_epoch
    return epochs_done - 1


def _recorded_status(run_dir: Path) -> str | None:
    """The status run.json records, if it is readable: a run specc started that saved no resume state."""
    try:
        status = read_json(run_dir / "run.json", "run record (run.json)").get("status")
    except RunError:
        return None
    return status if isinstance(status, str) else None


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
    # (epochs done, a .keras file saved from the model as it was then): a later save of the same weights copies it
    saved: tuple[int, Path] | None = None

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
        run = _Training(scope, result, spec_path, quiet, resume, device, cluster, callbacks or [], provenance or {})
        run.open(run_dir)
        run.load_data()
        run.build()
        run.record()
        run.fit()
        return run.run_dir, run.finish()


class _Training:
    """One training run, step by step: open the run directory (new, or the one resumed), read the data,
    build the model or restore it, record the provenance, fit, then evaluate and write the results.
    A multi-worker run (distribute.py) joins its cluster before Keras is imported, and its worker chooses
    the training input."""

    def __init__(self, scope, result: CheckResult, spec_path: Path | None, quiet: bool, resume: Path | None,
                 device: str, cluster, extra_callbacks: list, provenance: dict):
        self.scope, self.result, self.spec_path, self.quiet = scope, result, spec_path, quiet
        self.extra_callbacks, self.provenance = extra_callbacks, provenance
        self.resume, self.device = resume, device
        self.spec = result.spec
        self.train = result.spec.train
        self.seed = self.spec.seed if self.spec.seed is not None else 0
        self.info: dict = {}  # run.json
        self.state: dict | None = None  # state.json of the resumed run
        self.worker = None
        self.cluster = cluster
        if cluster is not None:  # multi-worker training: join the cluster before Keras is imported
            if resume is not None:
                raise RunError("a multi-worker run cannot be resumed (see docs/distributed.md); train it again")
            from .distribute import start_worker

            self.worker = start_worker(cluster, device)

    def open(self, run_dir: Path | None) -> None:
        """The run directory: the one resumed, or a new (empty) one; the data starts loading and Keras is
        imported here."""
        from .backend import configure_device, import_keras
        from .data import PendingArrays

        if self.resume is None and self.spec_path is not None:  # a missing data file is said before Keras loads
            from .data.expected import check_data_files

            check_data_files(self.result, Path(self.spec_path).resolve().parent)
        configure_device(self.device)
        if self.spec.compile is None:
            raise RunError("the spec has no `compile` section (optimizer and loss); add one to train")
        if self.resume is not None:
            self._open_resumed()
        else:
            self.base = Path(self.spec_path).resolve().parent
            run_dir = Path(run_dir) if run_dir is not None else default_run_dir(self.result)
            if self.worker is not None:  # multi-worker: only the chief writes the run directory
                run_dir = self.worker.run_dir(run_dir)
            check_new_run_dir(run_dir)
            self.run_dir = run_dir
        self.pending = PendingArrays(self.result, self.base, self.spec.seed)  # read while Keras is imported
        self.keras = import_keras()

    def _open_resumed(self) -> None:
        from .data import run_stream_mode

        self.run_dir = self.base = Path(self.resume)
        if not (self.run_dir / "state.json").is_file():
            status = _recorded_status(self.run_dir)
            raise RunError(f"{self.run_dir} stopped before it saved a resume state (status: {status}): nothing to "
                           f"resume; train the spec again" if status else
                           f"{self.run_dir} has no state.json: nothing to resume (was it trained by specc?)")
        take_run_dir(self.scope, self.run_dir, new=False)
        self.info = read_json(self.run_dir / "run.json", "run record (run.json)")
        recorded, spec_file = self.info.get("spec_sha256"), self.run_dir / "spec.yaml"
        self.written_spec = spec_file.read_bytes()  # compared with the spec as resumed when the run is recorded
        if recorded and hashlib.sha256(self.written_spec).hexdigest() != recorded:
            raise RunError(f"{spec_file} is not the spec this run was trained with (its SHA-256 differs from "
                           f"run.json's): resuming would go on training the saved model under another spec; put the "
                           f"file back as it was, or train the edited spec as a new run")
        self.scope.enter_context(run_stream_mode(self.info))

    def load_data(self) -> None:
        """The arrays, split into training, validation and test samples."""
        from .pipeline import hold_out, n_samples

        self.started = datetime.now(timezone.utc)
        self.t0 = time.perf_counter()
        arrays = self.arrays = self.pending.result()
        if arrays.x_val is not None:
            self.x_train, self.y_train, self.x_val, self.y_val = arrays.x_train, arrays.y_train, arrays.x_val, \
                arrays.y_val
        else:
            self.x_train, self.y_train, self.x_val, self.y_val = hold_out(arrays.x_train, arrays.y_train,
                                                                          self.train.validation_split)
        if n_samples(self.x_train) == 0:
            raise RunError(f"{arrays.description}: no training samples left after the test and validation splits")
        self.class_weight = _class_weight(self.train, self.y_train)  # a mismatch is said before the run directory

    def build(self) -> None:
        """A new model (and its spec.yaml), or the resumed run's model and state, compiled for this device."""
        from .backend import device_name, performance
        from .pipeline import n_samples, steps, streamed

        keras, train = self.keras, self.train
        self.spec_text = dump_yaml(resolved_spec(self.result, self.base))
        if self.resume is not None:
            if self.info.get("data", {}).get("fingerprint") not in (None, self.arrays.fingerprint):
                raise RunError("the data differs from the data this run was trained on; cannot resume exactly")
            self.state, model = read_resume_state(keras, self.run_dir)
        else:
            take_run_dir(self.scope, self.run_dir)
            self.scope.push(record_failure(self.run_dir, self.info))
            atomic_write_text(self.run_dir / "spec.yaml", self.spec_text)
        self.backend = keras.backend.backend()
        self.used = device_name()
        perf = self.perf = performance(train, self.used, self.backend)  # the spec's, or the fast preset's
        if self.state is not None:
            compile_, outputs, names = self.spec.compile, self.result.graph.outputs, list(model.output_names)
            model.compile(optimizer=model.optimizer, loss=model.loss,
                          loss_weights=compile_.keras_loss_weights(outputs, names),
                          metrics=compile_.keras_metrics(outputs, names),
                          jit_compile=perf["jit_compile"], steps_per_execution=perf["steps_per_execution"])
        else:
            from ..lower import keras_model

            keras.utils.set_random_seed(self.seed)
            model = keras_model(self.result, **perf)
        self.model = model
        self.ctx = RunContext(spec=self.spec, run_dir=self.run_dir, epochs=train.epochs,
                              steps_per_epoch=steps(n_samples(self.x_train), train.batch_size),
                              has_validation=self.x_val is not None, tty=sys.stderr.isatty(), quiet=self.quiet,
                              tensorboard_available=_tensorboard_available())
        if train.fast:  # say what the preset chose here: it depends on the device and backend
            xla = {True: "on", False: "off"}.get(perf["jit_compile"], "Keras's choice")
            self.ctx.say(f"fast preset on {self.used} ({self.backend}): precision {perf['precision']}, XLA {xla}, "
                         f"{perf['steps_per_execution']} batch(es) per compiled call")
        self.first_epoch = 0
        if self.state is not None:
            self._restore()
        self.counter = None  # the test set's confusion matrix, counted while it is evaluated (one pass, not two)
        if self.worker is None and not streamed(self.arrays.x_test):
            from .confusion import ConfusionCounter

            self.counter = ConfusionCounter.attach(model, self.arrays.y_test)

    def _restore(self) -> None:
        """The resumed run's history, callback counters, random-generator states and best weights."""
        from .state import seed_states

        state, ctx = self.state, self.ctx
        self.first_epoch = state["epochs_done"]
        ctx.history = state["history"]
        ctx.restored = state["callbacks"]
        ctx.best_epoch = state.get("best_epoch")
        saved = state["saved_arrays"]
        for i, variable in enumerate(seed_states(self.model)):
            variable.assign(saved[f"seed_{i}"])
        best = [saved[k] for k in sorted((k for k in saved if k.startswith("best_")), key=lambda k: int(k[5:]))]
        ctx.restored_best_weights = best or None
        self.keras.utils.set_random_seed(self.seed)

    def record(self) -> None:
        """run.json (provenance: versions, device, data, spec), classes.json and the data's artifacts."""
        from .data import stream_mode
        from .pipeline import n_samples

        info, arrays, train, perf = self.info, self.arrays, self.train, self.perf
        info.update({
            "specc_version": __version__,
            "keras_version": self.keras.__version__,
            "backend": self.backend,
            "python": platform.python_version(),
            "platform": platform.platform(),
            "host": platform.node(),  # with the run directory's lock, `specc runs` tells a killed run from a live one
            "device": self.used,
            "argv": sys.argv[1:],
            "spec_file": str(self.spec_path) if self.spec_path else info.get("spec_file"),
            "spec_sha256": hashlib.sha256(self.spec_text.encode()).hexdigest(),
            "seed": self.spec.seed,
            "params": {"total": self.result.params.total, "trainable": self.result.params.trainable},  # as summary
            "precision": perf["precision"],
            "fast": train.fast,
            "stream": stream_mode(),
            "workers": 1,
            "replicas": 1,
            "data": {"source": arrays.description, "fingerprint": arrays.fingerprint,
                     "train_samples": n_samples(self.x_train),
                     "validation_samples": 0 if self.x_val is None else n_samples(self.x_val),
                     "test_samples": n_samples(arrays.x_test)},
            "started": info.get("started", self.started.isoformat()),
            "status": "running",
        })
        info.update(self.provenance)
        if self.worker is not None:  # multi-worker: workers, replicas, engine
            info.update(self.worker.provenance(train.batch_size))
        if self.resume is not None:
            info.setdefault("resumed", []).append({"at": self.started.isoformat(), "from_epoch": self.first_epoch})
            if self.written_spec != self.spec_text.encode():  # a larger --epochs
                atomic_write_text(self.run_dir / "spec.yaml", self.spec_text)
        atomic_write_json(self.run_dir / "run.json", info)
        self.scope.push(record_failure(self.run_dir, info))  # from here on a failure is recorded (resumed runs too)
        if arrays.classes is not None and (self.spec.data is None or self.spec.data.target != "input"):
            atomic_write_json(self.run_dir / "classes.json", list(arrays.classes))
        for name, content in (getattr(arrays, "artifacts", None) or {}).items():
            if isinstance(content, (bytes, bytearray)):
                atomic_write_bytes(self.run_dir / name, bytes(content))
            else:
                atomic_write_json(self.run_dir / name, content)

    def fit(self) -> None:
        """Fit from the first epoch not done yet; on a signal, record the interruption and raise Interrupted."""
        from .callbacks import make_callbacks
        from .pipeline import Batching, batches, streamed, streamed_reads, training_input
        from .state import load_state
        from .tracking import tracking_callbacks

        train, ctx, worker, cluster = self.train, self.ctx, self.worker, self.cluster
        callbacks = self.callbacks = make_callbacks(ctx)
        callbacks[-1:-1] = self.extra_callbacks  # before the epoch state, which then sees a stop they ask for
        callbacks += tracking_callbacks(ctx, self.info) if cluster is None or cluster.chief else []  # track: (MLflow)
        batching = Batching(train.batch_size, self.seed, self.first_epoch, train.epochs, train.shuffle, self.backend)
        if worker is not None:  # multi-worker: this worker's share of every global batch; signals stop it at once
            data, fit_kw = worker.training_input(self.x_train, self.y_train, batching)
            callbacks += worker.callbacks(train)
        else:
            data, fit_kw = training_input(self.x_train, self.y_train, batching)
        validation, validation_batch = (self.x_val, self.y_val), train.batch_size
        if self.x_val is None:
            validation = None
        elif streamed(self.x_val) or streamed(self.y_val):  # read batch by batch, never whole
            validation, validation_batch = batches(self.x_val, self.y_val, train.batch_size, self.backend), None
        if self.first_epoch < train.epochs:
            try:
                with streamed_reads():
                    self.model.fit(data, epochs=train.epochs, initial_epoch=self.first_epoch, verbose=0,
                                   callbacks=callbacks, validation_data=validation,
                                   validation_batch_size=validation_batch, shuffle=False,  # the pipeline shuffles
                                   class_weight=self.class_weight, **fit_kw)
            except KeyboardInterrupt:  # a second Ctrl-C: stop immediately
                ctx.interrupted = ctx.interrupted or 2
        if worker is not None:  # multi-worker: evaluate, plot and save on one device
            self.model = worker.local_model(self.model, self.result, self.perf)
        if ctx.interrupted is not None:
            run_dir = self.run_dir
            epochs_done = load_state(run_dir)["epochs_done"] if (run_dir / "state.json").is_file() else 0
            self.info.update(status="interrupted", epochs_done=epochs_done,
                             ended=datetime.now(timezone.utc).isoformat())
            atomic_write_json(run_dir / "run.json", self.info)
            raise Interrupted(run_dir, epochs_done)

    def finish(self) -> dict:
        """Evaluate on the test samples; write the models, history, metrics, plots and the final run.json."""
        import numpy as np

        from ..lower import named_submodels
        from .pipeline import batches, n_samples, streamed, streamed_reads
        from .plots import write_plots
        from .state import write_history
        from .tracking import finish_tracking

        train, ctx, arrays, model, run_dir = self.train, self.ctx, self.arrays, self.model, self.run_dir
        epochs_done = len(ctx.history.get("loss", []))
        status = "completed"
        if ctx.history.get("loss") and not np.isfinite(ctx.history["loss"][-1]):
            status = "stopped: loss became NaN"
        elif epochs_done < train.epochs:
            status = f"stopped early after {epochs_done} epochs"
        if not n_samples(arrays.x_test):
            test = {}
        elif streamed(arrays.x_test) or streamed(arrays.y_test):
            with streamed_reads():
                test = model.evaluate(batches(arrays.x_test, arrays.y_test, train.batch_size, self.backend),
                                      verbose=0, return_dict=True)
        else:
            if self.counter is not None:
                self.counter.reset()  # validation batches counted too
            test = model.evaluate(arrays.x_test, arrays.y_test, batch_size=train.batch_size, verbose=0,
                                  return_dict=True)
        counted = self.counter.matrix(n_samples(arrays.x_test)) if self.counter is not None and test else None
        held = _epoch_held(self.callbacks, epochs_done)  # the epoch of the weights the model ends with
        at = {k: v[held] for k, v in ctx.history.items() if len(v) > held}
        metrics = {
            "train": {k: v for k, v in at.items() if not k.startswith("val_")},
            "validation": {k[4:]: v for k, v in at.items() if k.startswith("val_")},
            "test": {k: float(v) for k, v in test.items()},
        }
        same = ctx.saved[1] if ctx.saved and ctx.saved[0] == held + 1 == epochs_done and self.worker is None else None
        atomic_keras_save(model, run_dir / "model.keras", same_as=same)
        for key, sub in named_submodels(self.result, model).items():  # usable on their own, e.g. a trained encoder
            atomic_keras_save(sub, run_dir / "models" / f"{key}.keras")
        write_history(run_dir, ctx.history)
        atomic_write_json(run_dir / "metrics.json", metrics)
        write_plots(run_dir, ctx.history, model, arrays, train.batch_size, counted)
        self.info.update(status=status, epochs_done=epochs_done, best_epoch=ctx.best_epoch,
                         ended=datetime.now(timezone.utc).isoformat(), seconds=round(time.perf_counter() - self.t0, 3))
        atomic_write_json(run_dir / "run.json", self.info)
        finish_tracking(self.callbacks, run_dir)  # the test metrics and files, once the run directory is complete
        if self.worker is not None:
            self.worker.done()
        return metrics

