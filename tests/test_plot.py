"""`specc plot`: Mermaid, SVG and PNG diagrams from the static graph, without TensorFlow."""

import json
import re
import sys
import xml.etree.ElementTree as ET

import pytest
from conftest import HEAVY, ROOT, probe_cli, run_cli

from specc import plot
from specc.check import check_file, check_text
from specc.layers import REGISTRY

SVG = "{http://www.w3.org/2000/svg}"

BRANCHED = """\
specc: 1
name: two-branch
layers:
  - {type: Input, name: image, shape: [8, 8, 1]}
  - {type: Conv2D, name: a1, filters: 8, kernel_size: 3, padding: same, activation: relu, inputs: image}
  - {type: Conv2D, name: a2, filters: 8, kernel_size: 3, padding: same, activation: relu}
  - {type: MaxPooling2D, name: a3, pool_size: 2}
  - {type: Flatten, name: a}
  - {type: Flatten, name: b0, inputs: image}
  - {type: Dense, name: b, units: 32, activation: relu}
  - {type: Input, name: meta, shape: [5]}
  - {type: Dense, name: m, units: 8, activation: relu}
  - {type: Concatenate, name: joined, inputs: [a, b, m]}
  - {type: Dense, name: hidden, units: 64, activation: relu}
  - {type: Dense, name: skip, units: 64, inputs: joined}
  - {type: Add, name: res, inputs: [hidden, skip]}
  - {type: Dense, name: out, units: 10, activation: softmax}
  - {type: Dense, name: aux, units: 1, activation: sigmoid, inputs: a}
outputs: [out, aux]
"""
# Boxes: a1 and a2 are identical and chained, so they share one; every other node has its own.
BRANCHED_BOXES = ["image", "a1", "a3", "a", "b0", "b", "meta", "m", "joined", "hidden", "skip", "res", "out", "aux"]
BRANCHED_EDGES = {("image", "a1"), ("image", "b0"), ("a1", "a3"), ("a3", "a"), ("b0", "b"), ("meta", "m"),
                  ("a", "joined"), ("b", "joined"), ("m", "joined"), ("a", "aux"), ("joined", "hidden"),
                  ("joined", "skip"), ("hidden", "res"), ("skip", "res"), ("res", "out")}


def _chain(n: int) -> str:
    """A straight chain of n distinct Dense layers (nothing to collapse)."""
    lines = ["specc: 1", "name: deep-chain", "layers:", "  - {type: Dense, units: 8, input_dim: 4}"]
    lines += [f"  - {{type: Dense, units: {9 + i}, activation: relu}}" for i in range(n - 1)]
    return "\n".join(lines) + "\n"


@pytest.fixture
def branched(tmp_path):
    if "Concatenate" not in REGISTRY or "Add" not in REGISTRY:
        pytest.skip("merge layers not registered")
    path = tmp_path / "branched.yaml"
    path.write_text(BRANCHED)
    return path


def _mermaid(text: str):
    nodes = dict(re.findall(r'^    (n\d+)\["(.*)"\]$', text, re.M))
    edges = re.findall(r"^    (n\d+) --> (n\d+)$", text, re.M)
    return nodes, edges


def _first_name(label: str) -> str:
    return re.match(r"<b>([^<]*?)(?: … [^<]*)?</b>", label).group(1)


def _svg(path):
    root = ET.parse(path).getroot()  # well-formed XML, or this raises
    assert root.tag == f"{SVG}svg"
    boxes = [r for r in root.iter(f"{SVG}rect") if r.get("class") == "box"]
    edges = [p for p in root.iter(f"{SVG}path") if p.get("class") == "edge"]
    return root, boxes, edges


# -- Mermaid ----------------------------------------------------------------------------------------


def test_mermaid_has_every_node_and_edge_of_a_branching_model(branched, tmp_path):
    out = run_cli("plot", branched, "-o", tmp_path / "d.mmd")
    assert out.returncode == 0, out.stderr
    text = (tmp_path / "d.mmd").read_text()
    assert text.startswith("flowchart TB\n")
    nodes, edges = _mermaid(text)
    names = {k: _first_name(v) for k, v in nodes.items()}
    assert sorted(names.values()) == sorted(BRANCHED_BOXES)
    assert {(names[a], names[b]) for a, b in edges} == BRANCHED_EDGES
    assert len(edges) == len(BRANCHED_EDGES)
    assert "Conv2D × 2" in nodes[next(k for k, v in names.items() if v == "a1")]
    assert "(None, 168)" in nodes[next(k for k, v in names.items() if v == "joined")]  # output shapes shown
    outputs = re.search(r"^    class (\S+) output$", text, re.M).group(1).split(",")
    assert sorted(names[k] for k in outputs) == ["aux", "out"]


