"""Preparing what the sources hold for the model: class ids, windows, tokens, features, labels; and
``load_arrays``, the whole preparation of a spec's data."""

from __future__ import annotations

import hashlib
from pathlib import Path

from ...analysis.checks import token_embeddings
from ...check import CheckResult
from ...diagnostics import also, did_you_mean
from ...schema.data import (
    Data,
    TextSource,
    Window,
)
from .. import RunError
from .records import PREPROCESSING_FILE, Arrays, Preprocessing, Raw
from .sources import check_raw, read_source
from .streams import Lazy, in_memory, should_stream, streamable, streamed, subset


# -- class names --------------------------------------------------------------
def is_names(y) -> bool:
    import numpy as np

    return y is not None and np.asarray(y).dtype.kind in "OUS"


def keep_classes(raw: Raw, classes: list, role: str) -> None:
    """data.classes: keep the samples whose label is one of ``classes`` and number them by its position."""
    import numpy as np

    if raw.y is None:
        raise RunError(f"{raw.where}: data.classes needs labelled {role} data")
    values = raw.label_text if raw.label_text is not None else (
        [raw.classes[int(v)] for v in raw.y] if raw.classes is not None else list(raw.y))
    index = {str(c): i for i, c in enumerate(classes)}
    keys = [str(v.item() if hasattr(v, "item") else v) for v in values]
    rows = np.array([i for i, k in enumerate(keys) if k in index], dtype="int64")
    present = set(keys)
    if not len(rows):
        raise RunError(f"{raw.where}: no {role} sample has a label in data.classes (the labels are: "
                       f"{_first_labels(present)})")
    absent = [c for c in classes if str(c) not in present] if role == "training" else []
    if absent:  # a class the model would be trained to predict without a single example of it
        raise RunError(f"{raw.where}: data.classes lists {', '.join(map(repr, absent))}, but no sample has that "
                       f"label (the labels are: {_first_labels(present)})")
    raw.x = raw.x.subset(rows) if isinstance(raw.x, Lazy) else raw.x[rows]
    raw.y = np.array([index[keys[i]] for i in rows], dtype="int64")
    raw.label_text = None
    raw.classes = [str(c) for c in classes]


def _first_labels(labels: set) -> str:
    return ", ".join(sorted(labels)[:20])


def encode_classes(raw: Raw, classes: list | None, names: bool, role: str):
    """raw.y as numbers: class names replaced by their index in ``classes`` when the training labels were names
    (numbers then pass through as class ids), checked to be numbers otherwise."""
    import numpy as np

    if raw.y is None:
        return None
    the = f"{role} label" if role else "label"
    if names:
        values = raw.label_text if raw.label_text is not None else (raw.y if is_names(raw.y) else None)
        if values is None:
            return raw.y
        index = {str(c): i for i, c in enumerate(classes)}
        out = np.empty(len(values), dtype="int64")
        for i, value in enumerate(values):
            k = index.get(str(value))
            if k is None:
                shown = ", ".join(map(str, classes[:20])) + (", ..." if len(classes) > 20 else "")
                raise RunError(f"{raw.where}: {the} '{value}' is not one of the training classes ({shown})"
                               f"{also(did_you_mean(value, classes))}")
            out[i] = k
        return out
    if is_names(raw.y):
        bad = next(v for v in raw.y if not _number(v))
        raise RunError(f"{raw.where}: {the} '{bad}' is not a number (the training labels are numbers)")
    return raw.y


def _number(value) -> bool:
    try:
        float(value)
    except (TypeError, ValueError):
        return False
    return True


