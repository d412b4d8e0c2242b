"""Sub-models and shared layers (specc/analysis/reuse.py): static figures against Keras, and the rules.

Golden messages for each mistake are in tests/golden (models, model_call); variables, includes and blocks
are in tests/test_expand.py.
"""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

from conftest import RESNET, keras_of, write

from specc.check import check_file, check_text


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
