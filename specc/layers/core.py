"""Core layers: Input, Dense, Activation, Dropout, Flatten, Reshape, RepeatVector, Rescaling."""

from __future__ import annotations

from typing import Annotated, Literal, Union

from pydantic import Field

from .base import (
    ActivationName,
    DataFormat,
    Dim,
    Initializer,
    Layer,
    Params,
    PositiveInt,
    Regularizer,
    Shape,
    ShapeError,
    fmt_shape,
    prod,
    rank_name,
)

DType = Literal["float32", "float16", "bfloat16", "float64", "int32", "int64", "uint8", "bool"]


class Input(Layer):
    """A model input: the shape of one sample, without the batch axis."""

    type: Literal["Input"]
    shape: list[Dim] = Field(description="Shape of one sample, e.g. [28, 28, 1]; null for a variable size.")
    dtype: DType = Field("float32", description="The dtype of the input values (integer ids for an Embedding).")
    n_inputs = (0, 0)

    def default_name(self) -> str:
        return "input_layer"

    def sample_shape(self):
        return self.shape

    def infer(self, shapes):
        return (None, *self.shape)

    def to_keras(self, name: str):
        import keras

        return keras.Input(shape=tuple(self.shape), dtype=self.dtype, name=name)


class Dense(Layer):
    """Fully connected layer: ``activation(inputs @ kernel + bias)`` on the last axis."""

    type: Literal["Dense"]
    units: PositiveInt
    activation: ActivationName | None = None
    use_bias: bool = True
    kernel_initializer: Initializer = "glorot_uniform"
    bias_initializer: Initializer = "zeros"
    kernel_regularizer: Regularizer | None = None
    bias_regularizer: Regularizer | None = None
    activity_regularizer: Regularizer | None = None
    input_dim: PositiveInt | None = Field(
        None, description="Number of input features; the course's short form of input_shape: [n]."
    )
    # Any rank from 2-D: on a larger input it acts on the last axis, position by position (a pointwise
    # projection, as in ConvNeXt); a model output doing that is linted (W407).
    ranks = None

    def sample_shape(self):
        if self.input_dim is not None:
            return [self.input_dim]
        return self.input_shape

    def keras_kwargs(self):
        kw = super().keras_kwargs()
        kw.pop("input_dim", None)
        return kw

    def infer(self, shapes):
        (shape,) = shapes
        if len(shape) < 2:
            raise ShapeError(f"Dense expects an input of at least 2-D (batch, features). Received: "
                             f"{rank_name(len(shape))} shape {fmt_shape(shape)}", code="E300")
        if shape[-1] is None:
            raise ShapeError(f"Dense needs a known last axis. Received: input shape {fmt_shape(shape)}")
        return (*shape[:-1], self.units)

    def count_params(self, shapes):
        n_in = shapes[0][-1]
        return Params(n_in * self.units + (self.units if self.use_bias else 0))


class Activation(Layer):
    """Applies an activation function element-wise."""

    type: Literal["Activation"]
    activation: ActivationName


class Dropout(Layer):
    """Randomly sets a fraction ``rate`` of inputs to 0 during training."""

    type: Literal["Dropout"]
    rate: Annotated[float, Field(ge=0, lt=1)]
    noise_shape: list[Dim] | None = Field(
        None, description="Shape of the dropout mask, batch axis included: null for the input's size, 1 to share."
    )
    seed: int | None = None

    def infer(self, shapes):
        (shape,) = shapes
        if self.noise_shape is None:
            return shape
        # Keras checks nothing until training, then fails (or silently broadcasts to a larger rank).
        ok = len(self.noise_shape) == len(shape) and all(
            n is None or n == 1 or n == d for n, d in zip(self.noise_shape, shape)
        )
        if not ok:
            raise ShapeError(
                "Dropout's noise_shape needs one entry per input axis, batch included, each null, 1 or the "
                f"input's size. Received: noise_shape={self.noise_shape}, input shape {fmt_shape(shape)}",
                field="noise_shape",
                help="e.g. [null, 1, null] shares one mask across the steps of (batch, steps, features)",
            )
        return shape


class Flatten(Layer):
    """Flattens each sample to one axis (a scalar sample becomes one value, as in Keras)."""

    type: Literal["Flatten"]
    data_format: DataFormat = "channels_last"

    def infer(self, shapes):
        (shape,) = shapes
        if len(shape) < 1:
            raise ShapeError(f"Flatten needs a batched input. Received: shape {fmt_shape(shape)}", code="E300")
        return (shape[0], prod(shape[1:]))


class Reshape(Layer):
    """Reshapes each sample to ``target_shape`` (one axis may be -1)."""

    type: Literal["Reshape"]
    target_shape: list[Annotated[int, Field(ge=-1)]] = Field(min_length=1)

    def infer(self, shapes):
        (shape,) = shapes
        target = list(self.target_shape)
        if 0 in target:
            raise ShapeError("Reshape's target_shape has a 0", field="target_shape")
        if target.count(-1) > 1:
            raise ShapeError("Reshape's target_shape may hold at most one -1", field="target_shape")
        size = prod(shape[1:])
        known = prod([d for d in target if d != -1])
        if size is None:
            return (shape[0], *[None if d == -1 else d for d in target])
        if -1 in target:
            if size % known:
                raise ShapeError(
                    f"Reshape cannot fit {size} values into target_shape {self.target_shape}. Received: input shape "
                    f"{fmt_shape(shape)}",
                    field="target_shape",
                )
            target[target.index(-1)] = size // known
        elif known != size:
            raise ShapeError(
                f"Reshape's target_shape {self.target_shape} holds {known} values but each sample has {size}. "
                f"Received: input shape {fmt_shape(shape)}",
                field="target_shape",
            )
        return (shape[0], *target)


class RepeatVector(Layer):
    """Repeats a (batch, features) input ``n`` times: (batch, n, features)."""

    type: Literal["RepeatVector"]
    n: PositiveInt
    ranks = (2,)
    rank_hint = " (batch, features)"

    def infer(self, shapes):
        (shape,) = shapes
        self.check_rank(shape)
        return (shape[0], self.n, shape[1])


Factor = Union[float, Annotated[list[float], Field(min_length=1)]]


class Rescaling(Layer):
    """Computes ``inputs * scale + offset`` (e.g. ``scale: 0.00392156862745098`` maps pixels 0-255 to 0-1)."""

    type: Literal["Rescaling"]
    scale: Factor = Field(description="Multiplier: one number, or one per channel (last axis).")
    offset: Factor = Field(0.0, description="Added after scaling: one number, or one per channel (last axis).")

    def infer(self, shapes):
        (shape,) = shapes
        for field in ("scale", "offset"):
            value = getattr(self, field)
            if isinstance(value, list) and len(value) > 1 and (len(shape) < 2 or shape[-1] != len(value)):
                raise ShapeError(
                    f"Rescaling's {field} has {len(value)} values, one per channel, so the input's last axis needs "
                    f"a known size of {len(value)}. Received: input shape {fmt_shape(shape)}",
                    field=field,
                )
        return shape


__all__ = ["Input", "Dense", "Activation", "Dropout", "Flatten", "Reshape", "RepeatVector", "Rescaling", "Shape"]
