"""Several inputs or outputs: an npz/npy source whose ``x``/``y`` map input/output names to arrays; the
same steps per array, dicts keyed by name."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ...check import CheckResult
from ...diagnostics import also, did_you_mean
from ...paths import spec_relative
from ...schema.data import (
    Data,
    NpySource,
    NpzSource,
)
from ...userfiles import failure
from .. import RunError
from .prepare import (
    apply_features,
    check_input_shape,
    encode_classes,
    encode_labels,
    fingerprint,
    is_names,
    normalization,
)
from .records import PREPROCESSING_FILE, Arrays, Preprocessing, Raw
from .sources import read_npy
from .streams import STREAM_AUTO_BYTES, Lazy, check_data_file, n_samples, stream_mode, streamable, subset


# A spec whose npz/npy source maps model input and output names to arrays (`x: {left: xa, right: xb}`,
# `y: {digit: y, high: y_high}`) is read here: every step of the single-array path (prepare.py: split, validation
# split, class names, normalization, features, labels) applied per array, with the same rows for all. The
# results are dicts keyed by input/output name (Keras matches them to the model's inputs and outputs); a
# model with one input (or one output) gets that array itself, as in the single-array path.
@dataclass
class Named:
    """A source read per model input and output: ``x`` and ``y`` map input/output names to arrays."""

    x: dict
    y: dict | None
    where: str
    files: list | None = None


def per_name(data: Data | None) -> bool:
    """Whether the data gives its arrays per model input/output name (an `x` or `y` mapping in a source)."""
    if data is None:
        return False
    return any(isinstance(getattr(src, key, None), dict)
               for src in (data.source, data.validation, data.test) if src is not None for key in ("x", "y"))


def _by_name(value, names: list[str]) -> dict | None:
    """A source's `x` or `y` as {input/output name: array name or path}; a single one is the model's only one."""
    if value is None:
        return None
    return dict(value) if isinstance(value, dict) else {names[0]: value}


def read_npz_arrays(path: Path, names) -> dict:
    """The arrays ``names`` of a .npz file, read whole."""
    import numpy as np

    check_data_file(path, "npz")
    try:
        with np.load(path, allow_pickle=False) as f:
            keys = list(f.keys())
            for name in names:
                if name not in keys:
                    raise RunError(f"{path}: no array named '{name}' (the file has: {', '.join(keys) or 'none'})"
                                   f"{also(did_you_mean(name, keys))}")
            return {name: f[name] for name in dict.fromkeys(names)}
    except RunError:
        raise
    except Exception as e:  # numpy's zip and header readers raise many kinds, with bytes of the file in them
        raise RunError(failure(path, e, ".npz")) from None


def read_named(source, base: Path, result: CheckResult) -> Named:
    """An npz or npy source, one array per model input and output."""
    import numpy as np

    xs, ys = _by_name(source.x, result.graph.inputs), _by_name(source.y, result.graph.outputs)
    if isinstance(source, NpzSource):
        path = spec_relative(source.path, base)
        arrays = read_npz_arrays(path, [*xs.values(), *(ys or {}).values()])
        raw = Named({k: arrays[v] for k, v in xs.items()},
                    None if ys is None else {k: arrays[v] for k, v in ys.items()}, str(path))
    elif isinstance(source, NpySource):
        x = {k: read_npy(spec_relative(v, base)) for k, v in xs.items()}  # memory-mapped: streamed when large
        y = None if ys is None else {k: np.array(read_npy(spec_relative(v, base))) for k, v in ys.items()}
        raw = Named(x, y, str(spec_relative(next(iter(xs.values())), base)))
    else:  # the static check (E409) allows only npz and npy sources here
        raise RunError(f"a {source.type} source holds one array of features; several inputs or outputs need an "
                       f"npz or npy source")
    _check_named(raw)
    return raw


def _check_named(raw: Named) -> None:
    import numpy as np

    arrays = [(f"input '{k}'", a) for k, a in raw.x.items()]
    arrays += [(f"output '{k}'", a) for k, a in (raw.y or {}).items()]
    first, a0 = arrays[0]
    for what, a in arrays[1:]:
        if len(a) != len(a0):
            raise RunError(f"{raw.where}: the arrays have different numbers of samples: {first} has {len(a0)}, "
                           f"{what} has {len(a)}")
    if len(a0) == 0:
        raise RunError(f"{raw.where}: no samples (the data is empty)")
    for k, a in raw.x.items():
        if np.asarray(a[:1]).dtype == object:
            raise RunError(f"{raw.where}: the features of input '{k}' are not numbers")


def _should_stream_named(xs: dict, data: Data) -> bool:
    """``should_stream`` for several inputs: every array memory-mapped, and together more than the limit."""
    import math

    mode = stream_mode()
    arrays = list(xs.values())
    if mode == "never" or not arrays or not all(streamable(a) for a in arrays):
        return False
    return mode == "always" or sum(len(a) * math.prod(a.shape[1:]) * 4 for a in arrays) > STREAM_AUTO_BYTES


def _rows_named(arrays: dict | None, index):
    return None if arrays is None else {k: subset(a, index) for k, a in arrays.items()}


def _input_prep(prep: Preprocessing, name: str) -> Preprocessing:
    """The preprocessing of one input: its own normalization statistics."""
    from dataclasses import replace

    if isinstance(prep.mean, dict):
        return replace(prep, mean=prep.mean.get(name), std=prep.std.get(name))
    return prep


def _one(arrays: dict | None, names: list[str]):
    """A dict of arrays by input/output name, or the array itself for a model with only one."""
    return arrays if arrays is None or len(names) > 1 else arrays[names[0]]


def _output_classes(prep: Preprocessing, output: str, outputs: list[str]) -> tuple[list | None, bool]:
    """(class names, whether the training labels were names) of one output."""
    if len(outputs) == 1:
        return prep.classes, prep.label_names
    classes = prep.classes.get(output) if isinstance(prep.classes, dict) else None
    return classes, classes is not None


def load_named_arrays(result: CheckResult, base: Path, seed: int | None) -> Arrays:
    """``load_arrays`` for data given per model input and output name."""
    import numpy as np

    data: Data = result.spec.data
    inputs, outputs = result.graph.inputs, result.graph.outputs
    src = read_named(data.source, base, result)
    val = read_named(data.validation, base, result) if data.validation is not None else None
    test = read_named(data.test, base, result) if data.test is not None else None
    stream = _should_stream_named(src.x, data)
    for part in (src, val, test):
        if part is not None:
            part.x = {k: Lazy(a, np.arange(len(a))) if stream and streamable(a) else a for k, a in part.x.items()}

    classes, names = _class_ids_named(src, val, test)
    x_train, y_train, x_test, y_test, val = _split_named(result, data, src, val, test, seed)
    prep = Preprocessing(source=data.source.type)
    if data.normalize:
        stats = {k: normalization(a, data, None) for k, a in x_train.items()}
        prep.mean = {k: m for k, (m, _) in stats.items()}
        prep.std = {k: s for k, (_, s) in stats.items()}
    if len(outputs) == 1:
        prep.classes, prep.label_names = classes.get(outputs[0]), names.get(outputs[0], False)
    else:
        prep.classes, prep.label_names = classes or None, any(names.values())

    def prepared(xs: dict, where: str, role: str) -> dict:
        return {k: apply_features(a, data, _input_prep(prep, k), where, f"{role} input '{k}'") for k, a in xs.items()}

    test_where = test.where if test is not None else src.where
    x_train = prepared(x_train, src.where, "training")
    x_test = prepared(x_test, test_where, "test")
    x_val = prepared(val.x, val.where, "validation") if val is not None else None
    for k in inputs:
        check_input_shape(result, x_train[k], src.where, k)
        for part, role, xs in ((test, "test", x_test), (val, "validation", x_val)):
            if xs is not None and len(xs[k]) and xs[k].shape[1:] != x_train[k].shape[1:]:
                raise RunError(f"{part.where if part else src.where}: {role} samples of input '{k}' have shape "
                               f"{xs[k].shape[1:]} but the training samples have {x_train[k].shape[1:]}")

    for where, y in ((src.where, y_train), (test_where, y_test), (val and val.where, val and val.y)):
        if where is not None and y is None:
            raise RunError(f"{where}: no labels (the source's y is null); the model's outputs "
                           f"({', '.join(outputs)}) need them")

    def labelled(ys: dict, where: str, role: str) -> dict:
        return {o: encode_labels(ys[o], result, where, f"{role} output '{o}'", o) for o in outputs}

    y_train = labelled(y_train, src.where, "training")
    y_test = labelled(y_test, test_where, "test")
    y_val = labelled(val.y, val.where, "validation") if val is not None else None

    x_train, x_test, x_val = _one(x_train, inputs), _one(x_test, inputs), _one(x_val, inputs)
    y_train, y_test, y_val = _one(y_train, outputs), _one(y_test, outputs), _one(y_val, outputs)
    return Arrays(x_train, y_train, x_test, y_test, prep.classes if len(outputs) == 1 else None,
                  fingerprint(x_train, y_train, x_test, y_test, x_val, y_val), src.where,
                  x_val=x_val, y_val=y_val, artifacts={PREPROCESSING_FILE: prep.to_json()}, preprocessing=prep)


def _class_ids_named(src: Named, val: Named | None, test: Named | None) -> tuple[dict[str, list], dict[str, bool]]:
    """Class names -> ids, per output: its training labels' sorted names. Returns the classes and whether
    the labels were names, per output."""
    classes: dict[str, list] = {}
    names: dict[str, bool] = {}
    for o, y in (src.y or {}).items():
        names[o] = is_names(y)
        if names[o]:
            classes[o] = sorted({str(v) for v in y})
            src.y[o] = encode_classes(Raw(None, y, src.where), classes[o], True, "training")
    for part, role in ((val, "validation"), (test, "test")):
        if part is not None and part.y is not None:
            for o, y in part.y.items():
                part.y[o] = encode_classes(Raw(None, y, part.where), classes.get(o), names.get(o, False), role)
    return classes, names


def _split_named(result: CheckResult, data: Data, src: Named, val: Named | None, test: Named | None,
                 seed: int | None):
    """(x_train, y_train, x_test, y_test, validation part): the test split held out (a seeded random part),
    then Keras's validation_split, taken before the normalization statistics (as for one source)."""
    import numpy as np

    if test is not None:
        x_train, y_train, x_test, y_test = src.x, src.y, test.x, test.y
    else:
        n = n_samples(src.x)
        rng = np.random.default_rng(seed if seed is not None else 0)
        order = rng.permutation(n)
        n_test = int(round(n * data.test_split))
        held, train = order[:n_test], order[n_test:]
        x_train, x_test = _rows_named(src.x, train), _rows_named(src.x, held)
        y_train, y_test = _rows_named(src.y, train), _rows_named(src.y, held)
    n_train = n_samples(x_train)
    if n_train == 0:
        raise RunError(f"{src.where}: no training samples left after holding out the test split "
                       f"({n_samples(x_test)} test samples); lower data.test_split or add data")
    split = result.spec.train.validation_split
    if val is None and split and int(n_train * split):
        cut = n_train - int(n_train * split)
        keep, held = np.arange(cut), np.arange(cut, n_train)
        val = Named(_rows_named(x_train, held), _rows_named(y_train, held), src.where)
        x_train, y_train = _rows_named(x_train, keep), _rows_named(y_train, keep)
    return x_train, y_train, x_test, y_test, val


