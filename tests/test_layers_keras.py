"""Conformance: specc's static shapes and parameter counts equal what Keras builds.

Every registered layer kind is checked the way Keras checks its own layers
(``run_layer_test``): validate the spec, compute the output shape and the
trainable / non-trainable parameter counts with the kind's own rules, then
build the real Keras layer through ``to_keras``, call it on ``keras.Input``
and on a concrete batch, and compare. Negative cases check that every static
error specc raises is one Keras would also hit (it refuses the layer, an
output size is 0 or less, or the shape it computes is not the one it
reports); the few places where specc is stricter on purpose are listed
separately and asserted as such. Whole specs are checked node by node against
the model ``specc.lower.keras_model`` builds.
"""

from __future__ import annotations

import os

os.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"

import typing  # noqa: E402

import keras  # noqa: E402
import numpy as np  # noqa: E402
import pydantic  # noqa: E402
import pytest  # noqa: E402

from specc.check import check_text  # noqa: E402
from specc.layers import REGISTRY, AnyLayer, ShapeError  # noqa: E402
from specc.layers.base import ActivationName  # noqa: E402
from specc.layers.core import Input  # noqa: E402
from specc.lower import keras_model  # noqa: E402

ADAPTER = pydantic.TypeAdapter(AnyLayer)
BATCH = 2


# -- the shared helper ---------------------------------------------------------
def keras_counts(layer) -> tuple[int, int]:
    """(trainable, non-trainable) scalar counts of a built Keras layer."""
    trainable = sum(int(np.prod(w.shape)) for w in layer.trainable_weights)
    frozen = sum(int(np.prod(w.shape)) for w in layer.non_trainable_weights)
    return trainable, frozen


def sample_batch(shape: tuple, dtype: str, high: int | None):
    rng = np.random.default_rng(0)
    if dtype.startswith("int"):
        return rng.integers(0, high or 2, size=shape).astype(dtype)
    return rng.normal(size=shape).astype(dtype)


def _int_input_dim(spec: dict) -> int | None:
    """Token ids must stay below an Embedding's input_dim (also when wrapped)."""
    while spec.get("type") == "TimeDistributed":
        spec = spec["layer"]
    return spec.get("input_dim") if spec.get("type") == "Embedding" else None


def run_layer_case(spec: dict, sample_shape: tuple | None, dtype: str = "float32", fill: int = 8):
    """Compare specc's rules with the Keras layer built from ``spec`` on one input.

    ``sample_shape`` excludes the batch axis and may hold None (unknown size);
    for the concrete forward pass each None becomes ``fill``.
    """
    layer = ADAPTER.validate_python(spec)
    assert layer.kind() == spec["type"]

    if isinstance(layer, Input):
        tensor = layer.to_keras("conformance_input")
        expected = layer.infer([])
        assert tuple(tensor.shape) == tuple(expected)
        assert tensor.dtype == layer.dtype
        model = keras.Model(tensor, tensor)
        assert [type(x).__name__ for x in model.layers] == ["InputLayer"]
        assert model.count_params() == 0 == layer.params([]).total
        return

    shape_in = (None, *sample_shape)
    expected = tuple(layer.infer([shape_in]))
    params = layer.params([shape_in])

    built = layer.to_keras("conformance")
    out = built(keras.Input(shape=sample_shape, dtype=dtype))
    assert tuple(out.shape) == expected, f"shape: specc {expected}, Keras {tuple(out.shape)}"
    assert built.count_params() == params.total, f"params: specc {params.total}, Keras {built.count_params()}"
    assert keras_counts(built) == (params.trainable, params.non_trainable)

    # Real forward passes (inference and training): the shape Keras reports is the one it computes.
    concrete = tuple(fill if d is None else d for d in sample_shape)
    want = tuple(layer.infer([(None, *concrete)]))
    batch = sample_batch((BATCH, *concrete), dtype, _int_input_dim(spec))
    for training in (False, True):
        got = tuple(built(batch, training=training).shape)
        assert got == (BATCH, *want[1:]), f"eager shape (training={training}): specc {want}, Keras {got}"

    # trainable: false freezes every weight, in specc and in Keras.
    frozen = ADAPTER.validate_python({**spec, "trainable": False})
    frozen_params = frozen.params([shape_in])
    assert frozen_params.trainable == 0 and frozen_params.non_trainable == params.total
    frozen_keras = frozen.to_keras("conformance_frozen")
    frozen_out = frozen_keras(keras.Input(shape=sample_shape, dtype=dtype))
    assert tuple(frozen_out.shape) == expected
    assert keras_counts(frozen_keras) == (0, params.total)