# -- windows ------------------------------------------------------------------
def windows(x, y, window: Window, where: str, targets: bool = True):
    """Sliding windows over a series: x of shape (T,) or (T, F) -> (n, size[, F]); the target of each window is
    y (or the series itself when y is None) ``horizon`` steps after its last step."""
    import numpy as np

    x = np.asarray(x)
    if x.ndim not in (1, 2):
        raise RunError(f"{where}: data.window needs a series of shape (steps,) or (steps, features), not {x.shape}")
    span = window.size + (window.horizon if targets else 0)
    n = (len(x) - span) // window.stride + 1
    if n <= 0:
        need = f"{window.size} + {window.horizon}" if targets else f"{window.size}"
        raise RunError(f"{where}: the series has {len(x)} steps; one window needs {need}")
    starts = np.arange(n) * window.stride
    xs = x[starts[:, None] + np.arange(window.size)]
    if not targets:
        return xs, None
    series = x if y is None else np.asarray(y)
    return xs, series[starts + window.size + window.horizon - 1]


def _time_split(n: int, test_split: float, window: Window):
    """Indices of (training, test) windows: the test windows are the last ones; training windows that would
    share a step with them are dropped, so no step of the series is in both."""
    import numpy as np

    n_test = int(round(n * test_split))
    if n_test == 0:
        return np.arange(n), np.arange(0)
    first = n - n_test
    last_train = (first * window.stride - window.size - window.horizon) // window.stride
    return np.arange(max(0, min(first, last_train + 1))), np.arange(first, n)


# -- text ---------------------------------------------------------------------
def vectorizer(source: TextSource, vocabulary: list | None = None):
    from ..backend import import_keras

    keras = import_keras()
    return keras.layers.TextVectorization(max_tokens=source.max_tokens,
                                          output_sequence_length=source.output_sequence_length,
                                          vocabulary=vocabulary)


def vectorize(layer, texts, length: int):
    import numpy as np

    if len(texts) == 0:
        return np.zeros((0, length), dtype="int32")
    parts = [np.asarray(layer(np.asarray(texts[i:i + 1024], dtype=object))) for i in range(0, len(texts), 1024)]
    return np.concatenate(parts).astype("int32")


# -- features and labels ----------------------------------------------------------
def _w(name: str) -> str:
    return f"{name} " if name else ""


def _norm_axes(a, series_ndim):
    if series_ndim == 1:
        return tuple(range(a.ndim))
    return (0,) if a.ndim <= 2 else tuple(range(a.ndim - 1))


def features(a, data: Data, prep: Preprocessing, where: str, name: str, tokens: bool = False):
    """Samples as the model sees them: float32 (token ids: int32), rescaled, normalized, reshaped."""
    import numpy as np

    if tokens:
        a = np.asarray(a, dtype="int32")
    else:
        try:
            a = np.asarray(a, dtype="float32")
        except (ValueError, TypeError):
            raise RunError(f"{where}: the {_w(name)}features are not numbers") from None
        finite = np.isfinite(a)
        if not finite.all():
            bad = int(np.argwhere(~finite)[0][0])
            raise RunError(f"{where}: the {_w(name)}features contain NaN or infinity (first in sample {bad}); "
                           f"fix or drop those samples")
        if data.rescale is not None:
            a = a * np.float32(data.rescale)
        if prep.mean is not None:
            mean, std = np.asarray(prep.mean, dtype="float32"), np.asarray(prep.std, dtype="float32")
            if a.ndim < 1 + mean.ndim or (mean.ndim and a.shape[-1] != mean.shape[-1]):
                raise RunError(f"{where}: samples have shape {a.shape[1:]}, but the training samples had "
                               f"{mean.shape[-1]} features (the normalization statistics)")
            a = (a - mean) / std
    if data.reshape is not None:
        try:
            a = a.reshape((len(a), *data.reshape))
        except ValueError:
            raise RunError(f"{where}: cannot reshape {_w(name)}samples of shape {a.shape[1:]} to {data.reshape}") from None
    return a


def apply_features(a, data: Data, prep: Preprocessing, where: str, name: str, tokens: bool = False):
    """``features``, applied now to arrays and per batch (when taken) to streamed data."""
    import functools

    if streamed(a):
        return a.prepared(functools.partial(features, data=data, prep=prep, where=where, name=name, tokens=tokens))
    return features(a, data, prep, where, name, tokens)


