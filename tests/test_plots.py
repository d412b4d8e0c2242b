"""The run directory's plots (specc/runners/plots.py): which panels and matrices a run gets, drawn by
specc/runners/drawing.py (tested in test_drawing.py)."""

import io

import numpy as np
from conftest import probe_python
from PIL import Image

from specc.runners import plots
from specc.runners.drawing import BLUES, COLOURS, PANEL


def _size(png: bytes) -> tuple[int, int]:
    return Image.open(io.BytesIO(png)).size


def _has(png: bytes, colour) -> bool:
    pixels = np.asarray(Image.open(io.BytesIO(png)).convert("RGB")).astype(int)
    return bool((np.abs(pixels - np.array(colour)) <= 8).all(-1).any())


def test_learning_curves_have_a_panel_per_metric_in_rows_of_four():
    assert plots.learning_curves({}) is None
    assert plots.learning_curves({"loss": []}) is None
    two = plots.learning_curves({"loss": [1, 0.5], "val_loss": [1.1, 0.7], "accuracy": [0.5, 0.8],
                                 "learning_rate": [1e-3, 1e-3]})
    assert _size(two) == (2 * PANEL[0], PANEL[1])
    assert _has(two, COLOURS[0]) and _has(two, COLOURS[1])  # training and validation
    five = plots.learning_curves({f"out{i}_loss": [1, 0.5] for i in range(5)})
    assert _size(five) == (4 * PANEL[0], 2 * PANEL[1])
    assert not _has(five, COLOURS[1])  # no validation series


def test_a_confusion_matrix_only_for_class_targets():
    counted = np.array([[3, 1], [0, 4]])
    png = plots.matrix_png(np.array([0, 1, 1]), 2, None, ["cat", "dog"], counted=counted)
    assert _size(png) == (round(110 * (2.5 + 0.9)),) * 2 and _has(png, BLUES[-1])
    assert plots.matrix_png(np.array([0.3, 1.7]), 1, None, None) is None  # a regression
    predicted = plots.matrix_png(np.array([0, 1, 2, 2]), 3, lambda: np.eye(3)[[0, 1, 1, 2]], None)
    assert _has(predicted, BLUES[-1]) and _has(predicted, BLUES[0])


def test_overlaid_curves_colour_each_run():
    runs = {f"run{i}": {"loss": [1, 0.5, 0.2], "val_loss": [1.2, 0.8, 0.6]} for i in range(3)}
    png = plots.overlaid_curves(runs)
    assert _size(png) == PANEL
    assert all(_has(png, COLOURS[i]) for i in range(3)) and not _has(png, COLOURS[3])
    assert plots.overlaid_curves({"a": {"val_loss": [1.0]}}) is None


def test_drawing_them_imports_no_matplotlib():
    """matplotlib's import took 0.3-0.5 s of `specc compare -o` and of every run on the JAX backend."""
    heavy, out = probe_python("""
import numpy as np
from specc.runners import plots
assert plots.learning_curves({"loss": [1.0, 0.5], "val_loss": [1.2, 0.7]})
assert plots.overlaid_curves({"a": {"loss": [1.0]}, "b": {"loss": [2.0]}})
assert plots.matrix_png(np.array([0, 1]), 2, None, None, counted=np.eye(2, dtype=int))
""", heavy=("matplotlib", "PIL.Image", "tensorflow"))
    assert out.returncode == 0, out.stderr
    assert heavy == ["PIL.Image"]