# -- cases ---------------------------------------------------------------------
def _fmt(value) -> str:
    if isinstance(value, dict):
        args = ",".join(f"{k}={_fmt(v)}" for k, v in value.items() if k != "type")
        return f"{value.get('type', '')}({args})"
    if isinstance(value, (list, tuple)):
        return "[" + ",".join(_fmt(v) for v in value) + "]"
    return str(value)


def case(spec: dict, shape: tuple | None = None, dtype: str = "float32", fill: int = 8, marks=()):
    label = _fmt(spec) + ("" if shape is None else f"@{_fmt(shape)}")
    return pytest.param(spec, shape, dtype, fill, id=label, marks=marks)


ACTIVATIONS = list(typing.get_args(ActivationName))

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


def _conv1d_cases():
    out = []
    for kernel in (1, 3, 4):
        for strides in (1, 2):
            for padding in ("valid", "same", "causal"):
                out.append(case({"type": "Conv1D", "filters": 3, "kernel_size": kernel, "strides": strides,
                                 "padding": padding}, (9 if kernel != 4 else 10, 2)))
    for padding in ("valid", "same", "causal"):
        out.append(case({"type": "Conv1D", "filters": 2, "kernel_size": 3, "dilation_rate": 2, "padding": padding},
                        (11, 3)))
        out.append(case({"type": "Conv1D", "filters": 4, "kernel_size": 2, "strides": 3, "padding": padding},
                        (None, 2)))
    out += [
        case({"type": "Conv1D", "filters": 4, "kernel_size": 3, "groups": 2}, (8, 6)),
        case({"type": "Conv1D", "filters": 6, "kernel_size": [5], "groups": 3, "use_bias": False}, (12, 3)),
        case({"type": "Conv1D", "filters": 2, "kernel_size": 8}, (8, 1)),
        case({"type": "Conv1D", "filters": 2, "kernel_size": 3, "dilation_rate": [3], "padding": "causal",
              "activation": "relu"}, (None, 5)),
    ]
    return out


def _conv2d_cases():
    out = []
    for kernel in (3, [3, 2], 4):
        for strides in (1, 2, [2, 1]):
            for padding in ("valid", "same"):
                out.append(case({"type": "Conv2D", "filters": 4, "kernel_size": kernel, "strides": strides,
                                 "padding": padding}, (7, 8, 3)))
    out += [
        case({"type": "Conv2D", "filters": 2, "kernel_size": 3, "dilation_rate": 2}, (9, 9, 1)),
        case({"type": "Conv2D", "filters": 2, "kernel_size": 3, "dilation_rate": [1, 2], "padding": "same"}, (6, 7, 2)),
        case({"type": "Conv2D", "filters": 4, "kernel_size": 3, "groups": 2}, (5, 5, 6)),
        case({"type": "Conv2D", "filters": 6, "kernel_size": 1, "groups": 3, "use_bias": False}, (4, 4, 3)),
        case({"type": "Conv2D", "filters": 8, "kernel_size": 3, "use_bias": False, "activation": "relu"}, (5, 5, 1)),
        case({"type": "Conv2D", "filters": 2, "kernel_size": 3, "strides": 2}, (None, None, 3)),
        case({"type": "Conv2D", "filters": 2, "kernel_size": [1, 5], "padding": "same"}, (None, 6, 1)),
        case({"type": "Conv2D", "filters": 3, "kernel_size": 28}, (28, 28, 1)),
        case({"type": "Conv2D", "filters": 3, "kernel_size": 3, "kernel_regularizer": {"l1": 0.01, "l2": 0.01}},
             (6, 6, 2)),
    ]
    return out


def _conv2d_transpose_cases():
    out = []
    for kernel in (3, 4):
        for strides in (1, 2, 3):
            for padding in ("valid", "same"):
                for output_padding in sorted({None, 0, strides - 1}, key=lambda v: -1 if v is None else v):
                    if output_padding == 0 and padding == "same" and kernel % 2 == 0:
                        continue  # TensorFlow cannot run it: a negative case below
                    spec = {"type": "Conv2DTranspose", "filters": 2, "kernel_size": kernel, "strides": strides,
                            "padding": padding}
                    if output_padding is not None:
                        spec["output_padding"] = output_padding
                    out.append(case(spec, (5, 4, 3)))
    out += [
        case({"type": "Conv2DTranspose", "filters": 2, "kernel_size": [3, 2], "strides": [2, 3],
              "output_padding": [1, 0]}, (4, 5, 1)),
        case({"type": "Conv2DTranspose", "filters": 2, "kernel_size": 3, "dilation_rate": 2}, (5, 5, 1)),
        case({"type": "Conv2DTranspose", "filters": 2, "kernel_size": 3, "dilation_rate": 2, "padding": "same"},
             (5, 5, 1)),
        case({"type": "Conv2DTranspose", "filters": 4, "kernel_size": 3, "use_bias": False, "groups": 1}, (3, 3, 2)),
        case({"type": "Conv2DTranspose", "filters": 1, "kernel_size": 2, "strides": 2}, (None, None, 3)),
        case({"type": "Conv2DTranspose", "filters": 1, "kernel_size": 3, "strides": 2, "padding": "same",
              "output_padding": 1}, (None, 7, 3)),
    ]
    return out


