"""`specc predict RUN_DIR INPUT -o OUT`: a trained run's outputs for new inputs.

INPUT is read and prepared exactly as the run's training data was (see data/new.py): a .npz (the array named as
the spec's ``x``, or its only array), a .npy, a .csv (the training feature columns), an image or a folder of
images, a .txt file or a folder of them. OUT is a .npy (the model's raw outputs) or a .csv: for classifiers the
predicted class name and the probability of each class, otherwise the output values; a ``file`` column comes
first for images and texts. The output is written atomically.

A model whose data is given per input/output name reads a .npz with one array per input (see data/new.py). A model
with several outputs writes a .npz (one array per output name) or a .csv whose columns are each output's
columns prefixed with its name (``digit_class, digit_prob_0, ..., high_class, ...``). Any model can write a
.npz: one array, named after its output.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

from . import RunError

BINARY_LOSSES = ("binary_crossentropy", "binary_focal_crossentropy")


def predict_run(run_dir: Path, input: Path, output: Path) -> int:
    """Write predictions for ``input`` to ``output``; return how many samples were predicted."""
    import numpy as np

    from .files import atomic_write_bytes, atomic_write_text

    run_dir, output = Path(run_dir), Path(output)
    suffix = output.suffix.lower()
    if suffix not in (".npy", ".npz", ".csv"):
        raise RunError(f"{output}: the output must be a .npy (raw outputs) or a .csv file, or a .npz (raw outputs, "
                       f"one array per output name)")
    out, result, prep, raw = predict_outputs(run_dir, input)
    outputs = result.graph.outputs
    n = len(next(iter(out.values()))) if isinstance(out, dict) else len(out)
    if suffix == ".npy":
        if isinstance(out, dict):
            raise RunError(f"{output}: the model has {len(outputs)} outputs ({', '.join(outputs)}); write a .npz "
                           f"(one array per output) or a .csv")
        buffer = io.BytesIO()
        np.save(buffer, out, allow_pickle=False)
        atomic_write_bytes(output, buffer.getvalue())
    elif suffix == ".npz":
        buffer = io.BytesIO()
        np.savez(buffer, **(out if isinstance(out, dict) else {outputs[0]: out}))
        atomic_write_bytes(output, buffer.getvalue())
    else:
        files = None
        if raw.files is not None:
            root = Path(input)
            files = [str(Path(f).relative_to(root)) if root.is_dir() else Path(f).name for f in raw.files]
        atomic_write_text(output, predictions_csv(out, result, prep.classes, files))
    return n


def predict_outputs(run_dir: Path, input, model=None):
    """The run's raw outputs for ``input`` (a file or folder, or values in memory: see ``data.new_samples``):
    (an array, or a dict of arrays by output name for several outputs; the check result; the preprocessing;
    the samples as read). ``model``: the run's model, when it is already loaded."""
    import numpy as np

    from .data import load_preprocessing, new_samples, prepare_new, run_stream_mode
    from .evaluate import load_run_model, open_run
    from .pipeline import batches, streamed, streamed_reads

    result, info = open_run(Path(run_dir))
    with run_stream_mode(info):  # new data streams as the training data did
        prep = load_preprocessing(run_dir, result, info)
        raw = new_samples(input, None, result, prep, labels=False)
        x, _ = prepare_new(raw, result, prep, labels=False)
        model = model if model is not None else load_run_model(run_dir)
        batch_size = result.spec.train.batch_size
        if streamed(x):  # a large .npy or images folder: read and prepared batch by batch
            from .backend import import_keras

            x = batches(x, None, batch_size, import_keras().backend.backend())
            with streamed_reads():
                out = model.predict(x, verbose=0)
        else:
            out = model.predict(x, batch_size=batch_size, verbose=0)
    outputs = result.graph.outputs
    if isinstance(out, dict):
        out = {name: np.asarray(out[name]) for name in outputs}
    elif isinstance(out, (list, tuple)):
        out = {name: np.asarray(a) for name, a in zip(outputs, out)}
    else:
        out = np.asarray(out)
    return out, result, prep, raw


def classifier_probabilities(out, result, classes, output: str | None = None):
    """(class names, probabilities (n, k)) when the run (its output ``output``, default the only one) is a
    classifier, else None."""
    import numpy as np

    from .data import label_mode

    loss = result.spec.compile.loss_for(output or result.graph.outputs[0]) if result.spec.compile else None
    if loss is None or out.ndim != 2:
        return None
    logits = bool(loss.from_logits)
    mode = label_mode(result, output)
    units = out.shape[1]
    if mode in ("sparse", "one_hot") and units > 1:
        p = out.astype("float64")
        if logits:
            p = np.exp(p - p.max(axis=1, keepdims=True))
            p /= p.sum(axis=1, keepdims=True)
        names = [str(c) for c in (classes or [])][:units]
        names += [str(i) for i in range(len(names), units)]
        return names, p
    if loss.canonical in BINARY_LOSSES and units == 1 and mode == "raw":
        p = out[:, 0].astype("float64")
        if logits:
            p = 1 / (1 + np.exp(-p))
        names = [str(c) for c in classes] if classes and len(classes) == 2 else ["0", "1"]
        return names, np.stack([1 - p, p], axis=1)
    return None


def _columns(out, result, classes, output: str | None = None) -> tuple[list[str], list[list[str]]]:
    """(column names, rows of cells) of one output's predictions: class and probabilities, or the values."""
    found = classifier_probabilities(out, result, classes, output)
    if found is not None:
        names, p = found
        best = p.argmax(axis=1)
        return (["class", *(f"prob_{n}" for n in names)],
                [[names[best[i]], *(f"{v:.6g}" for v in p[i])] for i in range(len(p))])
    flat = out.reshape(len(out), -1)
    heads = ["output"] if flat.shape[1] == 1 else [f"output_{j}" for j in range(flat.shape[1])]
    return heads, [[f"{v:.8g}" for v in flat[i]] for i in range(len(flat))]


def predictions_csv(out, result, classes, files=None) -> str:
    """The predictions as CSV. ``out`` is one output's array, or a dict of them by output name (columns
    prefixed with the name; ``classes`` then a dict of class names by output name)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    lead = ["file"] if files is not None else []
    if isinstance(out, dict):
        heads: list[str] = []
        rows: list[list[str]] = [[] for _ in range(len(next(iter(out.values()))))]
        for name, a in out.items():
            own = classes.get(name) if isinstance(classes, dict) else None
            columns, cells_per_row = _columns(a, result, own, name)
            heads += [name + c[len("output"):] if c.startswith("output") else f"{name}_{c}" for c in columns]
            for row, cells in zip(rows, cells_per_row):
                row += cells
    else:
        heads, rows = _columns(out, result, classes)
    writer.writerow([*lead, *heads])
    for i, row in enumerate(rows):
        writer.writerow([*([files[i]] if files else []), *row])
    return buffer.getvalue()
