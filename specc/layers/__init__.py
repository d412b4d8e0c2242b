"""Every layer kind specc knows, one module per family.

``FAMILIES`` is the index: which module defines which kinds (`type` tags), in the order the discriminated union
lists them. A family's module is imported the first time a spec uses one of its kinds (``REGISTRY[tag]``),
so that checking a spec pays only for the families it uses; tests/test_imports.py checks the index against
the modules. ``AnyLayer`` is the union (on ``type``) that the spec schema uses.
"""

from __future__ import annotations

from .base import REGISTRY, AnyLayer, Layer, Params, Shape, ShapeError

FAMILIES: dict[str, tuple[str, ...]] = {
    "activations": ("ReLU", "LeakyReLU", "PReLU", "ELU", "Softmax"),
    "merging": ("Add", "Subtract", "Multiply", "Average", "Maximum", "Minimum", "Concatenate", "Dot"),
    "applications": ("LayerScale", "CustomScaleLayer"),
    "attention": ("MultiHeadAttention", "Attention"),
    "convolution": ("Conv1D", "Conv2D", "Conv3D", "Conv2DTranspose", "DepthwiseConv2D", "SeparableConv2D"),
    "core": ("Input", "Dense", "Activation", "Dropout", "Flatten", "Reshape", "RepeatVector", "Rescaling"),
    "embedding": ("Embedding",),
    "models": ("Block", "Model", "Shared"),
    "normalization": ("BatchNormalization", "LayerNormalization", "GroupNormalization", "UnitNormalization",
                      "RMSNormalization", "Normalization"),
    "pooling": ("MaxPooling1D", "AveragePooling1D", "MaxPooling2D", "AveragePooling2D", "MaxPooling3D",
                "AveragePooling3D", "GlobalAveragePooling1D", "GlobalMaxPooling1D", "GlobalAveragePooling2D",
                "GlobalMaxPooling2D", "GlobalAveragePooling3D", "GlobalMaxPooling3D", "UpSampling1D", "UpSampling2D",
                "UpSampling3D"),
    "recurrent": ("SimpleRNN", "LSTM", "GRU", "Bidirectional"),
    "regularization": ("SpatialDropout1D", "SpatialDropout2D", "GaussianNoise", "GaussianDropout",
                       "ActivityRegularization"),
    "reshaping": ("ZeroPadding1D", "ZeroPadding2D", "Cropping1D", "Cropping2D", "Permute"),
    "wrappers": ("TimeDistributed",),
}

REGISTRY.index(__name__, FAMILIES)

__all__ = ["FAMILIES", "REGISTRY", "AnyLayer", "Layer", "Params", "Shape", "ShapeError"]