def _pool_cases():
    out = []
    for kind in ("MaxPooling1D", "AveragePooling1D"):
        for pool, strides in ((2, None), (3, None), (3, 1), (2, 3), (4, 2)):
            for padding in ("valid", "same"):
                spec = {"type": kind, "pool_size": pool, "padding": padding}
                if strides is not None:
                    spec["strides"] = strides
                out.append(case(spec, (11, 2)))
        out.append(case({"type": kind}, (None, 3)))
        out.append(case({"type": kind, "pool_size": [3], "strides": [2], "padding": "same"}, (None, 3)))
    for kind in ("MaxPooling2D", "AveragePooling2D"):
        for pool, strides in ((2, None), (3, None), (3, 1), ([2, 3], None), (2, [1, 2]), (3, 2)):
            for padding in ("valid", "same"):
                spec = {"type": kind, "pool_size": pool, "padding": padding}
                if strides is not None:
                    spec["strides"] = strides
                out.append(case(spec, (7, 8, 2)))
        out.append(case({"type": kind, "pool_size": 2}, (None, None, 3)))
        out.append(case({"type": kind, "pool_size": 4}, (4, 4, 1)))
    for kind in ("GlobalAveragePooling1D", "GlobalMaxPooling1D"):
        for keepdims in (False, True):
            out.append(case({"type": kind, "keepdims": keepdims}, (5, 3)))
            out.append(case({"type": kind, "keepdims": keepdims}, (None, 4)))
    for kind in ("GlobalAveragePooling2D", "GlobalMaxPooling2D"):
        for keepdims in (False, True):
            out.append(case({"type": kind, "keepdims": keepdims}, (5, 6, 3)))
            out.append(case({"type": kind, "keepdims": keepdims}, (None, None, 2)))
    out += [
        case({"type": "UpSampling1D"}, (4, 3)),
        case({"type": "UpSampling1D", "size": 3}, (5, 2)),
        case({"type": "UpSampling1D", "size": 1}, (None, 2)),
        case({"type": "UpSampling2D"}, (3, 4, 2)),
        case({"type": "UpSampling2D", "size": [2, 3]}, (3, 5, 1)),
        case({"type": "UpSampling2D", "size": 3, "interpolation": "bilinear"}, (None, 4, 1)),
        case({"type": "UpSampling2D", "size": [1, 2], "interpolation": "nearest"}, (None, None, 2)),
    ]
    return out


# Keras 3.15 deprecates rms_scaling (it scales by the variance); the parameter rule still holds.
RMS_DEPRECATED = pytest.mark.filterwarnings("ignore:You passed `rms_scaling=True`:UserWarning")

NORMALIZATION = [
    case({"type": "BatchNormalization"}, (4,)),
    case({"type": "BatchNormalization"}, (5, 6)),
    case({"type": "BatchNormalization", "axis": 1}, (5, 6)),
    case({"type": "BatchNormalization", "axis": -2}, (3, 4, 5)),
    case({"type": "BatchNormalization", "center": False}, (6, 6, 3)),
    case({"type": "BatchNormalization", "scale": False}, (6, 6, 3)),
    case({"type": "BatchNormalization", "center": False, "scale": False}, (3,)),
    case({"type": "BatchNormalization", "momentum": 0.9, "epsilon": 1e-5}, (None, 4)),
    case({"type": "LayerNormalization"}, (4,)),
    case({"type": "LayerNormalization"}, (None, 6)),
    case({"type": "LayerNormalization", "axis": 1}, (3, 5)),
    case({"type": "LayerNormalization", "axis": [1, 2]}, (3, 4, 5)),
    case({"type": "LayerNormalization", "axis": [-1, -2]}, (3, 4, 5)),
    case({"type": "LayerNormalization", "axis": [1, 3]}, (2, 3, 4)),
    case({"type": "LayerNormalization", "rms_scaling": True}, (7,), marks=RMS_DEPRECATED),
    case({"type": "LayerNormalization", "rms_scaling": True, "center": False, "scale": False}, (2, 7),
         marks=RMS_DEPRECATED),
    case({"type": "LayerNormalization", "center": False}, (5,)),
    case({"type": "LayerNormalization", "scale": False}, (5,)),
    case({"type": "LayerNormalization", "center": False, "scale": False}, (5,)),
]

