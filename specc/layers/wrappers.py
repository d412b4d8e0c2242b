"""TimeDistributed: apply any layer to every timestep."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from .base import AnyLayer, Layer, ShapeError, fmt_shape


class TimeDistributed(Layer):
    """Applies ``layer`` to every slice along axis 1: (batch, steps, ...) -> (batch, steps, ...)."""

    type: Literal["TimeDistributed"]
    layer: AnyLayer = Field(description="The layer applied at every timestep.")
    category = "wrapper"

    def infer(self, shapes):
        (shape,) = shapes
        if len(shape) < 3:
            raise ShapeError(
                f"TimeDistributed expects an input of at least 3-D (batch, timesteps, ...). Received: "
                f"{len(shape)}-D shape {fmt_shape(shape)}",
                code="E300",
            )
        if self.layer.kind() == "Input":
            raise ShapeError("TimeDistributed cannot wrap an Input", field="layer", code="E302")
        if self.layer.n_inputs[0] > 1:
            raise ShapeError(
                f"TimeDistributed wraps a layer with one input; {self.layer.kind()} takes several", field="layer",
                code="E302",
            )
        inner = self.layer.output_of([(shape[0], *shape[2:])])
        return (shape[0], shape[1], *inner[1:])

    def count_params(self, shapes):
        (shape,) = shapes
        return self.layer.params([(shape[0], *shape[2:])])

    def keras_kwargs(self):
        kw = super().keras_kwargs()
        kw["layer"] = self.layer.to_keras(self.layer.name or self.layer.default_name())
        return kw
