"""Recurrent layers: SimpleRNN, LSTM, GRU, and the Bidirectional wrapper."""

from __future__ import annotations

from typing import Annotated, ClassVar, Literal, Union

from pydantic import Field

from .base import ActivationName, Initializer, Layer, Params, PositiveInt, Regularizer, ShapeError

Rate = Annotated[float, Field(ge=0, lt=1)]


class _RNN(Layer):
    units: PositiveInt
    activation: ActivationName = "tanh"
    use_bias: bool = True
    return_sequences: bool = Field(False, description="Output every step (needed below another RNN).")
    go_backwards: bool = False
    unroll: bool = False
    dropout: Rate = 0.0
    recurrent_dropout: Rate = 0.0
    kernel_initializer: Initializer = "glorot_uniform"
    recurrent_initializer: Initializer = "orthogonal"
    bias_initializer: Initializer = "zeros"
    kernel_regularizer: Regularizer | None = None
    recurrent_regularizer: Regularizer | None = None
    bias_regularizer: Regularizer | None = None
    activity_regularizer: Regularizer | None = None
    seed: int | None = None

    ranks = (3,)
    rank_hint = " (batch, timesteps, features)"
    category = "recurrent"
    gates: ClassVar[int] = 1

    def infer(self, shapes):
        (shape,) = shapes
        if len(shape) == 2:
            raise ShapeError(
                f"{self.kind()} expects a 3-D input (batch, timesteps, features). Received: 2-D shape "
                f"({', '.join('None' if d is None else str(d) for d in shape)})",
                code="E300",
                help="if the layer below is a recurrent layer, set return_sequences: true on it; "
                "for flat data add a Reshape to (timesteps, features)",
            )
        self.check_rank(shape)
        if shape[-1] is None:
            raise ShapeError(f"{self.kind()} needs a known feature axis. Received: {shape}")
        if self.return_sequences:
            return (shape[0], shape[1], self.units)
        return (shape[0], self.units)

    def _bias(self) -> int:
        return self.gates * self.units

    def count_params(self, shapes):
        u, n = self.units, shapes[0][-1]
        return Params(self.gates * (u * n + u * u) + (self._bias() if self.use_bias else 0))


class SimpleRNN(_RNN):
    """Fully connected recurrent layer: h_t = activation(W x_t + U h_{t-1} + b)."""

    type: Literal["SimpleRNN"]


class LSTM(_RNN):
    """Long short-term memory (Hochreiter and Schmidhuber, 1997)."""

    type: Literal["LSTM"]
    recurrent_activation: ActivationName = "sigmoid"
    unit_forget_bias: bool = True
    gates = 4


class GRU(_RNN):
    """Gated recurrent unit (Cho et al., 2014)."""

    type: Literal["GRU"]
    recurrent_activation: ActivationName = "sigmoid"
    reset_after: bool = Field(True, description="Keras/cuDNN convention: a second bias for the recurrent kernel.")
    gates = 3

    def _bias(self) -> int:
        return 3 * self.units * (2 if self.reset_after else 1)


RecurrentLayer = Annotated[Union[SimpleRNN, LSTM, GRU], Field(discriminator="type")]


class Bidirectional(Layer):
    """Runs a recurrent layer forwards and backwards and merges both outputs."""

    type: Literal["Bidirectional"]
    layer: RecurrentLayer = Field(description="The recurrent layer to run in both directions.")
    merge_mode: Literal["concat", "sum", "mul", "ave"] = "concat"
    ranks = (3,)
    rank_hint = " (batch, timesteps, features)"
    category = "recurrent"

    def infer(self, shapes):
        out = self.layer.infer(shapes)
        if self.merge_mode == "concat":
            return (*out[:-1], 2 * out[-1])
        return out

    def count_params(self, shapes):
        p = self.layer.params(shapes)  # the wrapped layer's own trainable: false holds for both directions
        return p + p

    def keras_kwargs(self):
        kw = super().keras_kwargs()
        kw["layer"] = self.layer.to_keras(self.layer.name or self.layer.default_name())
        return kw
