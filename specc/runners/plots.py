"""Plots for the run directory: learning curves and, for classifiers, a confusion matrix (PNG); for a model
with several outputs, one confusion matrix per classifier output (confusion_matrix_NAME.png)."""

from __future__ import annotations

from pathlib import Path

from .files import atomic_write_bytes


def _figure(**kw):
    """A matplotlib figure drawn by the Agg canvas directly: no pyplot (its import, its global figure list)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(**kw)
    FigureCanvasAgg(fig)
    return fig


def _png(fig) -> bytes:
    import io

    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110)  # tight_layout already fits it: "tight" would draw it twice
    return buf.getvalue()


def learning_curves(history: dict) -> bytes | None:
    names = [k for k in history if not k.startswith("val_") and k != "learning_rate"]
    if not names or not history[names[0]]:
        return None
    cols = len(names) if len(names) <= 4 else 4  # several outputs: rows of four panels
    rows = -(-len(names) // cols)
    fig = _figure(figsize=(4.2 * cols, 3.4 * rows))
    axes = fig.subplots(rows, cols, squeeze=False)
    for ax in axes.flat[len(names):]:
        ax.set_visible(False)
    for ax, name in zip(axes.flat, names):
        epochs = range(1, len(history[name]) + 1)
        ax.plot(epochs, history[name], marker="o", markersize=3, label="training")
        if f"val_{name}" in history:
            ax.plot(epochs, history[f"val_{name}"], marker="o", markersize=3, label="validation")
        ax.set_title(name)
        ax.set_xlabel("epoch")
        ax.grid(alpha=0.3)
        ax.legend()
    fig.tight_layout()
    return _png(fig)


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

    return _matrix_png(arrays.y_test, units, predict, arrays.classes, counted=counted)


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
        png = _matrix_png(arrays.y_test[name], shapes[name][-1], lambda name=name: predict_all()[name], own, name)
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


def _matrix_png(y, units: int, predict, classes, output: str | None = None, counted=None) -> bytes | None:
    """The confusion matrix of targets ``y`` against ``predict()`` (called only for class targets), or the
    matrix ``counted`` already."""
    import numpy as np

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
    size = min(12, 2.5 + 0.45 * n)
    fig = _figure(figsize=(size, size))
    ax = fig.subplots()
    # Cells as a mesh, drawn as shapes: an image (imshow) is scaled to the axes' pixels in float64 arrays first,
    # about 14 MB for ten classes, the largest allocation of a short training run.
    ax.pcolormesh(np.arange(n + 1) - 0.5, np.arange(n + 1) - 0.5, matrix, cmap="Blues")
    ax.set_aspect("equal")
    ax.invert_yaxis()
    ax.set_xticks(range(n), labels, rotation=90 if n > 10 else 0)
    ax.set_yticks(range(n), labels)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    ax.set_title(f"{output + ': ' if output else ''}test accuracy {np.trace(matrix) / max(1, matrix.sum()):.3f}")
    if n <= 30:
        for i in range(n):
            for j in range(n):
                ax.text(j, i, str(matrix[i, j]), ha="center", va="center", fontsize=8,
                        color="white" if matrix[i, j] > matrix.max() / 2 else "black")
    fig.tight_layout()
    return _png(fig)


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
    import matplotlib

    names: dict[str, None] = {}
    for history in histories.values():
        names.update(dict.fromkeys(k for k in history if not k.startswith("val_") and k != "learning_rate"))
    if not names:
        return None
    cols = min(len(names), 3)
    rows = -(-len(names) // cols)
    fig = _figure(figsize=(4.6 * cols, 3.6 * rows))
    axes = fig.subplots(rows, cols, squeeze=False)
    for ax in axes.flat[len(names):]:
        ax.set_visible(False)
    colours = matplotlib.rcParams["axes.prop_cycle"].by_key()["color"]
    for ax, name in zip(axes.flat, names):
        for i, (label, history) in enumerate(histories.items()):
            colour = colours[i % len(colours)]
            for key, style, suffix in ((name, "-", ""), (f"val_{name}", "--", " (validation)")):
                if history.get(key):
                    ax.plot(range(1, len(history[key]) + 1), history[key], style, color=colour, marker="o",
                            markersize=3, label=label + suffix)
        ax.set_title(name)
        ax.set_xlabel("epoch")
        ax.xaxis.set_major_locator(matplotlib.ticker.MaxNLocator(integer=True))
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7)
    fig.tight_layout()
    return _png(fig)
