"""Importing Keras for the runners: quietly, once, on whichever backend is configured.

TensorFlow's native logging writes several lines to stderr during import and
device discovery (oneDNN notices, "could not find cuda drivers") before it can
be configured. They are noise for a CLI user, so the native stderr is muted
for the duration of those calls only; set SPECC_DEBUG=1 to see them.
"""

from __future__ import annotations

import contextlib
import gc
import os
import sys

_own_process = False  # set by claim_process(): the process is specc's command line


@contextlib.contextmanager
def native_stderr_muted():
    if os.environ.get("SPECC_DEBUG"):
        yield
        return
    try:
        fd = sys.stderr.fileno()
    except (AttributeError, ValueError, OSError):  # pytest capture and the like
        yield
        return
    sys.stderr.flush()
    saved = os.dup(fd)
    try:
        with open(os.devnull, "wb") as null:
            os.dup2(null.fileno(), fd)
        yield
    finally:
        os.dup2(saved, fd)
        os.close(saved)


def configure_device(device: str = "auto") -> None:
    """Choose the device before the backend initializes: `cpu` hides accelerators, `gpu` requires one."""
    if device not in ("auto", "cpu", "gpu"):
        raise ValueError(device)
    if device == "cpu":
        os.environ["CUDA_VISIBLE_DEVICES"] = "-1"
        os.environ.setdefault("JAX_PLATFORMS", "cpu")
    if device == "gpu":
        keras = import_keras()
        if device_name() != "gpu":
            from . import RunError

            raise RunError(f"--device gpu: no GPU is visible to the {keras.backend.backend()} backend")


def claim_process() -> None:
    """Called by `specc`'s entry point, whose process runs one command and exits: from then on, importing Keras
    makes no full garbage collection and freezes what the import built (``young_collections_only``), and leaves
    out the optional packages it would load for features no specc command uses (``unused_packages_left_out``)."""
    global _own_process
    _own_process = True


@contextlib.contextmanager
def young_collections_only():
    """Importing TensorFlow builds about half a million objects that live as long as the process, and the garbage
    collector makes about eight full passes over them while it does: about 1 s of CPU in an import of 4-7 s
    (docs/performance.md). In specc's own process only the young generations are collected during the import
    (0.15 s: they still free the import's short-lived cycles, about 2.5 MB), and what the import built is frozen
    after it (``gc.freeze``), so that no later full pass visits it either. A notebook's or a script's process is
    left as it is."""
    if not _own_process or not gc.isenabled():
        yield
        return
    thresholds = gc.get_threshold()
    gc.set_threshold(thresholds[0], thresholds[1], 1 << 30)  # the oldest generation is never due
    try:
        yield
    finally:
        gc.set_threshold(*thresholds)
        gc.freeze()


# Installed packages that Keras's and TensorFlow's imports load when they can, for features no specc command uses.
# With all of them installed (scikit-learn and matplotlib come with specc's train extra, the others with the dev
# extra) they cost about 2 s of a 4 s `import keras` and 250 MB of memory (docs/performance.md). None of them is a
# dependency of Keras or TensorFlow, which import them only inside `try: ... except ImportError`.
OPTIONAL_PACKAGES = {
    "sklearn": "Keras's scikit-learn estimator wrappers",
    "pandas": "DataFrames given to Keras's fit()",
    "matplotlib": "keras.visualization's image galleries",
    "IPython": "showing a .keras file's contents in a notebook",
    "scipy": "sparse matrices given to TensorFlow's own Keras 2",
    "jax": "TF Lite's conversion of JAX functions and Keras's Orbax checkpoints (kept on Keras's JAX backend)",
}


class _LeftOut:
    """An import finder that answers "not installed" to an import of an ``OPTIONAL_PACKAGES`` package made by
    Keras's or TensorFlow's own modules; every other import (specc's, a data loader's on another thread, one
    package's of another) goes on as usual."""

    @staticmethod
    def find_spec(name, path=None, target=None):
        if name not in OPTIONAL_PACKAGES or name == "jax" and _keras_backend() in (None, "jax"):
            return None
        frame = sys._getframe(1)
        while frame is not None and frame.f_code.co_filename.startswith("<frozen importlib"):
            frame = frame.f_back
        importer = frame.f_globals.get("__name__", "") if frame is not None else ""
        if importer.partition(".")[0] in ("keras", "tensorflow"):
            raise ModuleNotFoundError(f"No module named {name!r} (left out by specc)", name=name)
        return None


def _keras_backend() -> str | None:
    """The backend Keras has chosen, once the import has read its configuration (None before)."""
    config = sys.modules.get("keras.src.backend.config")
    return config.backend() if config is not None and hasattr(config, "backend") else None


