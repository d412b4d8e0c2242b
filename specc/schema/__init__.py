"""Pass 2: the spec language as Pydantic models.

``Spec`` is the whole file. Layers are a discriminated union on ``type``
(``specc.layers``); a bare string such as ``- Flatten`` is the short form of
``- type: Flatten``. All models forbid unknown keys and use strict types, so a
YAML surprise (``units: "12"``, ``shuffle: yes``) is an error, not a guess.
Every model's validator is built the first time a spec needs it, not at
import (``defer_build``; the unions on ``type`` are ``lazy_union``s): the
checker builds only what the spec in hand uses.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from ..layers import AnyLayer
from .compile import Compile
from .data import Data
from .reuse import BlockDef, Include, SubModel, Vars, layer_short_forms
from .search import Search
from .track import Track
from .train import Train

SPEC_VERSION = 1
SUPPORTED_VERSIONS = (1,)


class Budget(BaseModel):
    """Limits that `specc validate` enforces statically (see docs/checking.md#budgets)."""

    model_config = ConfigDict(extra="forbid", strict=True, allow_inf_nan=False, defer_build=True)

    max_params: Annotated[int, Field(gt=0)] | None = Field(None, description="Most parameters allowed.")
    max_memory_mb: Annotated[float, Field(gt=0)] | None = Field(
        None, description="Most estimated training memory (weights, optimizer state, activations), in MB."
    )
    batch_size: Annotated[int, Field(gt=0)] | None = Field(
        None, description="Batch size for the memory estimate; defaults to train.batch_size."
    )
    max_depth: Annotated[int, Field(gt=0)] | None = Field(None, description="Most layers from input to output.")


class Spec(BaseModel):
    """A specc spec: one model and, optionally, how to train it."""

    model_config = ConfigDict(extra="forbid", strict=True, allow_inf_nan=False, defer_build=True, title="specc spec")

    specc: Literal[1] = Field(description="Format version of the spec language (currently 1).")
    extends: str | None = Field(None, description="A base spec this one inherits and overrides (a path relative to "
                                "this file; docs/graphs.md#extends). Merged before anything else is checked.")
    name: Annotated[str, Field(min_length=1, max_length=128)] | None = Field(
        None, description="Model name; defaults to the file name."
    )
    description: str | None = None
    seed: Annotated[int, Field(ge=0, le=2**32 - 1)] | None = Field(
        None, description="One seed for weights, shuffling and dropout: repeatable runs (0 to 4294967295, as NumPy's).")
    vars: Vars | None = Field(None, description="Variables: `${name}` in any value stands for the variable's value "
                              "(see docs/graphs.md#variables). Set one from the command line with --set vars.NAME=V.")
    include: list[Include] | None = Field(
        None, description="Files (relative to this one, inside the project) whose `blocks`, `models` and `vars` "
                          "this spec can use.")
    blocks: dict[str, BlockDef] | None = Field(None, description="Named, parameterized sub-graphs for `type: Block`.")
    models: dict[str, SubModel] | None = Field(
        None, description="Named sub-models for `type: Model`: one set of weights for every use.")
    layers: list[AnyLayer] = Field(
        min_length=1,
        description="The layers, in order. Each feeds the next unless it names its `inputs`.",
    )
    outputs: list[str] | None = Field(None, description="Names of the output layers; defaults to the last layer.")
    compile: Compile | None = None
    train: Train = Field(default_factory=Train)
    data: Data | None = None
    budget: Budget | None = Field(None, description="Resource limits checked statically by `specc validate`.")
    track: Track | None = Field(None, description="Also log the run to a tracking server (MLflow).")
    search: Search | None = Field(None, description="A hyperparameter search for `specc tune` (docs/tuning.md); "
                                  "`specc train` trains the spec's own values.")

    @field_validator("layers", mode="before")
    @classmethod
    def _short_forms(cls, value: Any) -> Any:
        return layer_short_forms(value)


__all__ = ["Budget", "Spec", "Search", "BlockDef", "SubModel", "Compile", "Train", "Track", "Data", "SPEC_VERSION", "SUPPORTED_VERSIONS"]
