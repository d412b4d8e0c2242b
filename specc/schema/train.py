"""The `train` section: what Keras's ``model.fit`` takes."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field


class Train(BaseModel):
    """How long and in what batches to train."""

    model_config = ConfigDict(extra="forbid", strict=True)

    epochs: Annotated[int, Field(gt=0)] = 10
    batch_size: Annotated[int, Field(gt=0)] = 32
    validation_split: Annotated[float, Field(ge=0, lt=1)] = Field(
        0.1, description="Fraction of the training data held out for validation."
    )
    shuffle: bool = True
