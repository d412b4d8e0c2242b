"""Embedding: integer token ids to dense vectors."""

from __future__ import annotations

from typing import Literal

from .base import Initializer, Layer, Params, PositiveInt, Regularizer


class Embedding(Layer):
    """Maps token ids in [0, input_dim) to vectors of size output_dim."""

    type: Literal["Embedding"]
    input_dim: PositiveInt
    output_dim: PositiveInt
    mask_zero: bool = False
    embeddings_initializer: Initializer = "random_uniform"
    embeddings_regularizer: Regularizer | None = None
    activity_regularizer: Regularizer | None = None
    category = "embedding"

    def infer(self, shapes):
        return (*shapes[0], self.output_dim)

    def count_params(self, shapes):
        return Params(self.input_dim * self.output_dim)
