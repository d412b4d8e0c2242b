"""Activation layers with arguments: ReLU, LeakyReLU, PReLU, ELU, Softmax.

For an activation without arguments, use ``Activation`` (or a layer's own ``activation``).
"""

from __future__ import annotations

import math
from typing import Annotated, Literal, Union

from pydantic import Field

from .base import Initializer, Layer, Params, PositiveInt, Regularizer, ShapeError, feature_axes, fmt_shape

NonNegative = Annotated[float, Field(ge=0)]


class ReLU(Layer):
    """Rectified linear unit: ``max(x, 0)``, optionally capped (``max_value: 6`` is ReLU6) and leaky."""

    type: Literal["ReLU"]
    max_value: NonNegative | None = Field(None, description="Upper bound of the output; null for none.")
    negative_slope: NonNegative = Field(0.0, description="Slope below the threshold.")
    threshold: NonNegative = Field(0.0, description="Values below this are zeroed (or scaled by negative_slope).")
    category = "activation"


class LeakyReLU(Layer):
    """``x`` for positive values, ``negative_slope * x`` below zero."""

    type: Literal["LeakyReLU"]
    negative_slope: NonNegative = Field(0.3, description="Slope for negative values.")
    category = "activation"


class PReLU(Layer):
    """Leaky ReLU with a learned slope per value (or shared along ``shared_axes``)."""

    type: Literal["PReLU"]
    alpha_initializer: Initializer = Field("zeros", description="Initializer of the learned slopes.")
    alpha_regularizer: Regularizer | None = Field(None, description="Penalty on the learned slopes.")
    shared_axes: list[PositiveInt] | None = Field(
        None, description="Axes (batch axis is 0) sharing one slope, e.g. [1, 2] for one slope per image channel."
    )
    category = "activation"

    def _alpha_shape(self, shape) -> tuple:
        shared = set(self.shared_axes or ())
        for a in sorted(shared):
            if a >= len(shape):
                raise ShapeError(
                    f"PReLU's shared_axes {self.shared_axes} name axis {a}, but the input has axes 1 to "
                    f"{len(shape) - 1}. Received: input shape {fmt_shape(shape)}",
                    field="shared_axes",
                )
        alpha = tuple(1 if i in shared else d for i, d in enumerate(shape[1:], start=1))
        if None in alpha:
            raise ShapeError(
                f"PReLU learns one slope per value, so it needs known sizes on every axis it does not share. "
                f"Received: input shape {fmt_shape(shape)}, shared_axes={self.shared_axes}",
                field="shared_axes",
                help="share the axes of unknown size, e.g. shared_axes: [1] for variable-length sequences",
            )
        return alpha

    def infer(self, shapes):
        self._alpha_shape(shapes[0])
        return shapes[0]

    def count_params(self, shapes):
        return Params(math.prod(self._alpha_shape(shapes[0])))


class ELU(Layer):
    """Exponential linear unit: ``x`` for positive values, ``alpha * (exp(x) - 1)`` below zero."""

    type: Literal["ELU"]
    alpha: float = Field(1.0, description="Scale of the negative part.")
    category = "activation"


class Softmax(Layer):
    """Softmax along ``axis``: the values along it become probabilities that sum to 1."""

    type: Literal["Softmax"]
    axis: Union[int, Annotated[list[int], Field(min_length=1)]] = Field(
        -1, description="The axis (or axes) normalized; -1 is the last."
    )
    category = "activation"

    @property
    def activation(self) -> str | None:
        """Read by the whole-model loss checks, as a layer's ``activation`` argument is."""
        return "softmax" if self.axis in (-1, [-1]) else None

    def infer(self, shapes):
        # Keras also runs a softmax over the batch axis; specc refuses it.
        feature_axes(self.kind(), self.axis, shapes[0])
        return shapes[0]
