"""`specc import`: Keras models (.keras files and to_json() configs) become specs that round-trip.

A round trip is checked against Keras itself: every Keras layer has a spec layer of the same name,
output shape and parameter counts, the totals agree, and the model specc builds from the imported
spec loads the original file's weights (``model.load_weights``) and predicts what the original
predicts. What a spec cannot express is reported, and nothing is written.
"""

from __future__ import annotations

import json
import os
import zipfile

import keras
import numpy as np
import pytest
from conftest import (
    ROOT,
    assert_names_its_schema,
    assert_same_architecture,
    assert_same_predictions,
    predictions,
    randomize,
    round_trip,
    run_cli,
    sample,
)
from keras import layers as L
from keras.src.applications.convnext import LayerScale
from keras.src.applications.inception_resnet_v2 import CustomScaleLayer

from specc.importer import ImportFailure, import_config, import_layer, read_model_config
from specc.importing import import_model, to_yaml
from specc.layers import REGISTRY
from specc.loader import load_text

APPS = keras.applications


# -- small models ------------------------------------------------------------------------------
def small_sequential():
    return keras.Sequential([
        keras.Input((12, 12, 1)),
        L.Conv2D(4, 3, activation="relu", kernel_initializer="he_normal",
                 kernel_regularizer=keras.regularizers.L2(1e-4)),
        L.BatchNormalization(momentum=0.9, epsilon=1e-5),
        L.MaxPooling2D(),
        L.Conv2D(6, (3, 1), strides=(1, 2), padding="same", use_bias=False),
        L.GlobalAveragePooling2D(),
        L.Dropout(0.25),
        L.Dense(3, activation="softmax"),
    ], name="small_cnn")


def test_sequential_round_trip(tmp_path):
    spec = round_trip(small_sequential(), tmp_path)
    assert spec["name"] == "small_cnn"
    layers = [{k: v for k, v in x.items() if k != "name"} if isinstance(x, dict) else x for x in spec["layers"]]
    assert layers[0] == {"type": "Input", "shape": [12, 12, 1]}
    assert layers[-1] == {"type": "Dense", "units": 3, "activation": "softmax"}
    conv = layers[1]
    assert conv["kernel_initializer"] == "he_normal" and conv["kernel_regularizer"] == {"l2": pytest.approx(1e-4)}
    assert "strides" not in conv and "padding" not in conv  # Keras's defaults are left out


def functional_model():
    a = keras.Input((10,), name="features")
    b = keras.Input((6, 4), name="sequence")
    x = L.Dense(8, activation="relu", name="dense_in")(a)
    skip = x
    x = L.Dense(8, name="mid")(x)
    x = L.Add(name="residual")([x, skip])
    s = L.LSTM(5, return_sequences=True, name="lstm")(b)
    s = L.Bidirectional(L.GRU(3), merge_mode="concat", name="bigru")(s)
    y = L.Concatenate(name="joined")([x, s])
    out1 = L.Dense(2, activation="softmax", name="head_a")(y)
    out2 = L.Dense(1, name="head_b")(y)
    return keras.Model([a, b], [out1, out2], name="two_heads")


def test_functional_round_trip_with_the_cli(tmp_path):
    """`specc import`, `specc summary --json` and `specc build` as a user runs them."""
    model = functional_model()
    randomize(model)
    original = tmp_path / "two_heads.keras"
    model.save(original)
    spec = tmp_path / "two_heads.yaml"
    out = run_cli("import", original, "-o", spec)
    assert out.returncode == 0, out.stderr
    assert f"wrote {spec}" in out.stdout
    text = spec.read_text()
    assert text.splitlines()[1].startswith("# Imported from two_heads.keras by `specc import`")
    assert_names_its_schema(spec)
    assert run_cli("validate", spec).returncode == 0
    summary = run_cli("summary", "--json", spec)
    assert summary.returncode == 0, summary.stderr
    assert_same_architecture(model, json.loads(summary.stdout))
    data = load_text(text)[0].data
    assert data["outputs"] == ["head_a", "head_b"]
    assert [x["name"] for x in data["layers"] if isinstance(x, dict) and x.get("type") == "Input"] == \
        ["features", "sequence"]
    built_file = tmp_path / "built.keras"
    out = run_cli("build", spec, "-o", built_file)
    assert out.returncode == 0, out.stderr
    built = keras.saving.load_model(built_file)
    assert_same_predictions(model, built, original)


