"""Loading and preparing a spec's data (the `data` section).

The steps, in order: read the sources, encode class names as ids, cut windows (forecasting), split, turn texts
into token ids, convert the features (rescale, normalize, reshape), encode the labels. Everything is checked
against the model's static input and output shapes before training starts, so a problem is one clear message
naming the file.

What the training data teaches the preparation (class names, CSV columns, normalization statistics, the text
vocabulary) is kept in a ``Preprocessing`` object, saved with the run as ``preprocessing.json`` (through
``Arrays.artifacts``), so that `specc evaluate --data` and `specc predict` prepare new data exactly as the
training data was prepared.

Several inputs or outputs (an npz/npy source whose ``x``/``y`` map input/output names to arrays) go through
``load_named_arrays`` at the end of this file: the same steps per array, dicts keyed by name.

Large data streams (see "Large data" in docs/training.md): an ``npy`` source stays memory-mapped and an
``images`` source is kept as its file list (``ImageRows``); when ``stream_mode`` says so, the splits are
``Lazy`` index sets over them, prepared (rescale, normalize, reshape) one batch at a time by ``Lazy.take``,
and the input pipeline, evaluate and predict read only the rows of each batch.
"""

from __future__ import annotations

import difflib
import hashlib
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field, fields
from pathlib import Path

from ..check import CheckResult
from ..schema.data import (
    CsvSource,
    Data,
    ImagesSource,
    KerasSource,
    NpySource,
    NpzSource,
    SklearnSource,
    TextSource,
    Window,
)
from . import RunError
from .pipeline import n_samples

PREPROCESSING_FILE = "preprocessing.json"
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".gif")


