"""Tracking: log a run to MLflow (`track:` in the spec, or `specc train --track mlflow`), or log a finished run
or sweep afterwards from its directory (`specc track`).

Logged: the resolved spec's values as params (key paths, as `--set` reads them), every epoch's metrics (step =
epoch, from 1), the test metrics, the run's files as artifacts (spec, run.json, metrics, history, plots, the
models and an HTML report) and tags (specc version, spec hash, data fingerprint, status). A sweep is one
parent run with a nested run per trial.

The run directory is the record; MLflow is a copy. Every call to MLflow is guarded: a server that is down or
goes away never stops training or loses a file. What could not be logged is said at the end, kept in
run.json (`tracking`), and `specc track RUN_DIR` logs the whole run again later.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path

from . import RunError

EXTRA = 'MLflow tracking needs the mlflow extra: pip install "specc[mlflow]"'
ARTIFACTS = ("spec.yaml", "run.json", "metrics.json", "history.csv", "history.json", "classes.json",
             "preprocessing.json", "learning_curves.png", "model.keras", "best.keras")
SWEEP_ARTIFACTS = ("sweep.json", "spec.yaml", "results.json", "results.csv", "best.yaml")
TRACKING_FILE = "tracking.json"  # a sweep's parent run, for the trials (which may run in other processes)
GIVE_UP = 3  # failed calls in a row after which nothing more is sent
STATUS = {"completed": "FINISHED", "stopped": "FINISHED", "interrupted": "KILLED", "running": "RUNNING",
          "pruned": "KILLED", "failed": "FAILED", "invalid": "FAILED"}


def require_mlflow() -> None:
    try:
        import mlflow  # noqa: F401
    except ImportError:
        raise RunError(EXTRA) from None


def settings(track: dict | None, name: str, uri: str | None = None, experiment: str | None = None) -> dict:
    """Where to log: the command line's choice, then the spec's `track:`, then MLFLOW_TRACKING_URI / the name."""
    track = track or {}
    return {"uri": uri or track.get("uri") or os.environ.get("MLFLOW_TRACKING_URI"),
            "experiment": experiment or track.get("experiment") or name,
            "run_name": track.get("run_name"), "tags": track.get("tags") or {},
            "artifacts": track.get("artifacts", True)}


def _short(err: Exception) -> str:
    text = " ".join(str(err).split())
    return f"{type(err).__name__}: {text[:300]}{'...' if len(text) > 300 else ''}"


class MlflowRun:
    """One MLflow run through MlflowClient (no global active run). No method raises: a failure is recorded in
    ``problems``, and after GIVE_UP failures in a row nothing more is sent."""

    def __init__(self, uri: str | None, experiment: str):
        # MLflow retries a failed request 7 times with a growing back-off by default (minutes for a server
        # that is down); a tracking copy is not worth stalling training for.
        os.environ.setdefault("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "2")
        os.environ.setdefault("MLFLOW_HTTP_REQUEST_TIMEOUT", "20")
        self.uri, self.experiment = uri, experiment
        self.client = None
        self.run_id: str | None = None
        self.problems: list[str] = []
        self.failures = 0

    def _call(self, what: str, fn, *args, starting: bool = False, **kwargs):
        if self.failures >= GIVE_UP or (self.run_id is None and not starting):
            self.problems.append(f"{what}: not sent")
            return None
        try:
            value = fn(*args, **kwargs)
        except Exception as err:  # a tracking server's trouble, whatever its kind, must not stop the run
            self.failures += 1
            self.problems.append(f"{what}: {_short(err)}")
            return None
        self.failures = 0
        return value

    def start(self, run_name: str, tags: dict, params: dict, parent: str | None = None,
              run_id: str | None = None) -> bool:
        def go():
            from mlflow.tracking import MlflowClient

            self.client = MlflowClient(tracking_uri=self.uri)
            if run_id is not None:  # a resumed run goes on in the same MLflow run
                self.client.update_run(run_id, status="RUNNING")
                return run_id
            found = self.client.get_experiment_by_name(self.experiment)
            experiment_id = found.experiment_id if found else self.client.create_experiment(self.experiment)
            all_tags = {k: str(v) for k, v in {**tags, **({"mlflow.parentRunId": parent} if parent else {})}.items()}
            return self.client.create_run(experiment_id, tags=all_tags, run_name=run_name).info.run_id

        self.run_id = self._call("start the run", go, starting=True)
        if self.run_id is not None and run_id is None:
            self.params(params)
        return self.run_id is not None

    def params(self, params: dict) -> None:
        from mlflow.entities import Param

        items = [Param(param_key(k), str(v)[:6000]) for k, v in params.items()]
        for i in range(0, len(items), 100):  # MLflow's batch limit
            self._call("params", self.client.log_batch, self.run_id, params=items[i:i + 100])

    def metrics(self, values: dict, step: int = 0, what: str = "metrics") -> None:
        from mlflow.entities import Metric

        now = int(time.time() * 1000)
        items = [Metric(k, float(v), now, step) for k, v in values.items() if _finite(v)]
        for i in range(0, len(items), 1000):
            self._call(what, self.client.log_batch, self.run_id, metrics=items[i:i + 1000])

    def history(self, history: dict) -> None:
        """Every epoch of a finished run, step = epoch."""
        from mlflow.entities import Metric

        now = int(time.time() * 1000)
        items = [Metric(k, float(v), now, i + 1) for k, values in history.items() for i, v in enumerate(values)
                 if _finite(v)]
        for i in range(0, len(items), 1000):
            self._call("epoch metrics", self.client.log_batch, self.run_id, metrics=items[i:i + 1000])

    def tags(self, tags: dict) -> None:
        from mlflow.entities import RunTag

        self._call("tags", self.client.log_batch, self.run_id, tags=[RunTag(k, str(v)) for k, v in tags.items()])

    def artifacts(self, folder: Path, names: tuple, extra: list[tuple[Path, str | None]] = ()) -> None:
        files = [(folder / n, None) for n in names if (folder / n).is_file()] + list(extra)
        for path, where in files:
            self._call(f"artifact {path.name}", self.client.log_artifact, self.run_id, str(path), where)

    def end(self, status: str) -> None:
        self._call("end the run", self.client.set_terminated, self.run_id, STATUS.get(status.split()[0].rstrip(":"),
                                                                                       "FINISHED"))

    def record(self) -> dict:
        return {"uri": self.uri, "experiment": self.experiment, "run_id": self.run_id, "problems": self.problems}


def param_key(key: str) -> str:
    """MLflow's form of a key path: no brackets (`layers[1].rate` is `layers.1.rate`), at most 250 characters."""
    return key.replace("[", ".").replace("]", "")[:250]


