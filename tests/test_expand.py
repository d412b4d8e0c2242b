"""specc/expand.py: variables, includes and blocks: what the expansion builds, static figures against Keras.

Golden messages for each mistake are in tests/golden (variables, blocks, block_cycle, block_too_large,
includes); sub-models and shared layers are in tests/test_reuse.py.
"""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest
from conftest import RESIDUAL_LIB, RESNET, keras_figures, keras_of, write

from specc.check import check_file, check_text
from specc.expand import _Bad, _eval, _Unknown, _Value


def test_blocks_from_an_include_expand_and_match_keras(project):
    result = check_file(write(project, "resnet.yaml", RESNET))
    assert result.ok, result.diagnostics
    names = [n.name for n in result.graph.nodes]
    # Repeats are numbered; each use's output is the use's own name, so later layers can name it.
    assert names[2:4] == ["stage1_1_conv_a", "stage1_1_bn_a"]
    assert "stage1_2_shortcut" in names and "stage1" in names and "stage2" in names
    assert result.groups["stage1_2_conv_a"] == ("stage1",)
    assert result.info["stage2"].shape == (None, 8, 8, 16)
    model = keras_of(result)
    figures = keras_figures(model)
    for node in result.graph.nodes:
        assert figures[node.name] == (result.info[node.name].shape, result.info[node.name].params.total), node.name
    assert model.count_params() == result.params.total


def test_variables_take_their_type_and_override_from_the_command_line(project, cli):
    path = write(project, "resnet.yaml", RESNET)
    assert check_file(path).info["stage2"].shape[-1] == 16
    out = cli("summary", path, "--json", "--set", "vars.width=4")
    assert out.returncode == 0, out.stderr
    layers = {row["name"]: row for row in json.loads(out.stdout)["layers"]}
    assert layers["stage2"]["output_shape"][-1] == 8
    assert layers["stage1_1_conv_a"]["params"] == 3 * 3 * 4 * 4 + 4


def test_expressions_are_arithmetic_only():
    scope = {"a": _Value(6), "b": _Value(4), "s": _Value("x")}
    import ast

    def ev(text):
        return _eval(ast.parse(text, mode="eval").body, scope)

    assert ev("a * 2 + b") == 16 and ev("a // b") == 1 and ev("a / b") == 1.5 and ev("-(a - b) % 5") == 3
    for bad in ("a ** 99", "s * 2", "a if b else 1", "a.real", "f(a)", "[a]", "a / 0"):
        with pytest.raises(_Bad):
            ev(bad)
    with pytest.raises(_Unknown):
        ev("c + 1")


def test_strings_interpolate_and_dollar_dollar_escapes():
    result = check_text(textwrap.dedent("""
        specc: 1
        description: "costs $${dollars}"
        vars: {n: 3}
        layers:
          - {type: Dense, units: "${n}", input_dim: 2, name: "dense_${n}x"}
        """))
    assert result.ok, result.diagnostics
    assert result.spec.description == "costs ${dollars}"
    assert result.spec.layers[0].name == "dense_3x" and result.spec.layers[0].units == 3


def test_a_wrong_value_given_to_a_block_is_reported_where_it_is_written(project):
    path = write(project, "bad.yaml", """
        specc: 1
        include: [lib/blocks.yaml]
        layers:
          - {type: Input, shape: [16, 16, 3]}
          - {type: Block, block: residual, with: {filters: "8"}}
        """)
    result = check_file(path)
    (d,) = result.errors
    assert d.code == "E102" and d.file == str(path) and (d.span.line, d.span.col) == (5, 52)
    assert "filters must be an integer" in d.message


def test_a_mistake_inside_an_included_block_points_into_the_included_file(project):
    write(project, "lib/broken.yaml", """
        blocks:
          head:
            layers:
              - {type: Dense, units: 0}
        """)
    path = write(project, "spec.yaml", """
        specc: 1
        include: [lib/broken.yaml]
        layers:
          - {type: Input, shape: [4]}
          - {type: Block, block: head}
        """)
    result = check_file(path)
    (d,) = result.errors
    assert d.file.endswith("broken.yaml") and d.path == "blocks.head.layers[0].units" and d.span.line == 4
    assert result.doc.source_line(d).strip() == "- {type: Dense, units: 0}"


def test_includes_are_confined_to_the_project_even_through_a_symlink(project, tmp_path_factory):
    outside = tmp_path_factory.mktemp("elsewhere")
    write(outside, "blocks.yaml", RESIDUAL_LIB)
    (project / "lib" / "link.yaml").symlink_to(outside / "blocks.yaml")
    path = write(project, "spec.yaml", RESNET.replace("lib/blocks.yaml", "lib/link.yaml"))
    codes = [d.code for d in check_file(path).errors]
    assert codes[0] == "E053"


def test_an_include_reached_twice_is_read_once(project):
    write(project, "lib/a.yaml", "include: [blocks.yaml]\n")
    write(project, "lib/b.yaml", "include: [blocks.yaml]\n")
    path = write(project, "spec.yaml", RESNET.replace("[lib/blocks.yaml]", "[lib/a.yaml, lib/b.yaml]"))
    result = check_file(path)
    assert result.ok, result.diagnostics