EMBEDDING = [
    case({"type": "Embedding", "input_dim": 10, "output_dim": 4}, (5,), "int32"),
    case({"type": "Embedding", "input_dim": 100, "output_dim": 8, "mask_zero": True}, (None,), "int32"),
    case({"type": "Embedding", "input_dim": 7, "output_dim": 3}, (3, 4), "int32"),
    case({"type": "Embedding", "input_dim": 5, "output_dim": 2}, (None, 6), "int64"),
    case({"type": "Embedding", "input_dim": 1, "output_dim": 1}, (), "int32"),
]


def _recurrent_cases():
    out = []
    for kind in ("SimpleRNN", "LSTM", "GRU"):
        for return_sequences in (False, True):
            out.append(case({"type": kind, "units": 3, "return_sequences": return_sequences}, (5, 2)))
            out.append(case({"type": kind, "units": 2, "return_sequences": return_sequences}, (None, 4)))
        out.append(case({"type": kind, "units": 4, "use_bias": False}, (3, 5)))
        out.append(case({"type": kind, "units": 1, "go_backwards": True, "dropout": 0.2}, (4, 1)))
        out.append(case({"type": kind, "units": 2, "unroll": True, "return_sequences": True}, (3, 2)))
    for reset_after in (True, False):
        for use_bias in (True, False):
            out.append(case({"type": "GRU", "units": 3, "reset_after": reset_after, "use_bias": use_bias}, (4, 2)))
    out.append(case({"type": "LSTM", "units": 3, "unit_forget_bias": False, "recurrent_activation": "hard_sigmoid"},
                    (4, 2)))
    for merge_mode in ("concat", "sum", "mul", "ave"):
        out.append(case({"type": "Bidirectional", "merge_mode": merge_mode, "layer": {"type": "LSTM", "units": 3}},
                        (5, 2)))
        out.append(case({"type": "Bidirectional", "merge_mode": merge_mode,
                         "layer": {"type": "GRU", "units": 2, "return_sequences": True}}, (None, 3)))
    out += [
        case({"type": "Bidirectional", "layer": {"type": "SimpleRNN", "units": 4, "use_bias": False}}, (6, 1)),
        case({"type": "Bidirectional", "layer": {"type": "GRU", "units": 2, "reset_after": False}}, (3, 3)),
        case({"type": "Bidirectional", "layer": {"type": "LSTM", "units": 2, "trainable": False}}, (4, 3)),
        case({"type": "Bidirectional", "layer": {"type": "LSTM", "units": 2, "name": "encoder"}}, (4, 3)),
    ]
    return out


WRAPPERS = [
    case({"type": "TimeDistributed", "layer": {"type": "Dense", "units": 3}}, (4, 5)),
    case({"type": "TimeDistributed", "layer": {"type": "Dense", "units": 2, "use_bias": False}}, (None, 5)),
    case({"type": "TimeDistributed", "layer": {"type": "Dense", "units": 2}}, (4, 3, 5)),
    case({"type": "TimeDistributed", "layer": {"type": "Dense", "units": 2, "trainable": False}}, (4, 5)),
    case({"type": "TimeDistributed", "layer": {"type": "Conv2D", "filters": 2, "kernel_size": 3}}, (3, 6, 6, 1)),
    case({"type": "TimeDistributed", "layer": {"type": "Conv2D", "filters": 4, "kernel_size": 2, "strides": 2,
                                               "padding": "same"}}, (None, 5, 5, 3)),
    case({"type": "TimeDistributed", "layer": {"type": "Flatten"}}, (3, 4, 4, 2)),
    case({"type": "TimeDistributed", "layer": {"type": "MaxPooling2D"}}, (None, 4, 6, 2)),
    case({"type": "TimeDistributed", "layer": {"type": "BatchNormalization"}}, (3, 4)),
    case({"type": "TimeDistributed", "layer": {"type": "Embedding", "input_dim": 9, "output_dim": 3}}, (4, 5),
         "int32"),
    case({"type": "TimeDistributed", "layer": {"type": "LSTM", "units": 2}}, (3, 4, 5)),
    case({"type": "TimeDistributed", "layer": {"type": "TimeDistributed", "layer": {"type": "Dense", "units": 3}}},
         (2, 3, 4)),
]

CASES = [
    *CORE,
    *_conv1d_cases(),
    *_conv2d_cases(),
    *_conv2d_transpose_cases(),
    *_pool_cases(),
    *NORMALIZATION,
    *EMBEDDING,
    *_recurrent_cases(),
    *WRAPPERS,
]