def test_mermaid_collapses_repeats_and_md_wraps_it_in_a_fence(tmp_path):
    spec = ROOT / "benchmarks" / "specs" / "vgg.yaml"
    assert run_cli("plot", spec, "-o", tmp_path / "vgg.md").returncode == 0
    text = (tmp_path / "vgg.md").read_text()
    assert text.startswith("```mermaid\n") and text.endswith("```\n")
    nodes, edges = _mermaid(text)
    summary = json.loads(run_cli("summary", "--json", spec).stdout)
    assert len(summary["layers"]) == 15  # the implicit input and 14 layers
    assert len(nodes) == 12 and len(edges) == 11  # three pairs of identical Conv2D layers collapsed
    labels = list(nodes.values())
    assert sum("Conv2D × 2" in v for v in labels) == 3
    assert "<b>conv2d … conv2d_1</b>" in labels[1]
    assert "filters=64" in labels[1] and "kernel=3" in labels[1] and "relu" in labels[1]
    assert labels[-1].endswith("(None, 10)")
    d = plot.build_diagram(check_file(spec))  # every layer is in exactly one box, in order
    assert [n.name for b in d.boxes for n in b.nodes] == [layer["name"] for layer in summary["layers"]]


def test_collapsing_stops_at_branches_outputs_and_different_arguments():
    result = check_text(
        "specc: 1\n"
        "layers:\n"
        "  - {type: Dense, name: d1, units: 4, input_dim: 3}\n"
        "  - {type: Dense, name: d2, units: 4}\n"            # same as d1: collapsed with it
        "  - {type: Dense, name: d3, units: 4}\n"            # also feeds d5: the run ends here
        "  - {type: Dense, name: d4, units: 4}\n"
        "  - {type: Dense, name: d5, units: 4, inputs: d3}\n"
        "  - {type: Dense, name: d6, units: 5}\n"           # different arguments
        "  - {type: Dense, name: d7, units: 5, inputs: d4}\n"
        "  - {type: Dense, name: d8, units: 5}\n"           # d7 is an output: not collapsed into it
        "outputs: [d6, d7, d8]\n"
    )
    assert result.ok, [d.message for d in result.errors]
    d = plot.build_diagram(result)
    assert [[n.name for n in b.nodes] for b in d.boxes] == [
        ["input_layer"], ["d1", "d2", "d3"], ["d4"], ["d5"], ["d6"], ["d7"], ["d8"]]
    assert d.boxes[1].lines[1] == "Dense × 3"


@pytest.mark.parametrize("suffix", [".mmd", ".svg", ".png"])
def test_a_shared_layer_is_drawn_with_the_layer_it_reuses(suffix):
    """A Shared layer's `layer` is a name, not a wrapped layer: every format crashed on it (so did `report`)."""
    result = check_text("specc: 1\nlayers:\n  - {type: Input, shape: [4], name: a}\n"
                        "  - {type: Dense, units: 4, name: t}\n  - {type: Shared, layer: t, name: t2}\n")
    assert result.ok, [d.message for d in result.errors]
    assert plot.build_diagram(result).boxes[-1].lines[1:3] == ["Shared", "of t"]
    assert plot.render(result, suffix)


def test_mermaid_labels_are_escaped(tmp_path):
    spec = tmp_path / "odd.yaml"
    spec.write_text('specc: 1\nname: \'a "quoted" <b>name</b> & #1\'\nlayers:\n'
                    "  - {type: Dense, units: 2, input_dim: 3}\n"
                    "  - {type: Reshape, target_shape: [2, 1]}\n")
    assert run_cli("plot", spec, "-o", tmp_path / "odd.mmd").returncode == 0
    text = (tmp_path / "odd.mmd").read_text()
    nodes, _ = _mermaid(text)
    for label in nodes.values():
        assert '"' not in label
        assert "<" not in label.replace("<b>", "").replace("</b>", "").replace("<br/>", "")
    assert all(re.fullmatch(r"n\d+", k) for k in nodes)
    assert plot._mermaid_text('say "hi" <x> & #') == "say #quot;hi#quot; #lt;x#gt; #amp; #35;"
    assert run_cli("plot", spec, "-o", tmp_path / "odd.svg").returncode == 0
    root, _, _ = _svg(tmp_path / "odd.svg")
    assert root.find(f"{SVG}title").text == 'a "quoted" <b>name</b> & #1'


