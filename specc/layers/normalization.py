"""Normalization layers: BatchNormalization, LayerNormalization."""

from __future__ import annotations

from typing import Annotated, Literal, Union

from pydantic import Field

from .base import InitializerName, Layer, Params, Regularizer, ShapeError, fmt_shape

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
    beta_initializer: InitializerName = "zeros"
    gamma_initializer: InitializerName = "ones"
    moving_mean_initializer: InitializerName = "zeros"
    moving_variance_initializer: InitializerName = "ones"
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
    beta_initializer: InitializerName = "zeros"
    gamma_initializer: InitializerName = "ones"
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