def test_nested_functional_model_and_shared_layers(tmp_path):
    """A Siamese network: one encoder model called on two inputs, one projection layer called twice."""
    x = keras.Input((8,))
    encoder = keras.Model(x, L.Dense(3, name="code")(L.Dense(6, activation="relu", name="hidden")(x)), name="encoder")
    left, right = keras.Input((8,), name="left"), keras.Input((8,), name="right")
    proj = L.Dense(2, name="proj")
    a, b = proj(encoder(left)), proj(encoder(right))
    model = keras.Model([left, right], L.Subtract(name="difference")([a, b]), name="siamese")
    spec = round_trip(model, tmp_path)
    assert list(spec["models"]) == ["encoder"]
    assert spec["models"]["encoder"]["layers"][1] == {"type": "Dense", "name": "hidden", "units": 6,
                                                      "activation": "relu"}
    uses = [x for x in spec["layers"] if isinstance(x, dict) and x["type"] in ("Model", "Shared")]
    assert [(u["type"], u.get("model") or u.get("layer"), u["inputs"]) for u in uses] == [
        ("Model", "encoder", "left"), ("Model", "encoder", "right"), ("Shared", "proj", "encoder_1")]


def test_transfer_learning_model(tmp_path):
    """The usual fine-tuning shape: a frozen application called with training=False, and a new head."""
    base = APPS.MobileNetV2(weights=None, include_top=False, input_shape=(32, 32, 3), alpha=0.35)
    base.trainable = False
    x = keras.Input((32, 32, 3), name="image")
    y = L.GlobalAveragePooling2D(name="pool")(base(x, training=False))
    model = keras.Model(x, L.Dense(5, name="classes")(L.Dropout(0.2, name="drop")(y)), name="transfer")
    spec = round_trip(model, tmp_path)
    node = spec["layers"][1]
    assert node == {"type": "Model", "name": node["name"], "model": node["model"], "trainable": False}
    assert all(x.get("trainable") is False for x in spec["models"][node["model"]]["layers"] if isinstance(x, dict)
               and x["type"] not in ("Input", "ZeroPadding2D", "ReLU", "Add"))


def nested_sequential_model():
    block = keras.Sequential([keras.Input((6,)), L.Dense(4, activation="tanh"), L.Dense(4)], name="block")
    x = keras.Input((6,), name="x")
    return keras.Model(x, L.Dense(2, name="head")(block(x)), name="with_block")


def test_nested_sequential_architecture(tmp_path):
    spec = round_trip(nested_sequential_model(), tmp_path, weights=False)
    first = spec["models"]["block"]["layers"][0]
    assert first["type"] == "Input" and first["shape"] == [6]


def test_nested_sequential_weights(tmp_path):
    """Keras 3 files address a nested model's weights by its class (layers/sequential/...): the sub-model is
    lowered as a keras.Sequential, so the original file's weights load into the model built from the spec."""
    spec = round_trip(nested_sequential_model(), tmp_path, weights=True)
    assert spec["models"]["block"]["sequential"] is True


def test_a_saved_model_with_a_nested_sequential_keeps_its_weights_as_a_spec_layer(tmp_path):
    """`type: Model, path: X.keras` (transfer learning) on a file whose model calls a Sequential."""
    from specc.check import check_file
    from specc.lower import keras_model

    original = nested_sequential_model()
    randomize(original)
    original.save(tmp_path / "base.keras")
    spec = tmp_path / "spec.yaml"
    spec.write_text("specc: 1\nlayers:\n  - {type: Input, shape: [6]}\n  - {type: Model, path: base.keras}\n")
    result = check_file(spec)
    assert result.ok, [str(e) for e in result.errors]
    x = sample(original)
    np.testing.assert_allclose(predictions(keras_model(result, compile=False), x)[0], predictions(original, x)[0],
                               rtol=1e-4, atol=1e-5)


