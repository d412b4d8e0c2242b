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


def keras_model(result: CheckResult, compile: bool = True):
    """Build (and by default compile) the Keras model for a valid check result."""
    if not result.ok:
        raise SpecError(result.errors)
    from .runners.backend import import_keras

    keras = import_keras()
    spec, graph = result.spec, result.graph
    if spec.seed is not None:
        keras.utils.set_random_seed(spec.seed)
    tensors = {}
    for node in graph.nodes:
        if isinstance(node.layer, Input):
            tensors[node.name] = node.layer.to_keras(node.name)
            continue
        layer = node.layer.to_keras(node.name)
        args = [tensors[i] for i in node.inputs]
        tensors[node.name] = layer(args[0] if len(args) == 1 else args)
    inputs = [tensors[n] for n in graph.inputs]
    outputs = [tensors[n] for n in graph.outputs]
    name = re.sub(r"[^A-Za-z0-9_.\-]", "_", model_name(result))
    model = keras.Model(
        inputs=inputs[0] if len(inputs) == 1 else inputs,
        outputs=outputs[0] if len(outputs) == 1 else outputs,
        name=name,
    )
    if compile and spec.compile is not None:
        c = spec.compile
        model.compile(optimizer=c.optimizer.to_keras(), loss=c.loss.to_keras(), metrics=c.keras_metrics())
    return model