def test_multi_input_blocks_and_unnamed_layers_before_a_block(project):
    path = write(project, "spec.yaml", """
        specc: 1
        blocks:
          gate:
            inputs: [x, g]
            layers:
              - {type: Dense, units: 4, name: proj, inputs: g}
              - {type: Multiply, inputs: [x, proj]}
        layers:
          - {type: Input, shape: [4], name: a}
          - {type: Dense, units: 4}
          - {type: Block, block: gate, inputs: [dense, a], name: g1}
          - {type: Dense, units: 4}
          - {type: Block, block: gate, with: {}, inputs: [dense_1, g1]}
        """)
    result = check_file(path)
    assert result.ok, result.diagnostics
    assert result.graph.by_name["g1"].inputs == ["dense", "g1_proj"]
    assert result.graph.by_name["gate_proj"].inputs == ["g1"]
    model = keras_of(result)
    assert model.count_params() == result.params.total == 4 * 5 * 4


def test_a_block_whose_output_is_not_its_last_layer_feeds_the_next_layer(project):
    path = write(project, "spec.yaml", """
        specc: 1
        blocks:
          two_heads:
            outputs: [main]
            layers:
              - {type: Dense, units: 3, name: main}
              - {type: Dense, units: 5, name: aux, inputs: input}
        layers:
          - {type: Input, shape: [4]}
          - {type: Block, block: two_heads, name: heads}
          - {type: Dense, units: 2}
        outputs: [dense, heads_aux]
        """)
    result = check_file(path)
    assert result.ok, result.diagnostics
    assert result.graph.by_name["dense"].inputs == ["heads"]
    assert result.info["heads_aux"].shape == (None, 5)


def test_a_block_output_that_names_none_of_its_layers_is_one_error_at_its_place():
    """It was a KeyError traceback in every command that checks the spec."""
    result = check_text(textwrap.dedent("""\
        specc: 1
        blocks:
          head:
            outputs: [logits]
            layers:
              - {type: Dense, units: 2, name: dense_out}
        layers:
          - {type: Input, shape: [3]}
          - {type: Block, block: head}
          - {type: Block, block: head}
        """))
    assert [(d.code, d.span.line, d.span.col, d.message, d.help) for d in result.errors] == [
        ("E205", 4, 15, "outputs must name a layer of this block. Received: 'logits'", "they are: dense_out")]


def test_plain_specs_skip_expansion():
    from specc.expand import needs_expansion
    from specc.loader import load_text

    doc, _ = load_text("specc: 1\nlayers:\n  - {type: Dense, units: 2, input_dim: 3}\n")
    assert not needs_expansion(doc)
    result = check_text("specc: 1\nlayers:\n  - {type: Dense, units: 2, input_dim: 3}\n")
    assert result.doc.origins == {} and result.groups == {}


def test_validate_checks_a_block_library_as_a_library(project, cli):
    write(project, "lib/bad.yaml", "blocks:\n  x:\n    layers: 3\n")
    good = cli("validate", project / "lib" / "blocks.yaml")
    assert good.returncode == 0, good.stdout
    bad = cli("validate", project / "lib" / "bad.yaml")
    assert bad.returncode == 1 and ":3:13: error[E102]: layers must be a list" in bad.stdout


@pytest.mark.parametrize("command, code", [("summary", 1), ("build", 1), ("plot", 1), ("diff", 2)])
def test_a_block_library_is_refused_where_a_model_is_needed(project, cli, command, code):
    """They crashed with a traceback (the library has no graph to summarize, draw or build)."""
    lib = project / "lib" / "blocks.yaml"
    args = {"build": [lib, "-o", project / "m.keras"], "plot": [lib, "-o", project / "m.svg"],
            "diff": [lib, lib]}.get(command, [lib])
    out = cli(command, *args)
    assert out.returncode == code, out.stdout + out.stderr
    assert "error[E101]: this file is a library of blocks, models or variables for `include:`" in out.stderr
    assert "Traceback" not in out.stderr and not (project / "m.keras").exists() and not (project / "m.svg").exists()


def test_a_spec_that_only_extends_a_library_is_no_library_itself(project):
    child = write(project, "child.yaml", "extends: lib/blocks.yaml\n")
    result = check_file(child)
    assert not result.library and {d.code for d in result.errors} == {"E101"}


def test_plots_group_each_block_use(tmp_path):
    from specc.plot import build_diagram, layout, to_mermaid, to_svg

    result = check_file(Path(__file__).resolve().parent.parent / "specs" / "inception.yaml")
    diagram = build_diagram(result)
    mermaid = to_mermaid(diagram)
    assert mermaid.count("subgraph ") == 2 and '["mixed1"]' in mermaid and '["mixed2"]' in mermaid
    # every layer of the block is inside its frame, and nothing else is
    inside = mermaid.split('subgraph g0["mixed1"]')[1].split("    end")[0]
    assert inside.count("<b>mixed1") == 8 and "max_pooling2d" not in inside
    svg = to_svg(layout(diagram))
    assert svg.count('class="frame"') == 2


def test_fmt_lays_out_models_and_blocks_like_the_spec_layers():
    from specc.fmt import format_text

    text = textwrap.dedent("""
        specc: 1
        layers:
          - {type: Input, shape: [64]}
          - {type: Model, model: encoder}
          - {type: Block, block: b}
        models:
          encoder:
            outputs: [dense]
            layers: [{type: Input, shape: [64]}, {units: 16, type: Dense, activation: relu}]
        blocks:
          b:
            layers:
              - type: Dense
                units: 4
            params: {units: 3}
        """).lstrip()
    assert format_text(text) == textwrap.dedent("""
        specc: 1
        blocks:
          b:
            params: {units: 3}
            layers:
              - {type: Dense, units: 4}
        models:
          encoder:
            layers:
              - {type: Input, shape: [64]}
              - {type: Dense, units: 16, activation: relu}
            outputs: [dense]
        layers:
          - {type: Input, shape: [64]}
          - {type: Model, model: encoder}
          - {type: Block, block: b}
        """).lstrip()
