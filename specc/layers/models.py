"""Reuse inside a model: blocks, sub-models used as layers, and shared layers.

``Block`` never reaches the graph: specc/expand.py copies the block's layers in
its place. ``Model`` and ``Shared`` refer to other parts of the spec, so the
reuse pass (specc/analysis/reuse.py) resolves them and gives each graph node
what it refers to (``node.ref``), from which its shapes are inferred; the layer
objects here stay plain data.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, model_validator

from .base import Layer, Params, PositiveInt, ShapeError

MAX_REPEAT = 10_000


class Block(Layer):
    """Uses a block from `blocks:` (or an included file): its layers are copied here, `repeat` times in a chain."""

    type: Literal["Block"]
    block: str = Field(description="The block's name in `blocks:`.")
    with_: dict[str, Any] = Field(default_factory=dict, alias="with",
                                  description="Values for the block's parameters.")
    repeat: PositiveInt = Field(1, le=MAX_REPEAT, description="How many copies, each feeding the next.")
    category = "reuse"
    builds_keras_layer = False


class Model(Layer):
    """A model used as a layer: a sub-model from `models:` (every use shares its weights), or a saved model
    (a .keras file or a specc run directory) whose architecture and trained weights are loaded."""

    type: Literal["Model"]
    model: str | None = Field(None, description="The sub-model's name in `models:`.")
    path: str | None = Field(
        None, description="A .keras file or a run directory of `specc train`, relative to the spec file.")
    output: str | None = Field(
        None, description="With `path`: the layer of the saved model whose output this node gives (e.g. the "
                          "last layer before its old head).")
    trainable_from: str | None = Field(
        None, description="With `path`: layers before this one stay frozen, this one and later layers train.")
    n_inputs = (1, 64)
    category = "reuse"
    builds_keras_layer = False

    @model_validator(mode="after")
    def _one_source(self):
        if (self.model is None) == (self.path is None):
            raise ValueError("a Model layer takes either `model` (a name in `models:`) or `path` (a saved model)")
        for key in ("output", "trainable_from"):
            if getattr(self, key) is not None and self.path is None:
                raise ValueError(f"{key} applies to a saved model (`path`); a `models:` entry names its own outputs")
        return self

    def default_name(self) -> str:
        return self.model or "model"

    def infer(self, shapes):
        # A resolved node's shapes come from what it calls (its graph node's `ref`, specc/analysis/reuse.py).
        raise ShapeError("the sub-model could not be read", field="model" if self.model else "path")

    def call_keras(self, layer, tensors: list, **kwargs):
        return layer(tensors[0] if len(tensors) == 1 else tensors, **kwargs)


class Shared(Layer):
    """Applies an earlier layer again: the same layer object, so one set of weights (as in Siamese networks)."""

    type: Literal["Shared"]
    layer: str = Field(description="The name of the layer to apply again.")
    n_inputs = (1, 64)
    category = "reuse"
    builds_keras_layer = False

    def default_name(self) -> str:
        return f"{self.layer}_shared"

    def infer(self, shapes):
        # A resolved node's shapes come from the layer it applies (its graph node's `ref`, specc/analysis/reuse.py).
        raise ShapeError(f"'{self.layer}' could not be resolved", field="layer")

    def count_params(self, shapes) -> Params:
        return Params()  # the weights are counted once, at the shared layer itself
