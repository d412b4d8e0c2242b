"""Normalization layers: BatchNormalization, LayerNormalization, GroupNormalization, RMSNormalization,
UnitNormalization, and Normalization with a given mean and variance."""

from __future__ import annotations

import math
from typing import Annotated, Literal, Union

from pydantic import Field, model_validator

from .base import (
    Initializer,
    Layer,
    Params,
    PositiveInt,
    Regularizer,
    ShapeError,
    feature_axes,
    fmt_shape,
)

Axis = Union[int, list[int]]


def _axes(layer: Layer, shape) -> list[int]:
    axes = layer.axis if isinstance(layer.axis, list) else [layer.axis]
    rank = len(shape)
    out = []
    for a in axes:
        if not -rank < a < rank or a % rank == 0:
            raise ShapeError(
                f"{layer.kind()}'s axis {a} is not a feature axis of a {rank}-D input. Received: input shape "
                f"{fmt_shape(shape)}",
                field="axis",
            )
        out.append(a % rank)
    for a in out:
        if shape[a] is None:
            raise ShapeError(f"{layer.kind()} needs a known size on axis {a}. Received: {fmt_shape(shape)}", field="axis")
    return out


def _size(shape, axes) -> int:
    n = 1
    for a in axes:
        n *= shape[a]
    return n


class BatchNormalization(Layer):
    """Normalizes with the batch's mean and variance (moving averages at inference)."""

    type: Literal["BatchNormalization"]
    axis: int = -1
    momentum: Annotated[float, Field(ge=0, le=1)] = 0.99
    epsilon: Annotated[float, Field(gt=0)] = 1e-3
    center: bool = True
    scale: bool = True
    beta_initializer: Initializer = "zeros"
    gamma_initializer: Initializer = "ones"
    moving_mean_initializer: Initializer = "zeros"
    moving_variance_initializer: Initializer = "ones"
    beta_regularizer: Regularizer | None = None
    gamma_regularizer: Regularizer | None = None
    category = "normalization"

    def infer(self, shapes):
        _axes(self, shapes[0])
        return shapes[0]

    def count_params(self, shapes):
        c = _size(shapes[0], _axes(self, shapes[0]))
        return Params(c * (int(self.center) + int(self.scale)), 2 * c)


class LayerNormalization(Layer):
    """Normalizes each sample over its feature axes."""

    type: Literal["LayerNormalization"]
    axis: Axis = -1
    epsilon: Annotated[float, Field(gt=0)] = 1e-3
    center: bool = True
    scale: bool = True
    rms_scaling: bool = False
    beta_initializer: Initializer = "zeros"
    gamma_initializer: Initializer = "ones"
    beta_regularizer: Regularizer | None = None
    gamma_regularizer: Regularizer | None = None
    category = "normalization"

    def infer(self, shapes):
        _axes(self, shapes[0])
        return shapes[0]

    def count_params(self, shapes):
        c = _size(shapes[0], _axes(self, shapes[0]))
        center = self.center and not self.rms_scaling
        return Params(c * (int(center) + int(self.scale or self.rms_scaling)))


class GroupNormalization(Layer):
    """Normalizes each sample over groups of channels (``groups: -1`` is instance normalization)."""

    type: Literal["GroupNormalization"]
    groups: Union[PositiveInt, Literal[-1]] = Field(
        32, description="Number of channel groups; must divide the channels. -1: one group per channel."
    )
    axis: int = Field(-1, description="The channels axis; -1 is the last.")
    epsilon: Annotated[float, Field(gt=0)] = 1e-3
    center: bool = True
    scale: bool = True
    beta_initializer: Initializer = Field("zeros", description="Initializer of the learned offset (beta).")
    gamma_initializer: Initializer = Field("ones", description="Initializer of the learned scale (gamma).")
    beta_regularizer: Regularizer | None = Field(None, description="Penalty on the learned offset.")
    gamma_regularizer: Regularizer | None = Field(None, description="Penalty on the learned scale.")
    category = "normalization"

    def _channels(self, shape) -> int:
        (axis,) = _axes(self, shape)
        channels = shape[axis]
        groups = channels if self.groups == -1 else self.groups
        if channels % groups:
            raise ShapeError(
                f"GroupNormalization's groups ({groups}) must divide the {channels} channels on axis {self.axis}. "
                f"Received: input shape {fmt_shape(shape)}",
                field="groups",
                help="pick a divisor of the channels (the default, 32, needs a multiple of 32)",
            )
        return channels

    def infer(self, shapes):
        self._channels(shapes[0])
        return shapes[0]

    def count_params(self, shapes):
        return Params(self._channels(shapes[0]) * (int(self.center) + int(self.scale)))


