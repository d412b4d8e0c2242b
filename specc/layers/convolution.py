"""Convolution layers (channels_last): Conv1D, Conv2D, Conv3D, Conv2DTranspose, DepthwiseConv2D, SeparableConv2D."""

from __future__ import annotations

import math
from typing import Annotated, ClassVar, Literal, Union

from pydantic import Field

from .base import (
    ActivationName,
    DataFormat,
    Initializer,
    Layer,
    Params,
    PositiveInt,
    Regularizer,
    ShapeError,
    conv_length,
    deconv_length,
    fmt_shape,
    spatial_check,
    tuple_arg,
)

Window1 = Union[PositiveInt, list[PositiveInt]]


class _Windowed:
    """Window arithmetic shared by the convolution kinds (a mixin: no fields of its own)."""

    rank: ClassVar[int] = 2
    dilation_with_strides: ClassVar[bool] = False  # depthwise kinds accept strides > 1 with dilation_rate > 1

    def _arg(self, field: str) -> tuple:
        value = tuple_arg(getattr(self, field), self.rank)
        if len(value) != self.rank:
            raise ShapeError(f"{self.kind()}'s {field} needs {self.rank} values. Received: {list(value)}", field=field)
        return value

    def _window(self) -> tuple[tuple, tuple, tuple]:
        k, s, d = self._arg("kernel_size"), self._arg("strides"), self._arg("dilation_rate")
        if not self.dilation_with_strides and any(x > 1 for x in s) and any(x > 1 for x in d):
            raise ShapeError(
                f"{self.kind()} cannot combine strides > 1 with dilation_rate > 1. Received: strides={self.strides}, "
                f"dilation_rate={self.dilation_rate}",
                field="strides",
            )
        return k, s, d

    def _spatial(self, shape) -> tuple:
        k, s, d = self._window()
        spatial = tuple(conv_length(n, kk, self.padding, ss, dd) for n, kk, ss, dd in zip(shape[1:-1], k, s, d))
        spatial_check(self.kind(), shape, spatial, "kernel_size", k)
        return spatial

    def _channels(self, shape) -> int:
        self.check_rank(shape)
        if shape[-1] is None:
            raise ShapeError(f"{self.kind()} needs a known channel axis. Received: input shape {fmt_shape(shape)}")
        return shape[-1]


