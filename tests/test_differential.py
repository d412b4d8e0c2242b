"""Differential test: specc against Keras itself.

Generated specs (seeded mutations of the example architectures: sizes, kernels, strides, padding, dilation,
input sizes and ranks, layer swaps and insertions, wrappers, data_format) are checked by specc and built
directly with ``keras.layers``, without specc's lowering. specc must accept exactly what Keras builds (or
refuse it with one of the documented deliberate refusals below), its static output shapes and parameter
counts must equal Keras's layer by layer, and specc's own lowering must build the same model.

Build only, no training, one process. A failure prints the case's seed and spec: rerun it alone with
SPECC_DIFF_SEED=<seed> SPECC_DIFF_CASES=1. SPECC_DIFF_CASES=5000 digs deeper.
"""

from __future__ import annotations

import inspect
import os
import random

import keras
import numpy as np
import pytest
import yaml

from specc.check import check_text
from specc.layers import REGISTRY
from specc.layers.base import ACTIVATIONS, REFUSED_ACTIVATIONS
from specc.lower import keras_model

SEED = int(os.environ.get("SPECC_DIFF_SEED", "0"))
CASES = int(os.environ.get("SPECC_DIFF_CASES", "300"))

# What specc refuses on purpose although Keras builds it, by diagnostic code and a phrase of the message.
DELIBERATE = [
    ("E301", "does not fit the input"),  # a window larger than its input: Keras builds an axis of size <= 0
    ("E301", "cannot combine strides > 1 with dilation_rate > 1"),  # Keras builds it, then fails at run time
    ("E300", "Dense expects a 2-D or 3-D input"),  # Keras applies Dense to the last axis of an image too
]


# -- the examples, as chains of layer mappings --------------------------------------------------------------
def mlp(r):  # digits_mlp.yaml, one_hidden_layer.yaml
    return [{"type": "Dense", "units": 64, "activation": "relu", "input_shape": [64]},
            {"type": "Dropout", "rate": 0.2}, {"type": "Dense", "units": 10, "activation": "softmax"}]


def cnn2d(r):  # digits_cnn.yaml, course_cnn.yaml
    return [{"type": "Conv2D", "filters": 8, "kernel_size": 3, "padding": "same", "activation": "relu",
             "input_shape": [8, 8, 1]},
            {"type": "MaxPooling2D", "pool_size": 2}, {"type": "Dropout", "rate": 0.2},
            {"type": "Conv2D", "filters": 16, "kernel_size": 3, "padding": "same", "activation": "relu"},
            {"type": "MaxPooling2D", "pool_size": 2}, {"type": "Flatten"},
            {"type": "Dense", "units": 10, "activation": "softmax"}]


def autoencoder(r):  # conv_autoencoder.yaml
    return [{"type": "Conv2D", "filters": 8, "kernel_size": 3, "padding": "same", "activation": "relu",
             "input_shape": [8, 8, 1]},
            {"type": "MaxPooling2D", "pool_size": 2},
            {"type": "Conv2DTranspose", "filters": 8, "kernel_size": 3, "strides": 2, "padding": "same"},
            {"type": "Conv2D", "filters": 1, "kernel_size": 3, "padding": "same", "activation": "sigmoid"}]


def conv1d(r):
    return [{"type": "Conv1D", "filters": 8, "kernel_size": 3, "activation": "relu", "input_shape": [20, 3]},
            {"type": "MaxPooling1D", "pool_size": 2}, {"type": "GlobalAveragePooling1D"},
            {"type": "Dense", "units": 1}]


def rnn(r):  # lstm.yaml, gru.yaml, stacked_rnn.yaml, bidirectional_rnn.yaml
    return [{"type": "LSTM", "units": 8, "return_sequences": True, "input_shape": [10, 4]},
            {"type": "GRU", "units": 6}, {"type": "Dense", "units": 1}]


def volume(r):
    return [{"type": "Conv3D", "filters": 4, "kernel_size": 3, "input_shape": [6, 6, 6, 2]},
            {"type": "MaxPooling3D", "pool_size": 2}, {"type": "Flatten"}, {"type": "Dense", "units": 3}]


FAMILIES = (mlp, cnn2d, autoencoder, conv1d, rnn, volume)

