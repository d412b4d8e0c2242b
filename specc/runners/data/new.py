"""New data for a trained run (`specc evaluate --data`, `specc predict`): prepared exactly as the training
data was, from the run's preprocessing.json."""

from __future__ import annotations

from pathlib import Path

from ...check import CheckResult
from ...schema.data import (
    CsvSource,
    Data,
    ImagesSource,
    KerasSource,
    NpzSource,
    TextSource,
)
from .. import RunError
from .load import load_arrays
from .named import Named, per_name, prepare_new_named, read_new_named
from .prepare import (
    apply_features,
    check_input_shape,
    encode_classes,
    encode_labels,
    own_rows,
    vectorize,
    vectorizer,
    windows,
)
from .records import IMAGE_SUFFIXES, PREPROCESSING_FILE, Preprocessing, Raw
from .sources import (
    Table,
    check_raw,
    folder_source,
    label_values,
    list_files,
    read_csv,
    read_npy,
    read_npz,
    read_texts,
)
from .streams import ImageRows, Lazy, in_memory, should_stream, streamable


def load_preprocessing(run_dir: Path, result: CheckResult, info: dict) -> Preprocessing:
    """The run's preprocessing.json; for a run written without one, recomputed from its training data."""

    path = Path(run_dir) / PREPROCESSING_FILE
    if path.is_file():
        from ..rundir import read_json

        data = read_json(path, "preprocessing file")
        try:
            return Preprocessing.from_json(data)
        except Exception as e:
            raise RunError(f"{path}: not a preprocessing file written by specc ({type(e).__name__})") from None
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
                files, y, _ = folder_source(path, suffixes, kind)
            else:
                files, y = list_files(path, suffixes), None
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
        y = None if table.y is None or not need_y else label_values(table.y)
        raw = Raw(table.x, y, str(path))
    elif suffix in IMAGE_SUFFIXES + (".txt",):
        kind = "an image" if suffix in IMAGE_SUFFIXES else "a text file"
        takes = {ImagesSource: "images", TextSource: "texts"}.get(type(source), f"{source.type} data")
        raise RunError(f"{path} is {kind}, but this model does not take {'images' if kind == 'an image' else 'texts'}"
                       f" (it was trained on {takes}); give a .npz, .npy or .csv of its inputs")
    else:
        kinds = ".npz, .npy or .csv"
        if isinstance(source, ImagesSource):
            kinds += ", an image or a folder of images"
        elif isinstance(source, TextSource):
            kinds += ", a .txt file or a folder of them"
        raise RunError(f"{path}: unknown kind of file '{suffix or path.name}' (use {kinds})")
    raw.tokens = _token_source(source)
    check_raw(raw)
    return raw


def new_samples(x, y, result: CheckResult, prep: Preprocessing, labels: bool) -> Raw | Named:
    """New samples from a file or folder ``x`` (read as ``read_new_data`` reads it), or from values already in
    memory: ``x`` the features as the training source held them (numbers; texts for a text model) and ``y`` the
    labels (class names or ids, as in the training data); mappings by name for a model whose data is given per
    input/output name."""
    import os

    if isinstance(x, (str, os.PathLike)):
        if y is not None:
            raise RunError("give the labels inside the data file, or give arrays for both x and y")
        return read_new_data(Path(x), result, prep, labels)
    import numpy as np

    data: Data = result.spec.data
    if labels and y is None and data.target != "input" and not (data.window is not None and
                                                                 _series_labels_optional(data)):
        raise RunError("labels are needed: give y with x")

    def arrays(value, names, what):
        if value is None:
            return None
        if isinstance(value, dict):
            return {k: np.asarray(v) for k, v in value.items()}
        if len(names) != 1:
            raise RunError(f"the model has {len(names)} {what}s ({', '.join(names)}): give a mapping of name to array")
        return {names[0]: np.asarray(value)}

    if per_name(data):
        return Named(arrays(x, result.graph.inputs, "input"), arrays(y, result.graph.outputs, "output"), "<arrays>")
    texts = isinstance(x, (list, tuple)) and bool(x) and all(isinstance(t, str) for t in x)
    if not texts and np.ndim(x) == 0:
        raise RunError(f"x must hold samples (an array, or a list of texts); got {type(x).__name__}")
    if y is not None and np.ndim(y) == 0:
        raise RunError(f"y must hold a label per sample (an array or a list); got {type(y).__name__}")
    raw = Raw(list(x) if texts else np.asarray(x), None if y is None else np.asarray(y), "<arrays>",
              tokens=_token_source(data.source))
    check_raw(raw)
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
    if streamable(x):
        x = Lazy(x, np.arange(len(x))) if should_stream(x, data) else in_memory(x)
    if data.window is not None:
        x, y = windows(x, y, data.window, raw.where, targets=labels)
    if isinstance(data.source, TextSource):
        x = vectorize(vectorizer(data.source, prep.vocabulary), x, data.source.output_sequence_length)
    if data.reshape is None:
        check_input_shape(result, x, raw.where)  # before normalizing: the message names the model's input
    x = apply_features(x, data, prep, raw.where, "", raw.tokens)
    check_input_shape(result, x, raw.where)
    if not labels:
        return x, None
    if data.target == "input":
        return x, own_rows(x)
    if y is None:
        raise RunError(f"{raw.where}: no labels")
    return x, encode_labels(y, result, raw.where, "")
