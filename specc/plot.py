"""`specc plot`: architecture diagrams from the static graph (no TensorFlow, no Graphviz).

The output format follows the file suffix:

- ``.mmd`` Mermaid (``flowchart TB``); ``.md`` the same in a ```mermaid fence, for READMEs and pull requests;
- ``.svg`` an SVG drawn here, from the layered layout below;
- ``.png`` the same layout rendered with matplotlib's Agg backend (matplotlib is in the ``train`` extra).

Each box is one node of the graph (or a run of identical layers, collapsed): its name, type, key
arguments and output shape, coloured by the layer's category. The layout is a small Sugiyama-style
layered drawing:

1. boxes get a rank (row) by the longest path from the inputs; an input that feeds only a later merge
   sits just above its first consumer;
2. an edge that spans several rows gets a dummy point in each row it crosses, so it is routed between
   boxes rather than through them;
3. a few barycenter sweeps (down, up) order each row to reduce crossings; the ordering with the fewest
   crossings wins;
4. x positions: each row is placed as close as possible to its neighbours' barycenters, keeping the
   order and a minimum gap (an isotonic regression, solved exactly by pool-adjacent-violators);
5. a very deep drawing (more than ``WRAP_RANKS`` rows) is cut where a single edge joins two rows, and the
   pieces are laid out side by side as columns, joined by an arrow through the gutter.

Heavy modules (matplotlib) are imported only for ``.png``.
"""

from __future__ import annotations

import json
import math
from bisect import bisect_right, insort
from dataclasses import dataclass, field
from pathlib import Path
from xml.sax.saxutils import escape as _xml_escape

from .layers.base import GRAPH_FIELDS, fmt_shape


class PlotError(ValueError):
    pass


SUFFIXES = (".mmd", ".md", ".svg", ".png")

# -- what a box says -------------------------------------------------------------

# Arguments worth showing, in display order, with a short label ("" shows the bare value).
KEY_ARGS: tuple[tuple[str, str], ...] = (
    ("layer", ""),
    ("units", "units"),
    ("filters", "filters"),
    ("num_heads", "heads"),
    ("key_dim", "key_dim"),
    ("input_dim", "vocab"),
    ("output_dim", "dim"),
    ("kernel_size", "kernel"),
    ("pool_size", "pool"),
    ("size", "size"),
    ("strides", "stride"),
    ("dilation_rate", "dilation"),
    ("depth_multiplier", "mult"),
    ("groups", "groups"),
    ("rate", "rate"),
    ("stddev", "stddev"),
    ("target_shape", "shape"),
    ("dims", "dims"),
    ("n", "n"),
    ("cropping", "crop"),
    ("axis", "axis"),
    ("axes", "axes"),
    ("merge_mode", ""),
    ("return_sequences", ""),
    ("padding", ""),
    ("activation", ""),
    ("negative_slope", "slope"),
    ("alpha", "alpha"),
    ("max_value", "max"),
    ("scale", "scale"),
    ("offset", "offset"),
    ("interpolation", ""),
)
WINDOWS = {"kernel_size", "pool_size", "strides", "size", "dilation_rate"}
MAX_ARGS_CHARS = 38
MAX_LINE_CHARS = 40

# (fill, stroke) per layer category.
COLORS: dict[str, tuple[str, str]] = {
    "input": ("#ECEFF1", "#607D8B"),
    "core": ("#E3ECF8", "#4A6FA5"),
    "convolution": ("#D6E9FF", "#1F66B8"),
    "pooling": ("#DDF2E3", "#2E8B57"),
    "resampling": ("#F6E0F5", "#9C3A9A"),  # upsampling, padding, cropping: not to be read as pooling
    "recurrent": ("#FFE8D1", "#CC6A14"),
    "attention": ("#FADCE8", "#B8245E"),
    "normalization": ("#EDE2F8", "#7448A8"),
    "regularization": ("#F0F0DC", "#868632"),
    "activation": ("#FFF4C4", "#AD8A00"),
    "reshaping": ("#DDF3F5", "#23808C"),
    "merging": ("#FFDDD7", "#BD3426"),
    "embedding": ("#E3EFD3", "#5A8A2B"),
    "wrapper": ("#ECE6E0", "#7A6655"),
}
OTHER = ("#F2F2F2", "#777777")
EDGE = "#4D4D4D"
TEXT = "#1A1A1A"
MUTED = "#555555"


def _category(layer) -> str:
    return "input" if layer.kind() == "Input" else getattr(layer, "category", "core")


def _value(key: str, value) -> str:
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, (list, tuple)):
        parts = [_value(key, v) for v in value]
        if key in WINDOWS and all(isinstance(v, int) for v in value):
            return "x".join(parts)
        return "(" + ", ".join(parts) + ")"
    if isinstance(value, dict):
        return "{…}"
    return str(value)