@dataclass
class Arrays:
    """Prepared data, in memory. The trainer builds its own (seeded, resumable) input pipeline from it.

    ``x_val``/``y_val`` come from the spec's validation source or, failing that, are the last
    ``train.validation_split`` of the training data (as in Keras); None when there is no validation.
    ``artifacts`` are files for the run directory (name -> bytes or a JSON-able value): ``preprocessing.json``.
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
    artifacts: dict = field(default_factory=dict)
    preprocessing: Preprocessing | None = None


@dataclass
class Preprocessing:
    """What the training data taught the preparation; saved in the run as preprocessing.json."""

    source: str = ""
    classes: list | None = None
    columns: list | None = None
    label_column: str | int | None = None
    mean: list | float | None = None
    std: list | float | None = None
    vocabulary: list | None = None
    series_ndim: int | None = None
    label_names: bool = False

    def to_json(self) -> dict:
        return {"format": 1, **{f.name: getattr(self, f.name) for f in fields(self)}}

    @classmethod
    def from_json(cls, data: dict) -> Preprocessing:
        return cls(**{f.name: data[f.name] for f in fields(cls) if f.name in data})


@dataclass
class Raw:
    """One source as read: features (numbers, or texts), labels (numbers or class names), where from."""

    x: object
    y: object
    where: str
    classes: list | None = None
    test: Raw | None = None
    columns: list | None = None
    label_column: str | int | None = None
    files: list | None = None
    tokens: bool = False
    label_text: list | None = None


# -- streamed sources ------------------------------------------------------------
STREAM_ENV = "SPECC_STREAM"  # auto (default), always, never
STREAM_AUTO_BYTES = 1 << 30  # auto streams when the prepared (float32) training source would take more than this


class ImageRows:
    """An images source as its file list: rows are decoded and resized (Pillow) only when indexed."""

    def __init__(self, files: list[Path], image_size, color_mode: str, root: Path):
        self.files, self.image_size, self.color_mode, self.root = list(files), list(image_size), color_mode, root
        channels = 1 if color_mode == "grayscale" else 3
        self.shape = (len(self.files), *self.image_size, channels)
        self.dtype = "uint8"
        self.ndim = len(self.shape)

    def __len__(self) -> int:
        return len(self.files)

    def __getitem__(self, key):
        import numpy as np

        rows = np.arange(len(self.files))[key]
        if np.ndim(rows) == 0:
            return read_images([self.files[int(rows)]], self.image_size, self.color_mode)[0]
        return read_images([self.files[int(i)] for i in rows], self.image_size, self.color_mode)

    def read_all(self):
        return read_images(self.files, self.image_size, self.color_mode)

    def identity(self) -> bytes:
        """Names, sizes and modification times of the files (not their pixels)."""
        parts = [str(self.shape)]
        for f in self.files:
            st = f.stat()
            parts.append(f"{f.relative_to(self.root).as_posix()}:{st.st_size}:{st.st_mtime_ns}")
        return "\n".join(parts).encode()


def _npy_identity(a) -> bytes:
    st = Path(a.filename).stat()
    return f"npy:{a.dtype}:{a.shape}:{st.st_size}:{st.st_mtime_ns}".encode()


class Lazy:
    """Samples of a streamed source (a memory-mapped array or ``ImageRows``): the rows ``index`` of ``base``,
    read and prepared (``prepare``: rescale, normalize, reshape, as ``features``) only when taken.

    ``take(indices)`` reads the rows in sorted order (sequential reads of the memmap) and returns them, prepared,
    in the order asked; ``a[i]`` with a slice or an index array is the same. ``subset(indices)`` is a Lazy over
    fewer rows (the test, validation and training splits are index sets, never copies)."""

    streamed = True

    def __init__(self, base, index, prepare=None):
        import numpy as np

        self.base = base
        self.index = np.asarray(index, dtype="int64")
        self.prepare = prepare
        if prepare is None or not len(self.index):
            first = np.asarray(base[:1])
            if prepare is not None:
                first = prepare(first)
        else:
            first = self.take(np.arange(1))
        self.shape = (len(self.index), *first.shape[1:])
        self.dtype = first.dtype
        self.ndim = len(self.shape)

    def __len__(self) -> int:
        return len(self.index)

    def take(self, indices):
        import numpy as np

        rows = self.index[np.asarray(indices, dtype="int64")]
        order = np.argsort(rows, kind="stable")
        batch = _read_rows(self.base, rows[order])
        out = np.empty_like(batch)
        out[order] = batch
        return self.prepare(out) if self.prepare is not None else out

    def __getitem__(self, key):
        import numpy as np

        return self.take(np.arange(len(self.index))[key])

    def subset(self, indices) -> Lazy:
        import numpy as np

        return Lazy(self.base, self.index[np.asarray(indices, dtype="int64")], self.prepare)

    def prepared(self, prepare) -> Lazy:
        return Lazy(self.base, self.index, prepare)

    def identity(self) -> bytes:
        """What the fingerprint hashes: the source file(s)' sizes and modification times, which rows, and a
        sample of up to 64 prepared rows (not the whole data)."""
        import numpy as np

        source = self.base.identity() if hasattr(self.base, "identity") else _npy_identity(self.base)
        h = hashlib.sha256(source + str(self.shape).encode() + str(self.dtype).encode() + self.index.tobytes())
        if len(self):
            sample = np.unique(np.linspace(0, len(self) - 1, min(64, len(self))).astype("int64"))
            h.update(np.ascontiguousarray(self.take(sample)).tobytes())
        return h.digest()


def _read_rows(base, rows):
    """base[rows] for sorted ``rows``. A C-ordered .npy memmap is read with pread, one call per run of
    consecutive rows, into a fresh array: its pages are never mapped into this process, so the resident
    memory stays a few batches whatever the file's size (indexing the map would fault in neighbouring pages
    too). Anything else is indexed (and a memmap's pages unmapped again after the copy)."""
    import os

    import numpy as np

    name = getattr(base, "filename", None)
    if (not isinstance(base, np.memmap) or name is None or not base.flags.c_contiguous or base.ndim == 0
            or not hasattr(os, "preadv")):
        out = np.asarray(base[rows])
        _release(base)
        return out
    out = np.empty((len(rows), *base.shape[1:]), dtype=base.dtype)
    if not len(rows):
        return out
    row_bytes = out.itemsize * (out.size // len(rows))
    starts = np.flatnonzero(np.diff(rows) != 1) + 1
    view = memoryview(out.reshape(-1).view("uint8"))
    fd = os.open(name, os.O_RDONLY)
    try:
        for a, b in zip(np.r_[0, starts], np.r_[starts, len(rows)]):
            want, done = (b - a) * row_bytes, 0
            offset = base.offset + int(rows[a]) * row_bytes
            while done < want:
                got = os.preadv(fd, [view[a * row_bytes + done:b * row_bytes]], offset + done)
                if got <= 0:
                    raise RunError(f"{name}: the file is shorter than its header says")
                done += got
    finally:
        os.close(fd)
    return out


def _release(base) -> None:
    """Unmap the memmap's pages from this process once a batch is copied out: they stay in the kernel's page
    cache (reclaimable, shared), so the process's resident memory does not grow with the file."""
    import mmap

    mm = getattr(base, "_mmap", None)
    if mm is not None and hasattr(mm, "madvise") and hasattr(mmap, "MADV_DONTNEED"):
        try:
            mm.madvise(mmap.MADV_DONTNEED)
        except (OSError, ValueError):  # pragma: no cover - a closed map or a platform without it
            pass


def streamed(a) -> bool:
    return getattr(a, "streamed", False)


def _rows(a, index):
    """a[index]: a Lazy view for streamed data, a copy for arrays."""
    return a.subset(index) if streamed(a) else a[index]


_RUN_STREAM: ContextVar[str | None] = ContextVar("specc_run_stream", default=None)


@contextmanager
def run_stream_mode(info: dict):
    """Within: resume, evaluate, predict and export read the data the way the run was trained (streamed or in
    memory), unless SPECC_STREAM is set explicitly: the data fingerprints of the two ways differ. A context, not
    an environment change, so a library call leaves no trace in the process or in later child processes."""
    mode = info.get("stream") if info.get("stream") in ("auto", "always", "never") else None
    token = _RUN_STREAM.set(mode)
    try:
        yield
    finally:
        _RUN_STREAM.reset(token)


def stream_mode() -> str:
    import os

    mode = os.environ.get(STREAM_ENV, "").strip().lower() or _RUN_STREAM.get() or "auto"
    aliases = {"1": "always", "true": "always", "yes": "always", "0": "never", "false": "never", "no": "never"}
    mode = aliases.get(mode, mode)
    if mode not in ("auto", "always", "never"):
        raise RunError(f"{STREAM_ENV}={mode}: use auto, always or never")
    return mode


def _streamable(x) -> bool:
    import numpy as np

    return isinstance(x, (np.memmap, ImageRows))


def should_stream(x, data: Data) -> bool:
    """Whether a source's samples are streamed: a memory-mapped .npy or an images folder, not windowed and
    without autoencoder noise, and (``SPECC_STREAM=auto``) larger than 1 GiB once prepared as float32."""
    import math

    mode = stream_mode()
    if mode == "never" or not _streamable(x) or data.window is not None or data.noise:
        return False
    return mode == "always" or len(x) * math.prod(x.shape[1:]) * 4 > STREAM_AUTO_BYTES


def _in_memory(x):
    return x.read_all() if isinstance(x, ImageRows) else x


# -- reading ------------------------------------------------------------------
def _path(value: str, base: Path) -> Path:
    path = Path(value).expanduser()
    return path if path.is_absolute() else base / path


def _did_you_mean(name: str, options) -> str:
    close = difflib.get_close_matches(str(name), [str(o) for o in options], n=1)
    return f"; did you mean '{close[0]}'?" if close else ""


def _sklearn(source: SklearnSource) -> Raw:
    import sklearn.datasets as d

    bunch = getattr(d, f"load_{source.name}")()
    names = getattr(bunch, "target_names", None)
    classes = [str(c) for c in names] if names is not None and len(getattr(names, "shape", ())) == 1 else None
    return Raw(bunch.data, bunch.target, f"sklearn:{source.name}", classes=classes)


def read_npz(path: Path, x_name: str, y_name: str | None, *, fallback_single: bool = False) -> Raw:
    import numpy as np

    if not path.is_file():
        raise RunError(f"data file not found: {path}")
    try:
        with np.load(path, allow_pickle=False) as f:
            keys = list(f.keys())
            if x_name not in keys and fallback_single and len(keys) == 1:
                x_name = keys[0]
            if x_name not in keys:
                raise RunError(f"{path}: no array named '{x_name}' (the file has: {', '.join(keys) or 'none'})"
                               f"{_did_you_mean(x_name, keys)}")
            if y_name is not None and y_name not in keys:
                raise RunError(f"{path}: no array named '{y_name}' (the file has: {', '.join(keys)})"
                               f"{_did_you_mean(y_name, keys)}")
            x = f[x_name]
            y = f[y_name] if y_name is not None else None
    except RunError:
        raise
    except (OSError, ValueError, EOFError) as e:
        raise RunError(f"{path}: cannot read the arrays ({e})") from None
    if y is not None and len(x) != len(y):
        raise RunError(f"{path}: '{x_name}' has {len(x)} samples but '{y_name}' has {len(y)}")
    return Raw(x, y, str(path))


def read_npy(path: Path):
    """A .npy array, memory-mapped (read from disk as it is used)."""
    import numpy as np

    if not path.is_file():
        raise RunError(f"data file not found: {path}")
    try:
        a = np.load(path, mmap_mode="r", allow_pickle=False)
    except (OSError, ValueError, EOFError) as e:
        raise RunError(f"{path}: cannot read the array ({e})") from None
    if not hasattr(a, "shape") or a.ndim == 0:
        raise RunError(f"{path}: holds a single value, not an array of samples")
    return a


def _npy(source: NpySource, base: Path) -> Raw:
    x_path = _path(source.x, base)
    x = read_npy(x_path)
    y = None
    if source.y is not None:
        y_path = _path(source.y, base)
        y = read_npy(y_path)
        if len(x) != len(y):
            raise RunError(f"{x_path} has {len(x)} samples but {y_path} has {len(y)}")
    return Raw(x, y, str(x_path))


@dataclass
class Table:
    x: object
    y: list | None
    columns: list
    label_column: str | int | None


def read_csv(path: Path, *, label, features, delimiter: str = ",", header: bool = True,
             label_optional: bool = False, new_data: bool = False) -> Table:
    """Numeric feature columns and (string) label values of a CSV file, with errors naming line and column.

    ``label_optional``: the label column may be absent; ``new_data``: for evaluate or predict, not training."""
    import csv
    import math

    import numpy as np

    if not path.is_file():
        raise RunError(f"data file not found: {path}")
    try:
        with open(path, newline="", encoding="utf-8-sig") as f:
            reader = csv.reader(f, delimiter=delimiter)
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
        raise RunError(f"{path}: not a valid CSV file ({e})") from None
    except OSError as e:
        raise RunError(f"{path}: cannot read ({e.strerror})") from None
    if header and names is None:
        raise RunError(f"{path}: the file is empty (no header row)")
    width = len(names) if names is not None else (len(rows[0][1]) if rows else 0)
    if names is None:
        names = [str(i) for i in range(width)]

    def index(column, role) -> int | None:
        if isinstance(column, int):
            if column >= width:
                raise RunError(f"{path}: {role} column {column} does not exist (the file has {width} columns, "
                               f"numbered from 0)")
            return column
        if column in names:
            return names.index(column)
        shown = ", ".join(names[:30]) + (", ..." if len(names) > 30 else "")
        raise RunError(f"{path}: no column named '{column}' (the columns are: {shown}){_did_you_mean(column, names)}")

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
                what = "an empty value" if not cell else f"'{cell[:40]}'"
                hint = "" if new_data else "; set data.source.features to choose the columns"
                raise RunError(f"{path}: line {line}, column '{names[i]}': {what} is not a number (feature columns "
                               f"must be numeric{hint})") from None
            if not math.isfinite(value):
                raise RunError(f"{path}: line {line}, column '{names[i]}': {cell} is not a finite number "
                               f"(NaN and infinity cannot be trained on)")
            x[r, c] = value
        if y is not None:
            cell = row[label_index].strip()
            if not cell:
                raise RunError(f"{path}: line {line}, column '{names[label_index]}': the label is empty")
            y.append(cell)
    columns = [names[i] if header else i for i in feature_index]
    label_column = None if label_index is None else (names[label_index] if header else label_index)
    return Table(x, y, columns, label_column)


def _label_values(values: list):
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
    path = _path(source.path, base)
    table = read_csv(path, label=source.label, features=source.features, delimiter=source.delimiter,
                     header=source.header)
    y = None if table.y is None else _label_values(table.y)
    return Raw(table.x, y, str(path), columns=table.columns, label_column=table.label_column, label_text=table.y)


def _class_folders(path: Path, what: str) -> list[Path]:
    if not path.is_dir():
        raise RunError(f"{what} folder not found: {path}")
    folders = sorted(p for p in path.iterdir() if p.is_dir() and not p.name.startswith("."))
    if not folders:
        raise RunError(f"{path}: no class sub-folders (the {what} need one sub-folder per class)")
    return folders


def _files(folder: Path, suffixes) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.is_file() and p.suffix.lower() in suffixes
                  and not any(part.startswith(".") for part in p.relative_to(folder).parts))


def read_images(files: list[Path], image_size, color_mode: str):
    """Images resized to image_size ([h, w]): a uint8 array (n, h, w, 1 or 3)."""
    import numpy as np
    from PIL import Image, UnidentifiedImageError

    h, w = image_size
    channels = 1 if color_mode == "grayscale" else 3
    out = np.empty((len(files), h, w, channels), dtype="uint8")
    for i, file in enumerate(files):
        try:
            with Image.open(file) as image:
                image = image.convert("L" if channels == 1 else "RGB")
                if image.size != (w, h):
                    image = image.resize((w, h), Image.Resampling.BILINEAR)
                out[i] = np.asarray(image, dtype="uint8").reshape(h, w, channels)
        except (UnidentifiedImageError, OSError, ValueError) as e:
            raise RunError(f"{file}: not a readable image ({e})") from None
    return out


def read_texts(files: list[Path]):
    import numpy as np

    texts = []
    for file in files:
        try:
            texts.append(file.read_text(encoding="utf-8"))
        except UnicodeDecodeError as e:
            raise RunError(f"{file}: not UTF-8 text ({e.reason} at byte {e.start})") from None
        except OSError as e:
            raise RunError(f"{file}: cannot read ({e.strerror})") from None
    return np.array(texts, dtype=object)


def _folder_source(path: Path, suffixes, what: str):
    """(files, class name per file, class names) of a folder with one sub-folder per class."""
    import numpy as np

    folders = _class_folders(path, what)
    files, labels = [], []
    for folder in folders:
        found = _files(folder, suffixes)
        files += found
        labels += [folder.name] * len(found)
    if not files:
        raise RunError(f"{path}: no {what} found (looked for {', '.join(suffixes)} files in "
                       f"{', '.join(f.name for f in folders)})")
    return files, np.asarray(labels, dtype=object), [f.name for f in folders]


def _images(source: ImagesSource, base: Path) -> Raw:
    path = _path(source.path, base)
    files, y, classes = _folder_source(path, IMAGE_SUFFIXES, "images")
    x = ImageRows(files, source.image_size, source.color_mode, path)  # decoded when used (load_arrays)
    return Raw(x, y, str(path), classes=classes, files=[str(f) for f in files])


def _text(source: TextSource, base: Path) -> Raw:
    path = _path(source.path, base)
    files, y, classes = _folder_source(path, (".txt",), "texts")
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

    from .backend import import_keras

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
        raw = read_npz(_path(source.path, base), source.x, source.y)
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
    _check_raw(raw)
    return raw


def _check_raw(raw: Raw) -> None:
    import numpy as np

    if len(raw.x) == 0:
        raise RunError(f"{raw.where}: no samples (the data is empty)")
    if raw.y is not None and len(raw.y) != len(raw.x):
        raise RunError(f"{raw.where}: {len(raw.x)} samples but {len(raw.y)} labels")
    if not raw.tokens and np.asarray(raw.x[:1]).dtype == object:
        raise RunError(f"{raw.where}: the features are not numbers")


# -- class names --------------------------------------------------------------
def _is_names(y) -> bool:
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
    if not len(rows):
        shown = ", ".join(sorted(set(keys))[:20])
        raise RunError(f"{raw.where}: no {role} sample has a label in data.classes (the labels are: {shown})")
    raw.x = raw.x.subset(rows) if isinstance(raw.x, Lazy) else raw.x[rows]
    raw.y = np.array([index[keys[i]] for i in rows], dtype="int64")
    raw.label_text = None
    raw.classes = [str(c) for c in classes]


def encode_classes(raw: Raw, classes: list | None, names: bool, role: str):
    """raw.y as numbers: class names replaced by their index in ``classes`` when the training labels were names
    (numbers then pass through as class ids), checked to be numbers otherwise."""
    import numpy as np

    if raw.y is None:
        return None
    the = f"{role} label" if role else "label"
    if names:
        values = raw.label_text if raw.label_text is not None else (raw.y if _is_names(raw.y) else None)
        if values is None:
            return raw.y
        index = {str(c): i for i, c in enumerate(classes)}
        out = np.empty(len(values), dtype="int64")
        for i, value in enumerate(values):
            k = index.get(str(value))
            if k is None:
                shown = ", ".join(map(str, classes[:20])) + (", ..." if len(classes) > 20 else "")
                raise RunError(f"{raw.where}: {the} '{value}' is not one of the training classes ({shown})"
                               f"{_did_you_mean(value, classes)}")
            out[i] = k
        return out
    if _is_names(raw.y):
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
    from .backend import import_keras

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


def _features(a, data: Data, prep: Preprocessing, where: str, name: str, tokens: bool = False):
    """``features``, applied now to arrays and per batch (when taken) to streamed data."""
    import functools

    if streamed(a):
        return a.prepared(functools.partial(features, data=data, prep=prep, where=where, name=name, tokens=tokens))
    return features(a, data, prep, where, name, tokens)


def _same(a):
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
        return out
    output = output or result.graph.outputs[0]
    units = result.info[output].shape[-1]
    if not np.issubdtype(y.dtype, np.integer):
        raise RunError(f"{where}: {_w(name)}labels are not integer class ids; set data.labels: raw for regression")
    if len(y) and (y.min() < 0 or y.max() >= units):
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


# -- the whole preparation ------------------------------------------------------------
def load_arrays(result: CheckResult, base: Path, seed: int | None) -> Arrays:
    """The train/test (and validation) arrays for a valid spec, prepared and checked against the model."""
    import numpy as np

    data: Data | None = result.spec.data
    if data is None:
        raise RunError("the spec has no `data` section; add one (see docs/training.md)")
    if per_name(data):
        return load_named_arrays(result, base, seed)
    src = read_source(data.source, base)
    val = read_source(data.validation, base) if data.validation is not None else None
    test = read_source(data.test, base) if data.test is not None else src.test
    if test is not None and data.test is None:
        _check_raw(test)
    # Streamed (large .npy or image folders): the parts stay on disk as Lazy index sets; otherwise images are
    # decoded here and .npy memmaps are read as they are converted.
    stream = should_stream(src.x, data)
    for part in (src, val, test):
        if part is not None and _streamable(part.x):
            part.x = Lazy(part.x, np.arange(len(part.x))) if stream else _in_memory(part.x)
    if data.classes is not None:
        for part, role in ((src, "training"), (val, "validation"), (test, "test")):
            if part is not None:
                keep_classes(part, data.classes, role)

    # Class names -> ids, with the training source's classes (folders) or its sorted label values (CSV).
    classes = src.classes
    names = _is_names(src.y)
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
        x_train, x_test = _rows(src.x, train), _rows(src.x, held)
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
        val = Raw(x=_rows(x_train, held), y=None if y_train is None else y_train[held], where=src.where,
                  tokens=src.tokens)
        x_train, y_train = _rows(x_train, keep), None if y_train is None else y_train[keep]

    prep = Preprocessing(source=data.source.type, classes=classes, columns=src.columns,
                         label_column=src.label_column, series_ndim=series_ndim, label_names=names)
    if isinstance(data.source, TextSource):
        layer = vectorizer(data.source)
        layer.adapt(np.asarray(x_train, dtype=object), batch_size=1024)
        prep.vocabulary = [str(t) for t in layer.get_vocabulary()]
        length = data.source.output_sequence_length
        x_train, x_test = vectorize(layer, x_train, length), vectorize(layer, x_test, length)
        if val is not None:
            val.x = vectorize(layer, val.x, length)
    if data.normalize:
        prep.mean, prep.std = normalization(x_train, data, series_ndim)

    test_where = test.where if test is not None else src.where
    x_train = _features(x_train, data, prep, src.where, "training", src.tokens)
    x_test = _features(x_test, data, prep, test_where, "test", src.tokens)
    x_val = _features(val.x, data, prep, val.where, "validation", src.tokens) if val is not None else None
    check_input_shape(result, x_train, src.where)
    for part, role, a in ((test, "test", x_test), (val, "validation", x_val)):
        if a is not None and len(a) and a.shape[1:] != x_train.shape[1:]:
            raise RunError(f"{part.where if part else src.where}: {role} samples have shape {a.shape[1:]} but the "
                           f"training samples have {x_train.shape[1:]}")

    y_val = None
    if data.target == "input":
        y_train, y_test = _same(x_train), _same(x_test)  # streamed: the same Lazy (read once per batch)
        y_val = None if x_val is None else _same(x_val)
        if data.noise:
            noise = np.random.default_rng(seed if seed is not None else 0)
            x_train = x_train + noise.normal(0, data.noise, x_train.shape).astype("float32")
            x_test = x_test + noise.normal(0, data.noise, x_test.shape).astype("float32")
            if x_val is not None:
                x_val = x_val + noise.normal(0, data.noise, x_val.shape).astype("float32")
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


# -- new data for a trained run (evaluate --data, predict) ---------------------------------
def load_preprocessing(run_dir: Path, result: CheckResult, info: dict) -> Preprocessing:
    """The run's preprocessing.json; for a run written without one, recomputed from its training data."""
    import json

    path = Path(run_dir) / PREPROCESSING_FILE
    if path.is_file():
        try:
            return Preprocessing.from_json(json.loads(path.read_text()))
        except (ValueError, TypeError) as e:
            raise RunError(f"{path}: not a valid preprocessing file ({e})") from None
    arrays = load_arrays(result, Path(run_dir), result.spec.seed)
    expected = info.get("data", {}).get("fingerprint")
    if expected and arrays.fingerprint != expected:
        raise RunError(f"{run_dir} has no {PREPROCESSING_FILE}, and its training data changed since (fingerprint "
                       f"{arrays.fingerprint}, run.json says {expected}): cannot rebuild the preprocessing")
    return arrays.preprocessing


def _plain_csv(path: Path, label_optional: bool, label) -> Table:
    """A CSV for a run not trained on CSV: every column a feature; a header row if the first row is not numbers."""
    import csv

    try:
        with open(path, newline="", encoding="utf-8-sig") as f:
            first = next((row for row in csv.reader(f) if row), [])
    except (OSError, UnicodeDecodeError, csv.Error):
        first = []
    header = False
    for cell in first:
        try:
            float(cell)
        except ValueError:
            header = True
            break
    return read_csv(path, label=label, features=None, header=header, label_optional=label_optional, new_data=True)


def read_new_data(path: Path, result: CheckResult, prep: Preprocessing, labels: bool) -> Raw:
    """A file (or folder) of new samples, read as the run's training source was; ``labels``: they are needed."""
    path = Path(path)
    data: Data = result.spec.data
    if per_name(data):
        return read_new_named(path, result, labels)
    source = data.source
    need_y = labels and data.target != "input" and not (data.window is not None and _series_labels_optional(data))
    suffix = path.suffix.lower()
    if not path.exists():
        raise RunError(f"data file not found: {path}")
    if path.is_dir():
        if isinstance(source, (ImagesSource, TextSource)):
            kind = "images" if isinstance(source, ImagesSource) else "texts"
            suffixes = IMAGE_SUFFIXES if kind == "images" else (".txt",)
            if labels:
                files, y, _ = _folder_source(path, suffixes, kind)
            else:
                files, y = _files(path, suffixes), None
                if not files:
                    raise RunError(f"{path}: no {kind} found (looked for {', '.join(suffixes)} files)")
            return _read_files(files, y, source, str(path))
        raise RunError(f"{path} is a folder; give a .npz, .npy or .csv file")
    if isinstance(source, (ImagesSource, TextSource)) and suffix in (IMAGE_SUFFIXES + (".txt",)):
        if labels:
            raise RunError(f"{path}: a single file has no label; give a folder with one sub-folder per class")
        return _read_files([path], None, source, str(path))
    if suffix == ".npz":
        x_name = source.x if isinstance(source, NpzSource) else "x"
        y_name = (source.y if isinstance(source, NpzSource) else "y") if need_y else None
        raw = read_npz(path, x_name, y_name, fallback_single=not need_y)
    elif suffix == ".npy":
        if need_y:
            raise RunError(f"{path}: a .npy file holds one array, but evaluating needs labels too; give a .npz with "
                           f"features and labels, or a .csv")
        raw = Raw(read_npy(path), None, str(path))
    elif suffix == ".csv":
        if isinstance(source, CsvSource):
            label = prep.label_column if prep.label_column is not None else source.label
            table = read_csv(path, label=label if (need_y or label is not None) else None, features=prep.columns,
                             delimiter=source.delimiter, header=source.header, label_optional=not need_y,
                             new_data=True)
        else:
            table = _plain_csv(path, label_optional=not need_y, label="y" if need_y else None)
        y = None if table.y is None or not need_y else _label_values(table.y)
        raw = Raw(table.x, y, str(path))
    else:
        kinds = ".npz, .npy or .csv"
        if isinstance(source, ImagesSource):
            kinds += ", an image or a folder of images"
        elif isinstance(source, TextSource):
            kinds += ", a .txt file or a folder of them"
        raise RunError(f"{path}: unknown kind of file '{suffix or path.name}' (use {kinds})")
    raw.tokens = _token_source(source)
    _check_raw(raw)
    return raw


def _series_labels_optional(data: Data) -> bool:
    """Windowed data without separate labels: the series holds its own targets."""
    y = getattr(data.source, "y", getattr(data.source, "label", "y"))
    return y is None


def _token_source(source) -> bool:
    return isinstance(source, TextSource) or (isinstance(source, KerasSource) and source.name in ("imdb", "reuters"))


def _read_files(files: list[Path], y, source, where: str) -> Raw:
    if isinstance(source, ImagesSource):
        root = Path(where) if Path(where).is_dir() else Path(where).parent
        x = ImageRows(files, source.image_size, source.color_mode, root)  # decoded in prepare_new
        return Raw(x, y, where, files=[str(f) for f in files])
    return Raw(read_texts(files), y, where, files=[str(f) for f in files], tokens=True)


def prepare_new(raw: Raw, result: CheckResult, prep: Preprocessing, labels: bool):
    """(x, y) of new data, prepared exactly as the run's training data; y is None unless ``labels``."""
    data: Data = result.spec.data
    if isinstance(raw, Named):
        return prepare_new_named(raw, result, prep, labels)
    y = encode_classes(raw, prep.classes, prep.label_names, "") if labels else None
    import numpy as np

    x = raw.x
    if _streamable(x):
        x = Lazy(x, np.arange(len(x))) if should_stream(x, data) else _in_memory(x)
    if data.window is not None:
        x, y = windows(x, y, data.window, raw.where, targets=labels)
    if isinstance(data.source, TextSource):
        x = vectorize(vectorizer(data.source, prep.vocabulary), x, data.source.output_sequence_length)
    if data.reshape is None:
        check_input_shape(result, x, raw.where)  # before normalizing: the message names the model's input
    x = _features(x, data, prep, raw.where, "", raw.tokens)
    check_input_shape(result, x, raw.where)
    if not labels:
        return x, None
    if data.target == "input":
        return x, _same(x)
    if y is None:
        raise RunError(f"{raw.where}: no labels")
    return x, encode_labels(y, result, raw.where, "")


# -- several inputs or outputs: arrays by name ---------------------------------------------
# A spec whose npz/npy source maps model input and output names to arrays (`x: {left: xa, right: xb}`,
# `y: {digit: y, high: y_high}`) is read here: every step of the single-array path above (split, validation
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

    if not path.is_file():
        raise RunError(f"data file not found: {path}")
    try:
        with np.load(path, allow_pickle=False) as f:
            keys = list(f.keys())
            for name in names:
                if name not in keys:
                    raise RunError(f"{path}: no array named '{name}' (the file has: {', '.join(keys) or 'none'})"
                                   f"{_did_you_mean(name, keys)}")
            return {name: f[name] for name in dict.fromkeys(names)}
    except RunError:
        raise
    except (OSError, ValueError, EOFError) as e:
        raise RunError(f"{path}: cannot read the arrays ({e})") from None


def read_named(source, base: Path, result: CheckResult) -> Named:
    """An npz or npy source, one array per model input and output."""
    import numpy as np

    xs, ys = _by_name(source.x, result.graph.inputs), _by_name(source.y, result.graph.outputs)
    if isinstance(source, NpzSource):
        path = _path(source.path, base)
        arrays = read_npz_arrays(path, [*xs.values(), *(ys or {}).values()])
        raw = Named({k: arrays[v] for k, v in xs.items()},
                    None if ys is None else {k: arrays[v] for k, v in ys.items()}, str(path))
    elif isinstance(source, NpySource):
        x = {k: read_npy(_path(v, base)) for k, v in xs.items()}  # memory-mapped: streamed when large
        y = None if ys is None else {k: np.array(read_npy(_path(v, base))) for k, v in ys.items()}
        raw = Named(x, y, str(_path(next(iter(xs.values())), base)))
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
    if mode == "never" or not arrays or not all(_streamable(a) for a in arrays):
        return False
    return mode == "always" or sum(len(a) * math.prod(a.shape[1:]) * 4 for a in arrays) > STREAM_AUTO_BYTES


def _rows_named(arrays: dict | None, index):
    return None if arrays is None else {k: _rows(a, index) for k, a in arrays.items()}


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
            part.x = {k: Lazy(a, np.arange(len(a))) if stream and _streamable(a) else a for k, a in part.x.items()}

    # Class names -> ids, per output: its training labels' sorted names.
    classes: dict[str, list] = {}
    names: dict[str, bool] = {}
    for o, y in (src.y or {}).items():
        names[o] = _is_names(y)
        if names[o]:
            classes[o] = sorted({str(v) for v in y})
            src.y[o] = encode_classes(Raw(None, y, src.where), classes[o], True, "training")
    for part, role in ((val, "validation"), (test, "test")):
        if part is not None and part.y is not None:
            for o, y in part.y.items():
                part.y[o] = encode_classes(Raw(None, y, part.where), classes.get(o), names.get(o, False), role)

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
        # Keras's validation_split, taken before the normalization statistics (as in load_arrays).
        cut = n_train - int(n_train * split)
        keep, held = np.arange(cut), np.arange(cut, n_train)
        val = Named(_rows_named(x_train, held), _rows_named(y_train, held), src.where)
        x_train, y_train = _rows_named(x_train, keep), _rows_named(y_train, keep)

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
        return {k: _features(a, data, _input_prep(prep, k), where, f"{role} input '{k}'") for k, a in xs.items()}

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
    except (OSError, ValueError, EOFError) as e:
        raise RunError(f"{path}: cannot read the arrays ({e})") from None
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
    x = {k: Lazy(a, np.arange(len(a))) if stream and _streamable(a) else a for k, a in raw.x.items()}
    for k in inputs:
        if data.reshape is None:
            check_input_shape(result, x[k], raw.where, k)  # before normalizing: the message names the input
        x[k] = _features(x[k], data, _input_prep(prep, k), raw.where, f"input '{k}'")
        check_input_shape(result, x[k], raw.where, k)
    y = None
    if labels:
        y = {}
        for o in outputs:
            classes, label_names = _output_classes(prep, o, outputs)
            ids = encode_classes(Raw(None, raw.y[o], raw.where), classes, label_names, "")
            y[o] = encode_labels(ids, result, raw.where, f"output '{o}'", o)
    return _one(x, inputs), _one(y, outputs)