def test_sequential_true_needs_a_plain_stack():
    text = ("specc: 1\nmodels:\n  pair:\n    sequential: true\n    layers:\n      - {type: Input, shape: [4]}\n"
            "      - {type: Dense, units: 3, name: a}\n      - {type: Dense, units: 3, name: b, inputs: input_layer}\n"
            "      - {type: Add, inputs: [a, b]}\n"
            "layers:\n  - {type: Input, shape: [4]}\n  - {type: Model, model: pair}\n")
    from specc.check import check_text

    errors = check_text(text, "pair.yaml").errors
    assert [(e.code, e.span.line) for e in errors] == [("E204", 8)]
    assert "'b' takes 'input_layer', not 'a'" in errors[0].message


def test_ops_on_tensors_become_layers(tmp_path):
    """Keras operations in a functional graph (MobileNetV3's hard sigmoid: (x + 3) * (1 / 6))."""
    x = keras.Input((4,), name="x")
    h = L.Dense(4, name="d")(x)
    y = L.ReLU(6.0, name="relu6")(h + 3.0) * (1.0 / 6.0)
    z = keras.ops.add(y, h)
    model = keras.Model(x, 2.0 - z, name="ops")
    spec = round_trip(model, tmp_path)
    shown = [x for x in spec["layers"] if isinstance(x, dict) and x["type"] in ("Rescaling", "Add")]
    assert [{k: v for k, v in s.items() if k not in ("name", "inputs")} for s in shown] == [
        {"type": "Rescaling", "scale": 1.0, "offset": 3.0}, {"type": "Rescaling", "scale": 1.0 / 6.0},
        {"type": "Add"}, {"type": "Rescaling", "scale": -1.0, "offset": 2.0}]


# keras.applications, every one: tests/test_import_applications.py


# -- what cannot be expressed -------------------------------------------------------------------------
@keras.saving.register_keras_serializable(package="specc_tests")
class Doubling(L.Layer):
    def call(self, x):
        return x * 2.0


@keras.saving.register_keras_serializable(package="specc_tests")
class Subclassed(keras.Model):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.dense = L.Dense(2)

    def call(self, x):
        return self.dense(x)


def _problems(model) -> list[str]:
    spec, problems = import_config(json.loads(model.to_json()))
    return [str(p) for p in problems]


def test_lambda_layer_is_refused_and_nothing_is_written(tmp_path):
    x = keras.Input((3,))
    model = keras.Model(x, L.Dense(2)(L.Lambda(lambda t: t * 2.0, name="twice")(x)))
    original = tmp_path / "lambda.keras"
    model.save(original)
    out_file = tmp_path / "spec.yaml"
    out_file.write_text("kept\n")
    out = run_cli("import", original, "-o", out_file, "--force")
    assert out.returncode == 1
    assert f"{original}: error: layer 'twice' (Lambda): a Lambda layer runs Python code" in out.stderr
    assert "Traceback" not in out.stderr
    assert out_file.read_text() == "kept\n"  # a refused import leaves an existing file alone
    # The refusal docs/import-export.md shows, run as it shows it.
    import re

    (tmp_path / "with_lambda.keras").write_bytes(original.read_bytes())
    text = (ROOT / "docs" / "import-export.md").read_text()
    shown = re.search(r"```console\n\$ (specc import with_lambda.*?)\n(.*?)```", text, re.S)
    out = run_cli(*shown.group(1).split()[1:], cwd=tmp_path)
    assert out.returncode == 1 and out.stderr == shown.group(2)


def test_custom_layer_and_subclassed_model_are_refused():
    x = keras.Input((3,))
    problems = _problems(keras.Model(x, Doubling(name="double")(x)))
    assert problems == ["layer 'double' (Doubling): a custom layer class (test_import.Doubling); specc imports "
                        "only the built-in Keras layers it knows"] or \
        (len(problems) == 1 and "a custom layer class" in problems[0] and "Doubling" in problems[0])
    model = Subclassed(name="sub")
    model(np.ones((1, 3), "float32"))
    problems = _problems(model)
    assert len(problems) == 1 and problems[0].startswith("the model (Subclassed): not a Functional or Sequential")