def own_rows(a):
    return a if streamed(a) else a.copy()


def normalization(x_train, data: Data, series_ndim: int | None):
    """Per-feature mean and standard deviation of the (rescaled) training features, accumulated in float64
    over chunks of samples (no float64 copy of the whole set)."""
    import numpy as np

    def chunks():
        for i in range(0, len(x_train), 4096):
            a = np.asarray(x_train[i:i + 4096], dtype="float64")
            yield a * data.rescale if data.rescale is not None else a

    first = np.asarray(x_train[:1])
    axes = _norm_axes(first, series_ndim)
    count = len(x_train) * (np.prod([first.shape[k] for k in axes[1:]]) if len(axes) > 1 else 1)
    mean = sum(a.sum(axis=axes) for a in chunks()) / count
    var = sum(((a - mean) ** 2).sum(axis=axes) for a in chunks()) / count
    std = np.sqrt(var)
    std = np.where(std > 0, std, 1.0)  # a constant feature becomes 0, not NaN
    return np.asarray(mean, dtype="float32").tolist(), np.asarray(std, dtype="float32").tolist()


def check_input_shape(result: CheckResult, x, where: str, input: str | None = None) -> None:
    import math

    graph, info = result.graph, result.info
    input = input or graph.inputs[0]
    want = info[input].shape[1:]
    got = tuple(x.shape[1:])
    if len(want) != len(got) or any(w is not None and w != g for w, g in zip(want, got)):
        hint = "set data.reshape or fix the input shape"
        if None not in want and math.prod(want) == math.prod(got):
            hint = f"set data.reshape: [{', '.join(map(str, want))}]"
        raise RunError(f"{where}: samples have shape {got} but the model's input "
                       f"'{input}' expects {tuple(want)}; {hint}")


def label_mode(result: CheckResult, output: str | None = None) -> str:
    """How the labels of ``output`` (default: the only one) are encoded: from data.labels, or picked by the
    output's loss."""
    data = result.spec.data
    if data is not None and data.target == "input":
        return "input"
    loss = None
    if result.spec.compile is not None:
        found = result.spec.compile.loss_for(output or (result.graph.outputs[0] if result.graph else None))
        loss = found.canonical if found is not None else None
    mode = data.labels if data is not None else "auto"
    if mode == "auto":
        mode = {"categorical_crossentropy": "one_hot", "sparse_categorical_crossentropy": "sparse"}.get(loss, "raw")
    return mode


def check_label_shape(y, result: CheckResult, where: str, name: str, output: str | None = None) -> None:
    """Labels used as they are (windows, arrays) against the output they train, before anything is written:
    the shapes Keras's losses accept (equal, or differing by a trailing axis of 1; one axis less for sparse)."""
    output = output or result.graph.outputs[0]
    want, got = tuple(result.info[output].shape[1:]), tuple(y.shape[1:])
    loss = result.spec.compile.loss_for(output) if result.spec.compile is not None else None
    loss = loss.canonical if loss is not None else None

    def same(a, b):
        return len(a) == len(b) and all(x is None or x == z for x, z in zip(b, a))

    wanted = [want[:-1], want[:-1] + (1,)] if loss == "sparse_categorical_crossentropy" else \
        [want, want + (1,)] + ([want[:-1]] if want[-1:] == (1,) else [])
    if any(same(got, w) for w in wanted):
        return
    hint = ""
    if loss == "categorical_crossentropy" and len(got) < len(want):
        hint = ("; categorical_crossentropy needs one-hot labels: remove data.labels: raw (auto one-hot encodes "
                "class ids), or use sparse_categorical_crossentropy")
    raise RunError(f"{where}: the {_w(name)}labels have shape {got} per sample, but the output '{output}' gives "
                   f"{want}{hint}")


