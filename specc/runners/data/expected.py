"""What a spec's data files must contain, said from the spec itself, for the error about a missing one.

Pure Python (no numpy, no Keras): `specc train` checks its data files before it spends seconds importing Keras.
"""

from __future__ import annotations

import math
from pathlib import Path

from ...check import CheckResult
from ...paths import spec_relative
from ...schema.data import CsvSource, ImagesSource, NpySource, NpzSource, TextSource
from .. import RunError
from .prepare import label_mode
from .records import IMAGE_SUFFIXES


def _shape(dims) -> str:
    parts = ["n", *("any" if d is None else str(d) for d in dims)]
    return "(" + ", ".join(parts) + (",)" if len(parts) == 1 else ")")


def _classes(result: CheckResult, output: str) -> int:
    return result.info[output].shape[-1]


def features_text(result: CheckResult, input: str) -> str:
    """What the samples of ``input`` must be, as the spec's data section prepares them."""
    data = result.spec.data
    dims = tuple(result.info[input].shape[1:])
    if data.window is not None:
        return f"a series of numbers of shape {_shape(dims[1:]).replace('(n', '(steps', 1)}, cut into windows of " \
               f"{data.window.size} steps"
    if data.reshape is not None and None not in dims and len(dims) > 1:
        return f"numbers, {math.prod(dims)} per sample in any shape, e.g. {_shape((math.prod(dims),))} " \
               f"(data.reshape makes them {_shape(dims)})"
    return f"numbers of shape {_shape(dims)}"


def labels_text(result: CheckResult, output: str, column: bool = False) -> str | None:
    """What the labels of ``output`` must be (``column``: as a CSV column, without shapes); None when the model
    needs none (an autoencoder)."""
    data = result.spec.data
    mode = label_mode(result, output)
    if mode == "input":
        return None
    if data.window is not None:
        return "optional: the target series, one value per step (without it, the series itself is the target)"
    if mode == "raw":
        dims = tuple(result.info[output].shape[1:])
        return "numbers" if column else f"numbers of shape {_shape(dims)}" + (" or (n,)" if dims == (1,) else "")
    shape = "" if column else " of shape (n,)"
    if data.classes is not None:
        return f"labels{shape}; only the samples labelled {', '.join(map(str, data.classes))} are kept, " \
               f"numbered 0.. in that order"
    units = _classes(result, output)
    return f"integer class ids in 0..{units - 1}{shape}, or class names as strings (sorted, they become the ids)"


def _arrays(result: CheckResult, source) -> list[tuple[str, str, str]]:
    """(an array name or a file, the model input or output it feeds, what it must hold) for each array."""
    graph = result.graph
    xs = source.x if isinstance(source.x, dict) else {graph.inputs[0]: source.x}
    out = [(where, f"input '{name}'", features_text(result, name)) for name, where in xs.items()]
    if source.y is None:
        return out
    ys = source.y if isinstance(source.y, dict) else {graph.outputs[0]: source.y}
    for name, where in ys.items():
        text = labels_text(result, name)
        if text is not None:
            out.append((where, f"output '{name}'", text))
    return out


def describe(result: CheckResult, source) -> list[str]:
    """Lines saying what ``source``'s file or folder must hold for this spec."""
    single = len(result.graph.inputs) == 1 and len(result.graph.outputs) == 1
    if isinstance(source, NpzSource):
        rows = _arrays(result, source)
        lines = ["it must be a .npz file (numpy.savez) holding (n: the number of samples):"]
        lines += [f"  `{where}`" + ("" if single else f" ({role})") + f": {text}" for where, role, text in rows]
        call = ", ".join(f"{where}=..." for where, _, _ in rows)
        return [*lines, f"e.g. numpy.savez({Path(source.path).name!r}, {call})"]
    if isinstance(source, NpySource):
        rows = _arrays(result, source)
        return ["the .npy files (numpy.save) must hold (n: the number of samples):",
                *(f"  {where}" + ("" if single else f" ({role})") + f": {text}" for where, role, text in rows)]
    if isinstance(source, CsvSource):
        return _csv(result, source)
    if isinstance(source, (ImagesSource, TextSource)):
        units = _classes(result, result.graph.outputs[0])
        count = "2: one output unit, binary" if units == 1 else f"{units}, one per output unit"
        if isinstance(source, ImagesSource):
            height, width = source.image_size
            what = (f"images ({', '.join(s.lstrip('.') for s in IMAGE_SUFFIXES)}) of any size, resized to "
                    f"{height}x{width} and read as {source.color_mode}")
        else:
            what = ".txt files (UTF-8)"
        return [f"it must be a folder with one sub-folder per class ({count}), each holding {what};",
                "the sub-folders' names, sorted, are the classes"]
    return []


def _csv(result: CheckResult, source: CsvSource) -> list[str]:
    dims = tuple(result.info[result.graph.inputs[0]].shape[1:])
    count = math.prod(dims) if None not in dims and result.spec.data.window is None else None
    columns = f"the columns {', '.join(map(str, source.features))}" if source.features is not None else \
        (f"{count} numeric feature columns" if count is not None else "numeric feature columns")
    header = "a header row, then " if source.header else "no header row; "
    lines = [f"it must be a CSV table ({header}one sample per row) with {columns}"]
    if source.label is not None:
        text = labels_text(result, result.graph.outputs[0], column=True)
        if text is not None:
            lines.append(f"and the label column {source.label!s}: {text}")
    return lines


def _paths(source, base: Path) -> list[tuple[Path, bool]]:
    """The files (False) and folders (True) ``source`` reads."""
    def at(value: str) -> Path:
        return spec_relative(value, base)

    if isinstance(source, (NpzSource, CsvSource)):
        return [(at(source.path), False)]
    if isinstance(source, (ImagesSource, TextSource)):
        return [(at(source.path), True)]
    if isinstance(source, NpySource):
        files = [v for value in (source.x, source.y) if value is not None
                 for v in (value.values() if isinstance(value, dict) else [value])]
        return [(at(v), False) for v in files]
    return []


def check_data_files(result: CheckResult, base: Path) -> None:
    """Raise a RunError that says what the file must hold when one of the spec's data files is missing."""
    data = result.spec.data
    if data is None:
        return
    for source in (data.source, data.validation, data.test):
        for path, folder in _paths(source, base) if source is not None else ():
            if (path.is_dir() if folder else path.is_file()):
                continue
            what = ("images" if isinstance(source, ImagesSource) else "texts") + " folder" if folder else "data file"
            found = "is a file, not a folder" if folder and path.exists() else \
                "is a folder, not a file" if not folder and path.is_dir() else None
            lines = describe(result, source)
            raise RunError("\n  ".join([f"{what} {path} {found}" if found else f"{what} not found: {path}", *lines]))
