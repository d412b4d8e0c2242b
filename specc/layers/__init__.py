"""Every layer kind specc knows, one module per family.

Importing this package registers all kinds; ``AnyLayer`` is the discriminated
union (on ``type``) that the spec schema uses.
"""

from __future__ import annotations

from . import (  # noqa: F401 (registers)
    activations,
    applications,
    attention,
    convolution,
    core,
    embedding,
    merging,
    models,
    normalization,
    pooling,
    recurrent,
    regularization,
    reshaping,
    wrappers,
)
from .base import REGISTRY, Layer, Params, Shape, ShapeError, layer_union

# Each kind's validator is built when a spec first uses the kind (base.LazyUnion).
AnyLayer = layer_union(REGISTRY)

wrappers.TimeDistributed.model_rebuild(_types_namespace={"AnyLayer": AnyLayer})

__all__ = ["REGISTRY", "AnyLayer", "Layer", "Params", "Shape", "ShapeError"]
