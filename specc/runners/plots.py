"""Plots for the run directory: learning curves and, for classifiers, a confusion matrix (PNG); for a model
with several outputs, one confusion matrix per classifier output (confusion_matrix_NAME.png)."""

from __future__ import annotations

from pathlib import Path

from .files import atomic_write_bytes


def metric_names(history: dict) -> list[str]:
    """The names a history has a panel for: each metric once (its `val_` twin goes in the same panel), not the
    learning rate."""
    return [k for k in history if not k.startswith("val_") and k != "learning_rate"]


def learning_curves(history: dict) -> bytes | None:
    """A panel per metric: training and validation by epoch (rows of four panels for several outputs)."""
    from .drawing import COLOURS, Series, line_panels

    names = metric_names(history)
    if not names or not history[names[0]]:
        return None
    panels = []
    for name in names:
        series = [Series(history[name], "training", COLOURS[0])]
        if f"val_{name}" in history:
            series.append(Series(history[f"val_{name}"], "validation", COLOURS[1]))
        panels.append((name, series))
    return line_panels(panels, min(len(names), 4))


def class_ids(y, units: int):
    """Integer class ids from one-hot, sparse or binary (one sigmoid unit) targets/outputs."""
    import numpy as np

    y = np.asarray(y)
    if units == 1:
        return (y.reshape(len(y), -1)[:, 0] > 0.5).astype(int)
    if y.ndim >= 2 and y.shape[-1] == units:
        return y.reshape(len(y), units).argmax(-1)
    return y.reshape(-1).astype(int)


def confusion_matrix(model, arrays, batch_size: int = 32, counted=None) -> bytes | None:
    """The test set's confusion matrix of a one-output classifier; ``counted``: the matrix as counted while the
    test set was evaluated (confusion.py), else the test set is predicted here."""
    from .pipeline import batches, streamed

    out_shape = model.output.shape if not isinstance(model.output, list) else None
    if out_shape is None or len(out_shape) != 2 or not len(arrays.x_test):
        return None
    units = out_shape[-1]
    if streamed(arrays.y_test):
        return None  # a streamed autoencoder: no classes

    def predict():
        x = arrays.x_test
        if streamed(x):
            import keras

            x = batches(x, None, batch_size, keras.backend.backend())
        return model.predict(x, verbose=0)

    return matrix_png(arrays.y_test, units, predict, arrays.classes, counted=counted)


def confusion_matrices(model, arrays, batch_size: int = 32) -> dict[str, bytes]:
    """For a model with several outputs (``arrays.y_test`` a dict by output name): a confusion matrix per
    output whose targets are classes."""
    from .pipeline import batches, n_samples, streamed

    if not isinstance(arrays.y_test, dict) or not n_samples(arrays.x_test):
        return {}
    names = list(arrays.y_test)
    shapes = {name: tuple(t.shape) for name, t in zip(names, model.outputs)}
    found = {}
    predicted = []

    def predict_all():
        if not predicted:
            x = arrays.x_test
            if streamed(x):
                import keras

                x = batches(x, None, batch_size, keras.backend.backend())
            out = model.predict(x, verbose=0)
            predicted.append(dict(zip(names, out if isinstance(out, (list, tuple)) else [out])))
        return predicted[0]

    classes = arrays.preprocessing.classes if arrays.preprocessing is not None else None
    for name in names:
        if len(shapes[name]) != 2:
            continue
        own = classes.get(name) if isinstance(classes, dict) else None
        png = matrix_png(arrays.y_test[name], shapes[name][-1], lambda name=name: predict_all()[name], own, name)
        if png:
            found[name] = png
    return found


def is_class_target(y, units: int) -> bool:
    """Whether targets ``y`` of an output with ``units`` units are classes (else a regression: no matrix)."""
    import numpy as np

    y = np.asarray(y)
    if y.dtype.kind == "f" and units == 1 and not np.isin(y, (0.0, 1.0)).all():
        return False  # regression
    if units > 1 and y.ndim == 2 and y.shape[-1] == units and not np.isin(y, (0.0, 1.0)).all():
        return False
    return not (units == 1 and y.dtype.kind == "f" and y.ndim == 1 and not np.isin(y, (0.0, 1.0)).all())


def matrix_png(y, units: int, predict, classes, output: str | None = None, counted=None) -> bytes | None:
    """The confusion matrix of targets ``y`` against ``predict()`` (called only for class targets), or the
    matrix ``counted`` already."""
    import numpy as np

    from .drawing import count_matrix

    if not is_class_target(y, units):
        return None
    n = max(units, 2)
    if counted is not None:
        matrix = counted
    else:
        true = class_ids(np.asarray(y), units)
        pred = class_ids(predict(), units)
        matrix = np.zeros((n, n), dtype=int)
        np.add.at(matrix, (true, pred), 1)

    labels = list(classes) if classes is not None and len(classes) == n else [str(i) for i in range(n)]
    title = f"{output + ': ' if output else ''}test accuracy {np.trace(matrix) / max(1, matrix.sum()):.3f}"
    return count_matrix(matrix, [str(label) for label in labels], title, round(110 * min(12, 2.5 + 0.45 * n)),
                        counts=n <= 30)


def write_plots(run_dir: Path, history: dict, model, arrays, batch_size: int = 32, counted=None) -> None:
    """learning_curves.png and the confusion matrices; ``counted``: the confusion matrix as counted while the
    test set was evaluated (confusion.py)."""
    curves = learning_curves(history)
    if curves:
        atomic_write_bytes(run_dir / "learning_curves.png", curves)
    if isinstance(arrays.y_test, dict):
        for name, png in confusion_matrices(model, arrays, batch_size).items():
            atomic_write_bytes(run_dir / f"confusion_matrix_{name}.png", png)
        return
    matrix = confusion_matrix(model, arrays, batch_size, counted)
    if matrix:
        atomic_write_bytes(run_dir / "confusion_matrix.png", matrix)


def overlaid_curves(histories: dict[str, dict]) -> bytes | None:
    """`specc compare -o`: the learning curves of several runs in one figure, one panel per metric, a colour
    per run; training solid, validation dashed."""
    from .drawing import COLOURS, Series, line_panels

    names: dict[str, None] = {}
    for history in histories.values():
        names.update(dict.fromkeys(metric_names(history)))
    if not names:
        return None
    panels = []
    for name in names:
        series = []
        for i, (label, history) in enumerate(histories.items()):
            for key, dashed, suffix in ((name, False, ""), (f"val_{name}", True, " (validation)")):
                if history.get(key):
                    series.append(Series(history[key], label + suffix, COLOURS[i % len(COLOURS)], dashed))
        panels.append((name, series))
    return line_panels(panels, min(len(names), 3), legend_size=9)
