"""Noise and regularization layers, active only in training: SpatialDropout1D/2D, GaussianNoise,
GaussianDropout, ActivityRegularization. Each keeps the shape of its input."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from .base import DataFormat, Layer

Rate = Annotated[float, Field(ge=0, lt=1)]


class _SpatialDropout(Layer):
    rate: Rate
    seed: int | None = None
    category = "regularization"

    def keras_kwargs(self):
        kw = super().keras_kwargs()
        kw.pop("trainable", None)  # Keras's SpatialDropout constructors take rate, seed, name and dtype only
        return kw

    def to_keras(self, name: str):
        layer = super().to_keras(name)
        layer.trainable = self.trainable
        return layer

    def infer(self, shapes):
        self.check_rank(shapes[0])
        return shapes[0]


class SpatialDropout1D(_SpatialDropout):
    """Drops whole channels (the same ones at every step) with probability ``rate``."""

    type: Literal["SpatialDropout1D"]
    ranks = (3,)
    rank_hint = " (batch, steps, channels)"


class SpatialDropout2D(_SpatialDropout):
    """Drops whole feature maps (channels of an image) with probability ``rate``."""

    type: Literal["SpatialDropout2D"]
    data_format: DataFormat = "channels_last"
    ranks = (4,)
    rank_hint = " (batch, height, width, channels)"


class GaussianNoise(Layer):
    """Adds zero-centred Gaussian noise of standard deviation ``stddev`` (training only)."""

    type: Literal["GaussianNoise"]
    stddev: Annotated[float, Field(ge=0, le=1)] = Field(description="Standard deviation of the noise, in [0, 1].")
    seed: int | None = None
    category = "regularization"


class GaussianDropout(Layer):
    """Multiplies by Gaussian noise of mean 1, standard deviation ``sqrt(rate / (1 - rate))`` (training only)."""

    type: Literal["GaussianDropout"]
    rate: Rate
    seed: int | None = None
    category = "regularization"


class ActivityRegularization(Layer):
    """Adds ``l1 * sum(|x|) + l2 * sum(x**2)`` of its input to the loss; passes the input through."""

    type: Literal["ActivityRegularization"]
    l1: Annotated[float, Field(ge=0)] = Field(0.0, description="L1 penalty factor.")
    l2: Annotated[float, Field(ge=0)] = Field(0.0, description="L2 penalty factor.")
    category = "regularization"
