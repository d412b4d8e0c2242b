"""The Pillow charts of the run directory (specc/runners/drawing.py): round ticks that cover the data, dashes of
the right lengths, and pictures whose pixels sit where the numbers say."""

import io
import math
import random

import numpy as np
import pytest
from PIL import Image

from specc.runners import drawing
from specc.runners.drawing import BLUES, COLOURS, PANEL, Series


def _image(png: bytes):
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    return np.asarray(Image.open(io.BytesIO(png)).convert("RGB")).astype(int)


def _where(pixels, colour, tolerance=0):
    """(rows, cols) of the pixels within ``tolerance`` of ``colour`` in every channel."""
    return np.nonzero((np.abs(pixels - np.array(colour)) <= tolerance).all(-1))


@pytest.mark.parametrize("seed", range(40))
def test_ticks_are_round_steps_inside_the_range(seed):
    rng = random.Random(seed)
    lo = rng.uniform(-1, 1) * 10 ** rng.randint(-6, 6)
    hi = lo + max(rng.uniform(0.01, 1) * 10 ** rng.randint(-6, 6), abs(lo) * 1e-9)
    ticks = drawing.ticks(lo, hi)
    assert 2 <= len(ticks) <= 6
    assert all(lo - 1e-9 * abs(lo) <= t <= hi + 1e-9 * abs(hi) for t in ticks)
    step = ticks[1] - ticks[0]
    assert all(math.isclose(b - a, step, rel_tol=1e-4) for a, b in zip(ticks, ticks[1:]))
    mantissa = step / 10 ** math.floor(math.log10(step) + 1e-4)
    assert any(math.isclose(mantissa, m, rel_tol=1e-4) for m in (1, 2, 2.5, 5))
    labels = [drawing.tick_label(t, step) for t in ticks]
    assert len(set(labels)) == len(labels), labels  # enough decimals to tell them apart


def test_epoch_ticks_are_whole_numbers():
    assert drawing.ticks(1, 3, most=8, integer=True) == [1, 2, 3]
    assert drawing.ticks(1, 20, most=8, integer=True) == [5, 10, 15, 20]
    assert drawing.ticks(1, 1, most=8, integer=True) == [1]
    assert drawing.ticks(0, float("nan")) == []


def test_tick_labels():
    assert [drawing.tick_label(t, 0.25) for t in (0, 0.25, 0.5)] == ["0", "0.25", "0.50"]
    assert drawing.tick_label(4.0, 2) == "4"
    assert drawing.tick_label(3e6, 1e6) == "3e+06"
    assert drawing.tick_label(7.5e6, 2.5e6) == "7.5e+06"
    assert drawing.tick_label(150020, 20) == "1.5002e+05"


def test_dashes_draw_the_on_parts_of_the_line():
    runs = drawing.dashes([(0, 0), (30, 0), (30, 40)], 6, 4)  # 70 long: 7 dashes of 6
    lengths = [sum(math.dist(a, b) for a, b in zip(r, r[1:])) for r in runs]
    assert len(runs) == 7
    assert all(math.isclose(length, 6) for length in lengths)
    assert runs[3][0] == (30, 0) or runs[3][1] == (30, 0)  # a dash turns the corner with the line


def test_blues_run_from_light_to_dark():
    assert drawing.blue(0) == BLUES[0] and drawing.blue(1) == BLUES[-1] and drawing.blue(7) == BLUES[-1]
    darkness = [sum(drawing.blue(f / 20)) for f in range(21)]
    assert darkness == sorted(darkness, reverse=True)