def _inner(layer) -> str:
    """A wrapped layer (Bidirectional, TimeDistributed) in one token: ``GRU(24)``, ``Dense(10, softmax)``."""
    args = [a.split("=", 1)[-1] for a in _args(layer, 3)]
    return f"{layer.kind()}({', '.join(args)})" if args else layer.kind()


def _args(layer, limit: int = 4) -> list[str]:
    out = []
    fields = layer.model_fields_set - GRAPH_FIELDS
    for key, label in KEY_ARGS:
        if key not in fields or len(out) >= limit:
            continue
        value = getattr(layer, key)
        if value is None:
            continue
        if key == "layer":  # a wrapped layer, or the name of the layer a Shared one reuses
            out.append(f"of {value}" if isinstance(value, str) else _inner(value))
        elif key == "return_sequences":
            if value:
                out.append("return_sequences")
        elif key == "input_dim" and layer.kind() != "Embedding":
            continue  # Dense's input_dim declares the model input: the Input box shows it
        elif key in ("activation", "padding") and value in ("linear", "valid"):
            continue
        else:
            text = _value(key, value)
            out.append(f"{label}={text}" if label else text)
    if not layer.trainable:
        out.append("frozen")
    return out


def _args_lines(layer) -> list[str]:
    """The key arguments on at most two lines (a wrapped layer's own arguments count as one item)."""
    lines: list[str] = []
    for item in _args(layer, 6):
        if lines and len(lines[-1]) + 2 + len(item) <= MAX_ARGS_CHARS:
            lines[-1] += ", " + item
        elif len(lines) < 2:
            if lines:
                lines[-1] += ","
            lines.append(item)
        else:
            lines[-1] = _clip(lines[-1] + ", …", MAX_LINE_CHARS)
            break
    return [_clip(line, MAX_LINE_CHARS) for line in lines]


def _clip(text: str, n: int = MAX_LINE_CHARS) -> str:
    return text if len(text) <= n else text[: n - 1] + "…"


def _signature(layer) -> str:
    """What makes two layers identical: kind and arguments (not names, inputs or the input declaration)."""
    skip = set(GRAPH_FIELDS) | ({"input_dim"} if layer.kind() != "Embedding" else set())
    data = layer.model_dump(mode="json", exclude=skip)
    return layer.kind() + json.dumps(data, sort_keys=True, default=str)


# -- the box graph -------------------------------------------------------------


@dataclass
class Box:
    index: int
    nodes: list  # the graph nodes drawn in this box (several for a collapsed run)
    category: str = "core"
    output: bool = False
    lines: list[str] = field(default_factory=list)  # name, type, [args], shape
    group: str | None = None  # the block use its layers were copied for
    # layout
    rank: int = 0
    x: float = 0.0  # centre
    y: float = 0.0  # top
    w: float = 0.0
    h: float = 0.0

    @property
    def id(self) -> str:
        return f"n{self.index}"

    @property
    def count(self) -> int:
        return len(self.nodes)

    @property
    def title(self) -> str:
        """All the names in the box (the tooltip)."""
        return ", ".join(n.name for n in self.nodes)


@dataclass
class Diagram:
    name: str
    params: int
    n_layers: int
    boxes: list[Box]
    edges: list[tuple[int, int]]  # (from box, to box), one per connection, in a stable order


def build_diagram(result) -> Diagram:
    """Boxes and edges from a checked spec: runs of identical layers in a straight chain become one box."""
    from .render import model_name

    graph, info = result.graph, result.info
    if graph is None or info is None:
        raise PlotError("the spec has errors; nothing to draw")
    consumers = graph.consumers()
    outputs = set(graph.outputs)
    groups = {name: uses[0] for name, uses in result.groups.items() if uses}
    box_of: dict[str, Box] = {}
    boxes: list[Box] = []
    signatures: dict[str, str] = {}
    for node in graph.nodes:
        signatures[node.name] = _signature(node.layer)
        if len(node.inputs) == 1 and node.layer.kind() != "Input":
            prev = node.inputs[0]
            box = box_of[prev]
            if (box.nodes[-1].name == prev and consumers[prev] == [node.name] and prev not in outputs
                    and signatures[prev] == signatures[node.name] and groups.get(prev) == groups.get(node.name)):
                box.nodes.append(node)
                box_of[node.name] = box
                continue
        box = Box(len(boxes), [node], category=_category(node.layer), group=groups.get(node.name))
        boxes.append(box)
        box_of[node.name] = box
    edges: list[tuple[int, int]] = []
    seen: set[tuple[int, int]] = set()
    for node in graph.nodes:
        for i in node.inputs:
            e = (box_of[i].index, box_of[node.name].index)
            if e[0] != e[1] and e not in seen:
                seen.add(e)
                edges.append(e)
    for box in boxes:
        first, last = box.nodes[0], box.nodes[-1]
        box.output = last.name in outputs
        name = first.name if box.count == 1 else f"{first.name} … {last.name}"
        kind = first.layer.kind() + (f" × {box.count}" if box.count > 1 else "")
        box.lines = [_clip(name), kind, *_args_lines(first.layer), _clip(fmt_shape(tuple(info[last.name].shape)))]
    n_layers = sum(not n.implicit for n in graph.nodes)  # as written in the spec
    return Diagram(model_name(result), result.params.total, n_layers, boxes, edges)