def _finite(value) -> bool:
    import math

    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def run_params(run) -> dict:
    """A run's params: the resolved spec's values by key path, without the `track` section itself."""
    return {k: v for k, v in run.flat_spec().items() if not k.startswith("track.") and k != "track"}


def run_tags(run) -> dict:
    info = run.info
    data = info.get("data") if isinstance(info.get("data"), dict) else {}
    tags = {"specc.version": info.get("specc_version"), "specc.spec_sha256": info.get("spec_sha256"),
            "specc.run_dir": str(run.path.resolve()), "specc.status": run.status, "keras.version":
            info.get("keras_version"), "keras.backend": info.get("backend"), "specc.device": info.get("device"),
            "specc.data_fingerprint": data.get("fingerprint")}
    if run.trial:
        tags["specc.trial"] = run.trial.get("number")
    return {k: v for k, v in tags.items() if v is not None}


def finish_run(log: MlflowRun, run, artifacts: bool) -> None:
    """The end of a run: status, test metrics and the files (with an HTML report made for the upload)."""
    log.tags({"specc.status": run.status})
    test = run.split("test")
    if test:
        log.metrics({f"test_{k}": v for k, v in test.items()}, what="test metrics")
    if artifacts:
        extra = [(p, None) for p in sorted(run.path.glob("confusion_matrix*.png"))]
        extra += [(p, "models") for p in sorted((run.path / "models").glob("*.keras"))]
        with tempfile.TemporaryDirectory(prefix="specc-report-") as tmp:
            report = Path(tmp) / "report.html"
            try:
                from ..report import write_report

                write_report(run.path, report)
                extra.append((report, None))
            except Exception as err:  # the report is a convenience; the run's own files matter
                log.problems.append(f"artifact report.html: {_short(err)}")
            log.artifacts(run.path, ARTIFACTS, extra)
    log.end(run.status)


