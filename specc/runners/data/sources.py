"""Reading the sources: npz, npy, csv, images and text folders, scikit-learn and keras.datasets."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ...diagnostics import also, did_you_mean
from ...paths import spec_relative
from ...schema.data import (
    CsvSource,
    ImagesSource,
    KerasSource,
    NpySource,
    NpzSource,
    SklearnSource,
    TextSource,
)
from ...userfiles import failure, may_quote
from .. import RunError
from .records import IMAGE_SUFFIXES, Raw
from .streams import ImageRows, check_data_file, read_rows


# -- reading ------------------------------------------------------------------
def _sklearn(source: SklearnSource) -> Raw:
    import sklearn.datasets as d

    bunch = getattr(d, f"load_{source.name}")()
    names = getattr(bunch, "target_names", None)
    classes = [str(c) for c in names] if names is not None and len(getattr(names, "shape", ())) == 1 else None
    return Raw(bunch.data, bunch.target, f"sklearn:{source.name}", classes=classes)


def read_npz(path: Path, x_name: str, y_name: str | None, *, fallback_single: bool = False) -> Raw:
    import numpy as np

    check_data_file(path, "npz")
    try:
        with np.load(path, allow_pickle=False) as f:
            keys = list(f.keys())
            if x_name not in keys and fallback_single and len(keys) == 1:
                x_name = keys[0]
            if x_name not in keys:
                raise RunError(f"{path}: no array named '{x_name}' (the file has: {', '.join(keys) or 'none'})"
                               f"{also(did_you_mean(x_name, keys))}")
            if y_name is not None and y_name not in keys:
                raise RunError(f"{path}: no array named '{y_name}' (the file has: {', '.join(keys)})"
                               f"{also(did_you_mean(y_name, keys))}")
            x = f[x_name]
            y = f[y_name] if y_name is not None else None
    except RunError:
        raise
    except Exception as e:  # numpy's zip and header readers raise many kinds, with bytes of the file in them
        raise RunError(failure(path, e, ".npz")) from None
    for name, a in ((x_name, x), (y_name, y)):
        if a is not None and (problem := array_problem(a)):
            raise RunError(f"{path}: '{name}' {problem}")
    if y is not None and len(x) != len(y):
        raise RunError(f"{path}: '{x_name}' has {len(x)} samples but '{y_name}' has {len(y)}")
    return Raw(x, y, str(path))


def array_problem(a) -> str | None:
    """Why the array ``a`` cannot be samples: a single value, or values no model trains on (complex numbers,
    dates and times, raw records)."""
    if a.ndim == 0:
        return "holds a single value, not an array of samples"
    if a.dtype.kind in "cmMV":
        return f"holds {a.dtype} values, which no layer takes; convert them to numbers first"
    return None


def read_npy(path: Path):
    """A .npy array, memory-mapped (read from disk as it is used)."""
    import numpy as np

    check_data_file(path, "npy")
    try:
        a = np.load(path, mmap_mode="r", allow_pickle=False)
    except Exception as e:  # numpy's header reader quotes the file's bytes: say what is wrong, not what is there
        raise RunError(failure(path, e, ".npy")) from None
    if problem := array_problem(a):
        raise RunError(f"{path}: {problem}")
    return a


def _npy(source: NpySource, base: Path) -> Raw:
    x_path = spec_relative(source.x, base)
    x = read_npy(x_path)
    y = None
    if source.y is not None:
        y_path = spec_relative(source.y, base)
        y = read_npy(y_path)
        if len(x) != len(y):
            raise RunError(f"{x_path} has {len(x)} samples but {y_path} has {len(y)}")
        return Raw(x, y, f"{x_path} and {y_path}")  # a problem with the labels names their file too
    return Raw(x, y, str(x_path))


@dataclass
class Table:
    x: object
    y: list | None
    columns: list
    label_column: str | int | None


def read_csv(path: Path, *, label, features, delimiter: str = ",", header: bool = True,
             label_optional: bool = False, new_data: bool = False, spec_folder: Path | None = None) -> Table:
    """Numeric feature columns and (string) label values of a CSV file, with errors naming line and column.

    ``label_optional``: the label column may be absent; ``new_data``: for evaluate or predict, not training.
    Messages show the file's values and column names only for a file inside the project of ``spec_folder``."""
    names, rows = _csv_rows(path, delimiter, header)
    if header and names is None:
        raise RunError(f"{path}: the file is empty (no header row)")
    width = len(names) if names is not None else (len(rows[0][1]) if rows else 0)
    if names is None:
        names = [str(i) for i in range(width)]
    quote = may_quote(path, spec_folder)  # a file outside the project: say where, never what it holds
    twice = [n for i, n in enumerate(names) if n and n in names[:i]] if header else []
    if twice:  # which of them would a name pick?
        what = f"the column '{twice[0]}'" if quote else "a column (a file outside the project: its header is not shown)"
        raise RunError(f"{path}: the header names {what} twice; give each column its own name")

    def index(column, role) -> int | None:
        if isinstance(column, int):
            if column >= width:
                raise RunError(f"{path}: {role} column {column} does not exist (the file has {width} columns, "
                               f"numbered from 0)")
            return column
        if column in names:
            return names.index(column)
        if not quote:
            raise RunError(f"{path}: no column named '{column}' among its {width} columns (a file outside the "
                           f"project: its header is not shown)")
        shown = ", ".join(names[:30]) + (", ..." if len(names) > 30 else "")
        raise RunError(f"{path}: no column named '{column}' (the columns are: {shown}){also(did_you_mean(column, names))}")

    label_index = None
    if label is not None:
        if label_optional and isinstance(label, str) and label not in names:
            label_index = None
        elif label_optional and isinstance(label, int) and label >= width:
            label_index = None
        else:
            label_index = index(label, "label")
    if features is None:
        feature_index = [i for i in range(width) if i != label_index and not (label is not None and label_optional
                                                                                   and names[i] == label)]
    else:
        feature_index = [index(c, "feature") for c in features]
    if not feature_index:
        raise RunError(f"{path}: no feature columns (the only column is the label)")

    shown_names = names if quote or not header else [f"#{i}" for i in range(width)]
    x, y = _csv_values(path, rows, shown_names, feature_index, label_index, header, new_data, quote)
    columns = [names[i] if header else i for i in feature_index]
    label_column = None if label_index is None else (names[label_index] if header else label_index)
    return Table(x, y, columns, label_column)