# -- SVG ---------------------------------------------------------------------------------------------


def _rect(r):
    return tuple(float(r.get(k)) for k in ("x", "y", "width", "height"))


def test_svg_one_box_per_node_one_arrow_per_edge_and_no_overlaps(branched, tmp_path):
    out = run_cli("plot", branched, "-o", tmp_path / "d.svg")
    assert out.returncode == 0, out.stderr
    root, boxes, edges = _svg(tmp_path / "d.svg")
    assert len(boxes) == len(BRANCHED_BOXES)
    assert len(edges) == len(BRANCHED_EDGES)
    assert all(e.get("marker-end") == "url(#arrow)" for e in edges)
    width, height = float(root.get("width")), float(root.get("height"))
    rects = [_rect(r) for r in boxes]
    for x, y, w, h in rects:
        assert 0 <= x and x + w <= width and 0 <= y and y + h <= height
    for i, (x1, y1, w1, h1) in enumerate(rects):
        for x2, y2, w2, h2 in rects[i + 1:]:
            assert x1 + w1 <= x2 or x2 + w2 <= x1 or y1 + h1 <= y2 or y2 + h2 <= y1, "boxes overlap"
    # Every label line fits its box (monospace: the advance is known).
    for group in root.iter(f"{SVG}g"):
        rect = group.find(f"{SVG}rect")
        if rect is None or rect.get("class") != "box":
            continue
        for t in group.findall(f"{SVG}text"):
            assert len(t.text) * plot.CHAR_W <= float(rect.get("width")), t.text
    # Edges go down the page: from the upper box to the lower one.
    ids = {g.get("id"): _rect(g.find(f"{SVG}rect")) for g in root.iter(f"{SVG}g") if g.get("id")}
    for e in edges:
        src, dst = ids[e.get("data-from")], ids[e.get("data-to")]
        assert src[1] + src[3] < dst[1]


def test_svg_wraps_a_very_long_chain_into_columns(tmp_path):
    spec = tmp_path / "chain.yaml"
    spec.write_text(_chain(80))
    assert run_cli("plot", spec, "-o", tmp_path / "chain.svg").returncode == 0
    root, boxes, edges = _svg(tmp_path / "chain.svg")
    assert len(boxes) == 81 and len(edges) == 80
    columns = sorted({round(float(r.get("x"))) for r in boxes})
    assert len(columns) >= 3
    width, height = float(root.get("width")), float(root.get("height"))
    assert height < 2 * width, "a long chain is folded, not one endless column"


def test_layout_orders_rows_without_needless_crossings():
    result = check_text(BRANCHED)
    d = plot.build_diagram(result)
    lay = plot.layout(d)
    by_name = {b.nodes[0].name: b for b in d.boxes}
    # Longest path from the inputs: Concatenate comes after the longest branch (image, a1-a2, a3, a).
    assert by_name["joined"].rank == 4 and by_name["res"].rank == 6
    # The second input sits just above its consumer's row, not at the top of a long edge.
    assert by_name["meta"].rank == by_name["m"].rank - 1
    assert lay.width > 0 and lay.height > 0


def test_barycenter_pass_uncrosses_edges():
    # In spec order the second row is [c, d] but c hangs under b and d under a: one crossing, which
    # the barycenter pass removes by swapping c and d.
    result = check_text(
        "specc: 1\n"
        "layers:\n"
        "  - {type: Input, name: x, shape: [4]}\n"
        "  - {type: Dense, name: a, units: 2, inputs: x}\n"
        "  - {type: Dense, name: b, units: 3, inputs: x}\n"
        "  - {type: Dense, name: c, units: 4, inputs: b}\n"
        "  - {type: Dense, name: d, units: 5, inputs: a}\n"
        "outputs: [c, d]\n"
    )
    d = plot.build_diagram(result)
    plot.layout(d)
    x = {b.nodes[0].name: b.x for b in d.boxes}
    assert (x["a"] < x["b"]) == (x["d"] < x["c"])
    assert abs(x["a"] - x["d"]) < 1 and abs(x["b"] - x["c"]) < 1  # straight chains stay straight


# -- categories --------------------------------------------------------------------------------------------

RESAMPLING = ("UpSampling1D", "UpSampling2D", "UpSampling3D", "ZeroPadding1D", "ZeroPadding2D", "Cropping1D",
              "Cropping2D")