def tell(log: MlflowRun, what: str, run_dir: Path) -> None:
    """Say, on stderr whatever --quiet says, where the run went and what could not be logged."""
    where = f"MLflow ({log.uri or 'its default tracking URI'}, experiment '{log.experiment}')"
    if not log.problems:
        print(f"tracked: {what} logged to {where} as run {log.run_id}", file=sys.stderr, flush=True)
        return
    shown = "; ".join(log.problems[:4]) + (f"; and {len(log.problems) - 4} more" if len(log.problems) > 4 else "")
    print(f"specc: warning: {what}: not everything was logged to {where}: {shown}. The run directory is "
          f"complete; log it again with `specc track {run_dir}`", file=sys.stderr, flush=True)


# -- while training (train.py attaches the callback) ------------------------------------------------------
def tracking_callbacks(ctx, info: dict) -> list:
    """The MLflow callback when the spec has `track:` (else nothing). It starts (or, resumed, reopens) the MLflow
    run, logs params and each epoch's metrics; `finish_tracking` logs the rest once the run directory is
    complete."""
    if ctx.spec.track is None:
        return []
    require_mlflow()
    import keras

    from ..runs import read_run

    track = ctx.spec.track.model_dump(mode="json")
    where = settings(track, ctx.spec.name or ctx.run_dir.name)
    previous = (info.get("tracking") or {}).get("mlflow") or {}

    class MlflowCallback(keras.callbacks.Callback):
        """Keras callback: params at the start, each epoch's metrics at its end (an interrupted epoch's are not
        logged: a resumed run repeats it)."""

        def __init__(self):
            super().__init__()
            self.log = MlflowRun(where["uri"], where["experiment"])
            self.artifacts = where["artifacts"]

        def on_train_begin(self, logs=None):
            if self.log.run_id is not None:
                return
            run = read_run(ctx.run_dir)
            run.info = info
            parent = sweep_parent(run)
            self.log.start(where["run_name"] or ctx.run_dir.name, {**run_tags(run), **where["tags"]},
                           run_params(run), parent=parent, run_id=previous.get("run_id"))
            info["tracking"] = {"mlflow": self.log.record()}

        def on_epoch_end(self, epoch, logs=None):
            if ctx.interrupted is None and self.log.run_id is not None:
                self.log.metrics(logs or {}, step=epoch + 1, what=f"epoch {epoch + 1} metrics")

        def on_train_end(self, logs=None):
            if ctx.interrupted is not None and self.log.run_id is not None:
                self.log.end("interrupted")
                tell(self.log, f"run {ctx.run_dir} (interrupted)", ctx.run_dir)

        def finish(self, run_dir: Path) -> None:
            from .files import atomic_write_json

            run = read_run(run_dir)
            if self.log.run_id is not None:
                finish_run(self.log, run, self.artifacts)
            tell(self.log, f"run {run_dir}", run_dir)
            atomic_write_json(run_dir / "run.json", {**run.info, "tracking": {"mlflow": self.log.record()}})

    return [MlflowCallback()]


def finish_tracking(callbacks: list, run_dir: Path) -> None:
    """After the run directory is complete: the tracking callbacks log the test metrics and the files."""
    for callback in callbacks:
        if callable(getattr(callback, "finish", None)) and isinstance(getattr(callback, "log", None), MlflowRun):
            callback.finish(run_dir)


# -- sweeps: one parent run, a nested run per trial -------------------------------------------------------
def sweep_parent(run) -> str | None:
    """The MLflow run of the sweep a trial belongs to (from the sweep's tracking.json), if it has one."""
    from ..runs import read_json

    trial = run.info.get("trial") if isinstance(run.info.get("trial"), dict) else None
    if trial is None:
        return None
    sweep = (run.path / str(trial.get("sweep", "../.."))).resolve()
    data, _ = read_json(sweep / TRACKING_FILE)
    return ((data or {}).get("mlflow") or {}).get("run_id") if isinstance(data, dict) else None


def start_sweep(sweep_dir: Path, track: dict | None, name: str, params: dict | None = None) -> MlflowRun:
    """For `specc tune`: open the sweep's parent run and write its id to SWEEP_DIR/tracking.json, where every
    trial's callback (in any worker process) finds it and nests its own run under it."""
    from ..runs import read_json
    from .files import atomic_write_json

    require_mlflow()
    where = settings(track, name)
    saved, _ = read_json(Path(sweep_dir) / TRACKING_FILE)  # a resumed sweep goes on in the same parent run
    previous = ((saved or {}).get("mlflow") or {}).get("run_id") if isinstance(saved, dict) else None
    log = MlflowRun(where["uri"], where["experiment"])
    log.start(where["run_name"] or f"{name} (sweep)", {"specc.sweep": str(Path(sweep_dir).resolve()),
                                                        **where["tags"]}, params or {}, run_id=previous)
    atomic_write_json(Path(sweep_dir) / TRACKING_FILE, {"mlflow": log.record()})
    return log


