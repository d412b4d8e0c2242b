"""Conformance: specc's static shapes and parameter counts equal what Keras builds.

Every registered layer kind is checked the way Keras checks its own layers
(``run_layer_test``): validate the spec, compute the output shape and the
trainable / non-trainable parameter counts with the kind's own rules, then
build the real Keras layer through ``to_keras``, call it (through the kind's
``call_keras``, as ``specc.lower`` does) on ``keras.Input`` and on a concrete
batch, and compare. A case of a multi-input kind (merges, attention) gives a
list of input shapes. Negative cases check that every static
error specc raises is one Keras would also hit (it refuses the layer, an
output size is 0 or less, or the shape it computes is not the one it
reports); the few places where specc is stricter on purpose are listed
separately and asserted as such. Whole specs are checked node by node against
the model ``specc.lower.keras_model`` builds.
"""

from __future__ import annotations

import os

os.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"


import keras  # noqa: E402
import numpy as np  # noqa: E402
import pydantic  # noqa: E402
import pytest  # noqa: E402

from specc.check import check_text  # noqa: E402
from specc.layers import REGISTRY, AnyLayer, ShapeError  # noqa: E402
from specc.layers.base import ACTIVATIONS as ACTIVATION_NAMES  # noqa: E402
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


def sample_batch(shape: tuple, dtype: str, high: int | None, seed: int = 0):
    rng = np.random.default_rng(seed)
    if dtype.startswith("int"):
        return rng.integers(0, high or 2, size=shape).astype(dtype)
    return rng.normal(size=shape).astype(dtype)


def _int_input_dim(spec: dict) -> int | None:
    """Token ids must stay below an Embedding's input_dim (also when wrapped)."""
    while spec.get("type") == "TimeDistributed":
        spec = spec["layer"]
    return spec.get("input_dim") if spec.get("type") == "Embedding" else None


def samples_of(sample_shape) -> list[tuple]:
    """A case's input sample shapes: one tuple, or a list of tuples for a layer with several inputs."""
    return list(sample_shape) if isinstance(sample_shape, list) else [sample_shape]


def keras_inputs(samples: list[tuple], dtype: str) -> list:
    return [keras.Input(shape=s, dtype=dtype) for s in samples]


def concrete_batches(spec: dict, samples: list[tuple], dtype: str, fill: int) -> tuple[list[tuple], list]:
    concrete = [tuple(fill if d is None else d for d in s) for s in samples]
    batches = [sample_batch((BATCH, *c), dtype, _int_input_dim(spec), seed=k) for k, c in enumerate(concrete)]
    return concrete, batches


