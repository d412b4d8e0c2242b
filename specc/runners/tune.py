"""`specc tune`: a hyperparameter sweep on Optuna, every trial a normal specc run, every point checked first.

    SWEEP_DIR/sweep.json, spec.yaml          what was asked (the layout is in docs/tuning.md)
    SWEEP_DIR/study.journal                  the Optuna study (the embedded default; or --storage URL)
    SWEEP_DIR/trials/0000/ ...               one run directory per trial
    SWEEP_DIR/results.json, results.csv, best.yaml, plots/   written by tune_results.py

Optuna samples, prunes and keeps the study; this module asks it for a point, writes the point into the spec
(overrides.set_value, as `--set` does), checks that spec statically (a point that fails never trains: it is
told to the sampler as pruned and recorded `invalid`), trains it with runners/train.py in this process
(TensorFlow is imported once per worker; the Keras session is cleared between trials) and tells Optuna the
objective. A trial killed with its worker stays RUNNING in the study; `--resume` finishes it from its
checkpoint with train.py's exact resume.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import re
import signal
import socket
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable

from ..analysis.search import PointCheck, check_point
from ..check import CheckResult, check_document
from ..loader import Document, load_text
from ..schema.search import Categorical, Search
from . import RunError
from .files import atomic_write_json, atomic_write_text
from .train import Interrupted
from .tune_results import counted, optuna_choice, values_of

DEFAULT_STORAGE = "journal:study.journal"  # relative to the sweep directory
STUDY_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,127}$")
SWEEP_FORMAT = 1


class TuneError(Exception):
    """A problem with how the sweep was asked for (storage, study, sweep directory): exit 2, no traceback."""


@dataclass
class Sweep:
    dir: Path
    spec_file: Path  # the spec it came from: relative data paths and includes start beside it
    text: str  # that spec's text, `search:` included
    storage: str
    study: str
    trials: int  # the requested count
    doc: Document = None
    result: CheckResult = None
    info: dict = field(default_factory=dict)  # sweep.json
    shared: bool = False  # other processes ask this study for trials too (--jobs, --storage)

    @property
    def search(self) -> Search:
        return self.result.spec.search

    @property
    def grid(self) -> dict[str, list] | None:
        return self.search.grid_space() if self.search.sampler.type == "grid" else None

    def write_info(self, **changes) -> None:
        self.info.update(changes)
        atomic_write_json(self.dir / "sweep.json", self.info)


def require_optuna():
    try:
        import optuna
    except ImportError:
        raise TuneError("specc tune needs Optuna: pip install 'specc[tune]'") from None
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    return optuna


# -- the sweep directory -------------------------------------------------------
def spec_hash(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def target_trials(search: Search, asked: int | None) -> int:
    from ..schema.search import DEFAULT_TRIALS

    grid = search.grid_space() if search.sampler.type == "grid" else None
    size = math.prod(len(v) for v in grid.values()) if grid is not None else None
    wanted = asked or search.trials or size or DEFAULT_TRIALS
    return min(wanted, size) if size is not None else wanted


def new_sweep(spec_path: Path, result: CheckResult, sweep_dir: Path, trials: int | None, storage: str | None,
              study: str | None) -> Sweep:
    """Take the sweep directory (it must be new or empty) and write sweep.json and spec.yaml."""
    if study is not None and not STUDY_NAME.fullmatch(study):
        raise TuneError(f"--study takes a name of letters, digits, '_', '.' and '-' (at most 128, starting with a "
                        f"letter or digit); got '{study}'")
    if (sweep_dir / "sweep.json").exists():
        raise TuneError(f"{sweep_dir} already holds a sweep; continue it with `specc tune --resume {sweep_dir}` or "
                        f"choose another --sweep-dir")
    if sweep_dir.exists() and (not sweep_dir.is_dir() or any(sweep_dir.iterdir())):
        raise TuneError(f"{sweep_dir} exists and is not an empty directory; choose another --sweep-dir")
    text = result.source.text
    name = result.spec.name or spec_path.stem
    sweep = Sweep(dir=sweep_dir, spec_file=spec_path.resolve(), text=text, storage=storage or DEFAULT_STORAGE,
                  study=study or name.replace(" ", "-")[:128], trials=target_trials(result.spec.search, trials),
                  doc=result.source, result=result, shared=storage not in (None, DEFAULT_STORAGE))
    if not STUDY_NAME.fullmatch(sweep.study):
        sweep.study = "sweep"
    sweep_dir.mkdir(parents=True, exist_ok=True)
    atomic_write_text(sweep_dir / "spec.yaml", text)
    objective = result.spec.search.objective
    sweep.info = {"specc_sweep": SWEEP_FORMAT, "name": name, "spec_hash": spec_hash(text), "study": sweep.study,
                  "storage": sweep.storage, "objective": {"metric": objective.metric,
                                                          "direction": objective.resolved_direction},
                  "trials": sweep.trials, "status": "running", "created": datetime.now(timezone.utc).isoformat(),
                  "spec_file": str(sweep.spec_file), "host": socket.gethostname(), "pid": os.getpid()}
    sweep.write_info()
    try:
        open_study(sweep)
    except TuneError:
        for name in ("sweep.json", "spec.yaml", "study.journal"):
            (sweep_dir / name).unlink(missing_ok=True)
        if not any(sweep_dir.iterdir()):
            sweep_dir.rmdir()
        raise
    return sweep


def load_sweep(sweep_dir: Path, trials: int | None = None) -> Sweep:
    """An existing sweep (for --resume and for the workers of --jobs), its spec checked again."""
    try:
        info = json.loads((sweep_dir / "sweep.json").read_text())
        text = (sweep_dir / "spec.yaml").read_text(encoding="utf-8")
    except (OSError, ValueError) as e:
        raise TuneError(f"{sweep_dir} is not a sweep directory ({e})") from None
    if info.get("specc_sweep") != SWEEP_FORMAT:
        raise TuneError(f"{sweep_dir}/sweep.json is not a specc sweep (format {info.get('specc_sweep')!r})")
    spec_file = Path(info["spec_file"])
    doc, errors = load_text(text, str(sweep_dir / "spec.yaml"))
    doc.location = spec_file
    result = check_document(doc, errors)
    blocking = blocking_errors(result)
    if blocking:
        raise TuneError(f"{sweep_dir}/spec.yaml no longer passes the checker: {blocking[0].message}")
    result.diagnostics = []
    sweep = Sweep(dir=sweep_dir, spec_file=spec_file, text=text, storage=info["storage"], study=info["study"],
                  trials=trials or info["trials"], doc=result.source, result=result, info=info,
                  shared=info["storage"] != DEFAULT_STORAGE)
    return sweep


def blocking_errors(result: CheckResult) -> list:
    """The errors that stop a sweep: all but failing points of the space (E502), which are recorded `invalid`
    as the sweep reaches them and never train."""
    return [d for d in result.errors if d.code != "E502"]


def spec_change(old: str, new: str, old_name: str, new_name: str) -> str | None:
    """A unified diff of two spec texts, or None when they are the same."""
    if old == new:
        return None
    import difflib

    return "\n".join(difflib.unified_diff(old.splitlines(), new.splitlines(), old_name, new_name, lineterm=""))


# -- Optuna: storage, study, sampler, pruner ------------------------------------
def _redacted(url: str) -> str:
    return re.sub(r"//([^:/@]+):[^@/]*@", r"//\1:***@", url)


def open_storage(url: str, base: Path):
    """Optuna storage for a URL: `journal:FILE` (Optuna's journal file, relative to the sweep directory) or a
    database URL for Optuna's RDB storage (postgresql://, mysql://, sqlite:///)."""
    optuna = require_optuna()
    if url.startswith("journal:"):
        from optuna.storages import JournalStorage
        from optuna.storages.journal import JournalFileBackend

        path = Path(url[len("journal:"):])
        path = path if path.is_absolute() else base / path
        if not path.parent.is_dir():
            raise TuneError(f"cannot open the study storage {url}: {path.parent} is not a directory")
        return JournalStorage(JournalFileBackend(str(path)))
    if not re.match(r"^[a-z][a-z0-9+]*://", url):
        raise TuneError(f"--storage takes a database URL (postgresql://..., mysql://..., sqlite:///FILE) or "
                        f"journal:FILE; got '{_redacted(url)}'")
    kwargs = {"connect_args": {"connect_timeout": 10}} if url.startswith("postgresql") else {}
    for attempt in range(5):
        try:
            return optuna.storages.RDBStorage(_driver(url), engine_kwargs=kwargs)
        except Exception as e:  # sqlalchemy's errors, a missing driver: the URL is the user's
            first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
            if attempt < 4 and any(w in first for w in ("duplicate key", "already exists", "UniqueViolation")):
                time.sleep(0.2 * (attempt + 1))  # two workers creating Optuna's tables at once: the other won
                continue
            raise TuneError(f"cannot open the study storage {_redacted(url)}: {first}") from None


def _driver(url: str) -> str:
    """`postgresql://` with the driver that is installed: SQLAlchemy 2.1 reads it as psycopg (3), and specc[tune]
    installs psycopg2."""
    import importlib.util

    if url.startswith("postgresql://") and importlib.util.find_spec("psycopg") is None and \
            importlib.util.find_spec("psycopg2") is not None:
        return "postgresql+psycopg2://" + url[len("postgresql://"):]
    return url


def make_sampler(sweep: Sweep):
    optuna = require_optuna()
    s = sweep.search.sampler
    seed = s.seed if s.seed is not None else sweep.result.spec.seed
    # Random and TPE workers with one seed would all suggest the same points; grid workers need one seed, which
    # orders the grid (GridSampler shuffles it) the same way in every process.
    if seed is not None and sweep.shared and s.type != "grid":
        seed += os.getpid()
    if s.type == "grid":
        class Grid(optuna.samplers.GridSampler):
            def after_trial(self, study, trial, state, values):
                """GridSampler stops an optimize loop when its grid is done; trials here are asked and told
                (ask/tell), and the sweep stops at its count, which is at most the grid's size."""

        space = {k: [optuna_choice(v) for v in values] for k, values in sweep.grid.items()}
        return Grid(space, seed=seed)
    if s.type == "random":
        return optuna.samplers.RandomSampler(seed=seed)
    kw = {"n_startup_trials": s.n_startup_trials} if s.n_startup_trials is not None else {}
    return optuna.samplers.TPESampler(seed=seed, **kw)


def make_pruner(sweep: Sweep):
    optuna = require_optuna()
    p = sweep.search.pruner
    epochs = sweep.result.spec.train.epochs
    if p.type == "median":
        return optuna.pruners.MedianPruner(n_startup_trials=p.n_startup_trials, n_warmup_steps=p.n_warmup_steps)
    if p.type == "successive_halving":
        return optuna.pruners.SuccessiveHalvingPruner(min_resource=p.min_resource or "auto",
                                                      reduction_factor=p.reduction_factor)
    if p.type == "hyperband":
        return optuna.pruners.HyperbandPruner(min_resource=p.min_resource or 1, max_resource=epochs,
                                              reduction_factor=p.reduction_factor)
    return optuna.pruners.NopPruner()


def open_study(sweep: Sweep, create: bool = True):
    """The sweep's study, created when new. A study that holds another spec is refused with the difference."""
    optuna = require_optuna()
    storage = open_storage(sweep.storage, sweep.dir)
    direction = sweep.search.objective.resolved_direction
    try:
        if create:
            study = optuna.create_study(study_name=sweep.study, storage=storage, sampler=make_sampler(sweep),
                                        pruner=make_pruner(sweep), direction=direction, load_if_exists=True)
        else:
            study = optuna.load_study(study_name=sweep.study, storage=storage, sampler=make_sampler(sweep),
                                      pruner=make_pruner(sweep))
    except KeyError:
        raise TuneError(f"the storage {_redacted(sweep.storage)} has no study named '{sweep.study}'") from None
    held = study.user_attrs.get("specc_spec")
    if held is None:
        study.set_user_attr("specc_spec", sweep.text)
    else:
        change = spec_change(held, sweep.text, f"study {sweep.study}", str(sweep.spec_file))
        if change is not None:
            raise TuneError(f"the study '{sweep.study}' searches another spec or space; the difference:\n{change}\n"
                            f"start a new study with --study NAME (or restore the spec)")
    return study


def suggest(trial, sweep: Sweep) -> dict[str, Any]:
    """Ask Optuna's trial for a value of every key of the space (in Optuna's own distributions)."""
    grid = sweep.grid
    values = {}
    for key, param in sweep.search.space.items():
        choices = grid[key] if grid is not None else param.choices if isinstance(param, Categorical) else None
        if choices is not None:
            stored = [optuna_choice(c) for c in choices]
            values[key] = choices[stored.index(trial.suggest_categorical(key, stored))]
        elif param.type == "int":
            values[key] = trial.suggest_int(key, param.low, param.high, step=param.step, log=param.log)
        else:
            values[key] = trial.suggest_float(key, param.low, param.high, step=param.step, log=param.log)
    return values


# -- one worker ----------------------------------------------------------------
class Stop:
    """SIGINT/SIGTERM between trials: finish nothing new. (During training, train.py's own handler stops the
    epoch loop at the next batch and the trial raises Interrupted.)"""

    def __init__(self):
        self.signal = None
        self.previous = {}

    def __enter__(self):
        for sig in (signal.SIGINT, signal.SIGTERM):
            try:
                self.previous[sig] = signal.signal(sig, self._handler)
            except ValueError:  # not the main thread
                pass
        return self

    def _handler(self, signum, frame):
        self.signal = signum

    def __exit__(self, *exc):
        for sig, handler in self.previous.items():
            signal.signal(sig, handler)

    def __bool__(self):
        return self.signal is not None


class _AskLock:
    """The local workers of one sweep ask for trials one at a time, so none asks past the requested count."""

    def __init__(self, sweep_dir: Path):
        self.path = sweep_dir / ".ask.lock"

    def __enter__(self):
        import fcntl

        self.file = open(self.path, "a")
        fcntl.flock(self.file, fcntl.LOCK_EX)
        return self

    def __exit__(self, *exc):
        self.file.close()


def next_trial(sweep: Sweep, study):
    """A new trial from Optuna, or None when the requested count is reached (or the grid has no point left)."""
    from optuna.trial import TrialState

    with _AskLock(sweep.dir):
        if len(counted(study.get_trials(deepcopy=False))) >= sweep.trials:
            return None
        trial = study.ask()
    earlier = [t for t in counted(study.get_trials(deepcopy=False)) if t.number < trial.number]
    if len(earlier) >= sweep.trials:  # another machine asked first
        trial.set_user_attr("surplus", True)
        study.tell(trial, state=TrialState.FAIL)
        return None
    return trial


def orphans(sweep: Sweep, study) -> list:
    """Trials left RUNNING by a worker of this machine that is gone (killed, crashed)."""
    from optuna.trial import TrialState

    host = socket.gethostname()
    out = []
    for t in study.get_trials(deepcopy=False, states=(TrialState.RUNNING,)):
        if t.user_attrs.get("host") == host and not _alive(t.user_attrs.get("pid")):
            out.append(t)
    return out


def coordinator_alive(info: dict) -> bool:
    """Whether the process that runs a sweep (sweep.json's host and pid) is still running."""
    return info.get("host") == socket.gethostname() and _alive(info.get("pid"))


def _alive(pid) -> bool:
    if not isinstance(pid, int):
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def run_worker(sweep: Sweep, stop: Stop, on_trial: Callable | None = None) -> None:
    """Trials back to back until the requested count is reached or a signal arrives.
    Raises Interrupted (train.py) when a signal stops a trial mid-training."""
    study = open_study(sweep, create=False)
    while not stop:
        trial = next_trial(sweep, study)
        if trial is None:
            return
        run_trial(sweep, study, trial, suggest(trial, sweep))
        if on_trial:
            on_trial(study)


def finish_orphans(sweep: Sweep, stop: Stop, on_trial: Callable | None = None) -> None:
    """--resume: the trials a killed worker of this machine left running, each continued from its checkpoint."""
    from optuna.trial import Trial

    study = open_study(sweep, create=False)
    for frozen in orphans(sweep, study):
        if stop:
            return
        run_trial(sweep, study, Trial(study, frozen._trial_id), values_of(frozen.params, sweep), resume=True)
        if on_trial:
            on_trial(study)


def run_sweep(sweep: Sweep, jobs: int = 1, quiet: bool = False, resume: bool = False) -> tuple[int, dict]:
    """The coordinator: the workers (this process for --jobs 1), the live table, then the results.
    Returns (exit code, results)."""
    import sys

    from .hparams import write_hparams
    from .tracking import finish_sweep, track_sweep
    from .tune_results import Live, summary_lines, trial_rows, write_results

    sweep.shared = sweep.shared or jobs > 1
    study = open_study(sweep, create=True)
    tracker = track_sweep(sweep)  # track: (MLflow): one parent run, the trials' runs nested under it
    interrupted = False
    with Stop() as stop, Live(sweep, quiet) as live:
        def show(st):
            live.update(trial_rows(st, sweep))

        try:
            if resume:
                finish_orphans(sweep, stop, show)
            if jobs == 1:
                run_worker(sweep, stop, show)
            elif not stop:
                interrupted = _run_workers(sweep, jobs, stop, lambda: show(study)) != 0
        except Interrupted:
            interrupted = True
        interrupted = interrupted or bool(stop)
    results = write_results(sweep, study)
    write_hparams(sweep.dir)  # TensorBoard's HParams view of the trials
    sweep.write_info(status="interrupted" if interrupted else "complete")
    if tracker is not None:
        finish_sweep(tracker, sweep.dir)
    for line in summary_lines(results, sweep)[-1 if quiet else 0:]:
        print(line, file=sys.stderr)
    if interrupted:
        print(f"specc: sweep interrupted; continue it with `specc tune --resume {sweep.dir}`", file=sys.stderr)
    return (130 if interrupted else 0), results


def _run_workers(sweep: Sweep, jobs: int, stop: Stop, show: Callable) -> int:
    """--jobs N: N worker processes (`specc tune --worker SWEEP_DIR`) sharing the study; returns the worst exit."""
    import subprocess
    import sys

    procs = [subprocess.Popen([sys.executable, "-m", "specc", "tune", "--worker", str(sweep.dir)])
             for _ in range(jobs)]
    forwarded = False
    while any(p.poll() is None for p in procs):
        if stop.signal == signal.SIGTERM and not forwarded:  # to us alone: pass it on (Ctrl-C reaches them all)
            for p in procs:
                if p.poll() is None:
                    p.send_signal(signal.SIGTERM)
            forwarded = True
        show()
        time.sleep(0.5)
    show()
    return max(p.returncode for p in procs)


# -- one trial -----------------------------------------------------------------
def run_trial(sweep: Sweep, study, trial, values: dict[str, Any], resume: bool = False) -> str:
    """Check, train and report one trial; returns its state. A failure is recorded, not raised (except a
    signal's Interrupted, which leaves the trial RUNNING for --resume)."""
    from optuna.trial import TrialState

    t0 = time.perf_counter()
    run_dir = sweep.dir / "trials" / f"{trial.number:04d}"
    for key, value in (("run_dir", f"trials/{trial.number:04d}"), ("host", socket.gethostname()),
                       ("pid", os.getpid())):
        trial.set_user_attr(key, value)
    trial_info = {"sweep": "../..", "number": trial.number, "params": values, "state": "running"}
    point = check_point(sweep.doc, values, check_document, sweep.result.budget)
    if not point.ok:
        message = _record_invalid(run_dir, point, trial_info)
        return _finish(study, trial, "invalid", TrialState.PRUNED, t0, message=message)
    monitor = sweep.search.objective.metric
    try:
        pruning = _train(sweep, point, trial, run_dir, trial_info, monitor, resume)
    except RunError as e:
        return _finish(study, trial, "failed", TrialState.FAIL, t0, run_dir, message=str(e))
    except Interrupted:
        raise
    except Exception as e:  # NaN, out of memory, a data error: this trial fails, the sweep goes on
        return _finish(study, trial, "failed", TrialState.FAIL, t0, run_dir, message=f"{type(e).__name__}: {e}")
    value, epochs, problem = objective_value(run_dir, monitor, sweep.search.objective.resolved_direction)
    if problem is not None:
        return _finish(study, trial, "failed", TrialState.FAIL, t0, run_dir, message=problem, epochs=epochs)
    if pruning.pruned_at is not None:
        return _finish(study, trial, "pruned", TrialState.PRUNED, t0, run_dir, value=value, epochs=epochs,
                       message=f"pruned after epoch {pruning.pruned_at}")
    return _finish(study, trial, "complete", TrialState.COMPLETE, t0, run_dir, value=value, epochs=epochs)


def _train(sweep: Sweep, point: PointCheck, trial, run_dir: Path, trial_info: dict, monitor: str, resume: bool):
    from .backend import import_keras
    from .train import train_run

    keras = import_keras()
    # The previous trial's graph and layer names go. Not its gc.collect(): a full collection over
    # TensorFlow's objects took about 1 s per trial here; the collector's own rounds free the rest.
    keras.backend.clear_session(free_memory=False)
    pruning = pruning_callback(trial, monitor)
    provenance = {"trial": trial_info}
    if resume and (run_dir / "state.json").is_file():
        from ..check import check_file

        result = check_file(run_dir / "spec.yaml")
        if not result.ok:
            raise RunError(f"{run_dir}/spec.yaml: {result.errors[0].message}")
        train_run(result, None, resume=run_dir, quiet=True, callbacks=[pruning], provenance=provenance)
    else:
        if resume and run_dir.exists():  # killed before its first saved epoch: nothing of it is kept
            import shutil

            shutil.rmtree(run_dir)
        train_run(point.result, sweep.spec_file, run_dir=run_dir, quiet=True, callbacks=[pruning],
                  provenance=provenance)
    return pruning


def pruning_callback(trial, monitor: str):
    """A Keras callback that reports each epoch's objective to Optuna and stops the trial when the pruner says so."""
    import keras

    class Report(keras.callbacks.Callback):
        pruned_at = None

        def on_epoch_end(self, epoch, logs=None):
            logs = logs or {}
            value = logs.get(monitor, logs.get(monitor.removeprefix("val_")))
            if value is None or not math.isfinite(float(value)):
                return
            trial.report(float(value), epoch + 1)
            if trial.should_prune():
                self.pruned_at = epoch + 1
                self.model.stop_training = True

    return Report()


def objective_value(run_dir: Path, metric: str, direction: str) -> tuple[float | None, int, str | None]:
    """(the best epoch's value of the objective, epochs trained, a problem or None) from the run's history."""
    try:
        history = json.loads((run_dir / "history.json").read_text())
    except (OSError, ValueError):
        return None, 0, "the trial wrote no history"
    series = history.get(metric, history.get(metric.removeprefix("val_")))
    epochs = len(history.get("loss", []))
    if not series:
        return None, epochs, f"training logged no '{metric}' (it logged: {', '.join(history) or 'nothing'})"
    losses = history.get("loss", [])
    if any(not math.isfinite(v) for v in losses):
        return None, epochs, f"the loss became NaN or infinite at epoch {next(i for i, v in enumerate(losses, 1) if not math.isfinite(v))}"
    finite = [v for v in series if isinstance(v, (int, float)) and math.isfinite(v)]
    if len(finite) < len(series) or not finite:
        return None, epochs, f"'{metric}' became NaN or infinite"
    return (max(finite) if direction == "maximize" else min(finite)), epochs, None


def _record_invalid(run_dir: Path, point: PointCheck, trial_info: dict) -> str:
    """A point that fails the static check: its run directory holds the diagnostics, and it never trains."""
    from ..render import diagnostic_text
    from .train import dump_yaml

    run_dir.mkdir(parents=True, exist_ok=True)
    lines = [diagnostic_text(d) for d in point.errors]
    if point.result is not None and point.result.doc is not None:
        atomic_write_text(run_dir / "spec.yaml", dump_yaml({k: v for k, v in point.result.source.data.items()}))
    atomic_write_json(run_dir / "run.json", {"status": "invalid", "trial": {**trial_info, "state": "invalid"},
                                             "diagnostics": lines})
    first = point.errors[0]
    return f"{first.code} {first.path + ': ' if first.path else ''}{first.message}"


def _finish(study, trial, state: str, optuna_state, t0: float, run_dir: Path | None = None, value=None,
            epochs: int | None = None, message: str | None = None) -> str:
    """Tell Optuna, then write the trial's state into its run.json."""
    trial.set_user_attr("state", state)
    trial.set_user_attr("seconds", round(time.perf_counter() - t0, 3))
    if epochs is not None:
        trial.set_user_attr("epochs", epochs)
    if value is not None:
        trial.set_user_attr("value", value)
    if message:
        trial.set_user_attr("message", message[:2000])
    if run_dir is not None and (run_dir / "run.json").is_file():
        info = json.loads((run_dir / "run.json").read_text())
        info.setdefault("trial", {}).update(state=state, value=value, message=message)
        atomic_write_json(run_dir / "run.json", info)
    if optuna_state.name == "COMPLETE":
        study.tell(trial, value)
    else:
        study.tell(trial, state=optuna_state)
    return state
