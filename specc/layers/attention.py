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
    attention_axes: Union[int, Annotated[list[int], Field(min_length=1)], None] = Field(
        None, description="Axes the query attends over (counted with the batch axis as 0, -2 is the one before the "
        "features); null: every axis between batch and features. The other axes are batch axes."
    )
    kernel_initializer: Initializer = "glorot_uniform"
    bias_initializer: Initializer = "zeros"
    kernel_regularizer: Regularizer | None = None
    bias_regularizer: Regularizer | None = None
    activity_regularizer: Regularizer | None = None
    seed: int | None = None
    n_inputs = (2, 3)
    category = "attention"

    def attended(self, rank: int) -> list[int]:
        """The attention axes as non-negative indices for inputs of this rank (Keras's own resolution)."""
        if self.attention_axes is None:
            return list(range(1, rank - 1))
        axes = [self.attention_axes] if isinstance(self.attention_axes, int) else self.attention_axes
        return [a if a >= 0 else rank + a for a in axes]

    def _check_axes(self, shapes) -> None:
        query, key = shapes[0], shapes[2] if len(shapes) > 2 else shapes[1]
        rank = len(query)
        axes = self.attended(rank)
        if any(not 0 < a < rank - 1 for a in axes) or len(set(axes)) < len(axes):
            raise ShapeError(
                f"MultiHeadAttention's attention_axes must name distinct axes between the batch axis and the "
                f"features (1 to {rank - 2}, or -{rank - 1} to -2, for {rank}-D inputs). Received: "
                f"attention_axes={self.attention_axes}, {_named(shapes)}",
                field="attention_axes",
            )
        batch = [a for a in range(1, rank - 1) if a not in axes]
        if any(query[a] != key[a] for a in batch):
            raise ShapeError(
                "MultiHeadAttention needs the query and key to match on the axes it does not attend over (axes "
                f"{batch} are batch axes with attention_axes={self.attention_axes}). Received: {_named(shapes)}",
                field="attention_axes",
            )

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
        self._check_axes(shapes)
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
