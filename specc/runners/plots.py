"""Plots for the run directory: learning curves and, for classifiers, a confusion matrix (PNG)."""

from __future__ import annotations

from pathlib import Path

from .files import atomic_write_bytes


def _png(fig) -> bytes:
    import io

    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110, bbox_inches="tight")
    return buf.getvalue()


def learning_curves(history: dict) -> bytes | None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = [k for k in history if not k.startswith("val_") and k != "learning_rate"]
    if not names or not history[names[0]]:
        return None
    fig, axes = plt.subplots(1, len(names), figsize=(4.2 * len(names), 3.4), squeeze=False)
    for ax, name in zip(axes[0], names):
        epochs = range(1, len(history[name]) + 1)
        ax.plot(epochs, history[name], marker="o", markersize=3, label="training")
        if f"val_{name}" in history:
            ax.plot(epochs, history[f"val_{name}"], marker="o", markersize=3, label="validation")
        ax.set_title(name)
        ax.set_xlabel("epoch")
        ax.grid(alpha=0.3)
        ax.legend()
    fig.tight_layout()
    data = _png(fig)
    plt.close(fig)
    return data


def class_ids(y, units: int):
    """Integer class ids from one-hot, sparse or binary (one sigmoid unit) targets/outputs."""
    import numpy as np

    y = np.asarray(y)
    if units == 1:
        return (y.reshape(len(y), -1)[:, 0] > 0.5).astype(int)
    if y.ndim >= 2 and y.shape[-1] == units:
        return y.reshape(len(y), units).argmax(-1)
    return y.reshape(-1).astype(int)


def confusion_matrix(model, arrays, batch_size: int = 32) -> bytes | None:
    import numpy as np

    from .pipeline import batches, streamed

    out_shape = model.output.shape if not isinstance(model.output, list) else None
    if out_shape is None or len(out_shape) != 2 or not len(arrays.x_test):
        return None
    units = out_shape[-1]
    if streamed(arrays.y_test):
        return None  # a streamed autoencoder: no classes
    y = np.asarray(arrays.y_test)
    if y.dtype.kind == "f" and units == 1 and not np.isin(y, (0.0, 1.0)).all():
        return None  # regression
    if units > 1 and y.ndim == 2 and y.shape[-1] == units and not np.isin(y, (0.0, 1.0)).all():
        return None
    if units == 1 and y.dtype.kind == "f" and y.ndim == 1 and not np.isin(y, (0.0, 1.0)).all():
        return None
    n = max(units, 2)
    true = class_ids(y, units)
    x = arrays.x_test
    if streamed(x):
        import keras

        x = batches(x, None, batch_size, keras.backend.backend())
    pred = class_ids(model.predict(x, verbose=0), units)
    matrix = np.zeros((n, n), dtype=int)
    np.add.at(matrix, (true, pred), 1)

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    labels = list(arrays.classes) if arrays.classes is not None and len(arrays.classes) == n else [str(i) for i in range(n)]
    size = min(12, 2.5 + 0.45 * n)
    fig, ax = plt.subplots(figsize=(size, size))
    ax.imshow(matrix, cmap="Blues")
    ax.set_xticks(range(n), labels, rotation=90 if n > 10 else 0)
    ax.set_yticks(range(n), labels)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    ax.set_title(f"test accuracy {np.trace(matrix) / max(1, matrix.sum()):.3f}")
    if n <= 30:
        for i in range(n):
            for j in range(n):
                ax.text(j, i, str(matrix[i, j]), ha="center", va="center", fontsize=8,
                        color="white" if matrix[i, j] > matrix.max() / 2 else "black")
    fig.tight_layout()
    data = _png(fig)
    plt.close(fig)
    return data


def write_plots(run_dir: Path, history: dict, model, arrays, batch_size: int = 32) -> None:
    curves = learning_curves(history)
    if curves:
        atomic_write_bytes(run_dir / "learning_curves.png", curves)
    matrix = confusion_matrix(model, arrays, batch_size)
    if matrix:
        atomic_write_bytes(run_dir / "confusion_matrix.png", matrix)