def _csv_rows(path: Path, delimiter: str, header: bool) -> tuple[list[str] | None, list[tuple[int, list[str]]]]:
    """The header's names (None without one) and the non-blank rows with their line numbers."""
    import csv

    check_data_file(path)
    try:
        with open(path, newline="", encoding="utf-8-sig") as f:
            # strict: an unclosed quote is an error, not a field that swallows every line after it
            reader = csv.reader(f, delimiter=delimiter, strict=True)
            rows = []
            names = None
            for row in reader:
                if not row or all(not cell.strip() for cell in row):
                    continue
                if header and names is None:
                    names = [cell.strip() for cell in row]
                    continue
                rows.append((reader.line_num, row))
    except UnicodeDecodeError as e:
        raise RunError(f"{path}: not UTF-8 text ({e.reason} at byte {e.start})") from None
    except csv.Error as e:
        why = "a quote is opened and never closed" if "unexpected end of data" in str(e) else str(e)
        raise RunError(f"{path}: not a valid CSV file ({why}; line {reader.line_num})") from None
    except OSError as e:
        raise RunError(f"{path}: cannot read ({e.strerror})") from None
    return names, rows


def _csv_values(path: Path, rows, shown_names, feature_index, label_index, header: bool, new_data: bool,
                quote: bool):
    """The feature columns as float64 and the label cells (None without a label column); errors name the line
    and the column by ``shown_names``, and quote a bad cell only where ``quote``."""
    import math

    import numpy as np

    width = len(shown_names)
    x = np.empty((len(rows), len(feature_index)), dtype="float64")
    y = [] if label_index is not None else None
    for r, (line, row) in enumerate(rows):
        if len(row) != width:
            raise RunError(f"{path}: line {line} has {len(row)} fields, but the {'header' if header else 'first row'} "
                           f"has {width}")
        for c, i in enumerate(feature_index):
            cell = row[i].strip()
            try:
                value = float(cell)
            except ValueError:
                what = "an empty value" if not cell else f"'{cell[:40]}'" if quote else "the value"
                hint = "" if new_data else "; set data.source.features to choose the columns"
                raise RunError(f"{path}: line {line}, column '{shown_names[i]}': {what} is not a number (feature columns "
                               f"must be numeric{hint})") from None
            if not math.isfinite(value):
                raise RunError(f"{path}: line {line}, column '{shown_names[i]}': {cell[:10]} is not a finite number "
                               f"(NaN and infinity cannot be trained on)")
            x[r, c] = value
        if y is not None:
            cell = row[label_index].strip()
            if not cell:
                raise RunError(f"{path}: line {line}, column '{shown_names[label_index]}': the label is empty")
            y.append(cell)
    return x, y