def run_layer_case(spec: dict, sample_shape: tuple | list | None, dtype: str = "float32", fill: int = 8):
    """Compare specc's rules with the Keras layer built from ``spec`` on its input(s).

    ``sample_shape`` excludes the batch axis and may hold None (unknown size); a list of
    shapes feeds a layer with several inputs, in ``inputs`` order. For the concrete forward
    pass each None becomes ``fill``. Inputs reach the Keras layer through the kind's own
    ``call_keras``, as in ``specc.lower``.
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

    samples = samples_of(sample_shape)
    lo, hi = layer.n_inputs
    assert lo <= len(samples) <= hi, f"{layer.kind()} takes {lo} to {hi} inputs"
    shapes_in = [(None, *s) for s in samples]
    expected = tuple(layer.infer(shapes_in))
    params = layer.params(shapes_in)

    built = layer.to_keras("conformance")
    out = layer.call_keras(built, keras_inputs(samples, dtype))
    assert tuple(out.shape) == expected, f"shape: specc {expected}, Keras {tuple(out.shape)}"
    assert built.count_params() == params.total, f"params: specc {params.total}, Keras {built.count_params()}"
    assert keras_counts(built) == (params.trainable, params.non_trainable)

    # Real forward passes (inference and training): the shape Keras reports is the one it computes.
    concrete, batches = concrete_batches(spec, samples, dtype, fill)
    want = tuple(layer.infer([(None, *c) for c in concrete]))
    for training in (False, True):
        got = tuple(layer.call_keras(built, batches, training=training).shape)
        assert got == (BATCH, *want[1:]), f"eager shape (training={training}): specc {want}, Keras {got}"

    # trainable: false freezes every weight, in specc and in Keras.
    frozen = ADAPTER.validate_python({**spec, "trainable": False})
    frozen_params = frozen.params(shapes_in)
    assert frozen_params.trainable == 0 and frozen_params.non_trainable == params.total
    frozen_keras = frozen.to_keras("conformance_frozen")
    frozen_out = frozen.call_keras(frozen_keras, keras_inputs(samples, dtype))
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


ACTIVATIONS = list(ACTIVATION_NAMES)

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
    case({"type": "TimeDistributed", "layer": {"type": "SeparableConv2D", "filters": 3, "kernel_size": 3}},
         (2, 5, 5, 2)),
    case({"type": "TimeDistributed", "layer": {"type": "GroupNormalization", "groups": 2}}, (None, 4)),
]

def _merge_cases():
    out = []
    for kind in ("Add", "Multiply", "Average", "Maximum", "Minimum"):
        out += [
            case({"type": kind}, [(4,), (4,)]),
            case({"type": kind}, [(3, 4), (3, 4), (3, 4)]),
            case({"type": kind}, [(3, 1), (1, 4)]),
            case({"type": kind}, [(4,), (3, 4)]),
            case({"type": kind}, [(None, 4), (None, 4)]),
        ]
    out += [
        case({"type": "Add"}, [(5, 5, 3)] * 4),
        case({"type": "Add"}, [(None, 1), (5, 4)], fill=5),  # Keras reports the unknown axis as unknown
        case({"type": "Add"}, [(2, None, 3), (None, 3)]),
        case({"type": "Add"}, [(), (3,)]),
        case({"type": "Add"}, [(1,), (6,)]),
        case({"type": "Subtract"}, [(4,), (4,)]),
        case({"type": "Subtract"}, [(3, 1), (3, 5)]),
        case({"type": "Subtract"}, [(None, 2), (None, 2)]),
        case({"type": "Subtract"}, [(5,), (2, 5)]),
        case({"type": "Concatenate"}, [(3, 4), (3, 2)]),
        case({"type": "Concatenate", "axis": 1}, [(3, 4), (2, 4)]),
        case({"type": "Concatenate", "axis": -2}, [(3, 4), (2, 4)]),
        case({"type": "Concatenate", "axis": 2}, [(3, 4), (3, 1)]),
        case({"type": "Concatenate", "axis": 1}, [(2, 5, 3), (4, 5, 3), (1, 5, 3)]),
        case({"type": "Concatenate"}, [(5, 5, 2), (5, 5, 3), (5, 5, 1)]),
        case({"type": "Concatenate"}, [(None, 4), (None, 2)]),
        case({"type": "Concatenate"}, [(None, 4), (3, 2)], fill=3),  # other axes as the first input reports them
        case({"type": "Concatenate"}, [(3, None), (3, 2)], fill=4),
        case({"type": "Concatenate"}, [(4,), (5,)]),
        case({"type": "Concatenate", "axis": 1}, [(3, 4), (3, 4), (3, 4), (3, 4)]),
        case({"type": "Dot", "axes": 1}, [(4,), (4,)]),
        case({"type": "Dot", "axes": -1}, [(2, 3, 4), (5, 4)]),
        case({"type": "Dot", "axes": [1, 2]}, [(3, 5), (10, 3)]),
        case({"type": "Dot", "axes": [2, 2]}, [(3, 5), (4, 5)]),
        case({"type": "Dot", "axes": [1, 1]}, [(3,), (3, 4, 5)]),
        case({"type": "Dot", "axes": [2, 1]}, [(3, 4), (4,)]),
        case({"type": "Dot", "axes": -1, "normalize": True}, [(6,), (6,)]),
        case({"type": "Dot", "axes": 1}, [(None,), (None,)]),
        case({"type": "Dot", "axes": [3, 2]}, [(2, 3, 4), (5, 4, 6)]),
        case({"type": "Dot", "axes": [1, -1]}, [(4,), (2, 4)]),
    ]
    return out


def _conv_more_cases():
    out = []
    for kernel in (3, [1, 2, 3]):
        for strides in (1, 2):
            for padding in ("valid", "same"):
                out.append(case({"type": "Conv3D", "filters": 2, "kernel_size": kernel, "strides": strides,
                                 "padding": padding}, (5, 6, 7, 2)))
    out += [
        case({"type": "Conv3D", "filters": 2, "kernel_size": 2, "dilation_rate": 2}, (5, 5, 5, 1)),
        case({"type": "Conv3D", "filters": 4, "kernel_size": 1, "groups": 2, "use_bias": False}, (3, 3, 3, 2)),
        case({"type": "Conv3D", "filters": 3, "kernel_size": [2, 3, 3], "strides": [1, 2, 2], "padding": "same"},
             (None, None, 6, 1)),
        case({"type": "Conv3D", "filters": 1, "kernel_size": [4, 4, 4], "activation": "relu"}, (4, 4, 4, 3)),
    ]
    for i, (kernel, strides, padding) in enumerate(
        [(k, s, p) for k in (3, [3, 2]) for s in (1, 2) for p in ("valid", "same")]
    ):
        out.append(case({"type": "DepthwiseConv2D", "kernel_size": kernel, "strides": strides, "padding": padding,
                         "depth_multiplier": 1 + i % 2}, (7, 8, 3)))
        out.append(case({"type": "SeparableConv2D", "filters": 4, "kernel_size": kernel, "strides": strides,
                         "padding": padding, "depth_multiplier": 2 - i % 2}, (7, 8, 3)))
    out += [
        case({"type": "DepthwiseConv2D", "kernel_size": 3, "dilation_rate": 2}, (9, 9, 2)),
        case({"type": "DepthwiseConv2D", "kernel_size": 3, "dilation_rate": [1, 2], "padding": "same"}, (5, 6, 2)),
        # unlike Conv2D, Keras runs depthwise convolutions with strides > 1 and dilation_rate > 1
        case({"type": "DepthwiseConv2D", "kernel_size": 3, "strides": 2, "dilation_rate": 2}, (9, 9, 2)),
        case({"type": "DepthwiseConv2D", "kernel_size": 3, "use_bias": False, "depth_multiplier": 3}, (None, None, 2)),
        case({"type": "DepthwiseConv2D", "kernel_size": [5, 6], "activation": "relu"}, (5, 6, 1)),
        case({"type": "SeparableConv2D", "filters": 2, "kernel_size": 3, "dilation_rate": 2, "padding": "same"},
             (5, 6, 2)),
        case({"type": "SeparableConv2D", "filters": 3, "kernel_size": 3, "strides": 2, "dilation_rate": 2}, (9, 9, 2)),
        case({"type": "SeparableConv2D", "filters": 8, "kernel_size": 1, "use_bias": False}, (None, 5, 4)),
        case({"type": "SeparableConv2D", "filters": 2, "kernel_size": 3, "pointwise_regularizer": {"l2": 1e-4},
              "depthwise_regularizer": {"l1": 1e-4}}, (4, 4, 3)),
    ]
    return out


def _pool_more_cases():
    out = []
    for kind in ("MaxPooling3D", "AveragePooling3D"):
        for pool, strides in ((2, None), (3, 1), ([1, 2, 3], [1, 1, 2])):
            for padding in ("valid", "same"):
                spec = {"type": kind, "pool_size": pool, "padding": padding}
                if strides is not None:
                    spec["strides"] = strides
                out.append(case(spec, (4, 6, 7, 2)))
        out.append(case({"type": kind}, (None, None, 4, 1)))
    for kind in ("GlobalAveragePooling3D", "GlobalMaxPooling3D"):
        for keepdims in (False, True):
            out.append(case({"type": kind, "keepdims": keepdims}, (3, 4, 5, 2)))
            out.append(case({"type": kind, "keepdims": keepdims}, (None, None, None, 3)))
    out += [
        case({"type": "UpSampling3D"}, (2, 3, 4, 1)),
        case({"type": "UpSampling3D", "size": [1, 2, 3]}, (3, 4, None, 2)),
        case({"type": "UpSampling3D", "size": 3}, (None, 2, 2, 1)),
    ]
    return out


RESHAPING = [
    case({"type": "ZeroPadding1D"}, (5, 2)),
    case({"type": "ZeroPadding1D", "padding": [0, 3]}, (5, 2)),
    case({"type": "ZeroPadding1D", "padding": 2}, (None, 3)),
    case({"type": "ZeroPadding2D"}, (4, 5, 2)),
    case({"type": "ZeroPadding2D", "padding": [1, 2]}, (4, 5, 2)),
    case({"type": "ZeroPadding2D", "padding": [[0, 1], [2, 3]]}, (4, 5, 2)),
    case({"type": "ZeroPadding2D", "padding": [1, [2, 0]]}, (None, 5, 1)),
    case({"type": "ZeroPadding2D", "padding": 0}, (None, None, 3)),
    case({"type": "Cropping1D"}, (5, 2)),
    case({"type": "Cropping1D", "cropping": [2, 0]}, (5, 2)),
    case({"type": "Cropping1D", "cropping": 0}, (5, 2)),
    case({"type": "Cropping1D", "cropping": [1, 3]}, (None, 3)),
    case({"type": "Cropping2D"}, (4, 5, 2)),
    case({"type": "Cropping2D", "cropping": 1}, (4, 5, 2)),
    case({"type": "Cropping2D", "cropping": [1, 2]}, (4, 5, 2)),
    case({"type": "Cropping2D", "cropping": [[0, 1], [2, 0]]}, (4, 5, 2)),
    case({"type": "Cropping2D", "cropping": [[1, 1], 1]}, (None, 6, 3)),
    case({"type": "Permute", "dims": [2, 1]}, (3, 4)),
    case({"type": "Permute", "dims": [3, 1, 2]}, (2, 3, 4)),
    case({"type": "Permute", "dims": [1]}, (5,)),
    case({"type": "Permute", "dims": [2, 1]}, (None, 4)),
    case({"type": "Rescaling", "scale": 0.00392156862745098}, (4, 4, 3)),
    case({"type": "Rescaling", "scale": 2, "offset": -1}, (None, 5)),
    case({"type": "Rescaling", "scale": [0.5, 0.25, 2.0], "offset": [1.0, 0.0, -1.0]}, (2, 2, 3)),
    case({"type": "Rescaling", "scale": [3.0]}, (4,)),
    case({"type": "Rescaling", "scale": 0.5}, (3, 2), "int32"),
]

NORMALIZATION_MORE = [
    case({"type": "GroupNormalization", "groups": 3}, (5, 6)),
    case({"type": "GroupNormalization", "groups": -1}, (5, 6)),
    case({"type": "GroupNormalization", "groups": 2, "axis": 1}, (4, 6)),
    case({"type": "GroupNormalization", "groups": 2, "axis": -2}, (3, 4, 6)),
    case({"type": "GroupNormalization"}, (4, 4, 64)),
    case({"type": "GroupNormalization", "groups": 4, "center": False}, (4, 4, 8)),
    case({"type": "GroupNormalization", "groups": 1, "scale": False}, (None, 6)),
    case({"type": "GroupNormalization", "groups": 6, "center": False, "scale": False}, (6,)),
    case({"type": "UnitNormalization"}, (4,)),
    case({"type": "UnitNormalization", "axis": 1}, (3, 4)),
    case({"type": "UnitNormalization", "axis": [1, 2]}, (3, 4)),
    case({"type": "UnitNormalization", "axis": [-1, -2]}, (2, 3, 4)),
    case({"type": "UnitNormalization"}, (None, None)),
    case({"type": "RMSNormalization"}, (4,)),
    case({"type": "RMSNormalization", "epsilon": 1e-5}, (3, 5)),
    case({"type": "RMSNormalization", "axis": [-2, -1]}, (2, 3, 4)),
    case({"type": "RMSNormalization", "axis": [2, 1]}, (3, 4)),
    case({"type": "RMSNormalization", "axis": 2}, (3, 4)),
    case({"type": "RMSNormalization"}, (None, 4)),
    case({"type": "Normalization", "mean": 0.5, "variance": 4.0}, (4,)),
    case({"type": "Normalization", "mean": [0.0, 1.0, 2.0], "variance": [1.0, 4.0, 9.0]}, (3,)),
    case({"type": "Normalization", "mean": 1.0, "variance": 2.0, "axis": None}, (2, 3)),
    case({"type": "Normalization", "mean": [1.0, 2.0, 3.0], "variance": [1.0, 1.0, 1.0], "axis": 1}, (3, 4)),
    case({"type": "Normalization", "mean": [1.0, 2.0], "variance": [1.0, 2.0], "axis": [1, 2], "invert": True},
         (3, 2)),
    case({"type": "Normalization", "mean": [0.0], "variance": [1.0]}, (None, 5)),
    # Without mean and variance: Keras's adapt form, statistics as non-trainable weights (e.g. EfficientNet).
    case({"type": "Normalization"}, (4,)),
    case({"type": "Normalization"}, (None, 3)),
    case({"type": "Normalization", "axis": [1, 2]}, (3, 4, 2)),
    case({"type": "Normalization", "axis": None}, (2, 3)),
    case({"type": "Normalization", "axis": 1, "invert": True}, (3, 5)),
]

ACTIVATION_LAYERS = [
    case({"type": "LeakyReLU"}, (4,)),
    case({"type": "LeakyReLU", "negative_slope": 0.1}, (None, 3)),
    case({"type": "LeakyReLU", "negative_slope": 0}, (2, 3, 4)),
    case({"type": "ReLU"}, (4,)),
    case({"type": "ReLU", "max_value": 6}, (3, 3, 2)),
    case({"type": "ReLU", "negative_slope": 0.1, "threshold": 0.5}, (None, 4)),
    case({"type": "ReLU", "max_value": 1.0, "negative_slope": 0.2, "threshold": 0.1}, (5,)),
    case({"type": "PReLU"}, (3, 4)),
    case({"type": "PReLU", "shared_axes": [1, 2]}, (None, None, 4)),
    case({"type": "PReLU", "shared_axes": [1]}, (None, 3)),
    case({"type": "PReLU", "alpha_initializer": "ones", "alpha_regularizer": {"l2": 0.01}}, (5,)),
    case({"type": "PReLU", "shared_axes": [2]}, (4, 5, 2)),
    case({"type": "ELU"}, (4,)),
    case({"type": "ELU", "alpha": 0.5}, (None, 3)),
    case({"type": "ELU", "alpha": -1}, (2, 2)),
    case({"type": "Softmax"}, (4,)),
    case({"type": "Softmax", "axis": 1}, (3, 4)),
    case({"type": "Softmax", "axis": [1, 2]}, (3, 4)),
    case({"type": "Softmax", "axis": [-1]}, (2, 3, 4)),
    case({"type": "Softmax"}, (None, 5)),
]

REGULARIZATION = [
    case({"type": "SpatialDropout1D", "rate": 0.5}, (4, 3)),
    case({"type": "SpatialDropout1D", "rate": 0.0, "seed": 1}, (None, 2)),
    case({"type": "SpatialDropout2D", "rate": 0.5}, (4, 4, 3)),
    case({"type": "SpatialDropout2D", "rate": 0.2, "seed": 7}, (None, None, 2)),
    case({"type": "GaussianNoise", "stddev": 0.1}, (4,)),
    case({"type": "GaussianNoise", "stddev": 1.0, "seed": 3}, (None, 3)),
    case({"type": "GaussianNoise", "stddev": 0.0}, (2, 2, 1)),
    case({"type": "GaussianDropout", "rate": 0.3}, (4,)),
    case({"type": "GaussianDropout", "rate": 0.0}, (None, 2)),
    case({"type": "ActivityRegularization"}, (4,)),
    case({"type": "ActivityRegularization", "l1": 0.01}, (3, 2)),
    case({"type": "ActivityRegularization", "l2": 0.01}, (None,)),
    case({"type": "ActivityRegularization", "l1": 0.1, "l2": 0.2}, (2, 2, 2)),
]

APPLICATION_LAYERS = [
    case({"type": "LayerScale", "init_values": 0.5, "projection_dim": 4}, (3, 3, 4)),
    case({"type": "LayerScale", "init_values": 1e-6, "projection_dim": 6}, (6,)),
    case({"type": "CustomScaleLayer", "scale": 0.17}, [(3, 3, 4), (3, 3, 4)]),
    case({"type": "CustomScaleLayer", "scale": 2.0}, [(5,), (1,)]),
]

ATTENTION = [
    case({"type": "MultiHeadAttention", "num_heads": 2, "key_dim": 4}, [(5, 6), (7, 3)]),
    case({"type": "MultiHeadAttention", "num_heads": 2, "key_dim": 4}, [(5, 6), (7, 3), (7, 9)]),
    case({"type": "MultiHeadAttention", "num_heads": 3, "key_dim": 2, "value_dim": 3, "use_bias": False},
         [(5, 6), (5, 6)]),
    case({"type": "MultiHeadAttention", "num_heads": 2, "key_dim": 4, "output_shape": 5}, [(5, 6), (3, 3)]),
    case({"type": "MultiHeadAttention", "num_heads": 2, "key_dim": 4, "output_shape": [3, 2]}, [(5, 6), (3, 3)]),
    case({"type": "MultiHeadAttention", "num_heads": 2, "key_dim": 4, "dropout": 0.5, "seed": 1},
         [(None, 6), (None, 6)]),
    case({"type": "MultiHeadAttention", "num_heads": 2, "key_dim": 4}, [(5, 4, 6), (3, 2, 3)]),
    case({"type": "MultiHeadAttention", "num_heads": 1, "key_dim": 1, "kernel_regularizer": {"l2": 1e-4}},
         [(None, 2), (4, 3), (4, 1)]),
    case({"type": "MultiHeadAttention", "num_heads": 2, "key_dim": 4, "attention_axes": [2]}, [(5, 4, 6), (5, 3, 6)]),
    case({"type": "MultiHeadAttention", "num_heads": 2, "key_dim": 4, "attention_axes": -2}, [(5, 6), (7, 3)]),
    case({"type": "MultiHeadAttention", "num_heads": 1, "key_dim": 2, "attention_axes": [1, 2]},
         [(3, 4, 6), (2, 2, 6)]),
    case({"type": "Attention"}, [(5, 6), (7, 6)]),
    case({"type": "Attention"}, [(5, 6), (7, 3), (7, 6)]),
    case({"type": "Attention", "use_scale": True}, [(None, 4), (None, 4)]),
    case({"type": "Attention", "score_mode": "concat"}, [(5, 6), (7, 6)]),
    case({"type": "Attention", "score_mode": "concat", "use_scale": True}, [(5, 1), (7, 4)]),
    case({"type": "Attention", "dropout": 0.5, "seed": 2}, [(5, 6), (5, 6)]),
    case({"type": "Attention"}, [(3, 2), (None, 2), (None, 2)]),
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

CASES = [
    *CORE,
    *_conv1d_cases(),
    *_conv2d_cases(),
    *_conv2d_transpose_cases(),
    *_conv_more_cases(),
    *_pool_cases(),
    *_pool_more_cases(),
    *RESHAPING,
    *NORMALIZATION,
    *NORMALIZATION_MORE,
    *ACTIVATION_LAYERS,
    *REGULARIZATION,
    *EMBEDDING,
    *_recurrent_cases(),
    *WRAPPERS,
    *_merge_cases(),
    *ATTENTION,
    *APPLICATION_LAYERS,
    *INITIALIZERS,
]


@pytest.mark.parametrize("spec, shape, dtype, fill", CASES)
def test_layer_matches_keras(spec, shape, dtype, fill):
    run_layer_case(spec, shape, dtype, fill)


@pytest.mark.parametrize("init", INITIALIZER_ARGS, ids=[_fmt(i) for i in INITIALIZER_ARGS])
def test_initializer_mapping_reaches_keras(init):
    layer = ADAPTER.validate_python({"type": "Dense", "units": 3, "kernel_initializer": init})
    built = layer.to_keras("dense")
    got = built.kernel_initializer
    assert type(got).__name__ == init["type"]
    config = got.get_config()
    for key, value in init.items():
        if key != "type":
            assert config[key] == pytest.approx(value) if isinstance(value, float) else config[key] == value


def test_every_kind_has_a_conformance_case():
    covered = {p.values[0]["type"] for p in CASES}
    # Block, Model and Shared refer to other parts of a spec: tests/test_reuse.py checks them in whole models.
    missing = sorted(k for k in set(REGISTRY) - covered if REGISTRY[k].category != "reuse")
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


def keras_refusal(spec: dict, sample_shape: tuple | list, dtype: str = "float32", fill: int = 8) -> str | None:
    """Why Keras cannot use this layer on this input (or inputs); None when it builds, and runs
    (inference and training) with the shape it reports and no size of 0 or less."""
    layer = ADAPTER.validate_python(spec)
    samples = samples_of(sample_shape)
    try:
        built = layer.to_keras("negative")
        out = layer.call_keras(built, keras_inputs(samples, dtype))
        if any(d is not None and d <= 0 for d in out.shape):
            return f"output shape {tuple(out.shape)}"
        _, batches = concrete_batches(spec, samples, dtype, fill)
        for training in (False, True):
            got = tuple(layer.call_keras(built, batches, training=training).shape)
            if got != (BATCH, *out.shape[1:]) or any(d <= 0 for d in got):
                return f"output shape {got} (training={training}), reported {tuple(out.shape)}"
    except Exception as e:  # Keras refuses: at construction, when built, or when it runs
        assert not any(m in str(e) for m in _LOWERING_BUGS), f"specc lowered the layer wrongly: {e}"
        return f"{type(e).__name__}: {str(e).strip().splitlines()[0][:200]}"
    return None


def bad(spec: dict, shape: tuple | list, dtype: str = "float32", match: str = ""):
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
    # merge layers: shapes that neither match nor broadcast
    bad({"type": "Add"}, [(3,), (4,)], match=r"axis -1 \(counted from the end\) is 3 in input 1 and 4 in input 2. "
        r"Received: input shapes \(None, 3\), \(None, 4\)"),
    bad({"type": "Add"}, [(3, 4), (3, 4), (2, 4)],
        match=r"axis -2 \(counted from the end\) is 3 in inputs 1 to 2 and 2 in input 3"),
    bad({"type": "Multiply"}, [(5, 3), (4, 3)], match="same shape, or sizes of 1"),
    bad({"type": "Subtract"}, [(2, 3), (2,)], match="is 3 in input 1 and 2 in input 2"),
    bad({"type": "Maximum"}, [(4,), (3, 5)], match="is 4 in input 1 and 5 in input 2"),
    bad({"type": "Average"}, [(8, 8, 16), (4, 4, 16)], match="axis -3"),
    bad({"type": "Minimum"}, [(2,), (2,), (3,)], match="inputs 1 to 2"),
    bad({"type": "Concatenate"}, [(3, 4), (2, 4)], match=r"axis 1 has sizes 3, 2. Received: input shapes"),
    bad({"type": "Concatenate", "axis": 1}, [(5, 5, 3), (5, 4, 3)], match="axis 2 has sizes 5, 4"),
    bad({"type": "Concatenate"}, [(3, 4), (4,)], match="same rank"),
    bad({"type": "Concatenate", "axis": 3}, [(3, 4), (3, 4)], match="out of range"),
    bad({"type": "Concatenate", "axis": -4}, [(3, 4), (3, 4)], match="out of range"),
    # Keras reports an unknown batch size but computes a batch of 4 samples from 2
    bad({"type": "Concatenate", "axis": 0}, [(3, 4), (3, 4)], match="batch axis"),
    bad({"type": "Concatenate", "axis": -3}, [(3, 4), (3, 4)], match="batch axis"),
    bad({"type": "Concatenate"}, [(), ()], match="batch axis"),
    bad({"type": "Dot", "axes": 1}, [(3,), (4,)],
        match=r"axis 1 of input 1 \(size 3\) with axis 1 of input 2 \(size 4\)"),
    bad({"type": "Dot", "axes": [1, 2]}, [(3, 5), (10, 4)], match="sizes must be equal"),
    bad({"type": "Dot", "axes": 1}, [(None,), (4,)], match="both sizes known"),
    bad({"type": "Dot", "axes": 0}, [(4,), (4,)], match="batch axis"),
    bad({"type": "Dot", "axes": -2}, [(4,), (4,)], match="batch axis"),
    bad({"type": "Dot", "axes": [3, 1]}, [(3,), (3, 4, 5)], match="out of range for input 1"),
    bad({"type": "Dot", "axes": [1, -4]}, [(3,), (3, 4)], match="out of range for input 2"),
    bad({"type": "Dot", "axes": -1}, [(), ()], match="at least 2-D"),
    # attention
    bad({"type": "MultiHeadAttention", "num_heads": 2, "key_dim": 4}, [(5, 6), (7, 3), (6, 9)],
        match="value and key to match"),
    bad({"type": "MultiHeadAttention", "num_heads": 2, "key_dim": 4}, [(5, 6), (None, 3), (7, 9)],
        match="unknown size matches only an unknown size"),
    bad({"type": "MultiHeadAttention", "num_heads": 2, "key_dim": 4}, [(6,), (3,)], match="at least 3-D"),
    bad({"type": "MultiHeadAttention", "num_heads": 2, "key_dim": 4}, [(5, 4, 6), (3, 3)], match="same rank"),
    bad({"type": "MultiHeadAttention", "num_heads": 2, "key_dim": 4}, [(5, 6), (3, 3), (3, 4, 2)], match="same rank"),
    bad({"type": "MultiHeadAttention", "num_heads": 2, "key_dim": 4}, [(5, None), (3, 3)], match="known last axis"),
    bad({"type": "MultiHeadAttention", "num_heads": 2, "key_dim": 4}, [(5, 6), (3, 3), (3, None)],
        match="known last axis on the key"),
    bad({"type": "MultiHeadAttention", "num_heads": 2, "key_dim": 4, "attention_axes": [2]}, [(5, 4, 6), (3, 4, 6)],
        match="axes it does not attend over"),
    bad({"type": "MultiHeadAttention", "num_heads": 2, "key_dim": 4, "attention_axes": [5]}, [(5, 4, 6), (5, 4, 6)],
        match="between the batch axis and the features"),
    bad({"type": "Attention"}, [(5, 6), (7, 4)], match="same size on the last axis of the query and key"),
    bad({"type": "Attention", "score_mode": "concat"}, [(5, 6), (7, 4)], match=r"same size \(or 1\)"),
    bad({"type": "Attention"}, [(5, 6), (7, 3), (6, 6)], match="same number of steps"),
    # Keras reports (None, 1, 5, 6) but computes (2, 3, 5, 6)
    bad({"type": "Attention"}, [(1, 5, 6), (3, 7, 6)], match="3-D inputs"),
    # more windows that do not fit, and arguments Keras refuses
    bad({"type": "DepthwiseConv2D", "kernel_size": 7}, (5, 6, 1), match="kernel_size 7 does not fit"),
    bad({"type": "SeparableConv2D", "filters": 2, "kernel_size": [2, 7]}, (5, 6, 1), match="width of 6"),
    bad({"type": "Conv3D", "filters": 2, "kernel_size": [1, 1, 8]}, (5, 6, 7, 1), match="width of 7"),
    bad({"type": "Conv3D", "filters": 2, "kernel_size": 3, "dilation_rate": 3}, (7, 7, 6, 1), match="does not fit"),
    bad({"type": "Conv3D", "filters": 2, "kernel_size": 3, "strides": 2, "dilation_rate": 2}, (9, 9, 9, 1),
        match="strides > 1 with dilation_rate > 1"),
    bad({"type": "Conv3D", "filters": 4, "kernel_size": 1, "groups": 3}, (3, 3, 3, 4), match="groups"),
    bad({"type": "DepthwiseConv2D", "kernel_size": 3}, (5, 6, None), match="known channel axis"),
    bad({"type": "SeparableConv2D", "filters": 2, "kernel_size": [3, 3, 3]}, (6, 6, 1), match="needs 2 values"),
    bad({"type": "DepthwiseConv2D", "kernel_size": 3}, (6, 6), match="expects a 4-D input"),
    bad({"type": "Conv3D", "filters": 1, "kernel_size": 3}, (6, 6, 1), match="expects a 5-D input"),
    bad({"type": "MaxPooling3D", "pool_size": 3}, (2, 6, 7, 1), match="depth of 2"),
    bad({"type": "AveragePooling3D", "pool_size": [1, 1, 5]}, (2, 2, 4, 1), match="width of 4"),
    bad({"type": "MaxPooling3D"}, (4, 4, 1), match="expects a 5-D input"),
    bad({"type": "GlobalMaxPooling3D"}, (4, 4, 3), match="expects a 5-D input"),
    bad({"type": "UpSampling3D", "size": [2, 2]}, (3, 3, 3, 1), match="needs 3 values"),
    # padding, cropping, permuting
    bad({"type": "Cropping1D", "cropping": [2, 3]}, (5, 2), match="leaves none"),
    bad({"type": "Cropping2D", "cropping": [[1, 0], [3, 3]]}, (5, 6, 2), match="width of 6"),
    bad({"type": "Cropping2D", "cropping": 3}, (6, 5, 1), match="height of 6"),
    bad({"type": "Cropping2D", "cropping": [1, 2, 3]}, (6, 6, 1), match="needs one int"),
    bad({"type": "ZeroPadding2D", "padding": [1, 2, 3]}, (4, 4, 1), match="needs one int"),
    bad({"type": "ZeroPadding2D", "padding": [1, [1, 2, 3]]}, (4, 4, 1), match="for columns"),
    bad({"type": "ZeroPadding1D", "padding": [1, 2, 3]}, (4, 1), match="needs one int"),
    bad({"type": "ZeroPadding1D"}, (4, 4, 1), match="expects a 3-D input"),
    bad({"type": "Cropping2D"}, (4, 4), match="expects a 4-D input"),
    bad({"type": "Permute", "dims": [2, 1]}, (5, 4, 3), match="expects a 3-D input"),
    bad({"type": "Permute", "dims": [1, 3]}, (5, 4), match="each of 1 to 2 once"),
    bad({"type": "Permute", "dims": [2, 2]}, (5, 4), match="each of 1 to 2 once"),
    bad({"type": "Rescaling", "scale": [1.0, 2.0, 3.0]}, (4, 2), match="one per channel"),
    # Keras reports (None, 4, 1) but computes (2, 4, 3)
    bad({"type": "Rescaling", "scale": 1.0, "offset": [1.0, 2.0, 3.0]}, (4, 1), match="one per channel"),
    # normalization
    bad({"type": "LayerScale", "init_values": 1.0, "projection_dim": 3}, (4, 4, 2), match="projection_dim equal"),
    bad({"type": "CustomScaleLayer", "scale": 1.0}, [(3, 4), (3, 5)], match="same shape"),
    bad({"type": "GroupNormalization", "groups": 4}, (5, 6), match=r"groups \(4\) must divide the 6 channels"),
    bad({"type": "GroupNormalization"}, (5, 6), match=r"groups \(32\)"),
    bad({"type": "GroupNormalization", "groups": 1, "axis": 0}, (4, 6), match="not a feature axis"),
    bad({"type": "GroupNormalization", "groups": 2, "axis": 3}, (4, 6), match="not a feature axis"),
    bad({"type": "GroupNormalization", "groups": 2}, (5, None), match="known size"),
    bad({"type": "RMSNormalization", "axis": 1}, (3, 4), match="last axes"),
    bad({"type": "RMSNormalization", "axis": [1, 2]}, (2, 3, 4), match="last axes"),
    bad({"type": "RMSNormalization", "axis": [1, -1]}, (3, 4), match="last axes"),
    bad({"type": "RMSNormalization"}, (3, None), match="known size"),
    bad({"type": "RMSNormalization", "axis": 0}, (3, 4), match="not a feature axis"),
    bad({"type": "RMSNormalization", "axis": [-1, -1]}, (3, 4), match="twice"),
    bad({"type": "UnitNormalization", "axis": [1, 1]}, (3, 4), match="twice"),
    bad({"type": "UnitNormalization", "axis": [1, -2]}, (3, 4), match="twice"),
    bad({"type": "UnitNormalization", "axis": 5}, (3, 4), match="out of range"),
    bad({"type": "Normalization", "mean": [1.0, 2.0, 3.0], "variance": [1.0, 1.0, 1.0]}, (4,), match="3 values"),
    bad({"type": "Normalization", "mean": [1.0], "variance": [1.0], "axis": None}, (4,), match="axis: null"),
    bad({"type": "Normalization", "mean": [1.0, 2.0], "variance": 1.0}, (2,), match="same shape"),
    bad({"type": "Normalization", "mean": 1.0, "variance": 1.0, "axis": 0}, (4,), match="not a feature axis"),
    bad({"type": "Normalization", "mean": 1.0, "variance": 1.0}, (None,), match="known size"),
    # activation and noise layers
    bad({"type": "Softmax", "axis": 5}, (3, 4), match="out of range"),
    bad({"type": "Softmax", "axis": [1, 3]}, (3, 4), match="out of range"),
    bad({"type": "Softmax", "axis": [1, 1]}, (3, 4), match="twice"),
    bad({"type": "PReLU"}, (None, 4), match="known sizes on every axis it does not share"),
    bad({"type": "PReLU", "shared_axes": [3]}, (3, 4), match="axes 1 to 2"),
    bad({"type": "SpatialDropout1D", "rate": 0.5}, (4,), match="expects a 3-D input"),
    bad({"type": "SpatialDropout2D", "rate": 0.5}, (4, 4), match="expects a 4-D input"),
    bad({"type": "TimeDistributed", "layer": {"type": "Add"}}, (3, 4), match="one input"),
    bad({"type": "TimeDistributed", "layer": {"type": "Attention"}}, (3, 4, 2), match="one input"),
]


@pytest.mark.parametrize("spec, shape, dtype, match", REFUSED)
def test_static_error_is_justified_by_keras(spec, shape, dtype, match):
    layer = ADAPTER.validate_python(spec)
    with pytest.raises(ShapeError, match=match) as caught:
        shapes_in = [(None, *s) for s in samples_of(shape)]
        layer.infer(shapes_in)
        layer.params(shapes_in)
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
    ({"type": "Dot", "axes": [1]}, lambda: keras.layers.Dot([1])),
    ({"type": "Dot", "axes": [1, 2, 1]}, lambda: keras.layers.Dot([1, 2, 1])),
    ({"type": "DepthwiseConv2D", "kernel_size": 3, "depth_multiplier": 0},
     lambda: keras.layers.DepthwiseConv2D(3, depth_multiplier=0)),
    ({"type": "UpSampling3D", "size": 0}, lambda: keras.layers.UpSampling3D(0)),
    ({"type": "ZeroPadding1D", "padding": -1}, lambda: keras.layers.ZeroPadding1D(-1)),
    ({"type": "Cropping2D", "cropping": -1}, lambda: keras.layers.Cropping2D(-1)),
    ({"type": "Permute", "dims": [0, 1]}, lambda: keras.layers.Permute([0, 1])),
    ({"type": "GroupNormalization", "groups": 0}, lambda: keras.layers.GroupNormalization(0)),
    ({"type": "Normalization", "mean": 1.0}, lambda: keras.layers.Normalization(mean=1.0)),
    ({"type": "ReLU", "max_value": -1.0}, lambda: keras.layers.ReLU(max_value=-1.0)),
    ({"type": "ReLU", "threshold": -0.5}, lambda: keras.layers.ReLU(threshold=-0.5)),
    ({"type": "LeakyReLU", "negative_slope": -0.1}, lambda: keras.layers.LeakyReLU(negative_slope=-0.1)),
    ({"type": "SpatialDropout2D", "rate": 1.5}, lambda: keras.layers.SpatialDropout2D(1.5)),
    ({"type": "GaussianNoise", "stddev": 1.5}, lambda: keras.layers.GaussianNoise(1.5)),
    ({"type": "GaussianDropout", "rate": 1.0},
     lambda: keras.layers.GaussianDropout(1.0)(np.ones((BATCH, 3), "float32"), training=True)),
    ({"type": "ActivityRegularization", "l1": -0.1}, lambda: keras.layers.ActivityRegularization(l1=-0.1)),
    ({"type": "MultiHeadAttention", "num_heads": 0, "key_dim": 2}, lambda: keras.layers.MultiHeadAttention(0, 2)),
    ({"type": "MultiHeadAttention", "num_heads": 2, "key_dim": 2, "value_dim": 0},
     lambda: keras.layers.MultiHeadAttention(2, 2, value_dim=0)),
    ({"type": "Attention", "score_mode": "additive"}, lambda: keras.layers.Attention(score_mode="additive")),
    ({"type": "Dense", "units": 2, "kernel_initializer": {"type": "VarianceScaling", "scale": 0.0}},
     lambda: keras.initializers.VarianceScaling(scale=0.0)),
    ({"type": "Dense", "units": 2, "kernel_initializer": {"type": "VarianceScaling", "mode": "fan_sum"}},
     lambda: keras.initializers.VarianceScaling(mode="fan_sum")),
    ({"type": "Dense", "units": 2, "kernel_initializer": {"type": "VarianceScaling", "distribution": "poisson"}},
     lambda: keras.initializers.VarianceScaling(distribution="poisson")),
    ({"type": "Normalization", "variance": 1.0}, lambda: keras.layers.Normalization(variance=1.0)),
]


@pytest.mark.parametrize("spec, keras_call", INVALID, ids=[_fmt(s) for s, _ in INVALID])
def test_schema_error_is_justified_by_keras(spec, keras_call):
    with pytest.raises(pydantic.ValidationError):
        ADAPTER.validate_python(spec)
    with pytest.raises((ValueError, TypeError, ZeroDivisionError)):
        keras_call()


INPUT_COUNTS = [
    ("Subtract", 3, lambda x: keras.layers.Subtract()([x] * 3)),
    ("Dot", 3, lambda x: keras.layers.Dot(axes=-1)([x] * 3)),
    ("Attention", 4, lambda x: keras.layers.Attention()([x] * 4)),
    ("Attention", 1, lambda x: keras.layers.Attention()([x])),
    ("MultiHeadAttention", 1, lambda x: keras.layers.MultiHeadAttention(2, 2)(x)),
]


@pytest.mark.parametrize("kind, count, keras_call", INPUT_COUNTS, ids=[f"{k}x{n}" for k, n, _ in INPUT_COUNTS])
def test_input_count_error_is_justified_by_keras(kind, count, keras_call):
    args = {"Dot": "\n    axes: -1", "MultiHeadAttention": "\n    num_heads: 2\n    key_dim: 2"}.get(kind, "")
    names = ", ".join(["x"] * count)
    text = (f"specc: 1\nlayers:\n  - type: Input\n    name: x\n    shape: [3, 4]\n"
            f"  - type: {kind}\n    inputs: [{names}]{args}\n")
    result = check_text(text, "counts.yaml")
    assert [d.code for d in result.errors] == ["E204"], [d.message for d in result.errors]
    assert f"{kind} takes" in result.errors[0].message
    with pytest.raises((ValueError, TypeError)):
        keras_call(keras.Input((3, 4)))


def test_deliberately_stricter_than_keras():
    """Where specc refuses what Keras accepts, on purpose. A change on either side shows here."""
    # Dense on a 4-D input is not refused: Keras applies it to the last axis, position by position, and
    # ConvNeXt is built that way. As a model's output it is a forgotten Flatten: warning W407 (golden).
    dense = ADAPTER.validate_python({"type": "Dense", "units": 5})
    assert dense.infer([(None, 2, 2, 3)]) == tuple(keras.layers.Dense(5)(keras.Input((2, 2, 3))).shape)
    with pytest.raises(ShapeError, match="at least 2-D"):
        dense.infer([(None,)])
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


# Static errors on inputs Keras builds and runs: each is a silent mistake, refused on purpose.
STRICTER = [
    # Keras wraps an int axes below -rank around: -3 on 2-D inputs contracts axis 1.
    bad({"type": "Dot", "axes": -3}, [(4,), (4,)], match="out of range"),
    # A softmax or a norm across the batch axis makes each sample's output depend on the others.
    bad({"type": "Softmax", "axis": 0}, (3, 4), match="batch axis"),
    bad({"type": "Softmax", "axis": [-3]}, (3, 4), match="batch axis"),
    bad({"type": "UnitNormalization", "axis": 0}, (3, 4), match="batch axis"),
    # Attention on 2-D inputs (or a 2-D value) attends across the samples of the batch.
    bad({"type": "Attention"}, [(6,), (6,)], match="3-D inputs"),
    bad({"type": "Attention"}, [(5, 6), (6,)], match="3-D inputs"),
    # Keras runs 4-D inputs as batched matrices; specc keeps to the documented (batch, steps, features).
    bad({"type": "Attention"}, [(2, 5, 6), (2, 7, 6)], match="3-D inputs"),
    # Keras normalizes axis 1 but multiplies its learned scale along the last axis, of the same size here.
    bad({"type": "RMSNormalization", "axis": 1}, (4, 4), match="last axes"),
]


@pytest.mark.parametrize("spec, shape, dtype, match", STRICTER)
def test_stricter_static_error_on_what_keras_runs(spec, shape, dtype, match):
    layer = ADAPTER.validate_python(spec)
    with pytest.raises(ShapeError, match=match):
        layer.infer([(None, *s) for s in samples_of(shape)])
    assert keras_refusal(spec, shape, dtype) is None


def test_new_kinds_schema_stricter_than_keras():
    """Schema refusals of values Keras accepts, each with what Keras does with them."""
    x = np.arange(1, 7, dtype="float32").reshape(BATCH, 3)
    # A merge of one input: Keras returns the input; in a spec it is a missing input.
    assert np.array_equal(np.asarray(keras.layers.Add()([x])), x)
    result = check_text("specc: 1\nlayers:\n  - type: Input\n    shape: [3]\n  - Add\n", "one.yaml")
    assert [d.code for d in result.errors] == ["E204"]
    # shared_axes counts from 1 (axis 0 is the batch); Keras reads 0 as the last axis.
    with pytest.raises(pydantic.ValidationError):
        ADAPTER.validate_python({"type": "PReLU", "shared_axes": [0]})
    prelu = keras.layers.PReLU(shared_axes=[0])
    prelu(keras.Input((3, 4)))
    assert tuple(prelu.alpha.shape) == (3, 1)
    # A negative variance: Keras outputs NaN.
    with pytest.raises(pydantic.ValidationError):
        ADAPTER.validate_python({"type": "Normalization", "mean": 0.0, "variance": -1.0})
    assert np.isnan(np.asarray(keras.layers.Normalization(mean=0.0, variance=-1.0)(x))).all()


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
    "residual": """