def test_arguments_a_spec_cannot_express_are_reported():
    x = keras.Input(batch_shape=(4, 2, 6, 6), name="x")
    y = L.Conv2D(3, 3, data_format="channels_first", name="cf")(x)
    y = L.BatchNormalization(renorm=True, name="bn")(y)
    y = L.Flatten(name="flat")(y)
    y = L.Dense(2, kernel_constraint=keras.constraints.MaxNorm(2.0), name="capped")(y)
    y = L.Dense(2, kernel_regularizer=keras.regularizers.OrthogonalRegularizer(0.1), name="ortho")(y)
    y = L.Dense(2, kernel_initializer=keras.initializers.Constant(np.eye(2)), name="const")(y)
    y = L.Dropout(0.5, name="drop")(y, training=True)
    problems = _problems(keras.Model(x, y))
    expected = [
        "layer 'x' (InputLayer): a fixed batch size (4)",
        "layer 'bn' (BatchNormalization): argument renorm=true",
        "layer 'capped' (Dense): argument kernel_constraint=MaxNorm(max_value=2.0, axis=0)",
        "layer 'ortho' (Dense): argument kernel_regularizer=OrthogonalRegularizer(",
        "layer 'const' (Dense): argument kernel_initializer=Constant(",
        "layer 'drop' (Dropout): called with training=True",
    ]
    for start in expected:
        assert any(p.startswith(start) for p in problems), (start, problems)
    assert all(any(p.startswith(e.split(":")[0] + ":") for e in expected) for p in problems), problems


def test_a_stateful_rnn_is_refused():
    x = keras.Input(batch_shape=(2, 5, 3))
    problems = _problems(keras.Model(x, L.LSTM(4, stateful=True, name="rnn")(x)))
    assert any(p.startswith("layer 'rnn' (LSTM): argument stateful=true") for p in problems), problems


def test_backward_layer_of_another_kind_is_refused():
    x = keras.Input((5, 3))
    bi = L.Bidirectional(L.LSTM(4, return_sequences=True), backward_layer=L.GRU(4, return_sequences=True,
                                                                                 go_backwards=True), name="bi")
    problems = _problems(keras.Model(x, bi(x)))
    assert problems and problems[0].startswith("layer 'bi' (Bidirectional): its backward_layer differs")