def encode_labels(y, result: CheckResult, where: str, name: str, output: str | None = None):
    import numpy as np

    mode = label_mode(result, output)
    y = np.asarray(y)
    if mode == "raw":
        try:
            out = y.astype("float32")
        except (ValueError, TypeError):
            raise RunError(f"{where}: the {_w(name)}labels are not numbers") from None
        if not np.isfinite(out).all():
            bad = int(np.argwhere(~np.isfinite(out))[0][0])
            raise RunError(f"{where}: the {_w(name)}labels contain NaN or infinity (first in sample {bad})")
        check_label_shape(out, result, where, name, output)
        return out
    output = output or result.graph.outputs[0]
    units = result.info[output].shape[-1]
    if y.ndim == 2 and y.shape[1] == 1:  # a column of class ids, as (n, 1) arrays often hold them
        y = y[:, 0]
    if y.ndim == 2 and y.shape[1] == units > 1:
        raise RunError(f"{where}: {_w(name)}labels are rows of {units} (one-hot, it seems): give one class id per "
                       f"sample, 0 to {units - 1}; specc one-hot encodes them itself")
    if not np.issubdtype(y.dtype, np.integer):
        raise RunError(f"{where}: {_w(name)}labels are not integer class ids ({y.dtype}); give class ids 0 to "
                       f"{units - 1}, or set data.labels: raw for regression")
    if len(y) and y.min() < 0:
        raise RunError(f"{where}: {_w(name)}labels must be class ids from 0 to {units - 1}; found {y.min()}")
    if len(y) and y.max() >= units:
        raise RunError(f"{where}: {_w(name)}labels range from {y.min()} to {y.max()}, but the output layer "
                       f"'{output}' has {units} unit(s); it needs one unit per class")
    if mode == "sparse":
        return y.astype("int32")
    return np.eye(units, dtype="float32")[y]


def fingerprint(*arrays) -> str:
    import numpy as np

    h = hashlib.sha256()

    def update(a):
        if streamed(a):  # sizes, modification times and a sample of rows: not the whole data again
            h.update(b"streamed:" + a.identity())
            return
        a = np.ascontiguousarray(a)
        h.update(str(a.dtype).encode() + str(a.shape).encode())
        try:  # the bytes tobytes() gives, without copying them (75 MB of an MNIST-sized set: 0.04 s)
            h.update(a.reshape(-1).view(np.uint8))
        except (TypeError, ValueError):  # a dtype without a fixed size (objects)
            h.update(a.tobytes())

    for a in arrays:
        if a is None:
            continue
        if isinstance(a, dict):  # one array per model input or output, by name
            for name in sorted(a):
                h.update(f"[{name}]".encode())
                update(a[name])
            continue
        update(a)
    return h.hexdigest()[:16]


# -- the whole preparation of one source ------------------------------------------------------
def prepare_arrays(result: CheckResult, base: Path, seed: int | None) -> Arrays:
    """The train/test (and validation) arrays of a spec whose data is one source (with optional validation
    and test sources), prepared and checked against the model."""
    data: Data = result.spec.data
    src, val, test = _read_parts(data, base)
    classes, names = _class_ids(src, val, test)
    x_train, y_train, x_test, y_test, val, series_ndim = _split(result, data, src, val, test, seed)
    prep = Preprocessing(source=data.source.type, classes=classes, columns=src.columns,
                         label_column=src.label_column, series_ndim=series_ndim, label_names=names)
    x_train, x_test, x_val = _prepared_features(result, data, prep, src, val, test, x_train, x_test)
    test_where = test.where if test is not None else src.where
    y_val = None
    if data.target == "input":
        x_train, y_train, x_test, y_test, x_val, y_val = _autoencoder_targets(data, seed, x_train, x_test, x_val)
    else:
        for where, y in ((src.where, y_train), (test_where, y_test), (val and val.where, val and val.y)):
            if where is not None and y is None:
                raise RunError(f"{where}: no labels (the source's y/label is null); set data.target: input "
                               f"for an autoencoder")
        y_train = encode_labels(y_train, result, src.where, "training")
        y_test = encode_labels(y_test, result, test_where, "test")
        if val is not None:
            y_val = encode_labels(val.y, result, val.where, "validation")
    return Arrays(x_train, y_train, x_test, y_test, classes,
                  fingerprint(x_train, y_train, x_test, y_test, x_val, y_val), src.where,
                  x_val=x_val, y_val=y_val, artifacts={PREPROCESSING_FILE: prep.to_json()}, preprocessing=prep)