@pytest.mark.parametrize("spec, shape, dtype, fill", CASES)
def test_layer_matches_keras(spec, shape, dtype, fill):
    run_layer_case(spec, shape, dtype, fill)


def test_every_kind_has_a_conformance_case():
    covered = {p.values[0]["type"] for p in CASES}
    missing = sorted(set(REGISTRY) - covered)
    assert not missing, f"layer kinds without a Keras conformance case: {missing}"


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


# -- negative cases: specc's static errors are ones Keras would hit -------------
_LOWERING_BUGS = ("Unrecognized keyword arguments", "required positional argument")


def keras_refusal(spec: dict, sample_shape: tuple, dtype: str = "float32", fill: int = 8) -> str | None:
    """Why Keras cannot use this layer on this input; None when it builds, and runs
    (inference and training) with the shape it reports and no size of 0 or less."""
    layer = ADAPTER.validate_python(spec)
    try:
        built = layer.to_keras("negative")
        out = built(keras.Input(shape=sample_shape, dtype=dtype))
        if any(d is not None and d <= 0 for d in out.shape):
            return f"output shape {tuple(out.shape)}"
        concrete = tuple(fill if d is None else d for d in sample_shape)
        batch = sample_batch((BATCH, *concrete), dtype, _int_input_dim(spec))
        for training in (False, True):
            got = tuple(built(batch, training=training).shape)
            if got != (BATCH, *out.shape[1:]) or any(d <= 0 for d in got):
                return f"output shape {got} (training={training}), reported {tuple(out.shape)}"
    except Exception as e:  # Keras refuses: at construction, when built, or when it runs
        assert not any(m in str(e) for m in _LOWERING_BUGS), f"specc lowered the layer wrongly: {e}"
        return f"{type(e).__name__}: {str(e).strip().splitlines()[0][:200]}"
    return None


def bad(spec: dict, shape: tuple, dtype: str = "float32", match: str = ""):
    label = _fmt(spec) + f"@{_fmt(shape)}"
    return pytest.param(spec, shape, dtype, match, id=label)