# -- every argument of every kind ----------------------------------------------------------------------
LAYERS = [
    (lambda: L.Dense(4, activation="relu", use_bias=False, kernel_initializer="he_normal",
                     kernel_regularizer=keras.regularizers.L2(1e-4)), 2),
    (lambda: L.Dense(4, kernel_initializer=keras.initializers.VarianceScaling(2.0, "fan_out", "uniform"),
                     bias_initializer=keras.initializers.Constant(0.1),
                     activity_regularizer=keras.regularizers.L1L2(0.01, 0.02)), 2),
    (lambda: L.Conv2D(4, (3, 5), strides=2, padding="same", groups=2), 4),
    (lambda: L.Conv2D(4, 3, dilation_rate=2, activation="gelu"), 4),
    (lambda: L.Conv1D(3, 2, padding="causal"), 3),
    (lambda: L.Conv3D(2, 2, bias_initializer="ones"), 5),
    (lambda: L.Conv2DTranspose(3, 3, strides=2, output_padding=1, padding="same"), 4),
    (lambda: L.DepthwiseConv2D(3, depth_multiplier=2, strides=2, padding="same"), 4),
    (lambda: L.SeparableConv2D(4, 3, depth_multiplier=2, pointwise_initializer="zeros"), 4),
    (lambda: L.MaxPooling2D(3, strides=2, padding="same"), 4),
    (lambda: L.MaxPooling2D((2, 3)), 4),
    (lambda: L.AveragePooling1D(2), 3),
    (lambda: L.AveragePooling3D(2, strides=1), 5),
    (lambda: L.MaxPooling3D((1, 2, 2)), 5),
    (lambda: L.MaxPooling1D(3, padding="same"), 3),
    (lambda: L.AveragePooling2D(2, strides=1, padding="same"), 4),
    (lambda: L.GlobalMaxPooling1D(keepdims=True), 3),
    (lambda: L.GlobalAveragePooling2D(), 4),
    (lambda: L.GlobalMaxPooling2D(keepdims=True), 4),
    (lambda: L.GlobalAveragePooling1D(), 3),
    (lambda: L.GlobalAveragePooling3D(), 5),
    (lambda: L.GlobalMaxPooling3D(), 5),
    (lambda: L.UpSampling2D((2, 3), interpolation="bilinear"), 4),
    (lambda: L.UpSampling1D(3), 3),
    (lambda: L.UpSampling3D((1, 2, 2)), 5),
    (lambda: L.ZeroPadding2D(((1, 2), (3, 4))), 4),
    (lambda: L.ZeroPadding1D((1, 2)), 3),
    (lambda: L.Cropping2D(((1, 0), (1, 0))), 4),
    (lambda: L.Cropping1D(2), 3),
    (lambda: L.BatchNormalization(axis=1, momentum=0.9, epsilon=1e-5, center=False,
                                  gamma_initializer=keras.initializers.RandomNormal(1.0, 0.02)), 3),
    (lambda: L.LayerNormalization(axis=[1, 2], epsilon=1e-6), 3),
    (lambda: L.GroupNormalization(groups=2), 3),
    (lambda: L.UnitNormalization(), 2),
    (lambda: L.RMSNormalization(epsilon=1e-5), 2),
    (lambda: L.Normalization(), 3),
    (lambda: L.Normalization(mean=[1.0, 2.0, 3.0], variance=[1.0, 2.0, 3.0], invert=True), 3, (4, 3)),
    (lambda: L.Dropout(0.3, noise_shape=(None, 1, 3), seed=3), 3, (4, 3)),
    (lambda: L.SpatialDropout1D(0.2), 3),
    (lambda: L.SpatialDropout2D(0.2), 4),
    (lambda: L.GaussianNoise(0.1), 2),
    (lambda: L.GaussianDropout(0.2), 2),
    (lambda: L.ActivityRegularization(l1=0.1), 2),
    (lambda: L.ReLU(max_value=6.0, negative_slope=0.1, threshold=0.5), 2),
    (lambda: L.LeakyReLU(0.2), 2),
    (lambda: L.ELU(0.5), 2),
    (lambda: L.PReLU(shared_axes=[1], alpha_initializer="ones"), 3),
    (lambda: L.Softmax(axis=1), 3),
    (lambda: L.Activation("hard_silu"), 2),
    (lambda: L.Embedding(10, 4, mask_zero=True, embeddings_initializer="uniform"), 2),
    (lambda: L.LSTM(3, return_sequences=True, dropout=0.1, unit_forget_bias=False,
                    recurrent_initializer=keras.initializers.Orthogonal(gain=2.0)), 3),
    (lambda: L.GRU(3, reset_after=False, go_backwards=True, recurrent_activation="hard_sigmoid"), 3),
    (lambda: L.SimpleRNN(3, activation="relu", unroll=True), 3),
    (lambda: L.Bidirectional(L.LSTM(3, return_sequences=True), merge_mode="sum"), 3),
    (lambda: L.TimeDistributed(L.Dense(2, activation="softmax")), 3),
    (lambda: L.MultiHeadAttention(2, 4, value_dim=3, output_shape=5, dropout=0.1, use_bias=False), 3),
    (lambda: L.MultiHeadAttention(2, 4, attention_axes=2), 4),
    (lambda: LayerScale(1e-6, 6), 4),
    (lambda: CustomScaleLayer(0.17), 4),
    (lambda: L.Attention(use_scale=True, score_mode="concat"), 3),
    (lambda: L.Reshape((3, -1)), 2),
    (lambda: L.Permute((2, 1)), 3),
    (lambda: L.RepeatVector(3), 2),
    (lambda: L.Flatten(), 3),
    (lambda: L.Rescaling(1 / 255.0, offset=-1.0), 2),
    (lambda: L.Rescaling([0.5, 2.0]), 2, (2,)),
    (lambda: L.Concatenate(axis=1), 3),
    (lambda: L.Dot(axes=(1, 1), normalize=True), 2),
    (lambda: L.Add(), 2), (lambda: L.Subtract(), 2), (lambda: L.Multiply(), 2), (lambda: L.Average(), 2),
    (lambda: L.Maximum(), 2), (lambda: L.Minimum(), 2),
]


