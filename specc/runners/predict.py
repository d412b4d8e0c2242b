"""`specc predict RUN_DIR INPUT -o OUT`: a trained run's outputs for new inputs.

INPUT is read and prepared exactly as the run's training data was (see data.py): a .npz (the array named as
the spec's ``x``, or its only array), a .npy, a .csv (the training feature columns), an image or a folder of
images, a .txt file or a folder of them. OUT is a .npy (the model's raw outputs) or a .csv: for classifiers the
predicted class name and the probability of each class, otherwise the output values; a ``file`` column comes
first for images and texts. The output is written atomically.
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

    from .data import load_preprocessing, prepare_new, read_new_data
    from .evaluate import load_run_model, open_run
    from .files import atomic_write_bytes, atomic_write_text

    run_dir, output = Path(run_dir), Path(output)
    if output.suffix.lower() not in (".npy", ".csv"):
        raise RunError(f"{output}: the output must be a .npy (raw outputs) or a .csv file")
    result, info = open_run(run_dir)
    prep = load_preprocessing(run_dir, result, info)
    raw = read_new_data(Path(input), result, prep, labels=False)
    x, _ = prepare_new(raw, result, prep, labels=False)
    model = load_run_model(run_dir)
    from .pipeline import batches, streamed

    batch_size = result.spec.train.batch_size
    if streamed(x):  # a large .npy or images folder: read and prepared batch by batch
        from .backend import import_keras

        x = batches(x, None, batch_size, import_keras().backend.backend())
        out = model.predict(x, verbose=0)
    else:
        out = model.predict(x, batch_size=batch_size, verbose=0)
    if isinstance(out, (list, tuple, dict)):
        raise RunError("the model has several outputs; predict supports single-output models")
    out = np.asarray(out)
    if output.suffix.lower() == ".npy":
        buffer = io.BytesIO()
        np.save(buffer, out, allow_pickle=False)
        atomic_write_bytes(output, buffer.getvalue())
    else:
        files = None
        if raw.files is not None:
            root = Path(input)
            files = [str(Path(f).relative_to(root)) if root.is_dir() else Path(f).name for f in raw.files]
        atomic_write_text(output, predictions_csv(out, result, prep.classes, files))
    return len(out)


def classifier_probabilities(out, result, classes):
    """(class names, probabilities (n, k)) when the run is a classifier, else None."""
    import numpy as np

    from .data import label_mode

    loss = result.spec.compile.loss if result.spec.compile else None
    if loss is None or out.ndim != 2:
        return None
    logits = bool(loss.from_logits)
    mode = label_mode(result)
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


def predictions_csv(out, result, classes, files=None) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    lead = ["file"] if files is not None else []
    found = classifier_probabilities(out, result, classes)
    if found is not None:
        names, p = found
        writer.writerow([*lead, "class", *(f"prob_{n}" for n in names)])
        best = p.argmax(axis=1)
        for i in range(len(p)):
            writer.writerow([*([files[i]] if files else []), names[best[i]], *(f"{v:.6g}" for v in p[i])])
    else:
        flat = out.reshape(len(out), -1)
        heads = ["output"] if flat.shape[1] == 1 else [f"output_{j}" for j in range(flat.shape[1])]
        writer.writerow([*lead, *heads])
        for i in range(len(flat)):
            writer.writerow([*([files[i]] if files else []), *(f"{v:.8g}" for v in flat[i])])
    return buffer.getvalue()
