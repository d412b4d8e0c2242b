"""Loading and preparing a spec's data (the `data` section).

Everything is checked against the model's static input and output shapes
before training starts, so a mismatch is one clear message naming the file.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from ..check import CheckResult
from ..schema.data import Data, NpzSource, SklearnSource
from . import RunError


@dataclass
class Arrays:
    """Prepared data, in memory. The trainer builds its own (seeded, resumable) input pipeline from it.

    ``x_val``/``y_val`` are None unless the spec names a validation source; then the trainer holds out
    ``train.validation_split`` of the training arrays (the last fraction, as Keras does).
    """

    x_train: object
    y_train: object
    x_test: object
    y_test: object
    classes: list | None
    fingerprint: str
    description: str
    x_val: object = None
    y_val: object = None


def _sklearn(source: SklearnSource):
    import sklearn.datasets as d

    bunch = getattr(d, f"load_{source.name}")()
    names = getattr(bunch, "target_names", None)
    classes = [str(c) for c in names] if names is not None and len(getattr(names, "shape", ())) == 1 else None
    return bunch.data, bunch.target, classes, f"sklearn:{source.name}"


def _npz(source: NpzSource, base: Path):
    import numpy as np

    path = Path(source.path)
    if not path.is_absolute():
        path = base / path
    if not path.is_file():
        raise RunError(f"data file not found: {path}")
    try:
        with np.load(path, allow_pickle=False) as f:
            keys = list(f.keys())
            if source.x not in keys:
                raise RunError(f"{path}: no array named '{source.x}' (the file has: {', '.join(keys) or 'none'})")
            if source.y is not None and source.y not in keys:
                raise RunError(f"{path}: no array named '{source.y}' (the file has: {', '.join(keys)})")
            x = f[source.x]
            y = f[source.y] if source.y is not None else None
    except RunError:
        raise
    except (OSError, ValueError) as e:
        raise RunError(f"{path}: cannot read the arrays ({e})") from None
    if y is not None and len(x) != len(y):
        raise RunError(f"{path}: '{source.x}' has {len(x)} samples but '{source.y}' has {len(y)}")
    return x, y, None, str(path)


def _read(source, base: Path):
    if isinstance(source, SklearnSource):
        return _sklearn(source)
    return _npz(source, base)


def fingerprint(*arrays) -> str:
    h = hashlib.sha256()
    for a in arrays:
        if a is None:
            continue
        h.update(str(a.dtype).encode() + str(a.shape).encode())
        h.update(a.tobytes())
    return h.hexdigest()[:16]


def load_arrays(result: CheckResult, base: Path, seed: int | None) -> Arrays:
    """The train/test arrays for a valid spec, prepared and checked against the model."""
    import numpy as np

    data: Data | None = result.spec.data
    if data is None:
        raise RunError("the spec has no `data` section; add one (see docs/training.md)")
    x, y, classes, where = _read(data.source, base)
    if data.test is not None:
        x_test, y_test, _, _ = _read(data.test, base)
        x_train, y_train = x, y
    else:
        rng = np.random.default_rng(seed if seed is not None else 0)
        order = rng.permutation(len(x))
        n_test = int(round(len(x) * data.test_split))
        test, train = order[:n_test], order[n_test:]
        x_train, x_test = x[train], x[test]
        y_train, y_test = (None, None) if y is None else (y[train], y[test])

    def features(a, name):
        a = np.asarray(a, dtype="float32")
        if data.rescale is not None:
            a = a * np.float32(data.rescale)
        if data.reshape is not None:
            try:
                a = a.reshape((len(a), *data.reshape))
            except ValueError:
                raise RunError(f"{where}: cannot reshape {name} samples of shape {a.shape[1:]} to {data.reshape}") from None
        return a

    x_train, x_test = features(x_train, "training"), features(x_test, "test")
    graph, info = result.graph, result.info
    want = info[graph.inputs[0]].shape[1:]
    got = x_train.shape[1:]
    if len(want) != len(got) or any(w is not None and w != g for w, g in zip(want, got)):
        raise RunError(f"{where}: samples have shape {tuple(got)} but the model's input "
                       f"'{graph.inputs[0]}' expects {tuple(want)}; set data.reshape or fix the input shape")

    out = info[graph.outputs[0]].shape
    if data.target == "input":
        y_train, y_test = x_train.copy(), x_test.copy()
        if data.noise:
            noise = np.random.default_rng(seed if seed is not None else 0)
            x_train = x_train + noise.normal(0, data.noise, x_train.shape).astype("float32")
            x_test = x_test + noise.normal(0, data.noise, x_test.shape).astype("float32")
    elif y_train is None:
        raise RunError(f"{where}: no labels (data.source.y is null); set data.target: input for an autoencoder")
    else:
        y_train, y_test = _encode(y_train, y_test, data, result, out, where)
    return Arrays(x_train, y_train, x_test, y_test, classes,
                  fingerprint(x_train, y_train, x_test, y_test), where)


def _encode(y_train, y_test, data: Data, result: CheckResult, out_shape, where):
    import numpy as np

    loss = result.spec.compile.loss.canonical if result.spec.compile else None
    mode = data.labels
    if mode == "auto":
        mode = {"categorical_crossentropy": "one_hot", "sparse_categorical_crossentropy": "sparse"}.get(loss, "raw")
    if mode == "raw":
        return np.asarray(y_train, dtype="float32"), np.asarray(y_test, dtype="float32")
    units = out_shape[-1]
    for name, y in (("training", y_train), ("test", y_test)):
        if not np.issubdtype(np.asarray(y).dtype, np.integer):
            raise RunError(f"{where}: {name} labels are not integer class ids; set data.labels: raw for regression")
        if len(y) and (y.min() < 0 or y.max() >= units):
            raise RunError(f"{where}: {name} labels range from {y.min()} to {y.max()}, but the output layer "
                           f"'{result.graph.outputs[0]}' has {units} unit(s); it needs one unit per class")
    if mode == "sparse":
        return y_train.astype("int32"), y_test.astype("int32")
    eye = np.eye(units, dtype="float32")
    return eye[y_train], eye[y_test]