def read_new_named(path: Path, result: CheckResult, labels: bool) -> Named:
    """New data for a model whose data is given per input/output name: a .npz with one array per input (and,
    with ``labels``, per output), named as in the spec's source or by the input/output names; or, for a model
    with one input, a .npy of inputs only."""
    import numpy as np

    source = result.spec.data.source
    inputs, outputs = result.graph.inputs, result.graph.outputs
    suffix = path.suffix.lower()
    if not path.exists():
        raise RunError(f"data file not found: {path}")
    if suffix == ".npy" and len(inputs) == 1 and not labels:
        raw = Named({inputs[0]: read_npy(path)}, None, str(path))
        _check_named(raw)
        return raw
    if suffix != ".npz":
        wanted = "input" + (" and output" if labels else "")
        raise RunError(f"{path}: new data for this model is a .npz file with one array per {wanted} name "
                       f"({', '.join(inputs + (outputs if labels else []))})")
    spec_x = _by_name(source.x, inputs) if isinstance(source, NpzSource) else {}
    spec_y = _by_name(source.y, outputs) if isinstance(source, NpzSource) and source.y is not None else {}
    check_data_file(path, "npz")
    try:
        with np.load(path, allow_pickle=False) as f:
            keys = list(f.keys())

            def pick(name: str, spec_names: dict, default: str, many: int, role: str):
                looked = list(dict.fromkeys([spec_names.get(name, name), name] + ([default] if many == 1 else [])))
                found = next((k for k in looked if k in keys), None)
                if found is None and many == 1 and len(keys) == 1 and role == "input" and not labels:
                    found = keys[0]  # the file's only array
                if found is None:
                    shown = " or ".join(f"'{k}'" for k in looked)
                    raise RunError(f"{path}: no array for the model's {role} '{name}' (looked for {shown}; the file "
                                   f"has: {', '.join(keys) or 'none'})")
                return f[found]

            x = {k: pick(k, spec_x, "x", len(inputs), "input") for k in inputs}
            y = {k: pick(k, spec_y, "y", len(outputs), "output") for k in outputs} if labels else None
    except RunError:
        raise
    except Exception as e:  # numpy's zip and header readers raise many kinds, with bytes of the file in them
        raise RunError(failure(path, e, ".npz")) from None
    raw = Named(x, y, str(path))
    _check_named(raw)
    return raw


def prepare_new_named(raw: Named, result: CheckResult, prep: Preprocessing, labels: bool):
    """``prepare_new`` for data given per input/output name: (x, y), dicts by name (or the array itself for a
    model with one input or one output)."""
    import numpy as np

    data: Data = result.spec.data
    inputs, outputs = result.graph.inputs, result.graph.outputs
    stream = _should_stream_named(raw.x, data)
    x = {k: Lazy(a, np.arange(len(a))) if stream and streamable(a) else a for k, a in raw.x.items()}
    for k in inputs:
        if data.reshape is None:
            check_input_shape(result, x[k], raw.where, k)  # before normalizing: the message names the input
        x[k] = apply_features(x[k], data, _input_prep(prep, k), raw.where, f"input '{k}'")
        check_input_shape(result, x[k], raw.where, k)
    y = None
    if labels:
        y = {}
        for o in outputs:
            classes, label_names = _output_classes(prep, o, outputs)
            ids = encode_classes(Raw(None, raw.y[o], raw.where), classes, label_names, "")
            y[o] = encode_labels(ids, result, raw.where, f"output '{o}'", o)
    return _one(x, inputs), _one(y, outputs)