def track_sweep(sweep) -> MlflowRun | None:
    """`specc tune`: the parent run when the sweep's spec has `track:` (its trials' runs nest under it)."""
    spec = sweep.result.spec
    if spec.track is None:
        return None
    from ..overrides import flatten

    params = flatten(spec.search.model_dump(mode="json", exclude_none=True), "search") if spec.search else {}
    return start_sweep(sweep.dir, spec.track.model_dump(mode="json"), sweep.info.get("name") or spec.name or
                       sweep.dir.name, params)


def finish_sweep(log: MlflowRun, sweep_dir: Path, artifacts: bool = True) -> None:
    """For `specc tune`, when the sweep ends: the best value, the sweep's files and plots, its report."""
    from ..runs import read_sweep
    from .files import atomic_write_json

    sweep = read_sweep(sweep_dir)
    best = sweep.results.get("best") if isinstance(sweep.results.get("best"), dict) else {}
    metric = sweep.objective.get("metric", "objective")
    if log.run_id is not None:
        if _finite(best.get("value")):
            log.metrics({f"best_{metric}": best["value"]}, what="best value")
        log.tags({"specc.status": sweep.info.get("status", "unknown"), "specc.best_trial": best.get("number")})
        if artifacts:
            plots = [(p, "plots") for p in sorted((sweep.path / "plots").glob("*.png"))]
            with tempfile.TemporaryDirectory(prefix="specc-report-") as tmp:
                from ..report import write_report

                try:
                    write_report(sweep.path, Path(tmp) / "report.html")
                    plots.append((Path(tmp) / "report.html", None))
                except Exception as err:  # the report is a convenience; the sweep's own files matter
                    log.problems.append(f"artifact report.html: {_short(err)}")
                log.artifacts(sweep.path, SWEEP_ARTIFACTS, plots)
        log.end("completed" if sweep.info.get("status") == "complete" else str(sweep.info.get("status", "")))
    tell(log, f"sweep {sweep_dir}", sweep_dir)
    atomic_write_json(Path(sweep_dir) / TRACKING_FILE, {"mlflow": log.record()})


# -- afterwards: `specc track RUN_DIR|SWEEP_DIR` ------------------------------------------------------------
def log_run_dir(run, where: dict, parent: str | None = None) -> MlflowRun:
    """Log a run from its directory: params, every epoch, test metrics, files."""
    log = MlflowRun(where["uri"], where["experiment"])
    name = where["run_name"] or (f"trial {run.trial.get('number')}" if run.trial else run.path.name)
    if log.start(name, {**run_tags(run), **where["tags"]}, run_params(run), parent=parent):
        log.history(run.history())
        finish_run(log, run, where["artifacts"])
    return log


def log_directory(path: Path, uri: str | None = None, experiment: str | None = None) -> list[MlflowRun]:
    """`specc track`: a run directory as one MLflow run; a sweep directory as a parent run with a nested run per
    trial that has a run directory."""
    from ..runs import RUN_FILE, SWEEP_FILE, read_run, read_sweep

    require_mlflow()
    path = Path(path)
    if (path / SWEEP_FILE).is_file():
        sweep = read_sweep(path)
        spec = sweep.trials[0].spec_data() if sweep.trials else {}
        where = settings(spec.get("track"), sweep.name, uri, experiment)
        parent = start_sweep(path, where, sweep.name, {f"objective.{k}": v for k, v in sweep.objective.items()})
        logs = [parent]
        for run in sweep.trials:
            if run.info:
                logs.append(log_run_dir(run, {**where, "run_name": None}, parent=parent.run_id))
                tell(logs[-1], f"trial {run.trial.get('number')}", run.path)
        finish_sweep(parent, path, where["artifacts"])
        return logs
    if not (path / RUN_FILE).is_file():
        raise RunError(f"{path} is not a run or sweep directory (no {RUN_FILE} or {SWEEP_FILE})")
    run = read_run(path)
    if not run.info:
        raise RunError(f"{path}: {run.notes[0]}")
    log = log_run_dir(run, settings(run.spec_data().get("track"), run.name, uri, experiment))
    tell(log, f"run {path}", path)
    return [log]
