"""Pass 6: lowering a checked spec to a Keras model. The first place Keras is imported.

Only allow-listed layer kinds reach here, each through its own ``to_keras``
(an explicit constructor call); spec text never reaches a Keras deserializer.
The result is a plain functional ``keras.Model`` of built-in layers, so a
saved model loads with ``keras.saving.load_model`` and no specc import.
"""

from __future__ import annotations

import re

from .check import CheckResult
from .layers.core import Input
from .layers.models import Model, Shared
from .render import model_name, spec_error


def keras_model(result: CheckResult, compile: bool = True, precision: str = "float32", jit_compile="auto",
                steps_per_execution: int | None = None):
    """Build (and by default compile) the Keras model for a valid check result.

    With a mixed precision policy, every layer computes in float16/bfloat16 except the outputs,
    which stay float32 so that losses and softmax are computed at full precision.
    """
    if not result.ok:
        raise spec_error(result)
    from .runners.backend import import_keras

    keras = import_keras()
    spec = result.spec
    if spec.seed is not None:
        keras.utils.set_random_seed(spec.seed)
    previous = keras.config.dtype_policy()
    keras.config.set_dtype_policy(precision)
    try:
        model = _functional(keras, result)
    finally:
        keras.config.set_dtype_policy(previous)
    if compile and spec.compile is not None:
        c = spec.compile
        outputs = result.graph.outputs
        names = list(model.output_names)  # Keras's own names for the outputs, in the same order
        model.compile(optimizer=c.optimizer.to_keras(), loss=c.keras_loss(outputs, names),
                      loss_weights=c.keras_loss_weights(outputs, names), metrics=c.keras_metrics(outputs, names),
                      jit_compile=jit_compile,
                      steps_per_execution=steps_per_execution or _steps(spec.train.steps_per_execution))
    return model


def _steps(steps_per_execution) -> int:
    """A spec's steps_per_execution where no runner resolved it for a device (`auto`: one batch per call)."""
    return 1 if steps_per_execution == "auto" else steps_per_execution


def _functional(keras, result: CheckResult):
    name = re.sub(r"[^A-Za-z0-9_.\-]", "_", model_name(result))
    return _graph_model(keras, result.graph, name, {}, float32_outputs=True)


def _graph_model(keras, graph, name: str, cache: dict, float32_outputs: bool = False, outputs=None):
    """The Keras functional model of ``graph``; ``cache`` holds the sub-models built so far (one object per
    `models:` entry, so every call shares its weights)."""
    mixed = keras.config.dtype_policy().name != "float32"
    outputs = list(outputs or graph.outputs)
    tensors, layers = {}, {}
    calls: dict[str, int] = {}  # a sub-model called once is named after its node, as a layer would be
    for node in graph.nodes:
        if isinstance(node.layer, Model):
            calls[node.ref.sub.key] = calls.get(node.ref.sub.key, 0) + 1
    for node in graph.nodes:
        layer = node.layer
        if isinstance(layer, Input):
            tensors[node.name] = layer.to_keras(node.name)
            continue
        if isinstance(layer, Model):
            built = _submodel(keras, node.ref, cache, node.name if calls[node.ref.sub.key] == 1 else None)
        elif isinstance(layer, Shared):
            built = layers[node.ref.target.name]
        elif mixed and _cudnn_lstm(keras, layer):
            built = _in_float32(keras, layer, node.name)
        else:
            built = layer.to_keras(node.name)
            if mixed and float32_outputs and node.name in outputs:
                built.dtype_policy = keras.DTypePolicy("float32")
        layers[node.name] = built
        tensors[node.name] = layer.call_keras(built, [tensors[i] for i in node.inputs])
    inputs = [tensors[n] for n in graph.inputs]
    outs = [tensors[n] for n in outputs]
    return keras.Model(inputs=inputs[0] if len(inputs) == 1 else inputs,
                       outputs=outs[0] if len(outs) == 1 else outs, name=name)


def _cudnn_lstm(keras, layer) -> bool:
    """An LSTM (alone or in Bidirectional) that Keras runs through cuDNN on JAX on a GPU.

    That kernel (``jax.experimental.rnn``) takes float32 only: under a mixed policy Keras fails with
    "Unknown output type bfloat16" when the step is compiled. Such a layer computes in float32 inside the
    otherwise mixed model (its inputs are cast to float32, its outputs back). Keras's generic LSTM loop in
    bfloat16 would run too: as fast on an H200, but it compiled 5 s longer (docs/performance.md).
    """
    from .layers.recurrent import LSTM, Bidirectional

    lstm = layer.layer if isinstance(layer, Bidirectional) else layer
    if not isinstance(lstm, LSTM) or keras.backend.backend() != "jax":
        return False
    if lstm.activation != "tanh" or lstm.recurrent_activation != "sigmoid" or lstm.unroll or not lstm.use_bias:
        return False  # Keras's generic loop, which runs in bfloat16/float16
    return _jax_on_gpu()


def _jax_on_gpu() -> bool:
    import jax

    return jax.default_backend() == "gpu"


def _in_float32(keras, layer, name: str):
    """The Keras layer built under the float32 policy (Bidirectional copies it into both directions)."""
    previous = keras.config.dtype_policy()
    keras.config.set_dtype_policy("float32")
    try:
        return layer.to_keras(name)
    finally:
        keras.config.set_dtype_policy(previous)


def named_submodels(result: CheckResult, model) -> dict:
    """The trained Keras sub-model of every `models:` entry the model calls, by entry name (to save them)."""
    calls: dict[str, list[str]] = {}
    for node in result.graph.nodes:
        if isinstance(node.layer, Model) and node.ref.sub.saved is None:
            calls.setdefault(node.ref.sub.key, []).append(node.name)
    return {key: model.get_layer(names[0] if len(names) == 1 else key) for key, names in calls.items()}


def _submodel(keras, call, cache: dict, name: str | None):
    """The Keras model a `type: Model` node calls (its ``ref``, an analysis.reuse.ModelCall): built once per
    sub-model; a saved one with its weights."""
    sub, layer = call.sub, call.layer
    if sub.key in cache:  # one object per sub-model: every call shares its weights (and its first call's freezing)
        return cache[sub.key]
    if sub.saved is None:
        model = _graph_model(keras, sub.graph, name or sub.key, cache)
        if sub.sequential:  # the same layer objects in a keras.Sequential: Keras stores their weights by class
            model = keras.Sequential(model.layers, name=model.name)
    else:
        name = name or re.sub(r"[^A-Za-z0-9_.\-]", "_", sub.saved.stem)
        full = _graph_model(keras, sub.graph, name, cache, outputs=sub.saved_outputs)
        full.load_weights(sub.saved)
        model = full
        if list(sub.graph.outputs) != list(sub.saved_outputs):
            model = keras.Model(full.inputs, full.get_layer(sub.graph.outputs[0]).output, name=name)
    if not layer.trainable:
        model.trainable = False
    elif layer.trainable_from is not None:
        frozen = True
        for inner in model.layers:
            frozen = frozen and inner.name != layer.trainable_from
            if frozen:
                inner.trainable = False
    cache[sub.key] = model
    return model