def test_every_category_has_its_own_colour_and_resampling_is_not_pooling():
    assert sorted(k for k, c in REGISTRY.items() if c.category == "resampling") == sorted(RESAMPLING)
    categories = {c.category for c in REGISTRY.values()} - {"reuse"}  # sub-models: the neutral grey
    assert categories <= set(plot.COLORS), "a category would be drawn in the fallback grey"
    assert len(set(plot.COLORS.values())) == len(plot.COLORS), "two categories share a colour"


def _hex_rgb(colour: str) -> tuple[int, int, int]:
    return tuple(int(colour[i:i + 2], 16) for i in (1, 3, 5))


def test_an_autoencoders_decoder_is_drawn_as_resampling_not_pooling(tmp_path):
    from PIL import Image

    spec = ROOT / "specs" / "conv_autoencoder.yaml"
    for suffix in (".mmd", ".svg", ".png"):
        out = run_cli("plot", spec, "-o", tmp_path / f"ae{suffix}")
        assert out.returncode == 0, out.stderr
    nodes, _ = _mermaid((tmp_path / "ae.mmd").read_text())
    classes = dict(re.findall(r"^    class (\S+) (layer_\w+)$", (tmp_path / "ae.mmd").read_text(), re.M))
    kinds = {cls: sorted(nodes[n].split("<br/>")[1] for n in ids.split(",")) for ids, cls in classes.items()}
    assert kinds["layer_resampling"] == ["UpSampling2D", "UpSampling2D"]
    assert kinds["layer_pooling"] == ["MaxPooling2D", "MaxPooling2D"]

    root, _, _ = _svg(tmp_path / "ae.svg")
    legend = next(g for g in root.iter(f"{SVG}g") if g.get("class") == "legend")
    assert [t.text for t in legend.iter(f"{SVG}text")] == ["input", "convolution", "pooling", "resampling", "output"]
    groups = [g.get("class") for g in root.iter(f"{SVG}g") if (g.get("class") or "").startswith("node ")]
    assert groups.count("node resampling") == 2 and groups.count("node pooling") == 2

    with Image.open(tmp_path / "ae.png") as im:
        colours = {rgb for _, rgb in im.convert("RGB").getcolors(maxcolors=1 << 20)}
    for category in ("pooling", "resampling"):
        assert all(_hex_rgb(c) in colours for c in plot.COLORS[category]), category


# -- PNG -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("spec", ["specs/digits_mlp.yaml", "specs/bidirectional_rnn.yaml"])
def test_png_is_a_real_png_of_sensible_size(spec, tmp_path):
    from PIL import Image

    out = run_cli("plot", ROOT / spec, "-o", tmp_path / "d.png")
    assert out.returncode == 0, out.stderr
    data = (tmp_path / "d.png").read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    with Image.open(tmp_path / "d.png") as im:
        w, h = im.size
        assert 300 <= w <= 3000 and 500 <= h <= 6000, im.size
        assert h > w  # a chain runs down the page
        colours = im.convert("RGB").getcolors(maxcolors=1 << 20)
        assert len(colours) > 20, "more than a blank page"


def test_png_without_matplotlib_is_a_clear_error(monkeypatch):
    result = check_file(ROOT / "specs" / "digits_mlp.yaml")
    for name in [m for m in sys.modules if m == "matplotlib" or m.startswith("matplotlib.")] + ["matplotlib"]:
        monkeypatch.setitem(sys.modules, name, None)  # as if not installed, even where another test imported it
    with pytest.raises(plot.PlotError, match="needs matplotlib"):
        plot.render(result, ".png")


# -- errors, atomic writes, imports ---------------------------------------------------------------------


def test_unknown_suffix_is_a_usage_error(tmp_path):
    out = run_cli("plot", ROOT / "specs" / "digits_mlp.yaml", "-o", tmp_path / "d.pdf")
    assert out.returncode == 2
    assert "unknown diagram format '.pdf'" in out.stderr and ".svg" in out.stderr
    assert not (tmp_path / "d.pdf").exists()
    with pytest.raises(plot.PlotError):
        plot.render(check_file(ROOT / "specs" / "digits_mlp.yaml"), "")


