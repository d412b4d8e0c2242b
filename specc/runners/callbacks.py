"""Training callbacks: progress, interruption, resumable state, the best checkpoint.

Imported by the trainer only (specc/runners/train.py, inside the function that trains): this module imports
Keras at its top so that its callbacks are plain classes. What they write to disk, and how, is
specc/runners/state.py.

Keras dispatches batch-level callbacks asynchronously (no per-batch host sync) unless a callback overrides a
*_batch_end hook without declaring itself `async_safe`. Every batch-level hook here only reads the logs or
sets a flag, so all are async-safe, and none is installed unless needed.
"""

from __future__ import annotations

import math
import signal
import time

import keras

from .backend import log_timing
from .files import atomic_keras_save
from .state import plain, save_state, snapshot, write_history


def make_callbacks(ctx) -> list:
    """All callbacks for a run; `ctx` is the trainer's RunContext."""
    train = ctx.spec.train
    callbacks: list = [Interrupt(ctx)]
    if train.terminate_on_nan:
        callbacks.append(StopOnNaN())
    stateful = []
    if train.early_stopping not in (None, False):
        es = train.early_stopping
        stateful.append(Early(ctx, monitor=ctx.monitor(es.monitor), patience=es.patience, min_delta=es.min_delta,
                              mode=es.mode, restore_best_weights=es.restore_best_weights,
                              start_from_epoch=es.start_from_epoch))
    if train.reduce_lr_on_plateau not in (None, False):
        rl = train.reduce_lr_on_plateau
        stateful.append(Plateau(ctx, monitor=ctx.monitor(rl.monitor), factor=rl.factor, patience=rl.patience,
                                min_delta=rl.min_delta, cooldown=rl.cooldown, min_lr=rl.min_lr, mode=rl.mode,
                                verbose=0))
    if train.checkpoint is not False:
        stateful.append(BestCheckpoint(ctx, ctx.monitor(train.checkpoint.monitor), train.checkpoint.mode))
    callbacks += stateful
    if train.tensorboard and ctx.tensorboard_available:
        logs = ctx.run_dir / "tensorboard"
        for sub in ("train", "validation") if ctx.has_validation else ("train",):
            (logs / sub).mkdir(parents=True, exist_ok=True)  # TensorFlow would make them 0755 whatever the umask
        callbacks.append(EpochTensorBoard(log_dir=str(logs), write_graph=False))
    callbacks.append(Progress(ctx))
    callbacks.append(EpochState(ctx, stateful))  # last: sees the logs after every other callback ran
    return callbacks


class Interrupt(keras.callbacks.Callback):
    """Ctrl-C / SIGTERM: stop at the next batch boundary (Keras checks `stop_training` after each
    batch); the last saved epoch state is on disk."""

    def __init__(self, ctx):
        super().__init__()
        self.ctx = ctx
        self.signal = None
        self._previous = {}

    def _handler(self, signum, frame):
        if self.signal is not None:  # a second Ctrl-C: stop now
            raise KeyboardInterrupt
        self.signal = self.ctx.interrupted = signum
        self.model.stop_training = True
        self.ctx.say(f"\nstopping after this batch ({signal.Signals(signum).name}); resume with "
                     f"`specc train --resume {self.ctx.run_dir}`")

    def on_train_begin(self, logs=None):
        for sig in (signal.SIGINT, signal.SIGTERM):
            try:
                self._previous[sig] = signal.signal(sig, self._handler)
            except ValueError:  # not in the main thread
                pass

    def on_train_end(self, logs=None):
        for sig, handler in self._previous.items():
            signal.signal(sig, handler)


class BestCheckpoint(keras.callbacks.Callback):
    """The best weights so far, kept in memory and written to best.keras with each saved state."""

    def __init__(self, ctx, monitor: str, mode: str):
        super().__init__()
        self.ctx = ctx
        self.monitor = monitor
        self.sign = -1.0 if mode == "max" or (mode == "auto" and _higher_is_better(monitor)) else 1.0
        self.best = ctx.restored.get("best_checkpoint", math.inf)
        self.best_weights = None
        self.dirty = False
        self.current_is_best = False  # the model holds the best weights (this epoch improved): save it as it is

    def on_epoch_end(self, epoch, logs=None):
        self.current_is_best = False
        value = (logs or {}).get(self.monitor)
        if value is None or not math.isfinite(value):
            return
        if self.sign * value < self.best:
            self.best = self.sign * value
            self.best_weights = snapshot(self.model)
            self.dirty = self.current_is_best = True
            self.ctx.best_epoch = epoch + 1

    def flush(self):
        if not self.dirty:
            return
        if self.current_is_best:  # the common last epoch of a short run: no copy and swap of the weights
            path = self.ctx.run_dir / "best.keras"
            atomic_keras_save(self.model, path)
            self.ctx.saved = (self.ctx.best_epoch, path)
            self.dirty = False
            return
        current = snapshot(self.model)
        self.model.set_weights(self.best_weights)
        try:
            atomic_keras_save(self.model, self.ctx.run_dir / "best.keras")
        finally:
            self.model.set_weights(current)
        self.dirty = False

    def on_train_end(self, logs=None):
        self.current_is_best = False  # early stopping may have put other weights in the model since
        self.flush()

    def state(self):
        return {"best_checkpoint": self.best}