specc: 1
name: residual
layers:
  - type: Input
    name: image
    shape: [32, 32, 3]
  - type: Rescaling
    scale: 0.00392156862745098
  - type: Conv2D
    name: stem
    filters: 16
    kernel_size: 3
    padding: same
  - type: BatchNormalization
  - type: ReLU
  - type: Conv2D
    filters: 16
    kernel_size: 3
    padding: same
    use_bias: false
  - type: BatchNormalization
    name: block1_bn
  - type: Add
    name: block1
    inputs: [block1_bn, stem]
  - type: ReLU
    name: block1_out
  - type: SeparableConv2D
    filters: 32
    kernel_size: 3
    strides: 2
    padding: same
  - type: GroupNormalization
    groups: 8
  - type: ReLU
    max_value: 6
    name: block2_main
  - type: Conv2D
    name: projection
    inputs: block1_out
    filters: 32
    kernel_size: 1
    strides: 2
  - type: Add
    name: block2
    inputs: [block2_main, projection]
  - type: GlobalAveragePooling2D
  - type: Dense
    units: 10
  - type: Softmax
    name: probabilities
compile:
  optimizer: adam
  loss: sparse_categorical_crossentropy
""",
    "inception": """
specc: 1
name: inception
layers:
  - type: Input
    name: image
    shape: [28, 28, 1]
  - type: Conv2D
    name: stem
    filters: 8
    kernel_size: 3
    activation: relu
  - type: Conv2D
    name: branch_1x1
    inputs: stem
    filters: 4
    kernel_size: 1
  - type: Conv2D
    name: branch_3x3_reduce
    inputs: stem
    filters: 4
    kernel_size: 1
  - type: Conv2D
    name: branch_3x3
    filters: 6
    kernel_size: 3
    padding: same
  - type: Conv2D
    name: branch_5x5_reduce
    inputs: stem
    filters: 2
    kernel_size: 1
  - type: Conv2D
    name: branch_5x5
    filters: 3
    kernel_size: 5
    padding: same
  - type: MaxPooling2D
    name: branch_pool
    inputs: stem
    pool_size: 3
    strides: 1
    padding: same
  - type: Conv2D
    name: branch_pool_proj
    filters: 2
    kernel_size: 1
  - type: Concatenate
    name: mixed
    inputs: [branch_1x1, branch_3x3, branch_5x5, branch_pool_proj]
  - type: SpatialDropout2D
    rate: 0.2
  - type: GlobalMaxPooling2D
  - type: Dense
    units: 10
    activation: softmax