def _read_parts(data: Data, base: Path) -> tuple[Raw, Raw | None, Raw | None]:
    """The training, validation and test sources as read, kept to the spec's classes. Streamed (large .npy or
    image folders): the parts stay on disk as Lazy index sets; otherwise images are decoded here and .npy
    memmaps are read as they are converted."""
    import numpy as np

    src = read_source(data.source, base)
    val = read_source(data.validation, base) if data.validation is not None else None
    test = read_source(data.test, base) if data.test is not None else src.test
    if test is not None and data.test is None:
        check_raw(test)
    stream = should_stream(src.x, data)
    for part in (src, val, test):
        if part is not None and streamable(part.x):
            part.x = Lazy(part.x, np.arange(len(part.x))) if stream else in_memory(part.x)
    if data.classes is not None:
        for part, role in ((src, "training"), (val, "validation"), (test, "test")):
            if part is not None:
                keep_classes(part, data.classes, role)
    return src, val, test


def _class_ids(src: Raw, val: Raw | None, test: Raw | None) -> tuple[list | None, bool]:
    """Class names -> ids, with the training source's classes (folders) or its sorted label values (CSV);
    returns the classes and whether the labels were names."""
    classes = src.classes
    names = is_names(src.y)
    if names:
        if classes is None:
            classes = sorted({str(v) for v in src.y})
        src.y = encode_classes(src, classes, True, "training")
    for part, role in ((val, "validation"), (test, "test")):
        if part is not None:
            part.y = encode_classes(part, classes, names, role)
    for part, role in ((val, "validation"), (test, "test")):
        if part is not None and src.tokens != part.tokens:
            raise RunError(f"{part.where}: the {role} data must be of the same kind as data.source (texts or "
                           f"token ids in one, numbers in the other)")
    return classes, names


def _split(result: CheckResult, data: Data, src: Raw, val: Raw | None, test: Raw | None, seed: int | None):
    """(x_train, y_train, x_test, y_test, validation part, series ndim): windows cut, the test split held out
    (the last windows of a series, a seeded random part otherwise), then Keras's validation_split."""
    import numpy as np

    series_ndim = None
    if data.window is not None:
        series_ndim = np.asarray(src.x[:1]).ndim
        x, y = windows(src.x, src.y, data.window, src.where)
        if val is not None:
            val.x, val.y = windows(val.x, val.y, data.window, val.where)
        if test is not None:
            test.x, test.y = windows(test.x, test.y, data.window, test.where)
            x_train, y_train = x, y
        else:
            train, held = _time_split(len(x), data.test_split, data.window)
            x_train, y_train, x_test, y_test = x[train], y[train], x[held], y[held]
    elif test is not None:
        x_train, y_train = src.x, src.y
    else:
        rng = np.random.default_rng(seed if seed is not None else 0)
        order = rng.permutation(len(src.x))
        n_test = int(round(len(src.x) * data.test_split))
        held, train = order[:n_test], order[n_test:]
        x_train, x_test = subset(src.x, train), subset(src.x, held)
        y_train, y_test = (None, None) if src.y is None else (src.y[train], src.y[held])
    if test is not None:
        x_test, y_test = test.x, test.y
    if len(x_train) == 0:
        raise RunError(f"{src.where}: no training samples left after holding out the test split "
                       f"({len(x_test)} test samples); lower data.test_split or add data")
    split = result.spec.train.validation_split
    if val is None and split and int(len(x_train) * split):
        # Keras's validation_split (the last part of the training data), taken here, before normalization
        # statistics and vocabularies are computed, so nothing about the validation data leaks into them.
        if isinstance(x_train, list):
            x_train = np.asarray(x_train, dtype=object)
        if data.window is not None:
            keep, held = _time_split(len(x_train), split, data.window)
        else:
            cut = len(x_train) - int(len(x_train) * split)
            keep, held = np.arange(cut), np.arange(cut, len(x_train))
        val = Raw(x=subset(x_train, held), y=None if y_train is None else y_train[held], where=src.where,
                  tokens=src.tokens)
        x_train, y_train = subset(x_train, keep), None if y_train is None else y_train[keep]
    return x_train, y_train, x_test, y_test, val, series_ndim