# Layers that may be inserted anywhere (each with random arguments).
def inserted(r):
    return r.choice([
        {"type": "Dense", "units": r.randint(1, 32), "activation": r.choice(ACTIVATIONS)},
        {"type": "Dropout", "rate": 0.1},
        {"type": "BatchNormalization"},
        {"type": "LayerNormalization"},
        {"type": "Activation", "activation": r.choice(ACTIVATIONS)},
        {"type": "Flatten"},
        {"type": "GaussianNoise", "stddev": 0.1},
        {"type": "Conv1D", "filters": r.randint(1, 8), "kernel_size": r.randint(1, 4),
         "padding": r.choice(["valid", "same", "causal"])},
        {"type": "Conv2D", "filters": r.randint(1, 8), "kernel_size": r.randint(1, 4), "strides": r.randint(1, 2),
         "padding": r.choice(["valid", "same"])},
        {"type": "MaxPooling2D", "pool_size": r.randint(1, 3), "padding": r.choice(["valid", "same"])},
        {"type": "AveragePooling1D", "pool_size": r.randint(1, 3)},
        {"type": "UpSampling2D", "size": r.randint(1, 3)},
        {"type": "ZeroPadding2D", "padding": r.randint(0, 2)},
        {"type": "Cropping2D", "cropping": r.randint(0, 2)},
        {"type": "GlobalMaxPooling2D"},
        {"type": "SimpleRNN", "units": r.randint(1, 8), "return_sequences": r.random() < 0.5},
        {"type": "RepeatVector", "n": r.randint(1, 4)},
        {"type": "SpatialDropout2D", "rate": 0.1},
        {"type": "DepthwiseConv2D", "kernel_size": r.randint(1, 3), "depth_multiplier": r.randint(1, 2)},
        {"type": "SeparableConv2D", "filters": r.randint(1, 8), "kernel_size": r.randint(1, 3)},
        {"type": "TimeDistributed", "layer": {"type": "Dense", "units": r.randint(1, 8)}},
        {"type": "Bidirectional", "layer": {"type": r.choice(["LSTM", "GRU"]), "units": r.randint(1, 6),
                                            "return_sequences": r.random() < 0.5}},
        {"type": "Embedding", "input_dim": r.randint(2, 20), "output_dim": r.randint(1, 8)},
    ])


WINDOWED = ("Conv1D", "Conv2D", "Conv3D", "Conv2DTranspose", "DepthwiseConv2D", "SeparableConv2D")
POOLS = ("MaxPooling1D", "MaxPooling2D", "MaxPooling3D", "AveragePooling1D", "AveragePooling2D")


def mutate(r, layers: list[dict]) -> None:
    """One mutation in place."""
    i = r.randrange(len(layers))
    layer = layers[i]
    kind = layer["type"]
    what = r.choice(["size", "window", "input", "swap", "insert", "insert", "wrap", "format", "dtype"])
    if what == "size":
        for key in ("units", "filters"):
            if key in layer:
                layer[key] = r.randint(1, 48)
    elif what == "window" and kind in WINDOWED:
        layer["kernel_size"] = r.choice([r.randint(1, 6), [r.randint(1, 5) for _ in range(_rank(kind))]])
        layer["strides"] = r.randint(1, 3)
        layer["padding"] = r.choice(["valid", "same"] + (["causal"] if kind == "Conv1D" else []))
        if r.random() < 0.3:
            layer["dilation_rate"] = r.randint(1, 3)
    elif what == "window" and kind in POOLS:
        layer["pool_size"] = r.randint(1, 4)
        layer["strides"] = r.choice([None, r.randint(1, 3)])
        layer["padding"] = r.choice(["valid", "same"])
        if layer["strides"] is None:
            del layer["strides"]
    elif what == "input":
        shape = layers[0]["input_shape"]
        layers[0]["input_shape"] = r.choice([
            [r.randint(1, 16) for _ in shape],  # new sizes
            [r.randint(1, 12) for _ in range(r.randint(1, 4))],  # another rank
        ])
    elif what == "swap" and i > 0:
        layers[i] = inserted(r)
    elif what == "insert":
        layers.insert(r.randint(1, len(layers)), inserted(r))
    elif what == "wrap" and i > 0 and kind in ("Dense", "Conv1D", "Conv2D", "Dropout", "Flatten"):
        layers[i] = {"type": "TimeDistributed", "layer": layer}
    elif what == "wrap" and i > 0 and kind in ("LSTM", "GRU", "SimpleRNN"):
        layers[i] = {"type": "Bidirectional", "layer": layer, "merge_mode": r.choice(["concat", "sum", "ave"])}
    elif what == "format" and "data_format" in REGISTRY[kind].model_fields:
        layer["data_format"] = "channels_first"
    elif what == "dtype" and i > 0:
        # Not pure bfloat16/float16: TensorFlow on a CPU has no orthogonal initializer (recurrent kernels) for them.
        layer["dtype"] = r.choice(["float32", "float64", "mixed_float16", "mixed_bfloat16"])


def _rank(kind: str) -> int:
    return 1 if "1D" in kind else 3 if "3D" in kind else 2


def generate(seed: int) -> list[dict]:
    r = random.Random(seed)
    layers = r.choice(FAMILIES)(r)
    for _ in range(r.randint(1, 4)):
        mutate(r, layers)
    for n, layer in enumerate(layers):
        layer["name"] = f"l{n}"
    return layers


# -- building directly with keras.layers ---------------------------------------------------------------------
def keras_layer(spec: dict):
    kw = {k: tuple(v) if isinstance(v, list) else v for k, v in spec.items() if k not in ("type", "input_shape")}
    if "layer" in kw:
        kw["layer"] = keras_layer(kw["layer"])
    return getattr(keras.layers, spec["type"])(**kw)


