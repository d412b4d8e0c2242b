"""A run directory belongs to one process, and a run that fails says so.

- ``check_new_run_dir`` refuses a --run-dir that is a file, lies below a file, or already holds a run,
  before any data is read.
- ``take_run_dir`` creates it and takes it: an exclusive, non-blocking ``flock`` on the directory itself, held
  until the process ends (the kernel lets go when the process dies, so a killed run leaves no stale lock). A
  second ``specc train`` into the same directory, started at the same moment, is refused with a clear message;
  whichever gets the lock first owns the directory, and the emptiness check is repeated under the lock.
- ``read_resume_state`` reads what --resume needs (state.json, the epoch's model and arrays) and refuses, with
  one line and nothing written, whatever is not a state specc wrote: a path outside state/, a damaged file, a
  model Keras will not load (a Lambda layer in safe mode).
- ``already_complete``: --resume of a finished run changes nothing.
- ``record_failure``: a run that fails once its directory exists ends with ``"status": "failed"`` and the
  error in run.json.
"""

from __future__ import annotations

import json
import os
import re
from datetime import datetime, timezone
from pathlib import Path

from ..userfiles import failure, format_problem, regular_file_problem
from . import RunError
from .files import atomic_write_json

MAX_JSON_BYTES = 64 * 2**20  # run.json, state.json: the history of a long run is a few MB
_STATE_FILE = re.compile(r"state/epoch-\d{4,}\.(keras|npz)")
UNFINISHED = ("running", "interrupted", "failed")


def check_new_run_dir(run_dir: Path) -> None:
    """Refuse a new run's directory that cannot be created or already holds something."""
    for folder in (run_dir, *run_dir.parents):
        if folder.exists() or folder.is_symlink():
            if not folder.is_dir():
                what = "is" if folder == run_dir else f"is below {folder}, which is"
                raise RunError(f"run directory {run_dir} {what} a file, not a folder; choose another with --run-dir")
            break
    if run_dir.is_dir() and any(run_dir.iterdir()):
        raise RunError(f"run directory {run_dir} already exists and is not empty; choose another with --run-dir")


def take_run_dir(scope, run_dir: Path, new: bool = True) -> None:
    """Create (``new``) and lock ``run_dir`` for this process; the lock lasts as long as ``scope``."""
    if new:
        check_new_run_dir(run_dir)
        try:
            run_dir.mkdir(parents=True, exist_ok=True)
        except OSError as e:
            raise RunError(f"cannot create run directory {run_dir}: {e.strerror or e}") from None
    try:
        import fcntl
    except ImportError:  # pragma: no cover - Windows: no advisory locks; the emptiness check still holds
        fcntl = None
    fd = os.open(run_dir, os.O_RDONLY)
    scope.callback(os.close, fd)
    if fcntl is not None:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            raise RunError(f"run directory {run_dir} is in use by another specc process; wait for it to finish, "
                           f"or choose another with --run-dir") from None
    if new and any(run_dir.iterdir()):  # another process took it and finished between the check and the lock
        raise RunError(f"run directory {run_dir} already exists and is not empty; choose another with --run-dir")


def unowned(run_dir: Path) -> bool:
    """Whether no process holds ``run_dir``'s lock (see ``take_run_dir``): a run that says "running" and is
    unowned was killed (SIGKILL, out of memory, the machine went down), since every other ending is recorded.
    False where that cannot be told (no flock; the folder cannot be opened)."""
    try:
        import fcntl
    except ImportError:  # pragma: no cover - Windows
        return False
    try:
        fd = os.open(run_dir, os.O_RDONLY)
    except OSError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)  # let go at once: the close below
    except OSError:
        return False
    finally:
        os.close(fd)
    return True


def read_json(path: Path, what: str) -> dict:
    problem = regular_file_problem(path, MAX_JSON_BYTES, what)
    if problem:
        raise RunError(problem)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError, RecursionError) as e:
        raise RunError(f"{path}: not a {what} written by specc ({type(e).__name__}); the run directory is damaged") \
            from None
    if not isinstance(data, dict):
        raise RunError(f"{path}: not a {what} written by specc (not a JSON object)")
    return data


