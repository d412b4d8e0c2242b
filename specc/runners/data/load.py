"""``load_arrays``: the data of a spec, whichever way it is given: checked against the model first, then one
source (prepare.py) or one per model input and output (named.py)."""

from __future__ import annotations

from pathlib import Path

from ...check import CheckResult
from .. import RunError
from .expected import check_data_files
from .named import load_named_arrays, per_name
from .prepare import prepare_arrays
from .records import Arrays


def load_arrays(result: CheckResult, base: Path, seed: int | None) -> Arrays:
    """The train/test (and validation) arrays for a valid spec, prepared and checked against the model."""
    data = result.spec.data
    if data is None:
        raise RunError("the spec has no `data` section; add one (see docs/training.md)")
    check_data_files(result, base)
    if per_name(data):
        return load_named_arrays(result, base, seed)
    return prepare_arrays(result, base, seed)


# sources read with numpy and the file system alone (text and keras.datasets sources need Keras; reading an
# sklearn source is mostly importing scikit-learn, Python that would only take turns with Keras's import)
SOURCES_WITHOUT_KERAS = ("npz", "npy", "csv", "images")


class PendingArrays:
    """``load_arrays`` started before Keras is imported; ``result()`` gives the arrays or raises its error.

    Reading arrays (decompressing, checksumming, copying, hashing) is file I/O and numpy work that releases
    the interpreter lock, so on a thread of its own it runs beside Keras's import, which takes seconds, instead
    of after it. Only where nothing of it needs Keras (two threads importing Keras at once could deadlock on the
    import locks) and Keras is not imported yet (a sweep's later trials find it imported); otherwise
    ``result()`` reads them.
    """

    def __init__(self, result: CheckResult, base: Path, seed: int | None):
        import sys

        self.args = (result, base, seed)
        self.box: dict = {}
        self.thread = None
        data = result.spec.data
        sources = [] if data is None else [s for s in (data.source, data.validation, data.test) if s is not None]
        if "keras" not in sys.modules and sources and all(s.type in SOURCES_WITHOUT_KERAS for s in sources):
            import contextvars
            import threading

            import numpy  # noqa: F401 (imported here, not on both threads at once)

            context = contextvars.copy_context()  # the resumed run's way of reading its data (a context variable)
            self.thread = threading.Thread(target=context.run, args=(self._load,), name="specc-data", daemon=True)
            self.thread.start()

    def _load(self) -> None:
        try:
            self.box["arrays"] = load_arrays(*self.args)
        except BaseException as exc:  # raised again on the caller's thread by result()
            self.box["error"] = exc

    def result(self) -> Arrays:
        if self.thread is None:
            return load_arrays(*self.args)
        self.thread.join()
        if "error" in self.box:
            raise self.box.pop("error")
        return self.box["arrays"]
