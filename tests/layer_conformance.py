"""The Keras conformance harness for layer kinds (tests/test_layers_*.py use it).

Every registered layer kind is checked the way Keras checks its own layers (``run_layer_test``): validate
the spec, compute the output shape and the trainable / non-trainable parameter counts with the kind's own
rules, then build the real Keras layer through ``to_keras``, call it (through the kind's ``call_keras``, as
``specc.lower`` does) on ``keras.Input`` and on a concrete batch, and compare. A case of a multi-input kind
(merges, attention) gives a list of input shapes. ``keras_refusal`` says why Keras cannot use a layer on an
input, for the negative cases (tests/test_layers_errors.py).
"""

from __future__ import annotations

import keras
import numpy as np
import pydantic
import pytest

from specc.layers import REGISTRY, AnyLayer
from specc.layers.base import ACTIVATIONS as ACTIVATION_NAMES
from specc.layers.core import Input

ADAPTER = pydantic.TypeAdapter(AnyLayer)
BATCH = 2
ACTIVATIONS = list(ACTIVATION_NAMES)

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


# TensorFlow's CPU kernel for a transposed convolution's dilation > 1 exists only with oneDNN, which
# TensorFlow turns on by CPU (not on every x86 machine): Keras's own shape rule answers there instead.
_CPU_KERNEL_MISSING = "Current CPU implementations do not yet support dilation rates larger than 1"


def eager_shape(layer, built, batches: list, training: bool) -> tuple:
    """The shape of a real forward pass, or Keras's rule for it where this CPU has no kernel."""
    try:
        return tuple(layer.call_keras(built, batches, training=training).shape)
    except Exception as error:  # tensorflow's InvalidArgumentError; the backend may be another
        if _CPU_KERNEL_MISSING not in str(error):
            raise
    return tuple(built.compute_output_shape(batches[0].shape))


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
        got = eager_shape(layer, built, batches, training)
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
def fmt(value) -> str:
    if isinstance(value, dict):
        args = ",".join(f"{k}={fmt(v)}" for k, v in value.items() if k != "type")
        return f"{value.get('type', '')}({args})"
    if isinstance(value, (list, tuple)):
        return "[" + ",".join(fmt(v) for v in value) + "]"
    return str(value)


def case(spec: dict, shape: tuple | None = None, dtype: str = "float32", fill: int = 8, marks=()):
    label = fmt(spec) + ("" if shape is None else f"@{fmt(shape)}")
    return pytest.param(spec, shape, dtype, fill, id=label, marks=marks)


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
    label = fmt(spec) + f"@{fmt(shape)}"
    return pytest.param(spec, shape, dtype, match, id=label)


def uncovered(cases: list, family: str) -> list[str]:
    """The kinds of ``specc/layers/<family>.py`` that no case in ``cases`` builds."""
    covered = {p.values[0]["type"] for p in cases}
    return sorted(k for k, cls in REGISTRY.items() if cls.__module__ == f"specc.layers.{family}" and k not in covered)
