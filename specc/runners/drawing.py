"""Charts drawn with Pillow for the run directory: panels of line series and a count matrix, as PNG bytes.

matplotlib drew them before, in 0.23-0.56 s and 9-11 MB at the very end of a run, when its memory is highest
(docs/performance.md); this draws the same charts in a few hundredths of a second and about 5 MB. Text, grids and
the matrix's cells are drawn at the image's size; lines and dots on a mask at twice the size, halved, so they
come out smooth.
Sizes are in pixels at 110 dpi, as the matplotlib figures were.
"""

from __future__ import annotations

import math
from contextlib import contextmanager
from dataclasses import dataclass
from functools import lru_cache

# matplotlib's default colour cycle (tab10), which users know from every other plot
COLOURS = ((31, 119, 180), (255, 127, 14), (44, 160, 44), (214, 39, 40), (148, 103, 189), (140, 86, 75),
           (227, 119, 194), (127, 127, 127), (188, 189, 34), (23, 190, 207))
BLACK, WHITE, GRID, FRAME = (0, 0, 0), (255, 255, 255), (235, 235, 235), (60, 60, 60)
# ColorBrewer's Blues, matplotlib's "Blues": light for few, dark for many
BLUES = ((247, 251, 255), (222, 235, 247), (198, 219, 239), (158, 202, 225), (107, 174, 214), (66, 146, 198),
         (33, 113, 181), (8, 81, 156), (8, 48, 107))
PANEL = (462, 374)  # one panel of line series: 4.2 x 3.4 inches


@dataclass
class Series:
    """One line: ``values`` at epochs 1..n (non-finite ones leave a gap)."""

    values: list
    label: str
    colour: tuple
    dashed: bool = False


@lru_cache(maxsize=8)
def font(size: int):
    """Pillow's own sans-serif face (no system fonts needed) at ``size`` pixels."""
    from PIL import ImageFont

    return ImageFont.load_default(size=size)


