"""Pooling and upsampling: Max/AveragePooling1D/2D/3D, Global*Pooling1D/2D/3D, UpSampling1D/2D/3D."""

from __future__ import annotations

from typing import ClassVar, Literal, Union

from .base import (
    DataFormat,
    Layer,
    Padding,
    PositiveInt,
    ShapeError,
    pool_length,
    spatial_check,
    to_keras_value,
    tuple_arg,
)

Window = Union[PositiveInt, list[PositiveInt]]


class _Pool(Layer):
    pool_size: Window = 2
    strides: Window | None = None  # defaults to pool_size, as in Keras
    data_format: DataFormat = "channels_last"
    padding: Padding = "valid"
    rank: ClassVar[int] = 2
    category = "pooling"

    def keras_kwargs(self):
        kw = super().keras_kwargs()
        kw["pool_size"] = to_keras_value(self.pool_size)  # required by AveragePooling1D/2D: no Keras default
        return kw

    def infer(self, shapes):
        (shape,) = shapes
        self.check_rank(shape)
        pool = tuple_arg(self.pool_size, self.rank)
        strides = pool if self.strides is None else tuple_arg(self.strides, self.rank)
        for field, value in (("pool_size", pool), ("strides", strides)):
            if len(value) != self.rank:
                raise ShapeError(f"{self.kind()}'s {field} needs {self.rank} values. Received: {list(value)}", field=field)
        spatial = tuple(pool_length(n, p, self.padding, s) for n, p, s in zip(shape[1:-1], pool, strides))
        spatial_check(self.kind(), shape, spatial, "pool_size", pool)
        return (shape[0], *spatial, shape[-1])


class MaxPooling1D(_Pool):
    """Max over windows of ``pool_size`` steps."""

    type: Literal["MaxPooling1D"]
    rank = 1
    ranks = (3,)
    rank_hint = " (batch, steps, channels)"


class AveragePooling1D(_Pool):
    """Average over windows of ``pool_size`` steps."""

    type: Literal["AveragePooling1D"]
    rank = 1
    ranks = (3,)
    rank_hint = " (batch, steps, channels)"


class MaxPooling2D(_Pool):
    """Max over ``pool_size`` windows of an image."""

    type: Literal["MaxPooling2D"]
    ranks = (4,)
    rank_hint = " (batch, height, width, channels)"


class AveragePooling2D(_Pool):
    """Average over ``pool_size`` windows of an image."""

    type: Literal["AveragePooling2D"]
    ranks = (4,)
    rank_hint = " (batch, height, width, channels)"


class MaxPooling3D(_Pool):
    """Max over ``pool_size`` windows of a volume."""

    type: Literal["MaxPooling3D"]
    rank = 3
    ranks = (5,)
    rank_hint = " (batch, depth, height, width, channels)"


class AveragePooling3D(_Pool):
    """Average over ``pool_size`` windows of a volume."""

    type: Literal["AveragePooling3D"]
    rank = 3
    ranks = (5,)
    rank_hint = " (batch, depth, height, width, channels)"


class _GlobalPool(Layer):
    keepdims: bool = False
    data_format: DataFormat = "channels_last"
    category = "pooling"

    def infer(self, shapes):
        (shape,) = shapes
        self.check_rank(shape)
        if self.keepdims:
            return (shape[0], *([1] * (len(shape) - 2)), shape[-1])
        return (shape[0], shape[-1])


class GlobalAveragePooling1D(_GlobalPool):
    """Average over all steps: (batch, steps, channels) -> (batch, channels)."""

    type: Literal["GlobalAveragePooling1D"]
    ranks = (3,)
    rank_hint = " (batch, steps, channels)"


class GlobalMaxPooling1D(_GlobalPool):
    """Max over all steps: (batch, steps, channels) -> (batch, channels)."""

    type: Literal["GlobalMaxPooling1D"]
    ranks = (3,)
    rank_hint = " (batch, steps, channels)"


class GlobalAveragePooling2D(_GlobalPool):
    """Average over height and width: (batch, h, w, c) -> (batch, c)."""

    type: Literal["GlobalAveragePooling2D"]
    ranks = (4,)
    rank_hint = " (batch, height, width, channels)"


class GlobalMaxPooling2D(_GlobalPool):
    """Max over height and width: (batch, h, w, c) -> (batch, c)."""

    type: Literal["GlobalMaxPooling2D"]
    ranks = (4,)
    rank_hint = " (batch, height, width, channels)"


class GlobalAveragePooling3D(_GlobalPool):
    """Average over depth, height and width: (batch, d, h, w, c) -> (batch, c)."""

    type: Literal["GlobalAveragePooling3D"]
    ranks = (5,)
    rank_hint = " (batch, depth, height, width, channels)"


class GlobalMaxPooling3D(_GlobalPool):
    """Max over depth, height and width: (batch, d, h, w, c) -> (batch, c)."""

    type: Literal["GlobalMaxPooling3D"]
    ranks = (5,)
    rank_hint = " (batch, depth, height, width, channels)"


class UpSampling1D(Layer):
    """Repeats each step ``size`` times."""

    type: Literal["UpSampling1D"]
    size: PositiveInt = 2
    ranks = (3,)
    rank_hint = " (batch, steps, channels)"
    category = "resampling"

    def infer(self, shapes):
        (shape,) = shapes
        self.check_rank(shape)
        return (shape[0], None if shape[1] is None else shape[1] * self.size, shape[2])


class UpSampling2D(Layer):
    """Repeats rows and columns ``size`` times (nearest or bilinear)."""

    type: Literal["UpSampling2D"]
    data_format: DataFormat = "channels_last"
    size: Window = 2
    interpolation: Literal["nearest", "bilinear", "bicubic", "lanczos3", "lanczos5", "area"] = "nearest"
    ranks = (4,)
    rank_hint = " (batch, height, width, channels)"
    category = "resampling"

    def infer(self, shapes):
        (shape,) = shapes
        self.check_rank(shape)
        size = tuple_arg(self.size, 2)
        if len(size) != 2:
            raise ShapeError(f"UpSampling2D's size needs 2 values. Received: {self.size}", field="size")
        h, w = (None if n is None else n * s for n, s in zip(shape[1:3], size))
        return (shape[0], h, w, shape[3])


class UpSampling3D(Layer):
    """Repeats each depth slice, row and column ``size`` times."""

    type: Literal["UpSampling3D"]
    data_format: DataFormat = "channels_last"
    size: Window = 2
    ranks = (5,)
    rank_hint = " (batch, depth, height, width, channels)"
    category = "resampling"

    def infer(self, shapes):
        (shape,) = shapes
        self.check_rank(shape)
        size = tuple_arg(self.size, 3)
        if len(size) != 3:
            raise ShapeError(f"UpSampling3D's size needs 3 values. Received: {self.size}", field="size")
        return (shape[0], *(None if n is None else n * s for n, s in zip(shape[1:4], size)), shape[4])