def _without_names(config):
    if isinstance(config, dict):
        return {k: _without_names(v) for k, v in config.items() if k not in ("name", "seed")}
    if isinstance(config, (list, tuple)):
        return [_without_names(v) for v in config]
    return config


LAYERS = [(entry + (None,))[:3] for entry in LAYERS]  # (make, rank, sample shape where the default does not fit)
LAYER_IDS = [f"{i}-{type(make()).__name__}" for i, (make, _, _) in enumerate(LAYERS)]


@pytest.mark.parametrize("make, rank, _", LAYERS, ids=LAYER_IDS)
def test_imported_layer_builds_the_same_keras_layer(make, rank, _):
    """Every argument survives: the Keras layer specc builds from the import has the original's config."""
    import pydantic

    from specc.layers import AnyLayer

    layer = make()
    spec, problems = import_layer(keras.saving.serialize_keras_object(layer), rank)
    assert problems == []
    rebuilt = pydantic.TypeAdapter(AnyLayer).validate_python(spec).to_keras(layer.name)
    assert _without_names(rebuilt.get_config()) == _without_names(layer.get_config()), spec


TYPICAL = {2: (6,), 3: (5, 6), 4: (6, 6, 6), 5: (4, 4, 4, 6)}  # a sample of each rank


@pytest.mark.parametrize("make, rank, shape", LAYERS, ids=LAYER_IDS)
def test_built_and_saved_layer_round_trips(make, rank, shape, tmp_path):
    """Keras fills some arguments in when a layer is built (MultiHeadAttention's attention_axes) and
    writes others in its own forms: each kind, called on typical inputs and saved as a user saves it,
    imports with nothing refused, rebuilds with the built original's config, and takes its weights."""
    from specc.lower import keras_model

    layer = make()
    n = REGISTRY[type(layer).__name__].n_inputs[0]
    ints = isinstance(layer, L.Embedding)
    inputs = [keras.Input(shape or TYPICAL[rank], dtype="int32" if ints else "float32", name=f"in{i}")
              for i in range(n)]
    if isinstance(layer, L.MultiHeadAttention):
        output = layer(*inputs)  # call(query, value), as a transformer calls it
    else:
        output = layer(inputs if n > 1 else inputs[0])
    model = keras.Model(inputs if n > 1 else inputs[0], output, name="one_layer")
    randomize(model)
    model.save(tmp_path / "layer.keras")
    imported = import_model(tmp_path / "layer.keras")
    assert imported.problems == [], [str(p) for p in imported.problems]
    built = keras_model(imported.result, compile=False)
    rebuilt = built.get_layer(layer.name)
    assert type(rebuilt) is type(layer)
    assert _without_names(rebuilt.get_config()) == _without_names(layer.get_config()), imported.text
    assert built.count_params() == model.count_params()
    rng = np.random.default_rng(2)
    x = [rng.integers(0, 10, (2, *t.shape[1:])) if ints else rng.normal(size=(2, *t.shape[1:])).astype("float32")
         for t in model.inputs]
    x = x[0] if len(x) == 1 else x
    built.load_weights(tmp_path / "layer.keras")
    for got, want in zip(predictions(built, x), predictions(model, x), strict=True):
        np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-5)


def test_every_importable_kind_is_covered():
    covered = {type(make()).__name__ for make, _, _ in LAYERS}
    kinds = {k for k, c in REGISTRY.items() if c.category != "reuse" and k != "Input"}
    assert kinds - covered == set()


# -- writing ---------------------------------------------------------------------------------------------
def test_yaml_loads_to_the_spec_and_keeps_awkward_values():
    spec = {"specc": 1, "name": "yes", "layers": [
        {"type": "Input", "name": "null", "shape": [None, 3]},
        {"type": "Dense", "name": "1st", "units": 2},
        {"type": "BatchNormalization", "name": "a b", "epsilon": 1e-05, "momentum": 0.999},
        {"type": "Rescaling", "name": "r", "scale": 1e20, "offset": -0.0},
        "Flatten",
    ]}
    text = to_yaml(spec, "m.keras")
    assert load_text(text)[0].data == spec
    assert "epsilon: 1.0e-05" in text and "name: yes" not in text


