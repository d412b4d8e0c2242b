"""Attention layers: MultiHeadAttention, Attention (dot-product, Luong-style).

Both take ``inputs: [query, value]`` or ``[query, value, key]`` (the key defaults to the
value); self-attention names one layer twice: ``inputs: [x, x]``.
"""

from __future__ import annotations

import math
from typing import Annotated, Literal, Union

from pydantic import Field

from .base import Initializer, Layer, Params, PositiveInt, Regularizer, ShapeError, fmt_shape

Rate = Annotated[float, Field(ge=0, lt=1)]
ROLES = ("query", "value", "key")


def _named(shapes) -> str:
    return ", ".join(f"{role} {fmt_shape(s)}" for role, s in zip(ROLES, shapes))


class MultiHeadAttention(Layer):
    """Multi-head attention (Vaswani et al., 2017) on ``inputs: [query, value]`` or ``[query, value, key]``
    (``[x, x]`` for self-attention): the query attends to the value over the steps axis (all axes between
    batch and features for inputs above 3-D). The output has the query's shape, or ``output_shape`` last."""

    type: Literal["MultiHeadAttention"]
    num_heads: PositiveInt = Field(description="Number of attention heads.")
    key_dim: PositiveInt = Field(description="Size of each head's query and key projection.")
    value_dim: PositiveInt | None = Field(None, description="Size of each head's value projection; null: key_dim.")
    dropout: Rate = Field(0.0, description="Dropout rate on the attention weights.")
    use_bias: bool = True
    output_shape: Union[PositiveInt, Annotated[list[PositiveInt], Field(min_length=1)], None] = Field(
        None, description="Size of the output's last axis (or axes); null: the query's last axis."
    )
    kernel_initializer: Initializer = "glorot_uniform"
    bias_initializer: Initializer = "zeros"
    kernel_regularizer: Regularizer | None = None
    bias_regularizer: Regularizer | None = None
    activity_regularizer: Regularizer | None = None
    seed: int | None = None
    n_inputs = (2, 3)
    category = "attention"

    def call_keras(self, layer, tensors, **kwargs):
        # Keras's signature is call(query, value, key=None), not a list.
        return layer(*tensors, **kwargs)

    def _out(self) -> tuple:
        if self.output_shape is None:
            return ()
        return tuple(self.output_shape) if isinstance(self.output_shape, list) else (self.output_shape,)

    def infer(self, shapes):
        query, value = shapes[0], shapes[1]
        key = shapes[2] if len(shapes) > 2 else value
        if len(query) < 3 or len({len(query), len(value), len(key)}) > 1:
            raise ShapeError(
                "MultiHeadAttention expects a query, value and key of the same rank, at least 3-D "
                f"(batch, steps, features). Received: {_named(shapes)}",
                code="E300",
                help="add a Reshape to (steps, features), or RepeatVector for a single vector",
            )
        for role, s in zip(ROLES, (query, value, key)):
            if s[-1] is None:
                raise ShapeError(
                    f"MultiHeadAttention needs a known last axis on the {role}. Received: {_named(shapes)}"
                )
        if value[1:-1] != key[1:-1]:
            raise ShapeError(
                "MultiHeadAttention needs the value and key to match on every axis but the last (an unknown size "
                f"matches only an unknown size, as in Keras). Received: {_named(shapes)}"
            )
        return (*query[:-1], *(self._out() or query[-1:]))

    def count_params(self, shapes):
        query, value = shapes[0], shapes[1]
        key = shapes[2] if len(shapes) > 2 else value
        heads, kd = self.num_heads, self.key_dim
        vd = self.value_dim or kd
        out = math.prod(self._out() or query[-1:])
        bias = int(self.use_bias)
        weights = (query[-1] * heads * kd + bias * heads * kd  # query projection
                   + key[-1] * heads * kd + bias * heads * kd  # key projection
                   + value[-1] * heads * vd + bias * heads * vd  # value projection
                   + heads * vd * out + bias * out)  # output projection
        return Params(weights)


class Attention(Layer):
    """Dot-product attention without projections on ``inputs: [query, value]`` or ``[query, value, key]``:
    ``softmax(query @ key^T) @ value``, of shape (batch, query steps, value features)."""

    type: Literal["Attention"]
    use_scale: bool = Field(False, description="Learn a scalar that scales the attention scores.")
    score_mode: Literal["dot", "concat"] = Field(
        "dot", description="`dot`: query-key dot products; `concat`: sum of tanh(query + key)."
    )
    dropout: Rate = Field(0.0, description="Dropout rate on the attention weights.")
    seed: int | None = None
    n_inputs = (2, 3)
    category = "attention"

    def infer(self, shapes):
        query, value = shapes[0], shapes[1]
        key = shapes[2] if len(shapes) > 2 else value
        if {len(query), len(value), len(key)} != {3}:
            # Keras runs 2-D inputs too, but then attends across the samples of a batch.
            raise ShapeError(
                f"Attention expects 3-D inputs (batch, steps, features). Received: {_named(shapes)}",
                code="E300",
                help="add a Reshape to (steps, features), or RepeatVector for a single vector",
            )
        q, k = query[-1], key[-1]
        if self.score_mode == "dot":
            bad = q is not None and k is not None and q != k
            rule = "the same size"
        else:
            bad = q is not None and k is not None and q != k and 1 not in (q, k)
            rule = "the same size (or 1)"
        if bad:
            raise ShapeError(
                f"Attention with score_mode: {self.score_mode} needs {rule} on the last axis of the query and key. "
                f"Received: {_named(shapes)}"
            )
        if value[1] is not None and key[1] is not None and value[1] != key[1]:
            raise ShapeError(
                f"Attention needs the same number of steps in the value and key. Received: {_named(shapes)}"
            )
        return (*query[:-1], value[-1])

    def count_params(self, shapes):
        return Params(int(self.use_scale) + int(self.score_mode == "concat"))
