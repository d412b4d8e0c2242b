"""Padding, cropping and axis order: ZeroPadding1D/2D, Cropping1D/2D, Permute (channels_last)."""

from __future__ import annotations

from typing import Annotated, Literal, Union

from pydantic import Field

from .base import DataFormat, Layer, PositiveInt, ShapeError, fmt_shape

NonNegative = Annotated[int, Field(ge=0)]
Pair = Union[NonNegative, list[NonNegative]]  # n, or [before, after]
PerAxis = Union[NonNegative, list[Pair]]  # n, [rows, cols], or [[top, bottom], [left, right]]


def _pair(layer: Layer, field: str, value, what: str = "") -> tuple[int, int]:
    pair = (value, value) if isinstance(value, int) else tuple(value)
    if len(pair) != 2:
        raise ShapeError(
            f"{layer.kind()}'s {field} needs one int or 2 values [before, after]{what}. Received: {value}",
            field=field,
        )
    return pair


def _pairs(layer: Layer, field: str, value) -> tuple[tuple[int, int], tuple[int, int]]:
    """2-D amounts: n, [rows, cols] or [[top, bottom], [left, right]] -> ((top, bottom), (left, right))."""
    if isinstance(value, int):
        return (value, value), (value, value)
    if len(value) != 2:
        raise ShapeError(
            f"{layer.kind()}'s {field} needs one int, [rows, cols] or [[top, bottom], [left, right]]. "
            f"Received: {value}",
            field=field,
        )
    return _pair(layer, field, value[0], " for rows"), _pair(layer, field, value[1], " for columns")


class ZeroPadding1D(Layer):
    """Adds zeros at the start and end of the steps axis."""

    type: Literal["ZeroPadding1D"]
    data_format: DataFormat = "channels_last"
    padding: Pair = Field(1, description="Zeros added: one int for both ends, or [start, end].")
    ranks = (3,)
    rank_hint = " (batch, steps, channels)"
    category = "resampling"

    def infer(self, shapes):
        (shape,) = shapes
        self.check_rank(shape)
        a, b = _pair(self, "padding", self.padding)
        return (shape[0], None if shape[1] is None else shape[1] + a + b, shape[2])


class ZeroPadding2D(Layer):
    """Adds rows and columns of zeros around an image."""

    type: Literal["ZeroPadding2D"]
    data_format: DataFormat = "channels_last"
    padding: PerAxis = Field(
        1, description="Zeros added: one int for every side, [rows, cols], or [[top, bottom], [left, right]]."
    )
    ranks = (4,)
    rank_hint = " (batch, height, width, channels)"
    category = "resampling"

    def infer(self, shapes):
        (shape,) = shapes
        self.check_rank(shape)
        pads = _pairs(self, "padding", self.padding)
        h, w = (None if n is None else n + a + b for n, (a, b) in zip(shape[1:3], pads))
        return (shape[0], h, w, shape[3])


class Cropping1D(Layer):
    """Removes steps at the start and end of the steps axis."""

    type: Literal["Cropping1D"]
    cropping: Pair = Field(1, description="Steps removed: one int for both ends, or [start, end].")
    ranks = (3,)
    rank_hint = " (batch, steps, channels)"
    category = "resampling"

    def infer(self, shapes):
        (shape,) = shapes
        self.check_rank(shape)
        a, b = _pair(self, "cropping", self.cropping)
        if shape[1] is not None and shape[1] - a - b <= 0:
            raise ShapeError(
                f"Cropping1D removes {a + b} steps, which leaves none of the input's {shape[1]}. Received: input "
                f"shape {fmt_shape(shape)}",
                field="cropping",
            )
        return (shape[0], None if shape[1] is None else shape[1] - a - b, shape[2])


class Cropping2D(Layer):
    """Removes rows and columns at the edges of an image (e.g. to match a skip connection's size)."""

    type: Literal["Cropping2D"]
    data_format: DataFormat = "channels_last"
    cropping: PerAxis = Field(
        0, description="Rows/columns removed: one int for every side, [rows, cols], or [[top, bottom], [left, right]]."
    )
    ranks = (4,)
    rank_hint = " (batch, height, width, channels)"
    category = "resampling"

    def infer(self, shapes):
        (shape,) = shapes
        self.check_rank(shape)
        crops = _pairs(self, "cropping", self.cropping)
        out = []
        for axis, n, (a, b) in zip(("height", "width"), shape[1:3], crops):
            if n is not None and a + b >= n:
                raise ShapeError(
                    f"Cropping2D removes {a + b} of the input's {axis} of {n}, which leaves nothing. Received: input "
                    f"shape {fmt_shape(shape)}",
                    field="cropping",
                )
            out.append(None if n is None else n - a - b)
        return (shape[0], *out, shape[3])


class Permute(Layer):
    """Reorders the axes of each sample: ``dims: [2, 1]`` swaps the two axes of (batch, a, b)."""

    type: Literal["Permute"]
    dims: list[PositiveInt] = Field(
        min_length=1, description="The new order of the sample's axes, counted from 1 (the batch axis stays first)."
    )
    category = "reshaping"

    def infer(self, shapes):
        (shape,) = shapes
        n = len(self.dims)
        if sorted(self.dims) != list(range(1, n + 1)):
            raise ShapeError(
                f"Permute's dims must hold each of 1 to {n} once. Received: dims={self.dims}", field="dims"
            )
        if len(shape) != n + 1:
            raise ShapeError(
                f"Permute with {n} dims expects a {n + 1}-D input. Received: {len(shape)}-D shape {fmt_shape(shape)}",
                code="E300",
            )
        return (shape[0], *(shape[d] for d in self.dims))