# -- Mermaid ---------------------------------------------------------------------

_MERMAID_ESCAPES = {'"': "#quot;", "#": "#35;", "&": "#amp;", "<": "#lt;", ">": "#gt;", "`": "#96;",
                    "\n": " ", "\r": " "}


def _count(n: int, word: str) -> str:
    return f"{n:,} {word}" + ("" if n == 1 else "s")


def _mermaid_text(text: str) -> str:
    return "".join(_MERMAID_ESCAPES.get(c, c) for c in text)


def _mermaid_class(category: str) -> str:
    return "layer_" + "".join(c if c.isascii() and (c.isalnum() or c == "_") else "_" for c in category)


def to_mermaid(d: Diagram) -> str:
    name = " ".join(d.name.split())
    out = ["flowchart TB", f"    %% {name}: {_count(d.n_layers, 'layer')}, {d.params:,} params (specc plot)"]
    members: dict[str, list[Box]] = {}
    for box in d.boxes:
        if box.group is not None:
            members.setdefault(box.group, []).append(box)
    frames = {name: k for k, name in enumerate(members)}

    def node(box: Box, indent: str) -> str:
        lines = [f"<b>{_mermaid_text(box.lines[0])}</b>"] + [_mermaid_text(t) for t in box.lines[1:]]
        return f'{indent}{box.id}["{"<br/>".join(lines)}"]'

    for box in d.boxes:
        if box.group is None:
            out.append(node(box, "    "))
        elif box is members[box.group][0]:  # a block's copies in one frame, where the block starts
            out.append(f'    subgraph g{frames[box.group]}["{_mermaid_text(box.group)}"]')
            out += [node(b, "        ") for b in members[box.group]]
            out.append("    end")
    for a, b in d.edges:
        out.append(f"    n{a} --> n{b}")
    used = sorted({b.category for b in d.boxes})
    for cat in used:  # class names get a prefix: `default` and `end` mean something to Mermaid
        fill, stroke = COLORS.get(cat, OTHER)
        out.append(f"    classDef {_mermaid_class(cat)} fill:{fill},stroke:{stroke},color:{TEXT}")
    out.append("    classDef output stroke-width:3px")
    for cat in used:
        out.append(f"    class {','.join(b.id for b in d.boxes if b.category == cat)} {_mermaid_class(cat)}")
    outs = [b.id for b in d.boxes if b.output]
    if outs:
        out.append(f"    class {','.join(outs)} output")
    return "\n".join(out) + "\n"


# -- layout ------------------------------------------------------------------------

FONT = 12.0  # px
CHAR_W = 0.61 * FONT  # monospace advance (DejaVu Sans Mono, Menlo: 0.602 em)
LINE_H = 1.4 * FONT
PAD_X, PAD_Y = 12.0, 7.0
MIN_W = 150.0
DUMMY_W = 14.0
H_GAP = 26.0  # between boxes in a row
V_GAP = 40.0  # between rows
MAX_V_GAP = 140.0
GUTTER = 56.0  # between wrapped columns
MARGIN = 24.0
TITLE_FONT = 16.0
WRAP_RANKS = 25
SWEEPS = 8


@dataclass
class _Item:
    """One slot in a row: a box, or a dummy point of an edge that crosses the row."""

    rank: int
    box: Box | None = None
    width: float = DUMMY_W
    preds: list[_Item] = field(default_factory=list)
    succs: list[_Item] = field(default_factory=list)
    x: float = 0.0
    pos: int = 0


@dataclass
class Layout:
    diagram: Diagram
    width: float
    height: float
    header: list[tuple[str, float, float, float, bool]]  # (text, x, baseline y, font size, bold)
    legend: list[tuple[str, float, float]]  # (category, swatch x, swatch y)
    paths: list[list[tuple]]  # one per edge: [("M", p), ("L", p), ("C", c1, c2, p), ...]


def _box_size(box: Box) -> tuple[float, float]:
    chars = max(len(t) for t in box.lines)
    return max(MIN_W, chars * CHAR_W + 2 * PAD_X), len(box.lines) * LINE_H + 2 * PAD_Y


def _ranks(d: Diagram) -> None:
    preds: dict[int, list[int]] = {b.index: [] for b in d.boxes}
    succs: dict[int, list[int]] = {b.index: [] for b in d.boxes}
    for a, b in d.edges:
        preds[b].append(a)
        succs[a].append(b)
    for box in d.boxes:  # boxes are in topological order
        box.rank = max((d.boxes[p].rank + 1 for p in preds[box.index]), default=0)
    for box in reversed(d.boxes):  # a source (a second input) sits just above its first consumer
        if not preds[box.index] and succs[box.index]:
            box.rank = max(0, min(d.boxes[s].rank for s in succs[box.index]) - 1)