""",
    "transformer": """
specc: 1
name: transformer
layers:
  - type: Input
    name: tokens
    shape: [12]
    dtype: int32
  - type: Embedding
    name: embed
    input_dim: 50
    output_dim: 16
  - type: MultiHeadAttention
    name: self_attention
    inputs: [embed, embed]
    num_heads: 4
    key_dim: 4
    dropout: 0.1
  - type: Dropout
    rate: 0.1
  - type: Add
    name: residual_1
    inputs: [embed, dropout]
  - type: LayerNormalization
    name: norm_1
  - type: Dense
    units: 32
    activation: gelu
  - type: Dense
    units: 16
  - type: Add
    name: residual_2
    inputs: [norm_1, dense_1]
  - type: RMSNormalization
  - type: MultiHeadAttention
    name: cross_attention
    inputs: [rms_normalization, embed, norm_1]
    num_heads: 2
    key_dim: 8
    value_dim: 4
    output_shape: 8
  - type: GlobalAveragePooling1D
  - type: Dense
    units: 1
    activation: sigmoid
""",
    "unet": """
specc: 1
name: unet
layers:
  - type: Input
    shape: [14, 14, 1]
  - type: ZeroPadding2D
    padding: 1
  - type: Conv2D
    name: enc1
    filters: 4
    kernel_size: 3
    padding: same
  - type: LeakyReLU
    negative_slope: 0.2
  - type: MaxPooling2D
  - type: DepthwiseConv2D
    name: enc2
    kernel_size: 3
    padding: same
    depth_multiplier: 2
  - type: PReLU
    shared_axes: [1, 2]
  - type: UpSampling2D
    name: up
  - type: Concatenate
    name: skip
    inputs: [enc1, up]
  - type: Conv2D
    filters: 1
    kernel_size: 1
  - type: Cropping2D
    cropping: 1
  - type: Activation
    activation: sigmoid