class UnitNormalization(Layer):
    """Scales each sample to unit L2 norm along ``axis``."""

    type: Literal["UnitNormalization"]
    axis: Axis = Field(-1, description="The axis (or axes) over which the norm is taken; -1 is the last.")
    category = "normalization"

    def infer(self, shapes):
        # Keras also accepts the batch axis (each value divided by the norm across the batch); specc refuses it.
        feature_axes(self.kind(), self.axis, shapes[0])
        return shapes[0]


class RMSNormalization(Layer):
    """Divides by the root mean square over ``axis`` and multiplies by a learned scale (Zhang and Sennrich, 2019)."""

    type: Literal["RMSNormalization"]
    axis: Axis = Field(-1, description="The last axis, or the last few axes, e.g. [-2, -1].")
    epsilon: Annotated[float, Field(gt=0)] = 1e-6
    category = "normalization"

    def _scale_shape(self, shape) -> tuple:
        axes = _axes(self, shape)
        if len(set(axes)) != len(axes):
            raise ShapeError(f"RMSNormalization's axis names an axis twice. Received: axis={self.axis}", field="axis")
        # Keras's scale has the sizes of the axes in sorted(axis) order and is broadcast against the
        # input's last axes, so only the last axes, listed in order, scale the axes they normalize.
        raw = sorted(self.axis) if isinstance(self.axis, list) else [self.axis]
        rank = len(shape)
        if [a % rank for a in raw] != list(range(rank - len(raw), rank)):
            raise ShapeError(
                f"RMSNormalization's axis must be the input's last axes (-1, or [-2, -1], ...): Keras broadcasts its "
                f"scale against them. Received: axis={self.axis}, input shape {fmt_shape(shape)}",
                field="axis",
                help="use negative axes counted from the end, e.g. [-2, -1]",
            )
        return tuple(shape[a % rank] for a in raw)

    def infer(self, shapes):
        self._scale_shape(shapes[0])
        return shapes[0]

    def count_params(self, shapes):
        return Params(math.prod(self._scale_shape(shapes[0])))


Stat = Union[float, Annotated[list[float], Field(min_length=1)]]
Variance = Annotated[float, Field(ge=0)]


class Normalization(Layer):
    """Standardizes inputs with a given ``mean`` and ``variance``: ``(x - mean) / sqrt(variance)``.

    Keras's ``adapt`` (statistics computed from data) is not available in a spec. Leaving out both ``mean`` and
    ``variance`` gives the layer Keras builds for ``adapt``: the statistics are non-trainable weights (mean,
    variance and a count), which a model's loaded weights fill (e.g. an imported EfficientNet); until then the
    layer passes its input through unchanged.
    """

    type: Literal["Normalization"]
    mean: Stat | None = Field(
        None, description="The mean: one number, or one per feature along the last kept axis; leave out mean and "
                          "variance for statistics held as weights (loaded with a model's weights)."
    )
    variance: Union[Variance, Annotated[list[Variance], Field(min_length=1)], None] = Field(
        None, description="The variance, the same shape as mean (not the standard deviation)."
    )
    axis: Union[int, list[int], None] = Field(
        -1, description="The axis (or axes) with separate statistics; null for one mean and variance for all values."
    )
    invert: bool = Field(False, description="Undo the normalization instead: x * sqrt(variance) + mean.")
    category = "normalization"

    @model_validator(mode="after")
    def _both_or_neither(self):
        if (self.mean is None) != (self.variance is None):
            raise ValueError("Normalization takes mean and variance together, or neither (statistics held as "
                             "weights)")
        return self

    def count_params(self, shapes):
        if self.mean is not None:
            return Params()
        # Keras's adapt form: non-trainable mean and variance over the kept axes, and a count.
        (shape,) = shapes
        kept = [] if self.axis is None else sorted(_axes(self, shape))
        return Params(0, 2 * math.prod(shape[a] for a in kept) + 1)

    def infer(self, shapes):
        (shape,) = shapes
        kept = [] if self.axis is None else sorted(_axes(self, shape))
        for field in ("mean", "variance"):
            value = getattr(self, field)
            if isinstance(value, list) and not kept:
                raise ShapeError(
                    f"Normalization with axis: null takes one number as {field}. Received: {field}={value}",
                    field=field,
                )
            if isinstance(value, list) and len(value) > 1:
                if len(value) != shape[kept[-1]]:
                    raise ShapeError(
                        f"Normalization's {field} has {len(value)} values but axis {kept[-1]} of the input has "
                        f"{shape[kept[-1]]}. Received: input shape {fmt_shape(shape)}",
                        field=field,
                    )
        m, v = (len(x) if isinstance(x, list) else None for x in (self.mean, self.variance))
        if m != v:
            raise ShapeError(
                f"Normalization's mean and variance need the same shape. Received: mean={self.mean}, "
                f"variance={self.variance}",
                field="variance",
            )
        return shape