def _crossings(upper: list[_Item]) -> int:
    """Crossings between a row and the next: inversions among the segments' lower ends."""
    pairs = sorted((u.pos, v.pos) for u in upper for v in u.succs)
    seen: list[int] = []
    count = 0
    for _, b in pairs:
        count += len(seen) - bisect_right(seen, b)
        insort(seen, b)
    return count


def _order(rows: list[list[_Item]]) -> list[list[_Item]]:
    def renumber():
        for row in rows:
            for k, it in enumerate(row):
                it.pos = k

    def total():
        return sum(_crossings(row) for row in rows[:-1])

    renumber()
    best, best_rows = total(), [list(r) for r in rows]
    for sweep in range(SWEEPS):
        down = sweep % 2 == 0
        sequence = range(1, len(rows)) if down else range(len(rows) - 2, -1, -1)
        for r in sequence:
            row = rows[r]

            def key(it, down=down):
                nb = it.preds if down else it.succs
                return (sum(n.pos for n in nb) / len(nb) if nb else it.pos, it.pos)

            row.sort(key=key)
            for k, it in enumerate(row):
                it.pos = k
        score = total()
        if score < best:
            best, best_rows = score, [list(r) for r in rows]
        if best == 0:
            break
    rows[:] = best_rows
    renumber()
    return rows


def _isotonic(values: list[float], weights: list[float]) -> list[float]:
    """Pool adjacent violators: the non-decreasing sequence closest (weighted least squares) to ``values``."""
    blocks: list[list[float]] = []  # [weighted sum, weight, count]
    for v, w in zip(values, weights):
        blocks.append([v * w, w, 1])
        while len(blocks) > 1 and blocks[-2][0] / blocks[-2][1] > blocks[-1][0] / blocks[-1][1]:
            s, w2, c = blocks.pop()
            blocks[-1][0] += s
            blocks[-1][1] += w2
            blocks[-1][2] += c
    out: list[float] = []
    for s, w, c in blocks:
        out += [s / w] * int(c)
    return out


def _place_row(row: list[_Item], desired: list[float]) -> None:
    """Put a row's items as near ``desired`` as possible, in order, at least their gap apart."""
    offsets = [0.0]
    for a, b in zip(row, row[1:]):
        gap = H_GAP if (a.box and b.box) else H_GAP / 2
        offsets.append(offsets[-1] + (a.width + b.width) / 2 + gap)
    weights = [1.0 if it.box else 0.6 for it in row]
    fitted = _isotonic([d - o for d, o in zip(desired, offsets)], weights)
    for it, y, o in zip(row, fitted, offsets):
        it.x = y + o


def _coordinates(rows: list[list[_Item]]) -> None:
    for row in rows:
        _place_row(row, [0.0] * len(row))
        shift = (row[0].x + row[-1].x) / 2 if row else 0
        for it in row:
            it.x -= shift

    def mean(items, default):
        return sum(n.x for n in items) / len(items) if items else default

    for sweep in range(6):
        mode = ("down", "up", "down", "up", "both", "both")[sweep]
        sequence = range(1, len(rows)) if mode == "down" else range(len(rows) - 2, -1, -1) if mode == "up" \
            else range(len(rows))
        for r in sequence:
            row = rows[r]
            if mode == "down":
                desired = [mean(it.preds, it.x) for it in row]
            elif mode == "up":
                desired = [mean(it.succs, it.x) for it in row]
            else:
                desired = [mean(it.preds + it.succs, it.x) for it in row]
            _place_row(row, desired)


