"""Data-parallel training across several worker processes (`specc train SPEC --workers N`).

The engine is Keras's own distribution API on the JAX backend: every worker calls
``jax.distributed.initialize`` (a coordinator on worker 0), installs
``keras.distribution.DataParallel`` over all the cluster's devices, and runs Keras's
ordinary ``model.fit``. The model is replicated on every device; each global batch
(``train.batch_size`` samples) is split evenly across the replicas and the gradients are
averaged (all-reduce: Gloo on CPUs, NCCL on GPUs), so training follows the single-worker
run. tf.distribute is not used: with Keras 3, ``model.fit`` under
MultiWorkerMirroredStrategy fails upstream ("Attempt to convert a value (PerReplica...)",
keras-team/keras issue 20585).

Two ways to start workers:

- ``specc train SPEC --workers N`` (``launch_local``): N worker processes on this machine,
  a coordinator on a free loopback port; each worker is ``specc train`` again with the
  cluster in its environment. The launcher watches them: a worker that fails stops the
  others and fails the command; Ctrl-C stops them all.
- a cluster launcher (one ``specc train SPEC`` per machine) configures each worker with
  Keras's variables (KERAS_DISTRIBUTION_JOB_ADDRESSES, _NUM_PROCESSES, _PROCESS_ID),
  JAX's (JAX_COORDINATOR_ADDRESS with JAX_NUM_PROCESSES and JAX_PROCESS_ID) or TF_CONFIG
  (``cluster_from_env``).

Only the chief (worker 0) writes the run directory; the others write to a temporary folder
that is removed when they exit. This module imports nothing heavy at import time (the
launcher never imports Keras).
"""

from __future__ import annotations

import atexit
import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from . import RunError

ENGINE = "jax.distributed + keras.distribution.DataParallel"
MAX_LOCAL_WORKERS = 64
LOCAL_FLAG = "SPECC_LOCAL_WORKERS"  # set by `--workers N` for its workers: the launcher's process id
INIT_TIMEOUT_S = {"local": 120, "cluster": 300}  # how long a worker waits for the others to join
HEARTBEAT_TIMEOUT_S = {"local": 30, "cluster": 100}  # a silent worker is declared dead after this
GRACE_S = 10  # how long a stopped worker gets before it is killed


class DistributeError(Exception):
    """A misconfigured cluster environment or --workers value (a usage error)."""


@dataclass(frozen=True)
class Cluster:
    coordinator: str  # host:port of worker 0, where the coordination service listens
    num_processes: int
    process_id: int
    source: str  # what configured it: "--workers", "KERAS_DISTRIBUTION_*", "JAX_*" or "TF_CONFIG"

    @property
    def chief(self) -> bool:
        return self.process_id == 0

    @property
    def local(self) -> bool:
        return self.source == "--workers"


def _int(environ, name: str) -> int:
    value = environ.get(name, "")
    try:
        return int(value)
    except ValueError:
        raise DistributeError(f"{name} must be an integer; got {value!r}")


def _cluster(coordinator: str, num: int, pid: int, source: str) -> Cluster:
    if not coordinator or ":" not in coordinator:
        raise DistributeError(f"{source}: the coordinator address must be HOST:PORT; got {coordinator!r}")
    if num < 1:
        raise DistributeError(f"{source}: the number of workers must be at least 1; got {num}")
    if not 0 <= pid < num:
        raise DistributeError(f"{source}: the worker index must be from 0 to {num - 1}; got {pid}")
    return Cluster(coordinator, num, pid, source)