def label_values(values: list):
    """CSV label strings: integers, floats, or class names (kept as strings)."""
    import numpy as np

    try:
        numbers = [float(v) for v in values]
    except ValueError:
        return np.asarray(values, dtype=object)
    if all(n.is_integer() for n in numbers):
        return np.asarray(numbers, dtype="int64")
    return np.asarray(numbers, dtype="float64")


def _csv(source: CsvSource, base: Path) -> Raw:
    path = spec_relative(source.path, base)
    table = read_csv(path, label=source.label, features=source.features, delimiter=source.delimiter,
                     header=source.header, spec_folder=base)
    y = None if table.y is None else label_values(table.y)
    return Raw(table.x, y, str(path), columns=table.columns, label_column=table.label_column, label_text=table.y)


def _class_folders(path: Path, what: str) -> list[Path]:
    if not path.is_dir():
        raise RunError(f"{what} folder not found: {path}")
    folders = sorted(p for p in path.iterdir() if p.is_dir() and not p.name.startswith("."))
    if not folders:
        raise RunError(f"{path}: no class sub-folders (the {what} need one sub-folder per class)")
    return folders


def list_files(folder: Path, suffixes) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.is_file() and p.suffix.lower() in suffixes
                  and not any(part.startswith(".") for part in p.relative_to(folder).parts))


def read_texts(files: list[Path]):
    import numpy as np

    texts = []
    for file in files:
        check_data_file(file)
        try:
            texts.append(file.read_text(encoding="utf-8"))
        except UnicodeDecodeError as e:
            raise RunError(f"{file}: not UTF-8 text ({e.reason} at byte {e.start})") from None
        except OSError as e:
            raise RunError(f"{file}: cannot read ({e.strerror})") from None
    return np.array(texts, dtype=object)


def folder_source(path: Path, suffixes, what: str):
    """(files, class name per file, class names) of a folder with one sub-folder per class."""
    import numpy as np

    folders = _class_folders(path, what)
    files, labels = [], []
    for folder in folders:
        found = list_files(folder, suffixes)
        files += found
        labels += [folder.name] * len(found)
    if not files:
        raise RunError(f"{path}: no {what} found (looked for {', '.join(suffixes)} files in "
                       f"{', '.join(f.name for f in folders)})")
    seen = set(labels)
    empty = [f.name for f in folders if f.name not in seen]
    if empty:  # a class the model would learn to predict without one example of it
        raise RunError(f"{path}: the class folder '{empty[0]}' holds no {what} ({', '.join(suffixes)} files); "
                       f"add some or remove the folder")
    return files, np.asarray(labels, dtype=object), [f.name for f in folders]


def _images(source: ImagesSource, base: Path) -> Raw:
    path = spec_relative(source.path, base)
    files, y, classes = folder_source(path, IMAGE_SUFFIXES, "images")
    x = ImageRows(files, source.image_size, source.color_mode, path)  # decoded when used (load_arrays)
    return Raw(x, y, str(path), classes=classes, files=[str(f) for f in files])


def _text(source: TextSource, base: Path) -> Raw:
    path = spec_relative(source.path, base)
    files, y, classes = folder_source(path, (".txt",), "texts")
    return Raw(read_texts(files), y, str(path), classes=classes, files=[str(f) for f in files], tokens=True)


# -- keras.datasets -------------------------------------------------------------
KERAS_CACHE = {
    "mnist": "mnist.npz",
    "fashion_mnist": "fashion-mnist",
    "cifar10": "cifar-10-batches-py-target",
    "cifar100": "cifar-100-python-target",
    "imdb": "imdb.npz",
    "reuters": "reuters.npz",
    "boston_housing": "boston_housing.npz",
}
KERAS_CLASSES = {
    "mnist": [str(i) for i in range(10)],
    "fashion_mnist": ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag",
                      "Ankle boot"],
    "cifar10": ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"],
    "imdb": ["negative", "positive"],
}


def keras_cache_dir() -> Path:
    """Where keras.datasets caches its downloads: $KERAS_HOME/datasets, by default ~/.keras/datasets."""
    import os

    try:
        from keras.src.backend.config import keras_home

        home = keras_home()
    except ImportError:  # pragma: no cover - a Keras without the private accessor
        home = os.environ.get("KERAS_HOME") or os.path.join(os.path.expanduser("~"), ".keras")
    return Path(os.path.expanduser(home)) / "datasets"