REFUSED = [
    # a window larger than its input, padding valid
    bad({"type": "Conv1D", "filters": 2, "kernel_size": 5}, (3, 1), match="kernel_size 5 does not fit"),
    bad({"type": "Conv1D", "filters": 2, "kernel_size": 4}, (3, 1), match="does not fit"),
    bad({"type": "Conv1D", "filters": 2, "kernel_size": 3, "dilation_rate": 3}, (6, 1), match="does not fit"),
    bad({"type": "Conv2D", "filters": 2, "kernel_size": 4}, (3, 3, 1), match="does not fit"),
    bad({"type": "Conv2D", "filters": 2, "kernel_size": 5, "strides": 2}, (3, 3, 1), match="does not fit"),
    bad({"type": "Conv2D", "filters": 2, "kernel_size": [1, 5]}, (6, 4, 1), match="width of 4"),
    bad({"type": "MaxPooling2D", "pool_size": 5}, (3, 3, 1), match="pool_size 5 does not fit"),
    bad({"type": "MaxPooling2D", "pool_size": 4}, (3, 8, 1), match="does not fit"),
    bad({"type": "AveragePooling1D", "pool_size": 4}, (3, 2), match="does not fit"),
    bad({"type": "AveragePooling2D", "pool_size": 3, "strides": 2}, (2, 8, 1), match="does not fit"),
    bad({"type": "MaxPooling1D", "pool_size": 3, "strides": 1}, (2, 4), match="does not fit"),
    bad({"type": "TimeDistributed", "layer": {"type": "Conv2D", "filters": 1, "kernel_size": 5}}, (2, 3, 3, 1),
        match="does not fit"),
    # argument combinations Keras does not accept
    bad({"type": "Conv2D", "filters": 2, "kernel_size": 3, "strides": 2, "dilation_rate": 2}, (9, 9, 1),
        match="strides > 1 with dilation_rate > 1"),
    bad({"type": "Conv1D", "filters": 2, "kernel_size": 3, "strides": 2, "dilation_rate": 2, "padding": "causal"},
        (9, 1), match="strides > 1 with dilation_rate > 1"),
    bad({"type": "Conv2DTranspose", "filters": 2, "kernel_size": 3, "strides": 2, "dilation_rate": 2}, (5, 5, 1),
        match="strides > 1 with dilation_rate > 1"),
    bad({"type": "Conv2DTranspose", "filters": 2, "kernel_size": 3, "strides": 2, "output_padding": 2}, (5, 5, 1),
        match="smaller than strides"),
    bad({"type": "Conv2DTranspose", "filters": 2, "kernel_size": 3, "strides": [2, 1], "output_padding": [1, 1]},
        (5, 5, 1), match="smaller than strides"),
    # Keras reports a shape for these, but TensorFlow cannot compute it
    bad({"type": "Conv2DTranspose", "filters": 2, "kernel_size": 4, "strides": 2, "padding": "same",
         "output_padding": 0}, (5, 4, 3), match="even kernel_size"),
    bad({"type": "Conv2DTranspose", "filters": 2, "kernel_size": 4, "strides": 3, "padding": "same",
         "output_padding": 0}, (5, 4, 3), match="even kernel_size"),
    bad({"type": "Conv2DTranspose", "filters": 1, "kernel_size": [3, 2], "padding": "same", "output_padding": 0},
        (4, 4, 1), match="even kernel_size"),
    bad({"type": "Conv2DTranspose", "filters": 1, "kernel_size": 4, "strides": 2, "padding": "same",
         "output_padding": [1, 0]}, (1, 1, 1), match="even kernel_size"),
    bad({"type": "Conv2D", "filters": 4, "kernel_size": 3, "groups": 3}, (5, 5, 6), match="groups"),
    bad({"type": "Conv2D", "filters": 8, "kernel_size": 3, "groups": 4}, (5, 5, 6), match="groups"),
    bad({"type": "Conv1D", "filters": 2, "kernel_size": 3}, (5, None), match="known channel axis"),
    bad({"type": "Conv2D", "filters": 2, "kernel_size": [3, 3, 3]}, (6, 6, 1), match="needs 2 values"),
    bad({"type": "MaxPooling1D", "pool_size": [2, 2]}, (6, 1), match="needs 1 values"),
    bad({"type": "UpSampling2D", "size": [2, 2, 2]}, (3, 3, 1), match="needs 2 values"),
    # wrong input rank
    bad({"type": "Conv2D", "filters": 2, "kernel_size": 3}, (8, 8), match="expects a 4-D input"),
    bad({"type": "Conv1D", "filters": 2, "kernel_size": 3}, (8,), match="expects a 3-D input"),
    bad({"type": "MaxPooling2D"}, (4, 4), match="expects a 4-D input"),
    bad({"type": "GlobalAveragePooling2D"}, (4, 3), match="expects a 4-D input"),
    bad({"type": "GlobalMaxPooling1D"}, (4,), match="expects a 3-D input"),
    bad({"type": "UpSampling1D"}, (4,), match="expects a 3-D input"),
    bad({"type": "RepeatVector", "n": 2}, (2, 3), match="expects a 2-D input"),
    bad({"type": "SimpleRNN", "units": 2}, (4,), match="3-D input"),
    bad({"type": "GRU", "units": 2}, (2, 3, 4), match="expects a 3-D input"),
    bad({"type": "Bidirectional", "layer": {"type": "LSTM", "units": 2}}, (4,), match="3-D input"),
    bad({"type": "TimeDistributed", "layer": {"type": "Dense", "units": 2}}, (3,), match="at least 3-D"),
    # unknown sizes where a weight needs them
    bad({"type": "Dense", "units": 3}, (None,), match="known last axis"),
    bad({"type": "LSTM", "units": 2}, (3, None), match="known feature axis"),
    bad({"type": "BatchNormalization", "axis": 1}, (None, 3), match="known size on axis 1"),
    # a dropout mask that does not match the input (Keras fails, or broadcasts, only when training)
    bad({"type": "Dropout", "rate": 0.5, "noise_shape": [None, 5]}, (3, 4), match="noise_shape"),
    bad({"type": "Dropout", "rate": 0.5, "noise_shape": [None, 2, 4]}, (3, 4), match="noise_shape"),
    bad({"type": "Dropout", "rate": 0.5, "noise_shape": [None, 1, 1, 1]}, (3, 4), match="noise_shape"),
    # Reshape sizes
    bad({"type": "Reshape", "target_shape": [5]}, (2, 3), match="holds 5 values but each sample has 6"),
    bad({"type": "Reshape", "target_shape": [4, -1]}, (2, 3), match="cannot fit 6 values"),
    bad({"type": "Reshape", "target_shape": [-1, -1]}, (4,), match="at most one -1"),
    bad({"type": "Reshape", "target_shape": [0, -1]}, (2, 3), match="has a 0"),
    # normalization axes
    bad({"type": "BatchNormalization", "axis": 0}, (4, 3), match="not a feature axis"),
    bad({"type": "BatchNormalization", "axis": 3}, (4, 3), match="not a feature axis"),
    bad({"type": "LayerNormalization", "axis": 0}, (4, 3), match="not a feature axis"),
    bad({"type": "LayerNormalization", "axis": [1, 5]}, (4, 3), match="not a feature axis"),
]