def keras_direct(layers: list[dict]):
    """The model Keras builds from the same layers, or the exception it raises."""
    try:
        x = inputs = keras.Input(tuple(layers[0]["input_shape"]),
                                 dtype="int32" if layers[0]["type"] == "Embedding" else "float32")
        built = []
        for spec in layers:
            layer = keras_layer(spec)
            x = layer(x)
            built.append(layer)
        return keras.Model(inputs, x), built
    except Exception as e:  # Keras refuses: any exception it raises while building
        return e, None


def counts(layer) -> tuple[int, int]:
    return (sum(int(np.prod(w.shape)) for w in layer.trainable_weights),
            sum(int(np.prod(w.shape)) for w in layer.non_trainable_weights))


def check_case(seed: int) -> str:
    layers = generate(seed)
    text = yaml.safe_dump({"specc": 1, "layers": layers}, sort_keys=False)
    where = f"seed {seed}:\n{text}"
    result = check_text(text)
    model, built = keras_direct(layers)
    if not result.ok:
        if built is None:
            return "both refuse"
        deliberate = [d for d in result.errors if any(d.code == c and phrase in d.message for c, phrase in DELIBERATE)]
        assert deliberate, f"specc refuses what Keras builds: {[d.message for d in result.errors]}\n{where}"
        return "deliberate refusal"
    assert built is not None, f"specc accepts what Keras refuses: {model!r}\n{where}"
    for spec, layer in zip(layers, built):
        info = result.info[spec["name"]]
        assert info.shape == tuple(layer.output.shape), (spec["name"], info.shape, layer.output.shape, where)
        p = info.params
        assert (p.trainable, p.non_trainable) == counts(layer), (spec["name"], p, counts(layer), where)
    lowered = keras_model(result, compile=False)
    assert tuple(lowered.output.shape) == tuple(model.output.shape), where
    assert lowered.count_params() == model.count_params() == result.params.total, where
    return "both build"


def test_specc_accepts_exactly_what_keras_builds():
    outcomes: dict[str, int] = {}
    for seed in range(SEED, SEED + CASES):  # no clear_session between cases: it costs more than a build
        outcome = check_case(seed)
        outcomes[outcome] = outcomes.get(outcome, 0) + 1
    # The generator is only useful while it makes both kinds of case.
    if CASES >= 100:
        assert outcomes.get("both build", 0) >= CASES // 4, outcomes
        assert outcomes.get("both refuse", 0) >= CASES // 20, outcomes


# -- vocabularies that must not drift from Keras's ----------------------------------------------------------
def test_every_keras_activation_is_accepted_or_refused_with_a_reason():
    exported = {n for n in dir(keras.activations) if not n.startswith("_")} - {"get", "serialize", "deserialize"}
    assert set(ACTIVATIONS) | set(REFUSED_ACTIVATIONS) == exported
    assert not set(ACTIVATIONS) & set(REFUSED_ACTIVATIONS)
    for name in ACTIVATIONS:  # each accepted one builds and runs in a model, keeping the shape
        dense = keras.layers.Dense(4, activation=name)
        assert tuple(dense(np.ones((2, 3), "float32")).shape) == (2, 4), name
    for name, reason in REFUSED_ACTIVATIONS.items():
        result = check_text(f"specc: 1\nlayers:\n  - {{type: Dense, units: 4, activation: {name}, input_dim: 3}}\n")
        (d,) = result.errors
        assert d.path == "layers[0].activation" and reason in d.message
        with pytest.raises((ValueError, TypeError)):  # and Keras itself fails when the model runs
            keras.Sequential([keras.Input((3,)), keras.layers.Dense(4, activation=name),
                              keras.layers.Dense(2)])(np.ones((2, 3), "float32"))


def test_data_format_exactly_where_keras_takes_it():
    for kind, cls in sorted(REGISTRY.items()):
        keras_cls = getattr(keras.layers, cls.keras_class or kind, None)
        if keras_cls is None or not cls.builds_keras_layer:
            continue
        takes = "data_format" in inspect.signature(keras_cls.__init__).parameters
        assert takes == ("data_format" in cls.model_fields), kind


def test_every_kind_takes_a_dtype_policy():
    text = """
specc: 1
layers:
  - {type: Conv2D, filters: 4, kernel_size: 3, input_shape: [3, 8, 8], data_format: channels_first, dtype: float64}
  - {type: MaxPooling2D, data_format: channels_first, dtype: float64}
  - {type: Flatten, data_format: channels_first}
  - {type: Dense, units: 2, activation: softmax, dtype: float32}
"""
    result = check_text(text)
    assert result.ok, result.diagnostics
    assert result.info["conv2d"].shape == (None, 4, 6, 6) and result.info["max_pooling2d"].shape == (None, 4, 3, 3)
    model = keras_model(result, compile=False)
    assert model.get_layer("conv2d").dtype == "float64" and model.get_layer("dense").dtype == "float32"
    assert tuple(model.get_layer("max_pooling2d").output.shape) == (None, 4, 3, 3)
    refused = check_text("specc: 1\nmodels:\n  m:\n    layers: [{type: Dense, units: 2, input_dim: 3}]\n"
                         "layers:\n  - {type: Model, model: m, input_shape: [3], dtype: float64}\n")
    assert [d.path for d in refused.errors] == ["layers[0].dtype"], refused.diagnostics