""",
    "two_towers": """
specc: 1
name: two_towers
layers:
  - type: Input
    name: left
    shape: [6, 4]
  - type: Input
    name: right
    shape: [8, 4]
  - type: Attention
    name: attend
    inputs: [left, right]
    use_scale: true
  - type: GlobalAveragePooling1D
    name: left_vec
  - type: GlobalMaxPooling1D
    name: right_vec
    inputs: right
  - type: Dot
    name: cosine
    inputs: [left_vec, right_vec]
    axes: 1
    normalize: true
  - type: Subtract
    name: difference
    inputs: [left_vec, right_vec]
  - type: Multiply
    name: product
    inputs: [left_vec, right_vec]
  - type: Maximum
    name: largest
    inputs: [left_vec, right_vec, product]
  - type: Average
    name: mean
    inputs: [left_vec, right_vec]
  - type: Minimum
    name: smallest
    inputs: [difference, mean]
  - type: Concatenate
    name: features
    inputs: [cosine, difference, product, largest, smallest]
  - type: UnitNormalization
  - type: GaussianNoise
    stddev: 0.1
  - type: Dense
    units: 2
  - type: ELU
    name: output
""",
    "preprocess_3d": """
specc: 1
name: preprocess_3d
layers:
  - type: Input
    shape: [6, 3]
  - type: Rescaling
    scale: [0.5, 0.25, 2.0]
    offset: [1.0, 0.0, -1.0]
  - type: Normalization
    mean: [0.0, 1.0, 2.0]
    variance: [1.0, 4.0, 9.0]
  - type: Conv1D
    filters: 4
    kernel_size: 2
  - type: Permute
    dims: [2, 1]
  - type: ZeroPadding1D
    padding: [1, 2]
  - type: Cropping1D
    cropping: [0, 1]
  - type: SpatialDropout1D
    rate: 0.1
  - type: GaussianDropout
    rate: 0.2
  - type: ActivityRegularization
    l1: 0.01
  - type: PReLU
  - type: Flatten
  - type: Reshape
    target_shape: [1, 1, 1, 30]
  - type: Conv3D
    filters: 2
    kernel_size: 1
  - type: UpSampling3D
    size: [2, 1, 1]
  - type: MaxPooling3D
    pool_size: [2, 1, 1]
  - type: AveragePooling3D
    pool_size: 1
  - type: GlobalMaxPooling3D
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


def test_softmax_layer_is_the_output_activation():
    """The whole-model loss checks read a Softmax layer as a softmax output, as they read ``activation``."""
    result = check_text(MODELS["residual"], "residual.yaml")
    assert result.ok and not result.diagnostics, [d.message for d in result.diagnostics]
    linear = MODELS["residual"].replace("  - type: Softmax\n    name: probabilities\n", "")
    assert [d.code for d in check_text(linear, "linear.yaml").warnings] == ["W402"]


@pytest.mark.parametrize("name", ["transformer", "preprocess_3d"])
def test_new_kinds_save_and_load_without_specc(name, tmp_path):
    """The lowered model is plain Keras: it saves, loads, and computes the same outputs."""
    result = check_text(MODELS[name], f"{name}.yaml")
    model = keras_model(result, compile=False)
    layer = result.graph.by_name[result.graph.inputs[0]].layer
    x = sample_batch((BATCH, *layer.shape), layer.dtype, 2)
    model.save(tmp_path / "model.keras")
    loaded = keras.saving.load_model(tmp_path / "model.keras")
    np.testing.assert_allclose(np.asarray(loaded(x)), np.asarray(model(x)), atol=1e-6)

