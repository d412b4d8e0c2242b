"""The `data` section: where training data comes from and how it is prepared."""

from __future__ import annotations

from typing import Annotated, Literal, Union

from pydantic import BaseModel, ConfigDict, Field


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)


class SklearnSource(_Model):
    """A dataset bundled inside scikit-learn: works offline on a fresh install."""

    type: Literal["sklearn"]
    name: Literal["digits", "iris", "wine", "breast_cancer", "diabetes", "linnerud"]


class NpzSource(_Model):
    """Arrays from a NumPy .npz file (or x/y .npy files)."""

    type: Literal["npz"]
    path: str = Field(description="Path to the .npz file, relative to the spec file.")
    x: str = Field("x", description="Name of the features array in the file.")
    y: str | None = Field("y", description="Name of the labels array; null for unlabelled data.")


Source = Annotated[Union[SklearnSource, NpzSource], Field(discriminator="type")]


class Data(_Model):
    """Training data and its preparation."""

    source: Source
    test: Source | None = Field(None, description="A separate test set; otherwise test_split of source is held out.")
    test_split: Annotated[float, Field(ge=0, lt=1)] = 0.2
    reshape: list[Annotated[int, Field(ge=-1)]] | None = Field(
        None, description="Reshape each sample, e.g. [8, 8, 1] to feed flat digits to a CNN."
    )
    rescale: float | None = Field(None, description="Multiply the features by this, e.g. 0.0625 for digits.")
    labels: Literal["auto", "sparse", "one_hot", "raw"] = Field(
        "auto", description="Label encoding; auto picks one-hot for categorical_crossentropy."
    )
    target: Literal["labels", "input"] = Field(
        "labels", description="`input` trains an autoencoder: the target is the (clean) input."
    )
    noise: Annotated[float, Field(ge=0)] = Field(0.0, description="Gaussian noise stddev added to inputs (denoising).")