@pytest.mark.parametrize("spec, shape, dtype, match", REFUSED)
def test_static_error_is_justified_by_keras(spec, shape, dtype, match):
    layer = ADAPTER.validate_python(spec)
    with pytest.raises(ShapeError, match=match) as caught:
        shape_in = (None, *shape)
        layer.infer([shape_in])
        layer.params([shape_in])
    assert caught.value.message.strip()
    reason = keras_refusal(spec, shape, dtype)
    assert reason is not None, f"specc refuses ({caught.value.message}) but Keras builds and runs the layer"


def test_glu_is_refused_because_keras_reports_the_wrong_shape():
    """glu halves the last axis when it runs, but Keras layers report the unhalved shape."""
    with pytest.raises(pydantic.ValidationError):
        ADAPTER.validate_python({"type": "Dense", "units": 4, "activation": "glu"})
    with pytest.raises(pydantic.ValidationError):
        ADAPTER.validate_python({"type": "Activation", "activation": "glu"})
    dense = keras.layers.Dense(4, activation="glu")
    assert tuple(dense(keras.Input((3,))).shape) == (None, 4)
    assert tuple(dense(np.ones((BATCH, 3), "float32")).shape) == (BATCH, 2)


# Arguments specc's schema refuses, each paired with the Keras constructor call it stands for.
INVALID = [
    ({"type": "Dense", "units": 0}, lambda: keras.layers.Dense(0)),
    ({"type": "Conv2D", "filters": 0, "kernel_size": 3}, lambda: keras.layers.Conv2D(0, 3)),
    ({"type": "Conv2D", "filters": 1, "kernel_size": 3, "padding": "causal"},
     lambda: keras.layers.Conv2D(1, 3, padding="causal")(keras.Input((5, 5, 1)))),
    ({"type": "Conv2DTranspose", "filters": 1, "kernel_size": 3, "groups": 2},
     lambda: keras.layers.Conv2DTranspose(1, 3, groups=2)),
    ({"type": "MaxPooling2D", "pool_size": 0}, lambda: keras.layers.MaxPooling2D(0)),
    ({"type": "Embedding", "input_dim": 0, "output_dim": 3}, lambda: keras.layers.Embedding(0, 3)),
    ({"type": "Dropout", "rate": -0.1}, lambda: keras.layers.Dropout(-0.1)),
    ({"type": "Bidirectional", "layer": {"type": "Dense", "units": 3}},
     lambda: keras.layers.Bidirectional(keras.layers.Dense(3))),
]


@pytest.mark.parametrize("spec, keras_call", INVALID, ids=[_fmt(s) for s, _ in INVALID])
def test_schema_error_is_justified_by_keras(spec, keras_call):
    with pytest.raises(pydantic.ValidationError):
        ADAPTER.validate_python(spec)
    with pytest.raises((ValueError, TypeError)):
        keras_call()


def test_deliberately_stricter_than_keras():
    """Where specc refuses what Keras accepts, on purpose. A change on either side shows here."""
    # Dense on a 4-D input: Keras applies it to the last axis of an image, which is
    # almost always a forgotten Flatten; specc asks for Flatten or global pooling.
    dense = ADAPTER.validate_python({"type": "Dense", "units": 3})
    with pytest.raises(ShapeError, match="Flatten or global pooling"):
        dense.infer([(None, 2, 2, 3)])
    assert keras_refusal({"type": "Dense", "units": 3}, (2, 2, 3)) is None
    # Dropout with rate 1 zeroes every value: Keras allows it, specc calls it a mistake.
    with pytest.raises(pydantic.ValidationError):
        ADAPTER.validate_python({"type": "Dropout", "rate": 1.0})
    assert float(np.abs(keras.layers.Dropout(1.0)(np.ones((2, 3), "float32"), training=True)).sum()) == 0.0
    # A fixed batch size in noise_shape: Keras runs it only for batches of exactly that size
    # (the last batch of an epoch is usually smaller), so specc asks for null or 1 there.
    spec = {"type": "Dropout", "rate": 0.5, "noise_shape": [BATCH, 1, 1]}
    with pytest.raises(ShapeError, match="noise_shape"):
        ADAPTER.validate_python(spec).infer([(None, 3, 4)])
    assert keras_refusal(spec, (3, 4)) is None
    with pytest.raises(Exception, match="Incompatible shapes|condition"):
        keras.layers.Dropout(0.5, noise_shape=(BATCH, 1, 1))(np.ones((BATCH + 1, 3, 4), "float32"), training=True)


