"""Reuse inside a model: blocks, sub-models used as layers, and shared layers.

``Block`` never reaches the graph: specc/expand.py copies the block's layers in
its place. ``Model`` and ``Shared`` refer to other parts of the spec, so the
graph pass (specc/analysis/graph.py) resolves them and hands each node what it
refers to before shapes are inferred.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, PrivateAttr, model_validator

from .base import Layer, Params, PositiveInt, ShapeError, fmt_shapes

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

    # Set by the graph pass: output shape and params for the given input shapes.
    _resolve: Any = PrivateAttr(None)
    _sub: Any = PrivateAttr(None)  # the SubModelInfo it calls (specc/analysis/reuse.py), for lowering

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
        if self._resolve is None:
            raise ShapeError("the sub-model could not be read", field="model" if self.model else "path")
        return self._resolve(shapes)[0]

    def count_params(self, shapes) -> Params:
        return self._resolve(shapes)[1]

    def params(self, shapes) -> Params:
        return self.count_params(shapes)  # the resolver applies `trainable` and sharing

    def call_keras(self, layer, tensors: list, **kwargs):
        return layer(tensors[0] if len(tensors) == 1 else tensors, **kwargs)


class Shared(Layer):
    """Applies an earlier layer again: the same layer object, so one set of weights (as in Siamese networks)."""

    type: Literal["Shared"]
    layer: str = Field(description="The name of the layer to apply again.")
    n_inputs = (1, 64)
    category = "reuse"
    builds_keras_layer = False

    _target: Any = PrivateAttr(None)  # the shared node's Layer, set by the graph pass
    _root: Any = PrivateAttr(None)  # that node's name (a share of a share names the original)
    _built: Any = PrivateAttr(None)  # the input shapes its weights were built for

    def default_name(self) -> str:
        return f"{self.layer}_shared"

    def bind(self, inputs_of) -> None:
        self._built = inputs_of(self.layer)

    def infer(self, shapes):
        target = self._target
        lo, hi = target.n_inputs
        if not lo <= len(shapes) <= hi:
            raise ShapeError(f"'{self.layer}' ({target.kind()}) takes {lo if lo == hi else f'{lo} to {hi}'} "
                             f"input(s). Received: {len(shapes)}", field="inputs", code="E204")
        shape = target.output_of(shapes)
        if self._built is not None and target.params(shapes) != target.params(self._built):
            raise ShapeError(
                f"'{self.layer}' has weights built for input {fmt_shapes(self._built)}, which do not fit this "
                f"input. Received: {fmt_shapes(shapes)}", field="inputs",
                help="a shared layer keeps one set of weights: its inputs must have the same feature sizes")
        return shape

    def count_params(self, shapes) -> Params:
        return Params()  # the weights are counted once, at the shared layer itself
