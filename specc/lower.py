"""Pass 6: lowering a checked spec to a Keras model. The first place Keras is imported.

Only allow-listed layer kinds reach here, each through its own ``to_keras``
(an explicit constructor call); spec text never reaches a Keras deserializer.
The result is a plain functional ``keras.Model`` of built-in layers, so a
saved model loads with ``keras.saving.load_model`` and no specc import.
"""

from __future__ import annotations

import re

from .check import CheckResult
from .diagnostics import SpecError
from .layers.core import Input
from .render import model_name


def keras_model(result: CheckResult, compile: bool = True, precision: str = "float32", jit_compile="auto"):
    """Build (and by default compile) the Keras model for a valid check result.

    With a mixed precision policy, every layer computes in float16/bfloat16 except the outputs,
    which stay float32 so that losses and softmax are computed at full precision.
    """
    if not result.ok:
        raise SpecError(result.errors)
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
        model.compile(optimizer=c.optimizer.to_keras(), loss=c.loss.to_keras(), metrics=c.keras_metrics(),
                      jit_compile=jit_compile, steps_per_execution=spec.train.steps_per_execution)
    return model


def _functional(keras, result: CheckResult):
    graph = result.graph
    outputs_set = set(graph.outputs)
    mixed = keras.config.dtype_policy().name != "float32"
    tensors = {}
    for node in graph.nodes:
        if isinstance(node.layer, Input):
            tensors[node.name] = node.layer.to_keras(node.name)
            continue
        layer = node.layer.to_keras(node.name)
        if mixed and node.name in outputs_set:
            layer.dtype_policy = keras.DTypePolicy("float32")
        args = [tensors[i] for i in node.inputs]
        tensors[node.name] = node.layer.call_keras(layer, args)
    inputs = [tensors[n] for n in graph.inputs]
    outputs = [tensors[n] for n in graph.outputs]
    name = re.sub(r"[^A-Za-z0-9_.\-]", "_", model_name(result))
    return keras.Model(
        inputs=inputs[0] if len(inputs) == 1 else inputs,
        outputs=outputs[0] if len(outputs) == 1 else outputs,
        name=name,
    )