def test_output_is_in_the_canonical_layout(tmp_path):
    from specc.fmt import format_text

    for model in (small_sequential(), functional_model(), APPS.MobileNetV3Small(weights=None, input_shape=(32, 32, 3),
                                                                               classes=10)):
        spec, problems = import_config(json.loads(model.to_json()))
        assert problems == []
        text = to_yaml(spec)
        assert format_text(text) == text


def test_long_layers_are_written_in_block_style():
    spec, _ = import_config(json.loads(APPS.EfficientNetB0(weights=None, input_shape=(32, 32, 3),
                                                          classes=10).to_json()))
    text = to_yaml(spec)
    assert "  - type: Conv2D\n    name: stem_conv\n" in text
    assert "    kernel_initializer: {type: VarianceScaling, scale: 2.0, mode: fan_out}\n" in text


# -- files and the command line -------------------------------------------------------------------------
def test_bad_files_give_one_line_errors(tmp_path):
    cases = {}
    cases["missing.keras"] = None
    (tmp_path / "text.keras").write_text("not a zip\n")
    cases["text.keras"] = "is not a .keras file (not a zip archive)"
    with zipfile.ZipFile(tmp_path / "empty.keras", "w") as z:
        z.writestr("metadata.json", "{}")
    cases["empty.keras"] = "is a zip archive without config.json"
    good = tmp_path / "good.keras"
    small_sequential().save(good)
    (tmp_path / "truncated.keras").write_bytes(good.read_bytes()[:400])
    cases["truncated.keras"] = "is a corrupt .keras file"
    (tmp_path / "list.json").write_text("[1, 2]")
    cases["list.json"] = "is not a Keras model config"
    (tmp_path / "broken.json").write_text('{"class_name": ')
    cases["broken.json"] = "invalid JSON at line 1"
    (tmp_path / "deep.json").write_text("[" * 100000 + "]" * 100000)
    cases["deep.json"] = "nested too deeply"
    (tmp_path / "folder").mkdir()
    cases["folder"] = "is a folder, not a model"
    for name, message in cases.items():
        with pytest.raises(ImportFailure) as e:
            read_model_config(tmp_path / name)
        assert "\n" not in str(e.value)
        assert (message or "no such file") in str(e.value), (name, str(e.value))
    for name in ("missing.keras", "truncated.keras"):
        out = run_cli("import", tmp_path / name, "-o", tmp_path / "out.yaml")
        assert out.returncode == 1 and len(out.stderr.strip().splitlines()) == 1, out.stderr
        assert out.stderr.startswith(f"{tmp_path / name}: error: ")
    assert not (tmp_path / "out.yaml").exists()


def test_reads_a_run_directory_and_the_config_json_of_a_keras_file(tmp_path):
    model = small_sequential()
    (tmp_path / "run").mkdir()
    model.save(tmp_path / "run" / "model.keras")
    with zipfile.ZipFile(tmp_path / "run" / "model.keras") as z:
        (tmp_path / "config.json").write_bytes(z.read("config.json"))
    assert read_model_config(tmp_path / "run") == read_model_config(tmp_path / "config.json")


def test_usage_errors_and_force(tmp_path):
    source = tmp_path / "m.json"
    source.write_text(small_sequential().to_json())
    out = run_cli("import", source, "-o", tmp_path / "m.txt")
    assert out.returncode == 2 and "must end in .yaml" in out.stderr
    target = tmp_path / "m.yaml"
    target.write_text("old\n")
    out = run_cli("import", source, "-o", target)
    assert out.returncode == 2 and "exists (use --force to overwrite)" in out.stderr
    assert target.read_text() == "old\n"
    out = run_cli("import", source, "-o", target, "--force")
    assert out.returncode == 0, out.stderr
    assert target.read_text().splitlines()[1].startswith("# Imported from m.json")  # after the schema line
    assert run_cli("import", "-o", target).returncode == 2




def test_import_does_not_import_tensorflow(tmp_path):
    from conftest import probe_cli

    model = small_sequential()
    model.save(tmp_path / "m.keras")
    (tmp_path / "m.json").write_text(model.to_json())
    for source in ("m.keras", "m.json"):
        args = ["import", str(tmp_path / source), "-o", str(tmp_path / "m.yaml"), "--force"]
        code, heavy, out = probe_cli(*args)
        assert (code, heavy) == (0, []), out.stderr


