"""Conformance of the core layer kinds (Input, Dense, Activation, Dropout, Flatten, Reshape, RepeatVector, Rescaling) and the initializers (specc/layers/core.py): static shapes and parameter counts equal what Keras
builds (the harness: tests/layer_conformance.py)."""

from __future__ import annotations

import pytest
from layer_conformance import ACTIVATIONS, ADAPTER, case, fmt, run_layer_case, uncovered

CORE = [
    case({"type": "Input", "shape": [4]}),
    case({"type": "Input", "shape": [None, 3], "dtype": "int32"}),
    case({"type": "Input", "shape": [28, 28, 1]}),
    case({"type": "Input", "shape": []}),
    case({"type": "Dense", "units": 3}, (5,)),
    case({"type": "Dense", "units": 1, "use_bias": False}, (7,)),
    case({"type": "Dense", "units": 4, "activation": "relu"}, (6, 5)),
    case({"type": "Dense", "units": 2}, (None, 5)),
    case({"type": "Dense", "units": 8, "kernel_regularizer": {"l2": 1e-4}, "bias_regularizer": {"l1": 1e-5}}, (3,)),
    case({"type": "Dense", "units": 2, "input_dim": 5}, (5,)),
    case({"type": "Dense", "units": 2, "input_shape": [4]}, (4,)),
    *[case({"type": "Activation", "activation": a}, (6,)) for a in ACTIVATIONS],
    *[case({"type": "Dense", "units": 4, "activation": a}, (3,)) for a in ("softmax", "sparsemax", "log_softmax")],
    case({"type": "Activation", "activation": "softmax"}, (None, 4)),
    case({"type": "Dropout", "rate": 0.5}, (4,)),
    case({"type": "Dropout", "rate": 0.0, "seed": 3}, (None, 2, 3)),
    case({"type": "Dropout", "rate": 0.25, "noise_shape": [None, 1, 4]}, (3, 4)),
    case({"type": "Dropout", "rate": 0.5, "noise_shape": [1, 3, None]}, (3, 4)),
    case({"type": "Dropout", "rate": 0.5, "noise_shape": [None, 1]}, (None,)),
    case({"type": "Flatten"}, (3, 4)),
    case({"type": "Flatten"}, (2, 3, 4)),
    case({"type": "Flatten"}, (5,)),
    case({"type": "Flatten"}, ()),
    case({"type": "Flatten"}, (None, 4)),
    case({"type": "Reshape", "target_shape": [6]}, (2, 3)),
    case({"type": "Reshape", "target_shape": [3, -1]}, (2, 3, 2)),
    case({"type": "Reshape", "target_shape": [-1]}, (2, 3)),
    case({"type": "Reshape", "target_shape": [4, 1, -1]}, (8,)),
    case({"type": "Reshape", "target_shape": [-1, 2]}, (None, 4)),
    case({"type": "Reshape", "target_shape": [2, 2]}, (None,), fill=4),
    case({"type": "Reshape", "target_shape": [28, 28, 1]}, (784,)),
    case({"type": "RepeatVector", "n": 3}, (4,)),
    case({"type": "RepeatVector", "n": 1}, (None,)),
]


RESCALING = [
    case({"type": "Rescaling", "scale": 0.00392156862745098}, (4, 4, 3)),
    case({"type": "Rescaling", "scale": 2, "offset": -1}, (None, 5)),
    case({"type": "Rescaling", "scale": [0.5, 0.25, 2.0], "offset": [1.0, 0.0, -1.0]}, (2, 2, 3)),
    case({"type": "Rescaling", "scale": [3.0]}, (4,)),
    case({"type": "Rescaling", "scale": 0.5}, (3, 2), "int32"),
]



# Initializers with arguments (the mapping form `specc import` writes): same weights' shapes, and Keras
# gets the initializer with those arguments (test_initializer_mapping_reaches_keras).
INITIALIZER_ARGS = [
    {"type": "VarianceScaling", "scale": 2.0, "mode": "fan_out", "distribution": "truncated_normal"},
    {"type": "VarianceScaling", "scale": 0.3333333333333333, "mode": "fan_out", "distribution": "uniform"},
    {"type": "VarianceScaling", "mode": "fan_avg", "distribution": "untruncated_normal"},
    {"type": "RandomNormal", "mean": 0.5, "stddev": 0.01},
    {"type": "TruncatedNormal", "stddev": 0.02},
    {"type": "RandomUniform", "minval": -0.1, "maxval": 0.2},
    {"type": "Orthogonal", "gain": 2.0},
    {"type": "Constant", "value": 0.1},
]
INITIALIZERS = [
    *[case({"type": "Dense", "units": 3, "kernel_initializer": init}, (4,)) for init in INITIALIZER_ARGS],
    case({"type": "Conv2D", "filters": 2, "kernel_size": 3, "kernel_initializer": INITIALIZER_ARGS[0],
          "bias_initializer": {"type": "Constant", "value": 0.5}}, (5, 5, 1)),
    case({"type": "DepthwiseConv2D", "kernel_size": 3, "depthwise_initializer": INITIALIZER_ARGS[0]}, (5, 5, 2)),
    case({"type": "SeparableConv2D", "filters": 2, "kernel_size": 3, "depthwise_initializer": INITIALIZER_ARGS[4],
          "pointwise_initializer": INITIALIZER_ARGS[3]}, (5, 5, 2)),
    case({"type": "LSTM", "units": 3, "recurrent_initializer": {"type": "Orthogonal", "gain": 0.5}}, (4, 2)),
    case({"type": "BatchNormalization", "gamma_initializer": {"type": "Constant", "value": 2.0}}, (3,)),
    case({"type": "Embedding", "input_dim": 5, "output_dim": 2, "embeddings_initializer": INITIALIZER_ARGS[5]},
         (3,), "int32"),
]


CASES = [*CORE, *RESCALING, *INITIALIZERS]


@pytest.mark.parametrize("spec, shape, dtype, fill", CASES)
def test_layer_matches_keras(spec, shape, dtype, fill):
    run_layer_case(spec, shape, dtype, fill)


def test_every_kind_of_the_family_has_a_case():
    assert uncovered(CASES, "core") == []


@pytest.mark.parametrize("init", INITIALIZER_ARGS, ids=[fmt(i) for i in INITIALIZER_ARGS])
def test_initializer_mapping_reaches_keras(init):
    layer = ADAPTER.validate_python({"type": "Dense", "units": 3, "kernel_initializer": init})
    built = layer.to_keras("dense")
    got = built.kernel_initializer
    assert type(got).__name__ == init["type"]
    config = got.get_config()
    for key, value in init.items():
        if key != "type":
            assert config[key] == pytest.approx(value) if isinstance(value, float) else config[key] == value


def test_helper_catches_a_wrong_rule(monkeypatch):
    """The harness is not vacuous: a deliberately wrong shape or parameter rule makes it fail."""
    from specc.layers import Params
    from specc.layers.core import Dense, Flatten

    with monkeypatch.context() as m:
        m.setattr(Dense, "count_params", lambda self, shapes: Params(1))
        with pytest.raises(AssertionError, match="params"):
            run_layer_case({"type": "Dense", "units": 3}, (5,))
    with monkeypatch.context() as m:
        m.setattr(Flatten, "infer", lambda self, shapes: (None, 7))
        with pytest.raises(AssertionError, match="shape"):
            run_layer_case({"type": "Flatten"}, (2, 3))
