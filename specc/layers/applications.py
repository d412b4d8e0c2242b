"""Layers that Keras's own applications use and keep beside them, not in ``keras.layers``:
LayerScale (ConvNeXt) and CustomScaleLayer (InceptionResNetV2).

They lower to Keras's classes themselves (``keras.src.applications.convnext.LayerScale``, ...), so a
model built from a spec holds the same weights under the same names as the application, and a saved
model loads with plain ``keras.saving.load_model`` (Keras finds these classes by their module).
"""

from __future__ import annotations

import importlib
from typing import ClassVar, Literal

from pydantic import Field

from .base import Layer, Params, PositiveInt, ShapeError, fmt_shape
from .merging import broadcast


class _ApplicationLayer(Layer):
    keras_module: ClassVar[str]  # where Keras keeps the class (the `module` a saved model records)

    def to_keras(self, name: str):
        cls = getattr(importlib.import_module(self.keras_module), self.keras_class or self.kind())
        return cls(name=name, **self.keras_kwargs())


class LayerScale(_ApplicationLayer):
    """A learned scale per channel, ``x * gamma`` (ConvNeXt's residual branches; Touvron et al., 2021):
    ``projection_dim`` weights, the size of the input's last axis, each starting at ``init_values``."""

    type: Literal["LayerScale"]
    init_values: float = Field(description="The scales' initial value (ConvNeXt uses 1.0e-6).")
    projection_dim: PositiveInt = Field(description="Number of scales: the size of the input's last axis.")
    keras_module = "keras.src.applications.convnext"

    def infer(self, shapes):
        shape = shapes[0]
        if len(shape) < 2 or shape[-1] != self.projection_dim:
            raise ShapeError(
                f"LayerScale needs projection_dim equal to the size of the input's last axis. Received: "
                f"projection_dim={self.projection_dim}, input shape {fmt_shape(shape)}",
                field="projection_dim",
            )
        return shape

    def count_params(self, shapes):
        return Params(self.projection_dim)


class CustomScaleLayer(_ApplicationLayer):
    """The residual sum of InceptionResNetV2's blocks, ``inputs[0] + inputs[1] * scale``, on
    ``inputs: [shortcut, residual]`` (shapes broadcast as in Add)."""

    type: Literal["CustomScaleLayer"]
    scale: float = Field(description="Multiplies the second input before it is added to the first.")
    keras_module = "keras.src.applications.inception_resnet_v2"
    n_inputs = (2, 2)
    category = "merging"

    def infer(self, shapes):
        return broadcast(self.kind(), shapes)
