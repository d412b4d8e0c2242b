"""Reuse without code: variables, includes, blocks and nested models.

`vars`, `include` and `blocks` are expanded in the data before the schema sees
the layers (specc/expand.py); the models here describe what a user writes, for
the checks of that pass and for the JSON Schema. `models` stay in the spec:
each entry is a sub-model that `type: Model` nodes call (one set of weights).
"""

from __future__ import annotations

from typing import Annotated, Any, Union

from pydantic import BaseModel, ConfigDict, Field, field_validator

from ..layers import AnyLayer

Name = Annotated[str, Field(pattern=r"^[A-Za-z_][A-Za-z0-9_]*$", max_length=64)]
LayerName = Annotated[str, Field(pattern=r"^[A-Za-z_][A-Za-z0-9_.\-]*$", max_length=128)]


def layer_short_forms(value: Any) -> Any:
    """A `layers:` list may name a layer kind alone (`- Flatten`): that is `{type: Flatten}`."""
    if isinstance(value, list):
        return [{"type": item} if isinstance(item, str) else item for item in value]
    return value


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, allow_inf_nan=False, defer_build=True)


class BlockDef(_Model):
    """A named, parameterized sub-graph, copied wherever a `type: Block` layer uses it.

    In its layers, `${param}` stands for a parameter's value (`${filters * 2}` for simple arithmetic).
    Its first layer takes the block's (first) input; a layer names `inputs` to take another one.
    """

    description: str | None = None
    params: dict[Name, Any] = Field(
        default_factory=dict, description="Parameters and their defaults; null makes a parameter required."
    )
    inputs: list[Name] = Field(
        default_factory=lambda: ["input"], min_length=1,
        description="Names the block's layers use for its inputs (default: one input called `input`).",
    )
    layers: list[Union[dict[str, Any], str]] = Field(min_length=1, description="The block's layers, as in `layers:`.")
    outputs: list[LayerName] | None = Field(
        None, min_length=1, description="The block's output layers; defaults to its last layer."
    )


class SubModel(_Model):
    """A model used as a layer: its own inputs, layers and outputs, one set of weights however often it is
    called. Saved beside the whole model after training, so it can be used on its own."""

    description: str | None = None
    layers: list[AnyLayer] = Field(min_length=1, description="The sub-model's layers, starting with its Input(s).")
    outputs: list[LayerName] | None = Field(None, description="Its output layers; defaults to the last layer.")
    sequential: bool = Field(
        False, description="Build it as a keras.Sequential (a plain stack: each layer takes the one before). "
        "`specc import` writes it for a nested Sequential: Keras files address a nested model's weights by its "
        "class, so this is what lets the original weights load."
    )

    @field_validator("layers", mode="before")
    @classmethod
    def _short_forms(cls, value: Any) -> Any:
        return layer_short_forms(value)


Vars = dict[Name, Any]
Include = Annotated[str, Field(min_length=1, max_length=4096)]