def _keras(source: KerasSource) -> Raw:
    import contextlib
    import sys

    import numpy as np

    from ..backend import import_keras

    keras = import_keras()
    name = source.name
    cached = keras_cache_dir() / KERAS_CACHE[name]
    was_cached = cached.exists()
    module = getattr(keras.datasets, name)
    kwargs = {"num_words": source.num_words} if name in ("imdb", "reuters") else {}
    try:
        with contextlib.redirect_stdout(sys.stderr):  # Keras's download messages must not mix with --json
            (x_train, y_train), (x_test, y_test) = module.load_data(**kwargs)
    except Exception as e:  # noqa: BLE001 - Keras raises a bare Exception for a failed download
        reason = " ".join(str(e).split())[:300]
        if "URL fetch failure" in reason or isinstance(e, OSError):
            state = ("is cached there, but the copy is incomplete or outdated" if was_cached
                     else "is not cached there")
            raise RunError(f"keras dataset '{name}' could not be downloaded ({reason}). Keras keeps its datasets in "
                           f"{cached.parent}, and '{name}' {state}; connect to the internet once to download it, "
                           f"or copy it to {cached}") from None
        raise RunError(f"keras dataset '{name}': cannot load it from {cached} ({type(e).__name__}: {reason})") from None

    def prepare(x, y):
        y = np.asarray(y).reshape(len(y), -1)
        y = y[:, 0] if y.shape[1] == 1 else y
        if name in ("imdb", "reuters"):
            x = keras.utils.pad_sequences(list(x), maxlen=source.output_sequence_length, dtype="int32")
        return x, y

    classes = KERAS_CLASSES.get(name)
    if name == "reuters" and hasattr(module, "get_label_names"):
        classes = [str(c) for c in module.get_label_names()]
    x_train, y_train = prepare(x_train, y_train)
    x_test, y_test = prepare(x_test, y_test)
    where = f"keras:{name}"
    tokens = name in ("imdb", "reuters")
    return Raw(x_train, y_train, where, classes=classes, tokens=tokens,
               test=Raw(x_test, y_test, f"{where} (test)", classes=classes, tokens=tokens))


def read_source(source, base: Path) -> Raw:
    if isinstance(source, SklearnSource):
        raw = _sklearn(source)
    elif isinstance(source, NpzSource):
        raw = read_npz(spec_relative(source.path, base), source.x, source.y)
    elif isinstance(source, NpySource):
        raw = _npy(source, base)
    elif isinstance(source, CsvSource):
        raw = _csv(source, base)
    elif isinstance(source, ImagesSource):
        raw = _images(source, base)
    elif isinstance(source, TextSource):
        raw = _text(source, base)
    else:
        raw = _keras(source)
    check_raw(raw)
    return raw


def check_raw(raw: Raw) -> None:
    import numpy as np

    if len(raw.x) == 0:
        raise RunError(f"{raw.where}: no samples (the data is empty)")
    if raw.y is not None and len(raw.y) != len(raw.x):
        raise RunError(f"{raw.where}: {len(raw.x)} samples but {len(raw.y)} labels")
    if not raw.tokens and np.asarray(raw.x[:1]).dtype == object:
        raise RunError(f"{raw.where}: the features are not numbers")
    _check_finite(raw)


def _check_finite(raw: Raw, chunk_bytes: int = 32 << 20) -> None:
    """NaN or infinity, reported by the sample's place in the file (before any shuffling or splitting);
    read in slices of about ``chunk_bytes`` (a memory-mapped .npy with pread, as streaming reads it: its pages
    are never mapped into this process; an array in memory as views, not copies), so a large file is never held
    whole."""
    import numpy as np

    for name, a in (("features", raw.x), ("labels", raw.y)):
        if not isinstance(a, np.ndarray) or a.dtype.kind not in "fc" or not len(a):
            continue
        rows = max(1, chunk_bytes // max(1, a.itemsize * (a.size // len(a))))
        for start in range(0, len(a), rows):
            stop = min(len(a), start + rows)
            part = read_rows(a, np.arange(start, stop)) if isinstance(a, np.memmap) else a[start:stop]
            finite = np.isfinite(part)
            if not finite.all():
                row = start + int(np.argwhere(~finite)[0][0])
                raise RunError(f"{raw.where}: the {name} contain NaN or infinity, first in sample {row} of the file "
                               f"(counting from 0, in the file's order); fix or drop those samples")
