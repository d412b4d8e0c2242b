"""Variables, includes, blocks, sub-models and shared layers: static figures against Keras, and the rules.

Golden messages for each mistake are in tests/golden (variables, blocks, block_cycle, block_too_large,
includes, models, model_call); this file checks what the expansion builds.
"""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest

from specc.check import check_file, check_text
from specc.expand import _Bad, _eval, _Unknown, _Value


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text).lstrip())
    return path


def keras_of(result):
    from specc.lower import keras_model

    return keras_model(result, compile=False)


def keras_figures(model) -> dict[str, tuple]:
    """Each Keras layer's output shape and parameter count, by name."""
    out = {}
    for layer in model.layers:
        shape = layer.output.shape if not isinstance(layer.output, list) else None
        out[layer.name] = (tuple(shape) if shape is not None else None, layer.count_params())
    return out


RESIDUAL_LIB = """
blocks:
  residual:
    params: {filters: null, stride: 1}
    layers:
      - {name: conv_a, type: Conv2D, filters: "${filters}", kernel_size: 3, strides: "${stride}", padding: same}
      - {name: bn_a, type: BatchNormalization}
      - {name: relu_a, type: ReLU}
      - {name: conv_b, type: Conv2D, filters: "${filters}", kernel_size: 3, padding: same}
      - {name: shortcut, type: Conv2D, filters: "${filters}", kernel_size: 1, strides: "${stride}", inputs: input}
      - {name: add, type: Add, inputs: [conv_b, shortcut]}
      - {name: out, type: ReLU}
"""

RESNET = """
specc: 1
name: tiny_resnet
vars: {width: 8}
include: [lib/blocks.yaml]
layers:
  - {type: Input, shape: [16, 16, 3]}
  - {type: Conv2D, filters: "${width}", kernel_size: 3, padding: same}
  - {type: Block, block: residual, with: {filters: "${width}"}, repeat: 2, name: stage1}
  - {type: Block, block: residual, with: {filters: "${width * 2}", stride: 2}, name: stage2}
  - GlobalAveragePooling2D
  - {type: Dense, units: 10, activation: softmax}
"""


@pytest.fixture
def project(tmp_path):
    (tmp_path / "pyproject.toml").write_text("")  # the project root: includes stay inside it
    write(tmp_path, "lib/blocks.yaml", RESIDUAL_LIB)
    return tmp_path


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


def test_siamese_sub_model_and_shared_layer_share_weights():
    result = check_text(textwrap.dedent("""
        specc: 1
        name: siamese
        models:
          encoder:
            layers:
              - {type: Input, shape: [8, 8, 1]}
              - {type: Conv2D, filters: 4, kernel_size: 3}
              - Flatten
              - {type: Dense, units: 16}
        layers:
          - {type: Input, shape: [8, 8, 1], name: left}
          - {type: Input, shape: [8, 8, 1], name: right}
          - {type: Model, model: encoder, name: enc_left, inputs: left}
          - {type: Model, model: encoder, name: enc_right, inputs: right}
          - {type: Dense, units: 8, name: proj, inputs: enc_left}
          - {type: Shared, layer: proj, name: proj_right, inputs: enc_right}
          - {type: Subtract, inputs: [proj, proj_right]}
          - {type: Dense, units: 1, activation: sigmoid}
        """))
    assert result.ok, result.diagnostics
    encoder = (3 * 3 * 1 * 4 + 4) + (6 * 6 * 4 * 16 + 16)
    assert result.info["enc_left"].params.total == encoder and result.info["enc_right"].params.total == 0
    assert result.info["proj_right"].params.total == 0
    model = keras_of(result)
    assert model.count_params() == result.params.total == encoder + 8 * 16 + 8 + 9
    import numpy as np

    x = np.random.default_rng(0).random((2, 8, 8, 1), dtype="float32")
    y = model.predict([x, x], verbose=0)
    # The same image on both sides: shared weights make the two branches equal, so their difference is 0.
    assert np.allclose(y, model.layers[-1].bias.numpy() * 0 + y[0]) and np.allclose(y[0], y[1])
    sub = model.get_layer("encoder")
    assert sub.count_params() == encoder


def test_a_frozen_sub_model_counts_as_non_trainable_and_is_frozen_in_keras():
    result = check_text(textwrap.dedent("""
        specc: 1
        models:
          base:
            layers:
              - {type: Input, shape: [6]}
              - {type: Dense, units: 5}
              - {type: BatchNormalization}
        layers:
          - {type: Input, shape: [6]}
          - {type: Model, model: base, trainable: false}
          - {type: Dense, units: 2}
        """))
    assert result.ok, result.diagnostics
    assert (result.params.trainable, result.params.non_trainable) == (12, 35 + 20)
    model = keras_of(result)
    trainable = sum(int(np.prod(w.shape)) for w in model.trainable_weights) if (np := __import__("numpy")) else 0
    assert trainable == 12 and model.count_params() == 67


def test_a_sub_model_with_an_open_axis_takes_the_callers_shape():
    result = check_text(textwrap.dedent("""
        specc: 1
        models:
          features:
            layers:
              - {type: Input, shape: [null, null, 3]}
              - {type: Conv2D, filters: 4, kernel_size: 3, strides: 2}
        layers:
          - {type: Input, shape: [17, 9, 3]}
          - {type: Model, model: features}
          - Flatten
          - {type: Dense, units: 2}
        """))
    assert result.ok, result.diagnostics
    assert result.info["features"].shape == (None, 8, 4, 4)
    model = keras_of(result)
    assert model.count_params() == result.params.total


def test_resolved_spec_of_a_run_is_self_contained(project):
    from specc.runners.train import dump_yaml, resolved_spec

    result = check_file(write(project, "resnet.yaml", RESNET))
    text = dump_yaml(resolved_spec(result, project))
    assert "include" not in text and "${" not in text and "Block" not in text
    again = check_text(text)
    assert again.ok and again.params == result.params


def test_plain_specs_skip_expansion():
    from specc.expand import needs_expansion
    from specc.loader import load_text

    doc, _ = load_text("specc: 1\nlayers:\n  - {type: Dense, units: 2, input_dim: 3}\n")
    assert not needs_expansion(doc)
    result = check_text("specc: 1\nlayers:\n  - {type: Dense, units: 2, input_dim: 3}\n")
    assert result.doc.origins == {} and result.groups == {}


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


def test_the_shipped_base_model_is_what_its_spec_builds():
    from specc.importer import import_config, read_model_config

    root = Path(__file__).resolve().parent.parent
    data, problems = import_config(read_model_config(root / "specs" / "pretrained" / "digits_0_4.keras"))
    assert problems == []
    spec = check_file(root / "specs" / "digits_0_4.yaml")
    imported = check_text(json.dumps({**data, "specc": 1}))
    assert imported.ok, imported.diagnostics
    figures = {n: (i.shape, i.params) for n, i in imported.info.items()}
    assert figures == {n: (i.shape, i.params) for n, i in spec.info.items()}


def test_validate_checks_a_block_library_as_a_library(project, cli):
    write(project, "lib/bad.yaml", "blocks:\n  x:\n    layers: 3\n")
    good = cli("validate", project / "lib" / "blocks.yaml")
    assert good.returncode == 0, good.stdout
    bad = cli("validate", project / "lib" / "bad.yaml")
    assert bad.returncode == 1 and ":3:13: error[E102]: layers must be a list" in bad.stdout


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