def test_keras_2_functional_config():
    """tf.keras 2 configs: no module keys, inbound nodes as [name, node, tensor, kwargs] lists."""
    config = {"class_name": "Functional", "config": {
        "name": "old", "layers": [
            {"class_name": "InputLayer", "name": "input_1", "inbound_nodes": [],
             "config": {"batch_input_shape": [None, 4], "dtype": "float32", "sparse": False, "ragged": False,
                        "name": "input_1"}},
            {"class_name": "Dense", "name": "dense", "inbound_nodes": [[["input_1", 0, 0, {}]]],
             "config": {"name": "dense", "trainable": True, "dtype": "float32", "units": 3, "activation": "relu",
                        "use_bias": True, "kernel_initializer": {"class_name": "GlorotUniform",
                                                                 "config": {"seed": None}},
                        "bias_initializer": {"class_name": "Zeros", "config": {}}, "kernel_regularizer": None,
                        "bias_regularizer": None, "activity_regularizer": None, "kernel_constraint": None,
                        "bias_constraint": None}},
        ],
        "input_layers": [["input_1", 0, 0]], "output_layers": [["dense", 0, 0]]},
        "keras_version": "2.15.0", "backend": "tensorflow"}
    spec, problems = import_config(config)
    assert problems == []
    assert spec == {"specc": 1, "name": "old", "layers": [{"type": "Input", "name": "input_1", "shape": [4]},
                                                          {"type": "Dense", "units": 3, "activation": "relu"}]}


@pytest.mark.slow
def test_the_example_in_the_docs(tmp_path):
    """docs/import-export.md: its Python builds the model, its command writes exactly the spec it shows,
    and `specc summary` prints the lines it shows."""
    import re
    import subprocess
    import sys

    text = (ROOT / "docs" / "import-export.md").read_text()
    section = text.split("## Import", 1)[1].split("## Export", 1)[0]
    code = re.search(r"```python\n(.*?)```", section, re.S).group(1)
    subprocess.run([sys.executable, "-c", code], cwd=tmp_path, check=True, capture_output=True, timeout=300,
                   env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"})
    command = re.search(r"```sh\n(.*?)```", section, re.S).group(1).strip()
    assert command == "specc import small_cnn.keras -o small_cnn.yaml"
    out = run_cli(*command.split()[1:], cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    shown = re.search(r"```yaml\n(.*?)```", section, re.S).group(1)
    assert (tmp_path / "small_cnn.yaml").read_text() == shown
    console = re.search(r"```console\n\$ specc summary small_cnn.yaml\n(.*?)```", section, re.S).group(1)
    summary = run_cli("summary", "small_cnn.yaml", cwd=tmp_path)
    assert summary.stdout.startswith(console), summary.stdout


def test_malformed_configs_never_crash():
    """Random damage to a real config: a spec and problems, or one ImportFailure; never another exception."""
    import copy
    import random

    base = json.loads(functional_model().to_json())
    rng = random.Random(0)
    junk = [None, 0, -1, 1.5, "", "x", [], {}, [None], {"class_name": None}, [["a", "b", "c"]], True]

    def spots(node, path=()):
        yield path
        if isinstance(node, dict):
            for k, v in node.items():
                yield from spots(v, path + (k,))
        elif isinstance(node, list):
            for i, v in enumerate(node):
                yield from spots(v, path + (i,))

    paths = list(spots(base))[1:]
    outcomes = {"ok": 0, "refused": 0}
    for _ in range(300):
        config = copy.deepcopy(base)
        for path in rng.sample(paths, 3):
            node = config
            try:
                for part in path[:-1]:
                    node = node[part]
                node[path[-1]] = rng.choice(junk)
            except (KeyError, IndexError, TypeError):
                continue
        try:
            spec, problems = import_config(config)
            assert isinstance(problems, list)
            to_yaml(spec)
            outcomes["ok"] += 1
        except ImportFailure as e:
            assert "\n" not in str(e)
            outcomes["refused"] += 1
    assert outcomes["ok"] and outcomes["refused"], outcomes