def test_line_panels_are_laid_out_in_rows_and_draw_each_series():
    rising = Series([0.1 * i for i in range(1, 11)], "training", COLOURS[0])
    falling = Series([1 - 0.1 * i for i in range(1, 11)], "validation", COLOURS[2], dashed=True)
    pixels = _image(drawing.line_panels([("a", [rising]), ("b", [falling]), ("c", [rising, falling])], cols=2))
    assert pixels.shape == (2 * PANEL[1], 2 * PANEL[0], 3)
    for colour, panels in ((COLOURS[0], ("a", "c")), (COLOURS[2], ("b", "c"))):
        rows, cols = _where(pixels, colour, 8)
        found = {"abcd"[int(r // PANEL[1]) * 2 + int(c // PANEL[0])] for r, c in zip(rows, cols)}
        assert found == set(panels)
    assert (pixels[PANEL[1]:, PANEL[0]:] == 255).all()  # no fourth panel


def test_the_rising_line_rises():
    pixels = _image(drawing.line_panels([("acc", [Series([0.2, 0.4, 0.6, 0.8], "training", COLOURS[3])])], 1))
    rows, cols = _where(pixels, COLOURS[3], 8)
    left, right = rows[cols < np.median(cols)], rows[cols > np.median(cols)]
    assert left.mean() > right.mean() + 50  # images count rows downwards


def test_the_legend_keeps_out_of_the_line_s_way():
    """A rising line runs through the upper right corner: the legend (its grey frame) goes to the upper left;
    a falling one leaves the upper right free."""
    for values, side in (([0.1, 0.5, 0.9, 0.99], "left"), ([0.99, 0.5, 0.1, 0.05], "right")):
        pixels = _image(drawing.line_panels([("m", [Series(values, "training", COLOURS[0])])], 1))
        grey = (np.abs(pixels - 204) <= 2).all(-1)
        edges = np.nonzero(grey.sum(1) >= 40)[0]  # the frame's top and bottom: long rows of its grey
        assert edges.size and edges.max() < PANEL[1] / 2
        cols = np.nonzero(grey[edges].any(0))[0]
        assert (cols.mean() < PANEL[0] / 2) == (side == "left")


def test_gaps_and_flat_lines_draw_without_error():
    def coloured(values):
        pixels = _image(drawing.line_panels([("loss", [Series(values, "training", COLOURS[0])])], 1))
        return _where(pixels, COLOURS[0], 8)[0].size

    legend_only = coloured([float("nan")])
    nan, inf = float("nan"), float("inf")
    for values in ([nan, nan], [inf], [1.0, nan, 0.5, inf], [2.0, 2.0, 2.0], [0.5], [1e-9, 2e-9], [3e7, 1e7]):
        finite = [v for v in values if math.isfinite(v)]
        assert (coloured(values) > legend_only) == bool(finite), values
    assert _image(drawing.line_panels([("loss", [Series([1e308, -1e308], "training", COLOURS[0])])], 1)).size


def _darkest_cells(pixels, n):
    """The (row, column) cells of an n x n matrix image whose colour is the darkest blue, from where those
    pixels lie in the matrix's frame."""
    rows, cols = _where(pixels, BLUES[-1], 1)
    top, left, bottom, right = rows.min(), cols.min(), rows.max(), cols.max()
    cells = np.nonzero(pixels[..., 2] - pixels[..., 0] >= 6)  # every blue of the scale, none of the greys
    r0, c0, c1 = cells[0].min(), cells[1].min(), cells[1].max()
    cell = (c1 + 1 - c0) / n
    return {(int((r - r0) // cell), int((c - c0) // cell)) for r, c in ((top, left), (bottom, right))}


def test_count_matrix_rows_are_true_and_columns_predicted():
    matrix = np.zeros((4, 4), int)
    matrix[0, 2] = 9  # true 0, predicted 2
    matrix[3, 3] = 1
    pixels = _image(drawing.count_matrix(matrix, ["a", "b", "c", "d"], "t", 500))
    assert pixels.shape == (500, 500, 3)
    assert _darkest_cells(pixels, 4) == {(0, 2)}
    assert _where(pixels, drawing.blue(1 / 9), 1)[0].size  # the cell of one count, a lighter blue
    assert _where(pixels, (255, 255, 255), 0)[0].size


def test_count_matrix_writes_counts_in_white_on_dark_cells_only():
    matrix = np.array([[5, 0], [0, 1]])
    with_counts = _image(drawing.count_matrix(matrix, ["x", "y"], "t", 300))
    without = _image(drawing.count_matrix(matrix, ["x", "y"], "t", 300, counts=False))
    rows, cols = _where(with_counts, BLUES[-1], 40)
    dark = with_counts[rows.min():rows.max(), cols.min():cols.max()]
    assert (dark.min(-1) > 200).any()  # the white 5
    assert not (without[rows.min():rows.max(), cols.min():cols.max()].min(-1) > 200).any()


@pytest.mark.parametrize("n", [2, 10, 11, 40])
def test_count_matrix_of_many_or_long_labels(n):
    labels = [f"a rather long class name {i}" for i in range(n)]
    pixels = _image(drawing.count_matrix(np.eye(n, dtype=int), labels, "t", 400))
    assert pixels.shape == (400, 400, 3)
    assert _darkest_cells(pixels, n) == {(0, 0), (n - 1, n - 1)}