class Resumable:
    """Mix-in: restore a Keras callback's counters after its on_train_begin reset them."""

    fields: tuple = ()
    key = ""

    def __init__(self, ctx, **kwargs):
        super().__init__(**kwargs)
        self.ctx = ctx

    def on_train_begin(self, logs=None):
        super().on_train_begin(logs)
        saved = self.ctx.restored.get(self.key)
        if saved:
            for name in self.fields:
                if name in saved:
                    setattr(self, name, saved[name])

    def state(self):
        return {self.key: {name: plain(getattr(self, name, None)) for name in self.fields}}


class Early(Resumable, keras.callbacks.EarlyStopping):
    fields = ("wait", "best", "best_epoch", "stopped_epoch")
    key = "early_stopping"

    def on_train_begin(self, logs=None):
        super().on_train_begin(logs)
        if self.ctx.restored_best_weights is not None:
            self.best_weights = self.ctx.restored_best_weights


class Plateau(Resumable, keras.callbacks.ReduceLROnPlateau):
    fields = ("wait", "cooldown_counter", "best")
    key = "reduce_lr_on_plateau"


class StopOnNaN(keras.callbacks.Callback):
    """Keras's TerminateOnNaN, async-safe: it only reads the loss and sets a flag."""

    async_safe = True

    def on_train_batch_end(self, batch, logs=None):
        loss = (logs or {}).get("loss")
        if loss is not None and not math.isfinite(loss):
            self.model.stop_training = True


class EpochTensorBoard(keras.callbacks.TensorBoard):
    """TensorBoard with epoch-level scalars only: no per-batch summaries, no per-batch sync."""

    async_safe = True

    def on_train_batch_end(self, batch, logs=None):
        pass


class Progress(keras.callbacks.Callback):
    """Rich live progress on a terminal; one plain line per epoch otherwise (CI logs).

    With SPECC_TIMINGS=FILE, also appends JSON lines with wall-clock times (first training step,
    each epoch) for profiling and for the benchmarks (``backend.log_timing``).
    """

    async_safe = True

    def __init__(self, ctx):
        super().__init__()
        self.ctx = ctx
        self.live = ctx.tty and not ctx.quiet
        self.bar = None
        self.first = True

    def on_train_begin(self, logs=None):
        if self.live:
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

            self.bar = Progress(TextColumn("[bold]epoch {task.fields[epoch]}"), BarColumn(), MofNCompleteColumn(),
                                TimeRemainingColumn(), TextColumn("{task.fields[metrics]}"), transient=True)
            self.bar.start()
            self.task = self.bar.add_task("train", total=self.ctx.steps_per_epoch, epoch="", metrics="")

    def on_epoch_begin(self, epoch, logs=None):
        self.t0 = time.perf_counter()
        if self.bar is not None:
            self.bar.reset(self.task, total=self.ctx.steps_per_epoch, epoch=f"{epoch + 1}/{self.ctx.epochs}",
                           metrics="")

    def on_train_batch_end(self, batch, logs=None):
        if self.first:
            self.first = False
            log_timing(event="first_step")
        if self.bar is not None:
            self.bar.update(self.task, completed=batch + 1, metrics=_fmt(logs))

    def on_epoch_end(self, epoch, logs=None):
        seconds = time.perf_counter() - self.t0
        log_timing(event="epoch", epoch=epoch + 1, seconds=seconds)
        line = f"epoch {epoch + 1}/{self.ctx.epochs}  {_fmt(logs)}  ({seconds:.1f} s)"
        if self.bar is not None:
            self.bar.console.print(line)
        elif not self.ctx.quiet:
            self.ctx.say(line)

    def on_train_end(self, logs=None):
        if self.bar is not None:
            self.bar.stop()


class EpochState(keras.callbacks.Callback):
    """After each epoch: the history files; every `resume_interval` seconds (and at the last epoch),
    the resumable state, state.json last."""

    def __init__(self, ctx, others):
        super().__init__()
        self.ctx = ctx
        self.others = others
        self.last_save = time.monotonic()

    def on_epoch_end(self, epoch, logs=None):
        ctx = self.ctx
        if ctx.interrupted is not None:
            return  # a partial epoch: resume repeats it from the last saved state
        for key, value in (logs or {}).items():
            ctx.history.setdefault(key, []).append(float(value))
        write_history(ctx.run_dir, ctx.history, durable=False)
        due = time.monotonic() - self.last_save >= ctx.spec.train.resume_interval
        if due or epoch + 1 == ctx.epochs or self.model.stop_training:
            for cb in self.others:
                if hasattr(cb, "flush"):
                    cb.flush()
            save_state(ctx, self.model, epoch + 1, self.others)
            self.last_save = time.monotonic()


def _higher_is_better(monitor: str) -> bool:
    name = monitor.removeprefix("val_")
    return any(k in name for k in ("acc", "auc", "precision", "recall"))


def _fmt(logs) -> str:
    return "  ".join(f"{k} {v:.4f}" for k, v in (logs or {}).items() if isinstance(v, (int, float)))