def already_complete(run_dir: Path, epochs: int) -> str | None:
    """A message when --resume has nothing to do: the run finished (or stopped on purpose) and ``epochs``
    asks for no more epochs than it trained. None when there is something to resume."""
    try:
        info = json.loads((Path(run_dir) / "run.json").read_text(encoding="utf-8"))
        status, done = str(info["status"]), int(info.get("epochs_done", 0))
    except (OSError, ValueError, KeyError, TypeError):
        return None
    if status.split(":")[0] in UNFINISHED or not (Path(run_dir) / "model.keras").is_file():
        return None
    if done >= epochs or status.startswith("stopped"):
        return (f"{run_dir} is already complete ({status}, {done} epoch(s)); nothing to resume, nothing changed "
                f"(give --epochs N above {done} to train further)")
    return None


def read_resume_state(keras, run_dir: Path):
    """(state.json's content with ``arrays`` loaded as a dict, the model) of an interrupted run."""
    import numpy as np

    state = read_json(run_dir / "state.json", "resume state (state.json)")
    try:
        epochs_done = int(state["epochs_done"])
        names = {key: state[key] for key in ("model", "arrays")}
        if epochs_done < 0 or not _state_values(state):
            raise TypeError
    except (KeyError, TypeError, ValueError):
        raise RunError(f"{run_dir / 'state.json'} is not a specc state (fields missing or of the wrong kind); "
                       f"the run cannot be resumed") from None
    for key, name in names.items():
        if not isinstance(name, str) or not _STATE_FILE.fullmatch(name):
            raise RunError(f"{run_dir / 'state.json'} is not a specc state: its {key} must be a file in the run's "
                           f"state/ folder")
        path = run_dir / name
        problem = regular_file_problem(path, what="state file") or format_problem(path, Path(name).suffix[1:])
        if problem:
            raise RunError(f"{problem}; the run cannot be resumed")
    try:
        with np.load(run_dir / names["arrays"], allow_pickle=False) as saved:
            arrays = {k: saved[k] for k in saved.files}
    except Exception as e:  # numpy's zip reader raises many kinds
        raise RunError(f"{failure(run_dir / names['arrays'], e, '.npz')}; the run cannot be resumed") from None
    try:
        model = keras.saving.load_model(run_dir / names["model"])
    except Exception as e:  # Keras refuses (safe mode: a Lambda layer) or the archive is damaged
        raise RunError(f"{run_dir / names['model']} is not a specc state: Keras cannot load it safely "
                       f"({type(e).__name__}); the run cannot be resumed") from None
    from .state import load_state

    state = load_state(run_dir)  # checked above; load_state restores the callbacks' infinities
    state["epochs_done"], state["saved_arrays"] = epochs_done, arrays
    return state, model


def _number(value) -> bool:
    """A number as state.json holds one (infinities and NaN as the strings Python writes them), or nothing."""
    return value is None or value in ("inf", "-inf", "nan") or (isinstance(value, (int, float))
                                                                and not isinstance(value, bool))


def _state_values(state: dict) -> bool:
    """Whether the history, the callbacks' counters and the best epoch in ``state`` are what specc writes:
    numbers, in lists per logged quantity and in mappings per callback."""
    history, callbacks = state.get("history", {}), state.get("callbacks", {})
    if not isinstance(history, dict) or not isinstance(callbacks, dict):
        return False
    if not all(isinstance(v, list) and all(_number(x) for x in v) for v in history.values()):
        return False
    counters = [callbacks.get("best_checkpoint")]
    for key in ("early_stopping", "reduce_lr_on_plateau"):
        fields = callbacks.get(key, {})
        if not isinstance(fields, dict):
            return False
        counters += fields.values()
    return all(_number(v) for v in counters) and (state.get("best_epoch") is None or
                                                   isinstance(state.get("best_epoch"), int))


def record_failure(run_dir: Path, info: dict):
    """An ExitStack exit callback: on an error, run.json says ``failed`` and what the error was."""

    def on_exit(exc_type, exc, tb) -> bool:
        if exc is None or info.get("status") not in (None, "running") or isinstance(exc, KeyboardInterrupt):
            return False
        message = " ".join(str(exc).split())[:500] or type(exc).__name__
        if not isinstance(exc, RunError):
            message = f"{type(exc).__name__}: {message}"
        info.update(status="failed", error=message, ended=datetime.now(timezone.utc).isoformat())
        try:
            atomic_write_json(run_dir / "run.json", info)
        except OSError:
            pass  # the original error matters more
        return False

    return on_exit
