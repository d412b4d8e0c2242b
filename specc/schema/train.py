"""The `train` section: what Keras's ``model.fit`` takes, its callbacks, and how it runs."""

from __future__ import annotations

from typing import Annotated, Literal, Union

from pydantic import BaseModel, ConfigDict, Field, field_validator

Monitor = Annotated[str, Field(pattern=r"^(val_)?[A-Za-z0-9_]+$", description="A logged quantity, e.g. val_loss.")]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, allow_inf_nan=False, defer_build=True)


class EarlyStopping(_Model):
    """Stop when the monitored quantity stops improving (and, by default, go back to the best weights)."""

    monitor: Monitor = "val_loss"
    patience: Annotated[int, Field(ge=0)] = Field(5, description="Epochs without improvement before stopping.")
    min_delta: Annotated[float, Field(ge=0)] = Field(0.0, description="Smallest change that counts as improvement.")
    mode: Literal["auto", "min", "max"] = "auto"
    restore_best_weights: bool = Field(True, description="End with the weights of the best epoch.")
    start_from_epoch: Annotated[int, Field(ge=0)] = 0


class ReduceLROnPlateau(_Model):
    """Multiply the learning rate by `factor` when the monitored quantity stops improving."""

    monitor: Monitor = "val_loss"
    factor: Annotated[float, Field(gt=0, lt=1)] = 0.1
    patience: Annotated[int, Field(ge=0)] = 3
    min_delta: Annotated[float, Field(ge=0)] = 1e-4
    cooldown: Annotated[int, Field(ge=0)] = 0
    min_lr: Annotated[float, Field(ge=0)] = 0.0
    mode: Literal["auto", "min", "max"] = "auto"


class Checkpoint(_Model):
    """Keep the best model seen so far as best.keras in the run directory."""

    monitor: Monitor = "val_loss"
    mode: Literal["auto", "min", "max"] = "auto"


class Train(_Model):
    """How long, in what batches and with which callbacks to train."""

    epochs: Annotated[int, Field(gt=0)] = Field(10, description="Number of passes over the training data.")
    batch_size: Annotated[int, Field(gt=0)] = Field(32, description="Samples per gradient step.")
    validation_split: Annotated[float, Field(ge=0, lt=1)] = Field(
        0.1, description="Fraction of the training data held out for validation (the last part, as in Keras)."
    )
    shuffle: bool = Field(True, description="Shuffle the training data every epoch (in an order fixed by the seed).")
    class_weight: Union[Annotated[list[Annotated[float, Field(ge=0)]], Field(min_length=1)], Literal["balanced"],
                        None] = Field(
        None, description="Loss weight per class id, or `balanced` (inversely proportional to class frequency)."
    )
    early_stopping: Union[EarlyStopping, bool, None] = Field(
        None, description="`true` for the defaults, or a mapping of EarlyStopping arguments."
    )
    reduce_lr_on_plateau: Union[ReduceLROnPlateau, bool, None] = Field(
        None, description="`true` for the defaults, or a mapping of ReduceLROnPlateau arguments."
    )
    checkpoint: Union[Checkpoint, bool] = Field(
        default_factory=Checkpoint, description="Keep the best model as best.keras (`false` to skip)."
    )
    terminate_on_nan: bool = Field(True, description="Stop as soon as the loss becomes NaN.")
    resume_interval: Annotated[float, Field(ge=0)] = Field(
        30.0, description="Seconds between saves of the resumable state (at epoch ends; 0: every epoch)."
    )
    tensorboard: bool = Field(True, description="Write TensorBoard logs to the run's tensorboard/ folder.")
    precision: Literal["float32", "mixed_float16", "mixed_bfloat16"] = Field(
        "float32", description="Keras dtype policy; mixed policies keep outputs in float32."
    )
    jit_compile: Union[bool, Literal["auto"]] = Field(
        "auto", description="XLA compilation: `auto` uses it on GPU only (it slowed small CNNs on CPU)."
    )
    steps_per_execution: Union[Annotated[int, Field(gt=0)], Literal["auto"]] = Field(
        "auto", description="Batches per compiled call: `auto` is 16 with JAX on a GPU (fewer dispatches; the "
        "same steps and results), else 1. Batch-level callbacks and interruption see every Nth batch. On "
        "TensorFlow more than 1 trains the same weights but Keras reports other epoch losses (the history "
        "then differs from one batch per call, and a resumed run's from an uninterrupted one)."
    )
    fast: bool = Field(
        False,
        description="The fast preset (`specc train --fast`): on a GPU, mixed precision (bfloat16 where the GPU has "
        "it, else float16) and XLA; on a CPU, mixed bfloat16 on TensorFlow where the CPU has AMX, else nothing. "
        "`precision` and `jit_compile` set in the spec win. See docs/performance.md.",
    )

    @field_validator("early_stopping", "reduce_lr_on_plateau", mode="before")
    @classmethod
    def _true_means_defaults(cls, value):
        return {} if value is True else value

    @field_validator("checkpoint", mode="before")
    @classmethod
    def _checkpoint_true(cls, value):
        return {} if value is True else value