def _from_tf_config(text: str) -> Cluster:
    """TF_CONFIG's cluster: the chief (if any) is worker 0, then the workers in order."""
    try:
        config = json.loads(text)
        cluster, task = config["cluster"], config["task"]
        kind, index = task["type"], int(task["index"])
        addresses = list(cluster.get("chief", [])) + list(cluster.get("worker", []))
    except (ValueError, KeyError, TypeError, AttributeError) as e:
        raise DistributeError(f"TF_CONFIG is not valid JSON with `cluster` and `task` ({e!r})")
    others = sorted(set(cluster) - {"chief", "worker"})
    if others or kind not in ("chief", "worker"):
        raise DistributeError(f"TF_CONFIG: only `chief` and `worker` tasks take part in data-parallel training; "
                              f"got {others or [kind]}")
    pid = index if kind == "chief" else index + len(cluster.get("chief", []))
    return _cluster(addresses[0] if addresses else "", len(addresses), pid, "TF_CONFIG")


def cluster_from_env(environ=None) -> Cluster | None:
    """The cluster this process belongs to, from its environment; None for a single-process run."""
    environ = os.environ if environ is None else environ
    cluster = None
    if environ.get("KERAS_DISTRIBUTION_NUM_PROCESSES"):
        addresses = environ.get("KERAS_DISTRIBUTION_JOB_ADDRESSES", "")
        source = "--workers" if environ.get(LOCAL_FLAG) else "KERAS_DISTRIBUTION_*"
        cluster = _cluster(addresses.split(",")[0].strip(), _int(environ, "KERAS_DISTRIBUTION_NUM_PROCESSES"),
                           _int(environ, "KERAS_DISTRIBUTION_PROCESS_ID"), source)
    elif environ.get("JAX_NUM_PROCESSES"):
        cluster = _cluster(environ.get("JAX_COORDINATOR_ADDRESS", ""), _int(environ, "JAX_NUM_PROCESSES"),
                           _int(environ, "JAX_PROCESS_ID"), "JAX_*")
    elif environ.get("TF_CONFIG"):
        cluster = _from_tf_config(environ["TF_CONFIG"])
    if cluster is not None and cluster.num_processes == 1:
        return None  # a cluster of one is an ordinary run
    return cluster


def check_engine(environ=None) -> None:
    """Multi-worker training needs the JAX backend: refuse another backend or a missing jax, before starting."""
    import importlib.util

    environ = os.environ if environ is None else environ
    backend = environ.get("KERAS_BACKEND", "")
    if backend not in ("", "jax"):
        raise DistributeError(f"multi-worker training runs on Keras's JAX backend (tf.distribute's multi-worker "
                              f"strategy breaks Keras 3's fit, keras-team/keras issue 20585); unset KERAS_BACKEND "
                              f"or set it to jax. Received: KERAS_BACKEND={backend}")
    if importlib.util.find_spec("jax") is None:
        raise DistributeError("multi-worker training runs on Keras's JAX backend: install jax (pip install 'specc[distributed]')")


def check_resumable(run_dir: Path) -> None:
    """Refuse to resume a run trained by several workers (its batches were split between them)."""
    try:
        info = json.loads((Path(run_dir) / "run.json").read_text())
    except (OSError, ValueError):
        return  # the trainer reports a missing or broken run.json
    if isinstance(info, dict) and isinstance(info.get("workers"), int) and info["workers"] > 1:
        raise DistributeError(f"{run_dir} was trained by {info['workers']} workers, and a multi-worker run cannot be "
                              f"resumed (see docs/distributed.md); train it again")


