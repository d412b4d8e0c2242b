"""Importing Keras for the runners: quietly, once, on whichever backend is configured.

TensorFlow's native logging writes several lines to stderr during import and
device discovery (oneDNN notices, "could not find cuda drivers") before it can
be configured. They are noise for a CLI user, so the native stderr is muted
for the duration of those calls only; set SPECC_DEBUG=1 to see them.
"""

from __future__ import annotations

import contextlib
import os
import sys


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


def import_keras():
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    if "keras" in sys.modules:
        return sys.modules["keras"]
    with native_stderr_muted():
        import keras

        if keras.backend.backend() == "tensorflow":
            import tensorflow as tf

            tf.config.list_logical_devices()  # device discovery logs here, once
    return keras


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