class _Conv(_Windowed, Layer):
    filters: PositiveInt
    kernel_size: Window1
    strides: Window1 = 1
    padding: Literal["valid", "same"] = "valid"
    dilation_rate: Window1 = 1
    groups: PositiveInt = 1
    data_format: DataFormat = "channels_last"
    activation: ActivationName | None = None
    use_bias: bool = True
    kernel_initializer: Initializer = "glorot_uniform"
    bias_initializer: Initializer = "zeros"
    kernel_regularizer: Regularizer | None = None
    bias_regularizer: Regularizer | None = None
    activity_regularizer: Regularizer | None = None

    category = "convolution"

    def _check_input(self, shape):
        channels = self._channels(shape)
        if channels % self.groups or self.filters % self.groups:
            raise ShapeError(
                f"{self.kind()}'s groups ({self.groups}) must divide both the input channels ({channels}) "
                f"and filters ({self.filters})",
                field="groups",
            )

    def infer(self, shapes):
        (shape,) = shapes
        self._check_input(shape)
        return (shape[0], *self._spatial(shape), self.filters)

    def count_params(self, shapes):
        c_in = shapes[0][-1]
        k = self._arg("kernel_size")
        return Params(math.prod(k) * (c_in // self.groups) * self.filters + (self.filters if self.use_bias else 0))


class Conv1D(_Conv):
    """1-D convolution over (batch, steps, channels)."""

    type: Literal["Conv1D"]
    padding: Literal["valid", "same", "causal"] = "valid"
    rank = 1
    ranks = (3,)
    rank_hint = " (batch, steps, channels)"


class Conv2D(_Conv):
    """2-D convolution over (batch, height, width, channels)."""

    type: Literal["Conv2D"]
    rank = 2
    ranks = (4,)
    rank_hint = " (batch, height, width, channels); add a Reshape for flat data"


class Conv3D(_Conv):
    """3-D convolution over (batch, depth, height, width, channels), e.g. video or volumes."""

    type: Literal["Conv3D"]
    rank = 3
    ranks = (5,)
    rank_hint = " (batch, depth, height, width, channels)"


class Conv2DTranspose(_Conv):
    """Transposed 2-D convolution (learned upsampling)."""

    type: Literal["Conv2DTranspose"]
    output_padding: Union[int, list[int], None] = Field(None, description="Extra size added to one side.")
    groups: Literal[1] = 1
    rank = 2
    ranks = (4,)
    rank_hint = " (batch, height, width, channels)"

    def keras_kwargs(self):
        kw = super().keras_kwargs()
        kw.pop("groups", None)  # Keras's Conv2DTranspose has no groups argument
        return kw

    def infer(self, shapes):
        (shape,) = shapes
        self._check_input(shape)
        k, s, d = self._window()
        op = (None,) * 2 if self.output_padding is None else self._arg("output_padding")
        for o, ss in zip(op, s):
            if o is not None and not 0 <= o < ss:
                raise ShapeError(
                    f"Conv2DTranspose's output_padding must be smaller than strides. Received: output_padding="
                    f"{self.output_padding}, strides={self.strides}",
                    field="output_padding",
                )
        for o, kk, dd in zip(op, k, d):
            # Keras reports (n - 1) * strides + output_padding here, but TensorFlow's
            # transposed convolution with padding "same" needs more than (n - 1) * strides.
            if o == 0 and self.padding == "same" and (kk + (kk - 1) * (dd - 1)) % 2 == 0:
                raise ShapeError(
                    "Conv2DTranspose with padding: same and an even kernel_size needs output_padding of at least 1 "
                    "on that axis; TensorFlow cannot run it with 0. Received: kernel_size="
                    f"{self.kernel_size}, dilation_rate={self.dilation_rate}, output_padding={self.output_padding}",
                    field="output_padding",
                    help="leave output_padding out, use padding: valid, or an odd kernel_size",
                )
        spatial = tuple(
            deconv_length(n, kk, self.padding, ss, dd, oo) for n, kk, ss, dd, oo in zip(shape[1:-1], k, s, d, op)
        )
        spatial_check(self.kind(), shape, spatial, "kernel_size", k)
        return (shape[0], *spatial, self.filters)


DepthMultiplier = Annotated[int, Field(gt=0, description="Output channels per input channel of the depthwise step.")]


class DepthwiseConv2D(_Windowed, Layer):
    """Convolves each input channel with its own ``depth_multiplier`` filters; channels are not mixed."""

    type: Literal["DepthwiseConv2D"]
    data_format: DataFormat = "channels_last"
    kernel_size: Window1
    strides: Window1 = 1
    padding: Literal["valid", "same"] = "valid"
    depth_multiplier: DepthMultiplier = 1
    dilation_rate: Window1 = 1
    activation: ActivationName | None = None
    use_bias: bool = True
    depthwise_initializer: Initializer = Field("glorot_uniform", description="Initializer of the depthwise kernel.")
    bias_initializer: Initializer = "zeros"
    depthwise_regularizer: Regularizer | None = Field(None, description="Penalty on the depthwise kernel.")
    bias_regularizer: Regularizer | None = None
    activity_regularizer: Regularizer | None = None

    rank: ClassVar[int] = 2
    ranks = (4,)
    rank_hint = " (batch, height, width, channels)"
    category = "convolution"
    dilation_with_strides: ClassVar[bool] = True  # Keras and TensorFlow run depthwise convolutions with both

    def infer(self, shapes):
        (shape,) = shapes
        channels = self._channels(shape)
        return (shape[0], *self._spatial(shape), channels * self.depth_multiplier)

    def count_params(self, shapes):
        out = shapes[0][-1] * self.depth_multiplier
        return Params(math.prod(self._arg("kernel_size")) * out + (out if self.use_bias else 0))


class SeparableConv2D(_Windowed, Layer):
    """A DepthwiseConv2D followed by a 1x1 convolution to ``filters`` channels (fewer weights than Conv2D)."""

    type: Literal["SeparableConv2D"]
    data_format: DataFormat = "channels_last"
    filters: PositiveInt
    kernel_size: Window1
    strides: Window1 = 1
    padding: Literal["valid", "same"] = "valid"
    dilation_rate: Window1 = 1
    depth_multiplier: DepthMultiplier = 1
    activation: ActivationName | None = None
    use_bias: bool = True
    depthwise_initializer: Initializer = Field("glorot_uniform", description="Initializer of the depthwise kernel.")
    pointwise_initializer: Initializer = Field("glorot_uniform", description="Initializer of the 1x1 kernel.")
    bias_initializer: Initializer = "zeros"
    depthwise_regularizer: Regularizer | None = Field(None, description="Penalty on the depthwise kernel.")
    pointwise_regularizer: Regularizer | None = Field(None, description="Penalty on the 1x1 kernel.")
    bias_regularizer: Regularizer | None = None
    activity_regularizer: Regularizer | None = None

    rank: ClassVar[int] = 2
    ranks = (4,)
    rank_hint = " (batch, height, width, channels)"
    category = "convolution"
    dilation_with_strides: ClassVar[bool] = True  # Keras and TensorFlow run depthwise convolutions with both

    def infer(self, shapes):
        (shape,) = shapes
        self._channels(shape)
        return (shape[0], *self._spatial(shape), self.filters)

    def count_params(self, shapes):
        mid = shapes[0][-1] * self.depth_multiplier
        depthwise = math.prod(self._arg("kernel_size")) * mid
        return Params(depthwise + mid * self.filters + (self.filters if self.use_bias else 0))