class Canvas:
    """A white RGB image: text, rectangles and straight lines drawn at its size, curves through ``smooth``."""

    def __init__(self, width: int, height: int):
        from PIL import Image, ImageDraw

        self.image = Image.new("RGB", (width, height), WHITE)
        self.draw = ImageDraw.Draw(self.image)

    def text(self, xy, text: str, size: int, anchor: str = "la", fill=BLACK) -> None:
        self.draw.text(xy, text, fill=fill, font=font(size), anchor=anchor)

    def vertical_text(self, xy, text: str, size: int, anchor: str = "rm", fill=BLACK) -> None:
        """``text`` turned a quarter to the left (read bottom to top); ``anchor`` as Pillow's, of the turned box."""
        from PIL import Image, ImageDraw

        face = font(size)
        left, top, right, bottom = face.getbbox(text)
        mask = Image.new("L", (right - left, bottom - top), 0)
        ImageDraw.Draw(mask).text((-left, -top), text, fill=255, font=face)
        mask = mask.rotate(90, expand=True)
        w, h = mask.size
        x = xy[0] - {"l": 0, "m": w // 2, "r": w}[anchor[0]]
        y = xy[1] - {"t": 0, "m": h // 2, "b": h}[anchor[1]]
        self.image.paste(fill, (int(x), int(y)), mask)

    @staticmethod
    def text_width(text: str, size: int) -> float:
        return font(size).getlength(text)

    def line(self, points, colour) -> None:
        """A one-pixel line: for the grid, along the pixels."""
        self.draw.line([(round(x), round(y)) for x, y in points], fill=colour, width=1)

    def rect(self, box, fill=None, outline=None) -> None:
        self.draw.rectangle(tuple(round(v) for v in box), fill=fill, outline=outline)

    @contextmanager
    def smooth(self, box, colour):
        """A pen for lines and dots in ``colour`` inside ``box``: drawn on a mask at twice the size, halved, then
        painted, so their edges are smooth, for a quarter of the memory of the whole image drawn twice as large."""
        from PIL import Image, ImageDraw

        x0, y0, x1, y1 = (round(v) for v in box)
        mask = Image.new("L", (2 * (x1 - x0), 2 * (y1 - y0)), 0)
        yield Pen(ImageDraw.Draw(mask), (x0, y0))
        self.image.paste(colour, (x0, y0), mask.reduce(2))


class Pen:
    """Lines and dots on a mask twice the size of the region whose top left corner is ``origin``."""

    def __init__(self, draw, origin):
        self.draw, self.origin = draw, origin

    def _xy(self, points):
        ox, oy = self.origin
        return [(2 * (x - ox), 2 * (y - oy)) for x, y in points]

    def line(self, points, width: float = 1.5, dashed: bool = False) -> None:
        if len(points) < 2:
            return
        for run in dashes(points, 6, 4) if dashed else [points]:
            self.draw.line(self._xy(run), fill=255, width=round(2 * width), joint="curve")

    def dot(self, xy, radius: float) -> None:
        (x, y), r = self._xy([xy])[0], 2 * radius
        self.draw.ellipse((x - r, y - r, x + r, y + r), fill=255)


def png(image) -> bytes:
    import io

    buf = io.BytesIO()
    image.save(buf, format="png", dpi=(110, 110))
    return buf.getvalue()


def dashes(points, on: float, off: float) -> list[list]:
    """The parts of the polyline ``points`` a dash pattern of ``on`` and ``off`` lengths draws."""
    runs, run, left, inked = [], [points[0]], on, True
    for (x0, y0), (x1, y1) in zip(points, points[1:]):
        length, done = math.hypot(x1 - x0, y1 - y0), 0.0
        while length - done > left:
            done += left
            at = (x0 + (x1 - x0) * done / length, y0 + (y1 - y0) * done / length)
            if inked:
                runs.append([*run, at])
            run, inked = [at], not inked
            left = on if inked else off
        left -= length - done
        run.append((x1, y1))
    if inked and len(run) > 1:
        runs.append(run)
    return runs


def ticks(lo: float, hi: float, most: int = 6, integer: bool = False) -> list[float]:
    """Round tick values in [lo, hi]: steps of 1, 2, 2.5 or 5 times a power of ten, at most ``most`` of them
    (whole numbers only with ``integer``)."""
    span = hi - lo
    if not math.isfinite(span):
        return []
    if span <= 0:
        return [lo]
    raw = max(span / most, 1) if integer else span / most
    power = 10 ** math.floor(math.log10(raw))
    steps = (1, 2, 5, 10) if integer else (1, 2, 2.5, 5, 10)
    step = next(m * power for m in steps if m * power >= raw * (1 - 1e-9))
    first = math.ceil(lo / step - 1e-9)
    return [k * step for k in range(first, math.floor(hi / step + 1e-9) + 1)]


def tick_label(value: float, step: float) -> str:
    """``value`` with as many decimals as the ticks' ``step`` needs (powers of ten for very large or small)."""
    if value == 0:
        return "0"
    if abs(value) >= 1e5 or abs(step) < 1e-4:  # significant digits down to the step's
        power = math.floor(math.log10(step))
        extra = 0 if math.isclose(step, round(step / 10 ** power) * 10 ** power) else 1  # a step of 2.5
        return f"{value:.{max(1, math.floor(math.log10(abs(value))) - power + 1 + extra)}g}"
    decimals = next((d for d in range(7) if abs(step - round(step, d)) <= abs(step) * 1e-6), 6)
    return f"{value:.{decimals}f}"


def _limits(values: list[float]) -> tuple[float, float]:
    """The shown range of ``values`` with 5% room on each side (a flat line gets room of its own)."""
    lo, hi = min(values), max(values)
    pad = (hi - lo) * 0.05 or max(abs(lo) * 0.05, 0.05)
    return lo - pad, hi + pad


def line_panels(panels: list[tuple[str, list[Series]]], cols: int, legend_size: int = 11) -> bytes:
    """``panels`` (a title and its series each), ``cols`` to a row, as one PNG."""
    rows = -(-len(panels) // cols)
    canvas = Canvas(PANEL[0] * cols, PANEL[1] * rows)
    for i, (title, series) in enumerate(panels):
        _line_panel(canvas, (i % cols * PANEL[0], i // cols * PANEL[1]), title, series, legend_size)
    return png(canvas.image)


def _line_panel(canvas: Canvas, origin, title: str, series: list[Series], legend_size: int) -> None:
    finite = [v for s in series for v in s.values if math.isfinite(v)]
    epochs = max((len(s.values) for s in series), default=0)
    lo, hi = _limits(finite) if finite else (0.0, 1.0)
    y_ticks = ticks(lo, hi)
    step = y_ticks[1] - y_ticks[0] if len(y_ticks) > 1 else 1.0
    labels = [tick_label(v, step) for v in y_ticks]
    ox, oy = origin
    box = (ox + 16 + max((canvas.text_width(t, 12) for t in labels), default=0), oy + 28,
           ox + PANEL[0] - 14, oy + PANEL[1] - 44)
    x_lo, x_hi = _limits([1, max(epochs, 1)])
    to_x = lambda e: box[0] + (e - x_lo) / (x_hi - x_lo) * (box[2] - box[0])  # noqa: E731
    to_y = lambda v: box[3] - (v - lo) / (hi - lo) * (box[3] - box[1])  # noqa: E731
    for v, label in zip(y_ticks, labels):
        canvas.line([(box[0], to_y(v)), (box[2], to_y(v))], GRID)
        canvas.text((box[0] - 5, to_y(v)), label, 12, anchor="rm")
    for e in ticks(1, max(epochs, 1), most=8, integer=True):
        canvas.line([(to_x(e), box[1]), (to_x(e), box[3])], GRID)
        canvas.text((to_x(e), box[3] + 5), f"{e:g}", 12, anchor="mt")
    canvas.rect(box, outline=FRAME)
    canvas.text(((box[0] + box[2]) / 2, oy + 16), title, 15, anchor="mm")
    canvas.text(((box[0] + box[2]) / 2, oy + PANEL[1] - 10), "epoch", 13, anchor="mb")
    points = []
    for s in series:
        with canvas.smooth(box, s.colour) as pen:
            for run in _finite_runs(s.values):
                xy = [(to_x(e), to_y(v)) for e, v in run]
                pen.line(xy, 1.5, s.dashed)
                for p in xy:
                    pen.dot(p, 2.2)
                points += xy
    _legend(canvas, box, series, points, legend_size)


def _finite_runs(values) -> list[list[tuple[int, float]]]:
    """(epoch, value) runs of ``values`` between the non-finite ones."""
    runs: list[list[tuple[int, float]]] = [[]]
    for epoch, v in enumerate(values, 1):
        if math.isfinite(v):
            runs[-1].append((epoch, v))
        elif runs[-1]:
            runs.append([])
    return [r for r in runs if r]


def _legend(canvas: Canvas, box, series: list[Series], points, size: int) -> None:
    """A legend in the corner of ``box`` that covers the fewest of the drawn ``points``."""
    if not series:
        return
    width = 34 + max(canvas.text_width(s.label, size) for s in series)
    height = 8 + len(series) * (size + 6)
    corners = [(box[2] - 6 - width, box[1] + 6), (box[0] + 6, box[1] + 6), (box[0] + 6, box[3] - 6 - height),
               (box[2] - 6 - width, box[3] - 6 - height)]

    def covered(corner):
        x, y = corner
        return sum(x - 4 <= px <= x + width + 4 and y - 4 <= py <= y + height + 4 for px, py in points)

    x, y = min(corners, key=covered)  # the first of the least covered: upper right first, as matplotlib's
    canvas.rect((x, y, x + width, y + height), fill=WHITE, outline=(204, 204, 204))
    for i, s in enumerate(series):
        mid = y + 4 + (i + 0.5) * (size + 6)
        with canvas.smooth((x + 2, mid - 5, x + 30, mid + 5), s.colour) as pen:
            pen.line([(x + 6, mid), (x + 26, mid)], 1.5, s.dashed)
            pen.dot((x + 16, mid), 2.2)
        canvas.text((x + 32, mid), s.label, size, anchor="lm")


def blue(fraction: float) -> tuple:
    """The colour of ``fraction`` (0..1) of the largest count on the Blues scale."""
    at = min(max(fraction, 0.0), 1.0) * (len(BLUES) - 1)
    i = min(int(at), len(BLUES) - 2)
    t = at - i
    return tuple(round(a + (b - a) * t) for a, b in zip(BLUES[i], BLUES[i + 1]))


def count_matrix(matrix, labels: list[str], title: str, size: int, counts: bool = True) -> bytes:
    """A square image ``size`` pixels wide of ``matrix`` (rows true, columns predicted), each cell coloured by its
    count; with ``counts``, the count written in it."""
    n = len(labels)
    labels = [label if len(label) <= 18 else label[:17] + "…" for label in labels]
    canvas = Canvas(size, size)
    reach = max(canvas.text_width(label, 12) for label in labels)
    turned = n > 10 or reach > (size - 46 - reach) / n - 6  # the column labels upright would run into each other
    below = 5 + (reach if turned else 14) + 26  # the tick labels and "predicted"
    left, top = 34 + reach, 34
    cell = max(1.0, min(size - left - 12, size - top - below - 8) / n)
    side = cell * n
    x0, y0 = left + (size - left - 12 - side) / 2, top + (size - top - below - 8 - side) / 2
    largest = max(int(matrix.max()), 1)
    xs, ys = [round(x0 + k * cell) for k in range(n + 1)], [round(y0 + k * cell) for k in range(n + 1)]
    for i in range(n):
        for j in range(n):
            count = int(matrix[i, j])
            canvas.rect((xs[j], ys[i], xs[j + 1] - 1, ys[i + 1] - 1), fill=blue(count / largest))
            if counts:
                ink = WHITE if count > largest / 2 else BLACK
                canvas.text(((xs[j] + xs[j + 1]) / 2, (ys[i] + ys[i + 1]) / 2), str(count), 11, anchor="mm", fill=ink)
    canvas.rect((xs[0] - 1, ys[0] - 1, xs[n], ys[n]), outline=FRAME)  # around the cells
    for k, label in enumerate(labels):
        canvas.text((x0 - 5, y0 + (k + 0.5) * cell), label, 12, anchor="rm")
        tick = (x0 + (k + 0.5) * cell, y0 + side + 5)
        (canvas.vertical_text if turned else canvas.text)(tick, label, 12, anchor="mt")
    canvas.text((x0 + side / 2, y0 - 17), title, 15, anchor="mm")
    canvas.text((x0 + side / 2, y0 + side + below), "predicted", 13, anchor="mb")
    canvas.vertical_text((x0 - reach - 14, y0 + side / 2), "true", 13, anchor="rm")
    return png(canvas.image)