# -- whole models: every node of a checked spec against the model Keras builds --
MODELS = {
    "cnn": """
specc: 1
name: cnn
layers:
  - type: Conv2D
    filters: 8
    kernel_size: 3
    activation: relu
    input_shape: [28, 28, 1]
  - type: BatchNormalization
  - type: MaxPooling2D
  - type: Conv2D
    filters: 16
    kernel_size: [3, 2]
    strides: 2
    padding: same
    groups: 2
    use_bias: false
  - type: AveragePooling2D
    pool_size: 3
    strides: 1
  - type: Dropout
    rate: 0.25
  - Flatten
  - type: Dense
    units: 32
    activation: relu
    trainable: false
  - type: Dense
    units: 10
    activation: softmax
""",
    "text": """
specc: 1
name: text
layers:
  - type: Input
    name: tokens
    shape: [null]
    dtype: int32
  - type: Embedding
    input_dim: 1000
    output_dim: 16
    mask_zero: true
  - type: Bidirectional
    layer: {type: LSTM, units: 8, return_sequences: true}
  - type: LayerNormalization
  - type: GRU
    units: 8
    reset_after: false
  - type: Dense
    units: 1
    activation: sigmoid
""",
    "two_heads": """
specc: 1
name: two_heads
layers:
  - type: Input
    name: series
    shape: [16, 3]
  - type: Conv1D
    name: features
    filters: 4
    kernel_size: 3
    padding: causal
    dilation_rate: 2
  - type: MaxPooling1D
    pool_size: 3
    strides: 2
  - type: UpSampling1D
    size: 2
  - type: GlobalMaxPooling1D
  - type: Dense
    name: head_a
    units: 2
  - type: SimpleRNN
    inputs: features
    units: 4
  - type: RepeatVector
    n: 3
  - type: GRU
    units: 5
    return_sequences: true
  - type: TimeDistributed
    name: head_b
    layer: {type: Dense, units: 2, activation: tanh}
outputs: [head_a, head_b]
""",
    "decoder": """
specc: 1
name: decoder
layers:
  - type: Dense
    units: 98
    input_dim: 16
    activation: relu
  - type: Reshape
    target_shape: [7, 7, 2]
  - type: Conv2DTranspose
    filters: 8
    kernel_size: 3
    strides: 2
    padding: same
    output_padding: 1
  - type: UpSampling2D
    size: [2, 1]
  - type: BatchNormalization
    center: false
    trainable: false
  - type: Conv2DTranspose
    filters: 4
    kernel_size: [4, 3]
    strides: [1, 2]
  - type: Conv2D
    filters: 1
    kernel_size: 3
    padding: same
    activation: sigmoid
  - type: GlobalAveragePooling2D
    keepdims: true
  - type: Reshape
    target_shape: [-1]
""",
    "video": """
specc: 1
name: video
layers:
  - type: Input
    shape: [null, 12, 12, 3]
  - type: TimeDistributed
    layer: {type: Conv2D, filters: 4, kernel_size: 3, strides: 2}
  - type: TimeDistributed
    layer: {type: GlobalAveragePooling2D}
  - type: LSTM
    units: 6
    return_sequences: true
  - type: Bidirectional
    merge_mode: ave
    layer: {type: SimpleRNN, units: 3}
  - type: Dense
    units: 3
    activation: softmax
""",
}


@pytest.mark.parametrize("name", sorted(MODELS))
def test_model_matches_keras(name):
    result = check_text(MODELS[name], f"{name}.yaml")
    assert result.ok, [d.message for d in result.errors]
    model = keras_model(result, compile=False)
    assert len(result.graph.nodes) == len(model.layers)
    for node in result.graph.nodes:
        info = result.info[node.name]
        built = model.get_layer(node.name)
        assert tuple(built.output.shape) == info.shape, node.name
        assert built.count_params() == info.params.total, node.name
        assert keras_counts(built) == (info.params.trainable, info.params.non_trainable), node.name
    assert model.count_params() == result.params.total
    assert keras_counts(model) == (result.params.trainable, result.params.non_trainable)

    # One real batch: every size specc knows is the size Keras computes.
    inputs = []
    for n in result.graph.inputs:
        layer = result.graph.by_name[n].layer
        shape = (BATCH, *(5 if d is None else d for d in layer.shape))
        inputs.append(sample_batch(shape, layer.dtype, 2))
    outputs = model(inputs[0] if len(inputs) == 1 else inputs)
    outputs = outputs if isinstance(outputs, (list, tuple)) else [outputs]
    for n, out in zip(result.graph.outputs, outputs):
        want = result.info[n].shape
        assert len(out.shape) == len(want)
        assert all(w is None or w == g for w, g in zip(want[1:], out.shape[1:])), (n, want, tuple(out.shape))