def _bands(rows: list[list[_Item]], heights: list[float], widths: list[float]) -> list[tuple[int, int]]:
    """Split the rows into columns (start, end) where a single edge joins two rows; one band if short."""
    n = len(rows)
    if n <= WRAP_RANKS:
        return [(0, n)]
    cuts = []  # a cut before row r+1: exactly one edge joins rows r and r+1, from a box to a box
    for r in range(n - 1):
        links = [(it, s) for it in rows[r] for s in it.succs]
        if len(links) == 1 and links[0][0].box is not None and links[0][1].box is not None:
            cuts.append(r + 1)
    if not cuts:
        return [(0, n)]
    pitch = sum(h + V_GAP for h in heights) / n
    col_w = max(widths) + GUTTER
    columns = max(2, round(math.sqrt(n * pitch / col_w * 1.3)))
    target = math.ceil(n / columns)
    bands, start = [], 0
    while n - start > target * 1.25:
        ahead = [c for c in cuts if start + max(2, target // 2) <= c <= start + target * 1.5]
        if not ahead:
            later = [c for c in cuts if c > start + target]
            if not later:
                break
            ahead = later[:1]
        cut = min(ahead, key=lambda c: (abs(c - start - target), c))
        bands.append((start, cut))
        start = cut
    bands.append((start, n))
    return bands


def layout(d: Diagram) -> Layout:
    _ranks(d)
    for box in d.boxes:
        box.w, box.h = _box_size(box)
    n_ranks = max(b.rank for b in d.boxes) + 1
    rows, chains = _rows_and_chains(d, n_ranks)
    rows = _order(rows)
    _coordinates(rows)

    heights = [max((it.box.h for it in row if it.box), default=LINE_H) for row in rows]
    bands = _bands(rows, heights, [b.w for b in d.boxes])
    # Rows whose edges run far sideways get more room, so the curves stay legible.
    gaps = [max([V_GAP] + [min(MAX_V_GAP, 0.12 * abs(s.x - it.x)) for it in row for s in it.succs]) for row in rows]
    header, legend_entries, header_w = _header(d)
    row_top, band_height, band_right, content_w = _columns(rows, bands, heights, gaps, n_ranks)

    width = max(content_w, header_w, 240.0) + 2 * MARGIN
    # Legend rows, wrapped to the width.
    legend = []
    lx, ly = MARGIN, header[1][2] + FONT * 1.1
    for cat, w in legend_entries:
        if lx + w > width - MARGIN and lx > MARGIN:
            lx, ly = MARGIN, ly + FONT * 1.6
        legend.append((cat, lx, ly))
        lx += w
    top = ly + FONT * 1.2 + V_GAP * (0.9 if len(bands) > 1 else 0.6)
    if content_w < width - 2 * MARGIN:  # centre the drawing under a wider header
        for row in rows:
            for it in row:
                it.x += (width - 2 * MARGIN - content_w) / 2
        band_right = [r + (width - 2 * MARGIN - content_w) / 2 for r in band_right]
    for r in range(n_ranks):
        row_top[r] += top
    for row in rows:
        for it in row:
            if it.box:
                it.box.x = it.x
                it.box.y = row_top[it.rank] + (heights[it.rank] - it.box.h) / 2
    height = top + band_height + MARGIN + (V_GAP / 2 if len(bands) > 1 else 0)
    band_of = {r: k for k, (start, end) in enumerate(bands) for r in range(start, end)}
    paths = _edge_paths(chains, row_top, heights, band_of, band_right, top)
    return Layout(d, width, height, header, legend, paths)


def _rows_and_chains(d: Diagram, n_ranks: int) -> tuple[list[list[_Item]], list[list[_Item]]]:
    """The items of each rank, and per edge its chain: source, a dummy item per rank it crosses, target."""
    rows: list[list[_Item]] = [[] for _ in range(n_ranks)]
    items: dict[int, _Item] = {}
    chains: list[list[_Item]] = []
    for box in d.boxes:
        items[box.index] = _Item(box.rank, box, box.w)
        rows[box.rank].append(items[box.index])
    for a, b in d.edges:
        chain = [items[a]]
        for r in range(d.boxes[a].rank + 1, d.boxes[b].rank):
            dummy = _Item(r)
            rows[r].append(dummy)
            chain.append(dummy)
        chain.append(items[b])
        for u, v in zip(chain, chain[1:]):
            u.succs.append(v)
            v.preds.append(u)
        chains.append(chain)
    return rows, chains


def _header(d: Diagram) -> tuple[list, list, float]:
    """The title and subtitle lines, the legend's entries (category, width) and the header's width."""
    title = d.name
    sub = f"{_count(d.n_layers, 'layer')}, {d.params:,} params" + (
        f"; {len(d.boxes)} boxes (repeats collapsed)" if len(d.boxes) < d.n_layers else "")
    header = [(title, 0.0, MARGIN + TITLE_FONT, TITLE_FONT, True),
              (sub, 0.0, MARGIN + TITLE_FONT + 1.5 * FONT + 2, FONT * 0.95, False)]
    used = []
    for b in d.boxes:
        if b.category not in used:
            used.append(b.category)
    legend_entries = [(c, len(c) * CHAR_W * 0.92 + 14 + 20) for c in used] + [("output", 6 * CHAR_W * 0.92 + 14 + 20)]
    header_w = max(len(title) * TITLE_FONT * 0.62, len(sub) * CHAR_W * 0.95)
    return header, legend_entries, header_w


def _columns(rows, bands, heights, gaps, n_ranks: int) -> tuple[list[float], float, list[float], float]:
    """The bands of ranks side by side: each row's top, the tallest band's height, each band's right edge and
    the width of them all."""
    row_top: list[float] = [0.0] * n_ranks
    x_cursor = MARGIN
    band_height = 0.0
    band_right = []
    for start, end in bands:
        lo = min(it.x - it.width / 2 for row in rows[start:end] for it in row)
        hi = max(it.x + it.width / 2 for row in rows[start:end] for it in row)
        shift = x_cursor - lo
        for row in rows[start:end]:
            for it in row:
                it.x += shift
        y = 0.0
        for r in range(start, end):
            row_top[r] = y
            y += heights[r] + gaps[r]
        band_height = max(band_height, y - gaps[end - 1])
        x_cursor += hi - lo
        band_right.append(x_cursor)
        x_cursor += GUTTER
    return row_top, band_height, band_right, x_cursor - GUTTER - MARGIN


def _edge_paths(chains, row_top, heights, band_of, band_right, top: float) -> list:
    """Each edge's path: curves from rank to rank, or, between bands, down, through the gutter, up, across and
    down. Several edges leaving (or entering) one box are spread along its side."""
    out_order: dict[int, list[int]] = {}
    in_order: dict[int, list[int]] = {}
    for k, chain in enumerate(chains):
        out_order.setdefault(id(chain[0]), []).append(k)
        in_order.setdefault(id(chain[-1]), []).append(k)

    def port(item: _Item, k: int, table, neighbour_x) -> float:
        ks = sorted(table[id(item)], key=lambda j: (neighbour_x(j), j))
        if len(ks) == 1:
            return item.x
        step = min(16.0, (item.width - 24) / (len(ks) - 1))
        return item.x + (ks.index(k) - (len(ks) - 1) / 2) * step

    paths = []
    for k, chain in enumerate(chains):
        src, dst = chain[0], chain[-1]
        sx = port(src, k, out_order, lambda j: chains[j][1].x)
        tx = port(dst, k, in_order, lambda j: chains[j][-2].x)
        s_bottom = src.box.y + src.box.h
        t_top = dst.box.y
        if band_of[src.rank] != band_of[dst.rank]:  # wrapped: down, through the gutter, up, across, down
            b = band_of[src.rank]
            yb = row_top[src.rank] + heights[src.rank] + V_GAP / 2
            gx = band_right[b] + GUTTER / 2
            yt = top - V_GAP / 2
            paths.append([("M", (sx, s_bottom)), ("L", (sx, yb)), ("L", (gx, yb)), ("L", (gx, yt)),
                          ("L", (tx, yt)), ("L", (tx, t_top))])
            continue
        path = [("M", (sx, s_bottom))]
        x, r = sx, src.rank
        y = row_top[r] + heights[r]
        if y > s_bottom:
            path.append(("L", (sx, y)))
        for nxt in chain[1:]:
            nx = tx if nxt is dst else nxt.x
            ny = row_top[nxt.rank]
            mid = (y + ny) / 2
            path.append(("C", (x, mid), (nx, mid), (nx, ny)))
            x, y = nx, ny
            if nxt is dst:
                if t_top > y:
                    path.append(("L", (tx, t_top)))
            else:
                y = ny + heights[nxt.rank]
                path.append(("L", (x, y)))
        paths.append(path)
    return paths


# -- SVG -----------------------------------------------------------------------------

FONT_FAMILY = "'DejaVu Sans Mono', Menlo, Consolas, 'Liberation Mono', monospace"


def _attr(value) -> str:
    return _xml_escape(str(value), {'"': "&quot;"})


def _n(v: float) -> str:
    return f"{v:.1f}".rstrip("0").rstrip(".")


def _svg_path(path) -> str:
    parts = []
    for op, *pts in path:
        parts.append(op + " ".join(f"{_n(x)},{_n(y)}" for x, y in pts))
    return " ".join(parts)


def _text_rows(box: Box):
    """(text, baseline y, bold, colour) for each line of a box."""
    for k, text in enumerate(box.lines):
        baseline = box.y + PAD_Y + k * LINE_H + LINE_H * 0.72
        last = k == len(box.lines) - 1
        yield text, baseline, k == 0, MUTED if last else TEXT


FRAME_PAD, FRAME_TOP = 9.0, 17.0
FRAME = "#8A8F98"


def _frames(d: Diagram) -> list[tuple[str, float, float, float, float]]:
    """A dashed frame (label, x0, y0, x1, y1) around each block use's boxes, unless the frame would take in
    another box (the copies were laid out apart, e.g. across wrapped columns): then the names say it."""
    members: dict[str, list[Box]] = {}
    for box in d.boxes:
        if box.group is not None:
            members.setdefault(box.group, []).append(box)
    out = []
    for label, boxes in members.items():
        x0 = min(b.x - b.w / 2 for b in boxes) - FRAME_PAD
        x1 = max(b.x + b.w / 2 for b in boxes) + FRAME_PAD
        y0 = min(b.y for b in boxes) - FRAME_TOP
        y1 = max(b.y + b.h for b in boxes) + FRAME_PAD
        inside = set(map(id, boxes))
        if any(id(b) not in inside and b.x + b.w / 2 > x0 and b.x - b.w / 2 < x1 and b.y + b.h > y0 and b.y < y1
               for b in d.boxes):
            continue
        out.append((label, x0, y0, x1, y1))
    return out


def to_svg(lay: Layout) -> str:
    d = lay.diagram
    w, h = lay.width, lay.height
    out = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{_n(w)}" height="{_n(h)}" viewBox="0 0 {_n(w)} {_n(h)}" '
        f'font-family="{_attr(FONT_FAMILY)}" font-size="{_n(FONT)}">',
        f"<title>{_xml_escape(d.name)}</title>",
        "<defs>",
        f'  <marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="9" markerHeight="9" '
        f'markerUnits="userSpaceOnUse" orient="auto"><path d="M0,0 L10,5 L0,10 z" fill="{EDGE}"/></marker>',
        "</defs>",
        '<rect width="100%" height="100%" fill="#FFFFFF"/>',
    ]
    for text, x, y, size, bold in lay.header:
        weight = ' font-weight="bold"' if bold else ""
        colour = TEXT if bold else MUTED
        out.append(f'<text x="{_n(MARGIN + x)}" y="{_n(y)}" font-size="{_n(size)}"{weight} fill="{colour}">'
                   f"{_xml_escape(text)}</text>")
    out.append('<g class="legend">')
    for cat, x, y in lay.legend:
        fill, stroke = COLORS.get(cat, OTHER) if cat != "output" else ("#FFFFFF", EDGE)
        sw = 2.5 if cat == "output" else 1.2
        out.append(f'  <rect class="swatch" x="{_n(x)}" y="{_n(y)}" width="14" height="11" rx="3" fill="{fill}" '
                   f'stroke="{stroke}" stroke-width="{sw}"/>')
        out.append(f'  <text x="{_n(x + 19)}" y="{_n(y + 10)}" font-size="{_n(FONT * 0.92)}" fill="{MUTED}">'
                   f"{_xml_escape(cat)}</text>")
    out.append("</g>")
    out.append(f'<g class="frames" fill="none" stroke="{FRAME}" stroke-width="1" stroke-dasharray="5 4">')
    for label, x0, y0, x1, y1 in _frames(d):
        out.append(f'  <rect class="frame" x="{_n(x0)}" y="{_n(y0)}" width="{_n(x1 - x0)}" height="{_n(y1 - y0)}" '
                   f'rx="10"/>')
        out.append(f'  <text x="{_n(x0 + 8)}" y="{_n(y0 + 12)}" font-size="{_n(FONT * 0.85)}" fill="{FRAME}" '
                   f'stroke="none">{_xml_escape(label)}</text>')
    out.append("</g>")
    out.append(f'<g class="edges" fill="none" stroke="{EDGE}" stroke-width="1.3">')
    for (a, b), path in zip(d.edges, lay.paths):
        out.append(f'  <path class="edge" data-from="n{a}" data-to="n{b}" d="{_svg_path(path)}" '
                   f'marker-end="url(#arrow)"/>')
    out.append("</g>")
    out.append('<g class="nodes" text-anchor="middle">')
    for box in d.boxes:
        fill, stroke = COLORS.get(box.category, OTHER)
        sw = 2.6 if box.output else 1.2
        out.append(f'  <g class="node {_attr(box.category)}" id="{box.id}">')
        out.append(f"    <title>{_xml_escape(box.title)}</title>")
        out.append(f'    <rect class="box" x="{_n(box.x - box.w / 2)}" y="{_n(box.y)}" width="{_n(box.w)}" '
                   f'height="{_n(box.h)}" rx="8" fill="{fill}" stroke="{stroke}" stroke-width="{sw}"/>')
        for text, baseline, bold, colour in _text_rows(box):
            weight = ' font-weight="bold"' if bold else ""
            out.append(f'    <text x="{_n(box.x)}" y="{_n(baseline)}"{weight} fill="{colour}">'
                       f"{_xml_escape(text)}</text>")
        out.append("  </g>")
    out.append("</g>")
    out.append("</svg>")
    return "\n".join(out) + "\n"


# -- PNG (matplotlib, Agg) -----------------------------------------------------------

MAX_PNG_SIDE = 16000
MAX_PNG_PIXELS = 40_000_000


def to_png(lay: Layout) -> bytes:
    import io

    try:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.collections import PatchCollection, PolyCollection
        from matplotlib.figure import Figure
        from matplotlib.patches import FancyBboxPatch, PathPatch
        from matplotlib.path import Path as MplPath
        from matplotlib.text import Text
    except ImportError:
        raise PlotError("a .png diagram needs matplotlib: pip install 'specc[train]' (or pip install matplotlib); "
                        ".svg and .mmd need nothing extra")

    d = lay.diagram
    w, h = lay.width, lay.height
    base = 100.0
    scale = min(2.0, MAX_PNG_SIDE / max(w, h), math.sqrt(MAX_PNG_PIXELS / (w * h)))
    pt = 72.0 / base  # points per layout pixel
    fig = Figure(figsize=(w / base, h / base), dpi=base)
    FigureCanvasAgg(fig)
    ax = fig.add_axes((0, 0, 1, 1))
    ax.set_xlim(0, w)
    ax.set_ylim(h, 0)
    ax.axis("off")
    mono = "DejaVu Sans Mono"

    def text(x, y, s, size, bold=False, colour=TEXT, ha="center"):
        # Straight onto the figure: Axes.text would clip every label to the axes, slow for thousands.
        fig.add_artist(Text(x, y, s, transform=ax.transData, fontsize=size * pt, family=mono, color=colour,
                            fontweight="bold" if bold else "normal", ha=ha, va="baseline"))

    patches = []
    for t, x, y, size, bold in lay.header:
        text(MARGIN + x, y, t, size, bold, TEXT if bold else MUTED, "left")
    for cat, x, y in lay.legend:
        fill, stroke = COLORS.get(cat, OTHER) if cat != "output" else ("#FFFFFF", EDGE)
        patches.append(FancyBboxPatch((x, y), 14, 11, boxstyle="round,pad=0,rounding_size=3", facecolor=fill,
                                      edgecolor=stroke, linewidth=(2.5 if cat == "output" else 1.2) * pt))
        text(x + 19, y + 10, cat, FONT * 0.92, colour=MUTED, ha="left")

    frames = []
    for label, x0, y0, x1, y1 in _frames(d):
        frames.append(FancyBboxPatch((x0, y0), x1 - x0, y1 - y0, boxstyle="round,pad=0,rounding_size=10",
                                     facecolor="none", edgecolor=FRAME, linewidth=pt, linestyle=(0, (5, 4))))
        text(x0 + 8, y0 + 12, label, FONT * 0.85, colour=FRAME, ha="left")
    ax.add_collection(PatchCollection(frames, match_original=True, zorder=1), autolim=False)
    codes_of = {"M": [MplPath.MOVETO], "L": [MplPath.LINETO], "C": [MplPath.CURVE4] * 3}
    lines, heads = [], []
    for path in lay.paths:
        verts, codes = [], []
        for op, *pts in path:
            verts += pts
            codes += codes_of[op]
        (x0, y0), (x1, y1) = _last_direction(path)
        length = math.hypot(x1 - x0, y1 - y0) or 1.0
        ux, uy = (x1 - x0) / length, (y1 - y0) / length
        head, half = 9.0, 4.5
        verts[-1] = (x1 - ux * head * 0.6, y1 - uy * head * 0.6)  # the line stops under the arrowhead
        lines.append(PathPatch(MplPath(verts, codes)))
        bx, by = x1 - ux * head, y1 - uy * head
        heads.append([(x1, y1), (bx - uy * half, by + ux * half), (bx + uy * half, by - ux * half)])
    ax.add_collection(PatchCollection(lines, facecolor="none", edgecolor=EDGE, linewidth=1.3 * pt,
                                      capstyle="butt", joinstyle="round"), autolim=False)
    ax.add_collection(PolyCollection(heads, facecolor=EDGE, edgecolor="none"), autolim=False)
    for box in d.boxes:
        fill, stroke = COLORS.get(box.category, OTHER)
        patches.append(FancyBboxPatch((box.x - box.w / 2, box.y), box.w, box.h,
                                      boxstyle="round,pad=0,rounding_size=8", facecolor=fill, edgecolor=stroke,
                                      linewidth=(2.6 if box.output else 1.2) * pt))
        for t, baseline, bold, colour in _text_rows(box):
            text(box.x, baseline, t, FONT, bold, colour)
    ax.add_collection(PatchCollection(patches, match_original=True, zorder=3), autolim=False)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=base * scale, facecolor="white", metadata={"Software": None})
    return buf.getvalue()


def _last_direction(path) -> tuple[tuple[float, float], tuple[float, float]]:
    points = [p for _, *pts in path for p in pts]
    end = points[-1]
    for p in reversed(points[:-1]):
        if p != end:
            return p, end
    return (end[0], end[1] - 1), end


# -- entry point -------------------------------------------------------------------------


def render(result, suffix: str) -> str | bytes:
    """The diagram of a checked spec as text (.mmd, .md, .svg) or bytes (.png)."""
    suffix = suffix.lower()
    if suffix not in SUFFIXES:
        raise PlotError(f"unknown diagram format '{suffix or '(no suffix)'}': use .mmd or .md (Mermaid), "
                        f".svg or .png")
    d = build_diagram(result)
    if suffix == ".mmd":
        return to_mermaid(d)
    if suffix == ".md":
        return f"```mermaid\n{to_mermaid(d)}```\n"
    lay = layout(d)
    return to_svg(lay) if suffix == ".svg" else to_png(lay)


def write_diagram(result, output) -> None:
    from .runners.files import atomic_write_bytes, atomic_write_text

    output = Path(output)
    data = render(result, output.suffix)
    if isinstance(data, bytes):
        atomic_write_bytes(output, data)
    else:
        atomic_write_text(output, data)