def check_batch(batch_size: int, replicas: int, workers: int) -> None:
    if batch_size % replicas:
        lower = max(replicas, batch_size // replicas * replicas)
        raise DistributeError(
            f"train.batch_size {batch_size} cannot be split evenly across {replicas} replicas ({workers} workers): "
            f"the global batch is divided between them. Use a multiple of {replicas}, e.g. "
            f"--set train.batch_size={lower}")


# ---------------------------------------------------------------- the launcher: `--workers N` on one machine


def free_port() -> int:
    import socket

    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _describe(code: int) -> str:
    if code == -signal.SIGABRT:
        return "aborted (JAX's coordination service stops a worker whose peer died or never joined)"
    if code < 0:
        try:
            return f"was killed by {signal.Signals(-code).name}"
        except ValueError:
            return f"was killed by signal {-code}"
    return f"exited with status {code}"


def _first_cause(code: int) -> int:
    """Sort key among failed workers: killed from outside, then failed on its own, then stopped by its peers."""
    return 2 if code == -signal.SIGABRT else 0 if code < 0 else 1


def _tail(path: Path, lines: int = 12) -> str:
    try:
        text = path.read_text(errors="replace")
    except OSError:
        return ""
    import re

    noise = re.compile(r"^\s*@ 0x|^I\d{4} |^WARNING: All log messages before absl")  # stack addresses, info logs
    kept = [line for line in text.splitlines() if line.strip() and not noise.match(line)]
    return "\n".join("    " + line for line in kept[-lines:])


def _mark_run(run_dir: Path, status: str) -> None:
    """Record in run.json how a run whose chief did not finish ended (the chief cannot say so itself, or says
    only what it saw: a collective that failed; its ``error`` is kept)."""
    from .files import atomic_write_json

    path = Path(run_dir) / "run.json"
    try:
        info = json.loads(path.read_text())
    except (OSError, ValueError):
        return
    if info.get("status") in ("running", "failed"):  # the chief may have failed first, of the lost worker
        from datetime import datetime, timezone

        info.update(status=status, ended=datetime.now(timezone.utc).isoformat())
        atomic_write_json(path, info)


def _stop(procs: list, grace: float = GRACE_S) -> None:
    """SIGTERM every live worker (its whole process group), then SIGKILL what is left after `grace` seconds."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        live = [p for p in procs if p.poll() is None]
        for p in live:
            try:
                os.killpg(p.pid, sig)
            except (ProcessLookupError, PermissionError):
                pass
        deadline = time.monotonic() + grace
        while any(p.poll() is None for p in live) and time.monotonic() < deadline:
            time.sleep(0.05)


def _worker_env(i: int, workers: int, port: int, scratch: Path, device: str) -> dict:
    """The environment of local worker ``i``: Keras's JAX distribution on loopback, one device each."""
    env = {**os.environ, "KERAS_BACKEND": "jax",
           "KERAS_DISTRIBUTION_JOB_ADDRESSES": f"127.0.0.1:{port}",
           "KERAS_DISTRIBUTION_NUM_PROCESSES": str(workers), "KERAS_DISTRIBUTION_PROCESS_ID": str(i),
           LOCAL_FLAG: str(os.getpid()), "TMPDIR": str(scratch)}
    for name in ("JAX_COORDINATOR_ADDRESS", "JAX_NUM_PROCESSES", "JAX_PROCESS_ID", "TF_CONFIG"):
        env.pop(name, None)
    if device == "gpu":
        env["JAX_LOCAL_DEVICE_IDS"] = str(i)
    else:
        env["JAX_PLATFORMS"] = "cpu"
    return env


def launch_local(argv: list[str], workers: int, run_dir: Path, device: str = "auto", say=None) -> int:
    """Start `workers` copies of `specc train ARGV` on loopback and wait for them; returns the exit status.

    Worker 0 (the chief) writes to this terminal and the run directory; the others' output is kept
    in a temporary folder and shown if one fails. Only one device per worker is used (the CPU,
    or with --device gpu one GPU each).
    """
    say = say or (lambda message: print(message, file=sys.stderr, flush=True))
    port = free_port()
    scratch = Path(tempfile.mkdtemp(prefix="specc-workers-"))
    if "--run-dir" not in argv:
        argv = [*argv, "--run-dir", str(run_dir)]
    procs: list[subprocess.Popen] = []
    logs: list[Path | None] = []
    previous = {sig: signal.getsignal(sig) for sig in (signal.SIGTERM, signal.SIGINT)}

    def on_term(signum, frame):
        raise KeyboardInterrupt

    try:  # SIGINT too: a process started with SIGINT ignored (inherited) must still stop its workers on Ctrl-C
        for sig in previous:
            signal.signal(sig, on_term)
    except ValueError:  # not in the main thread
        previous = {}
    try:
        for i in range(workers):
            env = _worker_env(i, workers, port, scratch, device)
            log = None if i == 0 else scratch / f"worker-{i}.log"
            err = None if log is None else open(log, "wb")
            try:
                procs.append(subprocess.Popen([sys.executable, "-m", "specc", *argv], env=env,
                                              stdout=None if i == 0 else subprocess.DEVNULL, stderr=err,
                                              stdin=subprocess.DEVNULL, start_new_session=True))
            finally:
                if err is not None:
                    err.close()
            logs.append(log)
        while True:
            codes = [p.poll() for p in procs]
            failed = sorted((i for i, c in enumerate(codes) if c not in (None, 0)), key=lambda i: _first_cause(codes[i]))
            if failed:
                i = failed[0]
                _stop(procs)
                who = "worker 0 (the chief)" if i == 0 else f"worker {i}"
                say(f"specc: error: {who} of {workers} {_describe(codes[i])}; stopped the other workers")
                if logs[i] is not None and _tail(logs[i]):
                    say(f"  its last output:\n{_tail(logs[i])}")
                _mark_run(run_dir, f"failed: {who} {_describe(codes[i])}")
                return 1
            if codes[0] == 0:  # the chief is done and its run directory complete: give the others a moment
                deadline = time.monotonic() + 60
                while any(p.poll() is None for p in procs) and time.monotonic() < deadline:
                    time.sleep(0.05)
                if any(p.poll() not in (0,) for p in procs[1:]):
                    late = [i for i, p in enumerate(procs) if p.poll() != 0]
                    _stop(procs)
                    say(f"specc: warning: worker(s) {late} did not exit cleanly after the chief finished; stopped")
                return 0
            time.sleep(0.1)
    except KeyboardInterrupt:
        _stop(procs)
        _mark_run(run_dir, "interrupted")
        say(f"specc: interrupted: stopped {len(procs)} workers. A multi-worker run cannot be resumed; "
            f"train again (see docs/distributed.md)")
        return 130
    finally:
        _stop(procs)
        for sig, handler in previous.items():
            signal.signal(sig, handler if handler is not None else signal.SIG_DFL)
        import shutil

        shutil.rmtree(scratch, ignore_errors=True)


# ---------------------------------------------------------------- a worker: inside `specc train`


@dataclass
class Worker:
    """This process's part in a data-parallel run (set up by ``start_worker``)."""

    cluster: Cluster
    replicas: int
    local_devices: int
    platform: str
    scratch: Path | None = None
    finished: bool = False

    # run directory: only the chief writes the real one
    def run_dir(self, run_dir: Path) -> Path:
        if self.cluster.chief:
            return run_dir
        self.scratch = Path(tempfile.mkdtemp(prefix=f"specc-worker-{self.cluster.process_id}-"))
        return self.scratch / "run"

    def cleanup(self) -> None:
        if self.scratch is not None:
            import shutil

            shutil.rmtree(self.scratch, ignore_errors=True)
            self.scratch = None

    def provenance(self, batch_size: int) -> dict:
        return {
            "workers": self.cluster.num_processes,
            "replicas": self.replicas,
            "distribution": {
                "engine": ENGINE,
                "strategy": "DataParallel",
                "collectives": "gloo" if self.platform == "cpu" else "nccl" if self.platform == "gpu" else self.platform,
                "configured_by": self.cluster.source,
                "coordinator": self.cluster.coordinator,
                "global_batch_size": batch_size,
                "per_replica_batch_size": batch_size // self.replicas,
            },
        }

    def training_input(self, x, y, b):
        """(data, fit kwargs): this worker's rows of every global batch.

        The epoch's order is the single-worker one (a permutation seeded by (seed, epoch)). Global batch
        i is cut into `num_processes` equal parts and this worker feeds part `process_id`; Keras assembles
        the parts into one global batch. A last partial batch keeps a multiple of `replicas` samples,
        so at most replicas-1 samples of an epoch (a different few each epoch, when shuffled) are skipped.
        """
        batch_size = b.batch_size
        try:
            check_batch(batch_size, self.replicas, self.cluster.num_processes)
        except DistributeError as e:
            raise RunError(str(e))
        import keras

        from .pipeline import n_samples, take

        n, replicas = n_samples(x), self.replicas
        parts, part = self.cluster.num_processes, self.cluster.process_id
        full, rest = divmod(n, batch_size)
        length = full + (1 if rest >= replicas else 0)
        if length == 0:
            raise RunError(f"{n} training samples are fewer than the {replicas} replicas")

        class Sharded(keras.utils.PyDataset):
            def __init__(self):
                super().__init__()
                self.epoch = b.first_epoch
                self.order = b.order(n, self.epoch)

            def __len__(self):
                return length

            def __getitem__(self, i):
                idx = self.order[i * batch_size:(i + 1) * batch_size]
                usable = len(idx) // replicas * replicas
                share = usable // parts
                idx = idx[part * share:(part + 1) * share]
                xb = take(x, idx)
                return xb, (xb if y is x else take(y, idx))

            def on_epoch_end(self):
                self.epoch += 1
                self.order = b.order(n, self.epoch)

        return Sharded(), {}

    def callbacks(self, train) -> list:
        """Every worker must make the same collective calls in the same order, so nothing may depend on
        one worker's clock or signals:

        - the resumable state is saved only at the end (restoring the best weights into the model to save
          them is a collective; a time-based `train.resume_interval` would differ between workers, and a
          multi-worker run cannot be resumed anyway);
        - a signal stops a worker at once (a graceful stop at the next batch could leave the workers one
          batch apart, each waiting for the others' gradients).
        """
        import math

        import keras

        train.resume_interval = math.inf

        class StopAtOnce(keras.callbacks.Callback):
            def on_train_begin(self, logs=None):
                for sig in (signal.SIGINT, signal.SIGTERM):
                    try:
                        signal.signal(sig, signal.SIG_DFL)
                    except ValueError:  # not in the main thread
                        pass

        return [StopAtOnce()]

    def local_model(self, model, result, perf: dict):
        """The trained model as an ordinary single-device model (same weights and optimizer state).

        After fit, evaluation, plots and saving run on every worker alone: Keras's predict cannot
        return outputs spread over other processes' devices, and nothing after training needs them.
        """
        import keras
        import numpy as np

        from ..lower import keras_model

        weights = model.get_weights()
        slots = [np.asarray(v) for v in model.optimizer.variables]
        keras.distribution.set_distribution(None)
        local = keras_model(result, **perf)
        local.set_weights(weights)
        local.optimizer.build(local.trainable_variables)
        if len(local.optimizer.variables) == len(slots):
            for variable, value in zip(local.optimizer.variables, slots):
                variable.assign(value)
        return local

    def done(self) -> None:
        self.finished = True


def _quiet_native_stdout() -> None:
    """Gloo announces its connections on the native stdout: keep that out of `--json` output by giving
    Python's sys.stdout its own copy of the real stdout and pointing the native one at stderr (or at
    nothing, unless SPECC_DEBUG is set)."""
    try:
        sys.stdout.flush()
        real = os.dup(1)
    except (AttributeError, ValueError, OSError):
        return
    target = os.open(os.devnull, os.O_WRONLY) if not os.environ.get("SPECC_DEBUG") else os.dup(2)
    os.dup2(target, 1)
    os.close(target)
    sys.stdout = os.fdopen(real, "w", buffering=1, encoding=getattr(sys.stdout, "encoding", None) or "utf-8")


def _watch_launcher(launcher: int) -> None:
    """A local worker whose launcher died (even by SIGKILL) stops itself instead of training on."""

    scratch = os.environ.get("TMPDIR", "")  # the launcher's temporary folder, which it can no longer remove

    def watch():
        while True:
            if os.getppid() != launcher:
                if Path(scratch).name.startswith("specc-workers-"):
                    import shutil

                    shutil.rmtree(scratch, ignore_errors=True)
                os._exit(1)
            time.sleep(1.0)

    threading.Thread(target=watch, name="specc-launcher-watch", daemon=True).start()


def start_worker(cluster: Cluster, device: str = "auto") -> Worker:
    """Join the cluster and install Keras's DataParallel distribution. Call before Keras is imported."""
    try:
        check_engine()
    except DistributeError as e:
        raise RunError(str(e))
    if "keras" in sys.modules and sys.modules["keras"].backend.backend() != "jax":
        raise RunError("multi-worker training runs on Keras's JAX backend, but Keras was already loaded with "
                       f"the {sys.modules['keras'].backend.backend()} backend")
    os.environ["KERAS_BACKEND"] = "jax"
    if device == "cpu":
        os.environ["JAX_PLATFORMS"] = "cpu"
    launcher = os.environ.get(LOCAL_FLAG, "")
    if cluster.local and launcher.isdigit():
        _watch_launcher(int(launcher))
    _quiet_native_stdout()
    import jax

    from .backend import import_keras

    jax.config.update("jax_cpu_collectives_implementation", "gloo")
    kind = "local" if cluster.local else "cluster"
    try:
        jax.distributed.initialize(coordinator_address=cluster.coordinator, num_processes=cluster.num_processes,
                                   process_id=cluster.process_id, initialization_timeout=INIT_TIMEOUT_S[kind],
                                   heartbeat_timeout_seconds=HEARTBEAT_TIMEOUT_S[kind])
    except Exception as e:  # noqa: BLE001 - a bad address and the like, reported in one line
        raise RunError(f"cannot join the cluster at {cluster.coordinator} as worker {cluster.process_id} of "
                       f"{cluster.num_processes}: {e}")
    keras = import_keras()
    devices = jax.devices()
    keras.distribution.set_distribution(keras.distribution.DataParallel(devices=devices, auto_shard_dataset=False))
    platform = jax.default_backend()
    worker = Worker(cluster=cluster, replicas=len(devices), local_devices=jax.local_device_count(),
                    platform="gpu" if platform in ("gpu", "cuda", "rocm") else platform)

    def at_exit():
        # Leaving without finishing (an error on this worker): skip JAX's shutdown barrier, which would
        # wait for workers that are still training; they see this one gone and stop too.
        worker.cleanup()
        if not worker.finished:
            sys.stdout.flush()
            sys.stderr.flush()
            os._exit(1)

    atexit.register(at_exit)  # runs before JAX's own exit handler (registered earlier, when jax was imported)
    sys.excepthook = _one_line_errors(cluster, sys.excepthook)
    return worker


def _one_line_errors(cluster: Cluster, previous):
    """A worker whose peer died fails inside a collective (Gloo/NCCL, the coordination service): one line
    saying so, not a traceback (SPECC_DEBUG=1 shows it)."""

    import re

    lost = re.compile(r"gloo|nccl|connection reset|coordination service|heartbeat|peer", re.I)

    def hook(kind, error, tb):
        if os.environ.get("SPECC_DEBUG") or not lost.search(str(error)):
            return previous(kind, error, tb)
        first = next((line for line in str(error).splitlines() if line.strip()), kind.__name__)
        print(f"specc: error: worker {cluster.process_id} of {cluster.num_processes} stopped: {first[:300]} "
              f"(another worker probably died; see its output)", file=sys.stderr, flush=True)

    return hook