@contextlib.contextmanager
def unused_packages_left_out():
    """In specc's own process, Keras's import without the packages it only loads for features no specc command uses
    (``OPTIONAL_PACKAGES``): each is optional to Keras and TensorFlow, which take its absence as they would on a
    machine without it. Those already imported stay as they are, and any of them can be imported afterwards."""
    if not _own_process:
        yield
        return
    finder = _LeftOut()
    sys.meta_path.insert(0, finder)
    try:
        yield
    finally:
        sys.meta_path.remove(finder)


def import_keras():
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    if "keras" in sys.modules:
        return sys.modules["keras"]
    log_timing(event="keras_import")
    with native_stderr_muted(), young_collections_only(), unused_packages_left_out():
        import keras

        if keras.backend.backend() == "tensorflow":
            import tensorflow as tf

            tf.config.list_logical_devices()  # device discovery logs here, once
    log_timing(event="keras_imported")
    return keras


def log_timing(**event) -> None:
    """With SPECC_TIMINGS=FILE, append ``event`` and the wall-clock time as a JSON line (the benchmarks read
    when Keras's import started and ended, the first training step and each epoch; benchmarks/twins.py writes
    the same)."""
    path = os.environ.get("SPECC_TIMINGS")
    if path:
        import json
        import time

        with open(path, "a") as f:
            f.write(json.dumps({"t": time.time(), **event}) + "\n")


# Chosen by measurement on a GPU (docs/performance.md): batches per compiled call for `auto` with JAX on a
# GPU, and what the fast preset (train.fast, `specc train --fast`) adds there.
GPU_STEPS_PER_EXECUTION = 16
FAST_GPU = {"jit_compile": True}


def performance(train, device: str, backend: str) -> dict:
    """The precision, XLA setting and batches per compiled call a run uses on ``device`` ('cpu', 'gpu') with
    Keras's ``backend``: the spec's own (``steps_per_execution: auto`` resolved), with ``train.fast`` filling
    those the spec leaves unset with the fast preset for the device (docs/performance.md).

    ``auto`` is 16 batches per call only with JAX on a GPU, where it gives the very same history as 1. On
    TensorFlow the weights are the same but Keras's multi-step loop reports other epoch losses (which then
    also depend on how many epochs the run has, so a resumed run's history no longer matches an
    uninterrupted one), so ``auto`` keeps 1 there."""
    spe = train.steps_per_execution
    if spe == "auto":
        spe = GPU_STEPS_PER_EXECUTION if device == "gpu" and backend == "jax" else 1
    settings = {"precision": train.precision, "jit_compile": train.jit_compile, "steps_per_execution": spe}
    if not train.fast:
        return settings
    if device == "gpu":
        preset = {**FAST_GPU, "precision": "mixed_bfloat16" if gpu_has_bfloat16() else "mixed_float16"}
    elif device == "cpu" and cpu_has_amx() and backend == "tensorflow":
        preset = {"precision": "mixed_bfloat16"}  # oneDNN's AMX kernels: faster there; on JAX's CPU slower
    else:
        return settings
    return {**settings, **{key: value for key, value in preset.items() if key not in train.model_fields_set}}


def cpu_has_amx() -> bool:
    """Whether the CPU multiplies bfloat16 matrices in hardware (Intel AMX, Sapphire Rapids and later)."""
    try:
        with open("/proc/cpuinfo") as f:
            return any(line.startswith("flags") and " amx_bf16" in line for line in f)
    except OSError:
        return False


def gpu_has_bfloat16() -> bool:
    """Whether the first GPU computes bfloat16 natively (NVIDIA compute capability 8.0 and later: A100, H100)."""
    keras = import_keras()
    capability = None
    try:
        if keras.backend.backend() == "jax":
            import jax

            capability = getattr(jax.devices()[0], "compute_capability", None)
        elif keras.backend.backend() == "tensorflow":
            import tensorflow as tf

            gpus = tf.config.list_physical_devices("GPU")
            found = tf.config.experimental.get_device_details(gpus[0]).get("compute_capability") if gpus else None
            capability = ".".join(map(str, found)) if found else None
    except Exception:  # noqa: BLE001 - no answer: assume a recent GPU
        pass
    if not capability:
        return True
    return int(str(capability).split(".")[0]) >= 8


def device_name() -> str:
    """'cpu', 'gpu' (or the JAX platform name), for provenance."""
    keras = import_keras()
    backend = keras.backend.backend()
    try:
        with native_stderr_muted():
            if backend == "tensorflow":
                import tensorflow as tf

                return "gpu" if tf.config.list_logical_devices("GPU") else "cpu"
            if backend == "jax":
                import jax

                platform = jax.default_backend()
                return "gpu" if platform in ("gpu", "cuda", "rocm") else platform
    except Exception:  # noqa: BLE001 - provenance must never fail a run
        pass
    return "unknown"