def test_invalid_spec_exits_1_and_writes_nothing(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("specc: 1\nlayers:\n  - {type: Dense, units: 0, input_dim: 3}\n")
    out = run_cli("plot", bad, "-o", tmp_path / "d.svg")
    assert out.returncode == 1
    assert "error" in out.stderr
    assert not (tmp_path / "d.svg").exists()


def test_write_is_atomic_and_replaces_the_old_file(tmp_path):
    target = tmp_path / "d.mmd"
    target.write_text("old")
    plot.write_diagram(check_file(ROOT / "specs" / "digits_mlp.yaml"), target)
    assert target.read_text().startswith("flowchart TB\n    %% digits-mlp")
    assert [p.name for p in tmp_path.iterdir()] == ["d.mmd"]  # no temporary file left behind




@pytest.mark.parametrize("suffix", [".mmd", ".md", ".svg"])
def test_plot_does_not_import_tensorflow(suffix, tmp_path):
    args = ["plot", "specs/course_cnn.yaml", "-o", str(tmp_path / f"d{suffix}")]
    code, heavy, out = probe_cli(*args, heavy=(*HEAVY, "matplotlib"))
    assert code in (0, None), out.stdout + out.stderr
    assert heavy == [], f"{args} imported {heavy}"
    assert (tmp_path / f"d{suffix}").stat().st_size > 100


@pytest.mark.parametrize("spec", sorted((ROOT / "specs").glob("*.yaml")), ids=lambda p: p.name)
def test_every_example_spec_plots(spec):
    result = check_file(spec)
    d = plot.build_diagram(result)
    # every edge of the graph is drawn once, between boxes (a chain: one fewer than the boxes)
    expected = {(b.index, c.index) for c in d.boxes for n in c.nodes for i in n.inputs
                for b in d.boxes if i in {m.name for m in b.nodes} and b is not c}
    assert set(d.edges) == expected and len(d.edges) == len(expected)
    if all(len(n.inputs) <= 1 for n in result.graph.nodes) and len(result.graph.inputs) == 1:
        assert len(d.edges) == len(d.boxes) - 1
    ET.fromstring(plot.render(result, ".svg").split("\n", 1)[1])
    assert plot.render(result, ".mmd").count(" --> ") == len(d.edges)


def test_the_docs_show_the_real_mermaid_output():
    page = (ROOT / "docs" / "diagrams-and-templates.md").read_text()
    shown = re.search(r"```mermaid\n(.*?)```", page, re.S).group(1)
    assert shown == plot.render(check_file(ROOT / "specs" / "digits_mlp.yaml"), ".mmd")


def _random_dag(rng, n: int) -> str:
    """A random branching model: Dense layers and Add merges over earlier layers, every sink an output."""
    lines = ["specc: 1", "layers:", "  - {type: Input, name: x0, shape: [4]}"]
    names, used = ["x0"], set()
    for i in range(1, n):
        if i > 2 and rng.random() < 0.3:
            picks = rng.sample(names, rng.randint(2, min(3, len(names))))
            lines.append(f"  - {{type: Add, name: x{i}, inputs: [{', '.join(picks)}]}}")
        else:
            picks = [rng.choice(names[-4:])]
            lines.append(f"  - {{type: Dense, name: x{i}, units: 4, inputs: {picks[0]}}}")
        used.update(picks)
        names.append(f"x{i}")
    lines.append(f"outputs: [{', '.join(n for n in names if n not in used)}]")
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize("seed", range(12))
def test_random_graphs_lay_out_without_overlaps(seed):
    import random

    if "Add" not in REGISTRY:
        pytest.skip("merge layers not registered")
    rng = random.Random(seed)
    result = check_text(_random_dag(rng, rng.randint(3, 70)))
    assert result.ok, [d.message for d in result.errors]
    d = plot.build_diagram(result)
    root = ET.fromstring(plot.render(result, ".svg").split("\n", 1)[1])
    boxes = [_rect(r) for r in root.iter(f"{SVG}rect") if r.get("class") == "box"]
    edges = [p for p in root.iter(f"{SVG}path") if p.get("class") == "edge"]
    assert len(boxes) == len(d.boxes) and len(edges) == len(d.edges)
    box_of = {n.name: b.index for b in d.boxes for n in b.nodes}
    expected = {(box_of[i], box_of[n.name]) for n in result.graph.nodes for i in n.inputs}
    assert set(d.edges) == {(a, b) for a, b in expected if a != b}
    for box in d.boxes:  # a collapsed run is a straight chain
        assert all(b.inputs == [a.name] for a, b in zip(box.nodes, box.nodes[1:]))
    for i, (x1, y1, w1, h1) in enumerate(boxes):
        for x2, y2, w2, h2 in boxes[i + 1:]:
            assert x1 + w1 <= x2 or x2 + w2 <= x1 or y1 + h1 <= y2 or y2 + h2 <= y1, "boxes overlap"