def check_embedding_rows(result: CheckResult, size: int, where: str) -> None:
    """An Embedding that reads the token ids has a row for each id of the vocabulary learnt (0 to size - 1):
    Keras would fail on the first larger one, mid-training, after the run directory exists."""
    for node in token_embeddings(result.graph):
        if node.layer.input_dim < size:
            raise RunError(f"{where}: the vocabulary learnt from the training texts has {size} tokens (ids 0 to "
                           f"{size - 1}), but the Embedding '{node.name}' has input_dim {node.layer.input_dim}: give "
                           f"it input_dim: {size} (or data.source.max_tokens), or set max_tokens: "
                           f"{node.layer.input_dim}")


def _prepared_features(result: CheckResult, data: Data, prep: Preprocessing, src: Raw, val: Raw | None,
                       test: Raw | None, x_train, x_test):
    """(x_train, x_test, x_val) as the model takes them: texts vectorized (the vocabulary learnt from the
    training texts), normalization statistics from the training features, then ``features`` applied."""
    import numpy as np

    if isinstance(data.source, TextSource):
        layer = vectorizer(data.source)
        layer.adapt(np.asarray(x_train, dtype=object), batch_size=1024)
        prep.vocabulary = [str(t) for t in layer.get_vocabulary()]
        check_embedding_rows(result, len(prep.vocabulary), src.where)
        length = data.source.output_sequence_length
        x_train, x_test = vectorize(layer, x_train, length), vectorize(layer, x_test, length)
        if val is not None:
            val.x = vectorize(layer, val.x, length)
    if data.normalize:
        prep.mean, prep.std = normalization(x_train, data, prep.series_ndim)
    test_where = test.where if test is not None else src.where
    x_train = apply_features(x_train, data, prep, src.where, "training", src.tokens)
    x_test = apply_features(x_test, data, prep, test_where, "test", src.tokens)
    x_val = apply_features(val.x, data, prep, val.where, "validation", src.tokens) if val is not None else None
    check_input_shape(result, x_train, src.where)
    for part, role, a in ((test, "test", x_test), (val, "validation", x_val)):
        if a is not None and len(a) and a.shape[1:] != x_train.shape[1:]:
            raise RunError(f"{part.where if part else src.where}: {role} samples have shape {a.shape[1:]} but the "
                           f"training samples have {x_train.shape[1:]}")
    return x_train, x_test, x_val


def _autoencoder_targets(data: Data, seed: int | None, x_train, x_test, x_val):
    """``target: input``: each input is its own target (the same Lazy when streamed, read once per batch);
    with ``noise``, the inputs get Gaussian noise (a denoising autoencoder)."""
    import numpy as np

    y_train, y_test = own_rows(x_train), own_rows(x_test)
    y_val = None if x_val is None else own_rows(x_val)
    if data.noise:
        noise = np.random.default_rng(seed if seed is not None else 0)
        x_train = x_train + noise.normal(0, data.noise, x_train.shape).astype("float32")
        x_test = x_test + noise.normal(0, data.noise, x_test.shape).astype("float32")
        if x_val is not None:
            x_val = x_val + noise.normal(0, data.noise, x_val.shape).astype("float32")
    return x_train, y_train, x_test, y_test, x_val, y_val
