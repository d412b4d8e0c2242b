"""Negative cases: every static error specc raises on a layer is one Keras would also hit (it refuses the
layer, an output size is 0 or less, or the shape it computes is not the one it reports); the few places where
specc is stricter on purpose are listed separately and asserted as such (the harness:
tests/layer_conformance.py)."""

from __future__ import annotations

import keras
import numpy as np
import pydantic
import pytest
from layer_conformance import ADAPTER, BATCH, bad, fmt, keras_refusal, samples_of

from specc.check import check_text
from specc.layers import ShapeError

REFUSED = [
    # a window larger than its input, padding valid
    bad({"type": "Conv1D", "filters": 2, "kernel_size": 5}, (3, 1), match="kernel_size 5 does not fit"),
    bad({"type": "Conv1D", "filters": 2, "kernel_size": 4}, (3, 1), match="does not fit"),
    bad({"type": "Conv1D", "filters": 2, "kernel_size": 3, "dilation_rate": 3}, (6, 1), match="does not fit"),
    bad({"type": "Conv2D", "filters": 2, "kernel_size": 4}, (3, 3, 1), match="does not fit"),
    bad({"type": "Conv2D", "filters": 2, "kernel_size": 5, "strides": 2}, (3, 3, 1), match="does not fit"),
    bad({"type": "Conv2D", "filters": 2, "kernel_size": [1, 5]}, (6, 4, 1), match="width of 4"),
    bad({"type": "MaxPooling2D", "pool_size": 5}, (3, 3, 1), match="pool_size 5 does not fit"),
    bad({"type": "MaxPooling2D", "pool_size": 4}, (3, 8, 1), match="does not fit"),
    bad({"type": "AveragePooling1D", "pool_size": 4}, (3, 2), match="does not fit"),
    bad({"type": "AveragePooling2D", "pool_size": 3, "strides": 2}, (2, 8, 1), match="does not fit"),
    bad({"type": "MaxPooling1D", "pool_size": 3, "strides": 1}, (2, 4), match="does not fit"),
    bad({"type": "TimeDistributed", "layer": {"type": "Conv2D", "filters": 1, "kernel_size": 5}}, (2, 3, 3, 1),
        match="does not fit"),
    # argument combinations Keras does not accept
    bad({"type": "Conv2D", "filters": 2, "kernel_size": 3, "strides": 2, "dilation_rate": 2}, (9, 9, 1),
        match="strides > 1 with dilation_rate > 1"),
    bad({"type": "Conv1D", "filters": 2, "kernel_size": 3, "strides": 2, "dilation_rate": 2, "padding": "causal"},
        (9, 1), match="strides > 1 with dilation_rate > 1"),
    bad({"type": "Conv2DTranspose", "filters": 2, "kernel_size": 3, "strides": 2, "dilation_rate": 2}, (5, 5, 1),
        match="strides > 1 with dilation_rate > 1"),
    bad({"type": "Conv2DTranspose", "filters": 2, "kernel_size": 3, "strides": 2, "output_padding": 2}, (5, 5, 1),
        match="smaller than strides"),
    bad({"type": "Conv2DTranspose", "filters": 2, "kernel_size": 3, "strides": [2, 1], "output_padding": [1, 1]},
        (5, 5, 1), match="smaller than strides"),
    # Keras reports a shape for these, but TensorFlow cannot compute it
    bad({"type": "Conv2DTranspose", "filters": 2, "kernel_size": 4, "strides": 2, "padding": "same",
         "output_padding": 0}, (5, 4, 3), match="even kernel_size"),
    bad({"type": "Conv2DTranspose", "filters": 2, "kernel_size": 4, "strides": 3, "padding": "same",
         "output_padding": 0}, (5, 4, 3), match="even kernel_size"),
    bad({"type": "Conv2DTranspose", "filters": 1, "kernel_size": [3, 2], "padding": "same", "output_padding": 0},
        (4, 4, 1), match="even kernel_size"),
    bad({"type": "Conv2DTranspose", "filters": 1, "kernel_size": 4, "strides": 2, "padding": "same",
         "output_padding": [1, 0]}, (1, 1, 1), match="even kernel_size"),
    bad({"type": "Conv2D", "filters": 4, "kernel_size": 3, "groups": 3}, (5, 5, 6), match="groups"),
    bad({"type": "Conv2D", "filters": 8, "kernel_size": 3, "groups": 4}, (5, 5, 6), match="groups"),
    bad({"type": "Conv1D", "filters": 2, "kernel_size": 3}, (5, None), match="known channel axis"),
    bad({"type": "Conv2D", "filters": 2, "kernel_size": [3, 3, 3]}, (6, 6, 1), match="needs 2 values"),
    bad({"type": "MaxPooling1D", "pool_size": [2, 2]}, (6, 1), match="needs 1 values"),
    bad({"type": "UpSampling2D", "size": [2, 2, 2]}, (3, 3, 1), match="needs 2 values"),
    # wrong input rank
    bad({"type": "Conv2D", "filters": 2, "kernel_size": 3}, (8, 8), match="expects a 4-D input"),
    bad({"type": "Conv1D", "filters": 2, "kernel_size": 3}, (8,), match="expects a 3-D input"),
    bad({"type": "MaxPooling2D"}, (4, 4), match="expects a 4-D input"),
    bad({"type": "GlobalAveragePooling2D"}, (4, 3), match="expects a 4-D input"),
    bad({"type": "GlobalMaxPooling1D"}, (4,), match="expects a 3-D input"),
    bad({"type": "UpSampling1D"}, (4,), match="expects a 3-D input"),
    bad({"type": "RepeatVector", "n": 2}, (2, 3), match="expects a 2-D input"),
    bad({"type": "SimpleRNN", "units": 2}, (4,), match="3-D input"),
    bad({"type": "GRU", "units": 2}, (2, 3, 4), match="expects a 3-D input"),
    bad({"type": "Bidirectional", "layer": {"type": "LSTM", "units": 2}}, (4,), match="3-D input"),
    bad({"type": "TimeDistributed", "layer": {"type": "Dense", "units": 2}}, (3,), match="at least 3-D"),
    # unknown sizes where a weight needs them
    bad({"type": "Dense", "units": 3}, (None,), match="known last axis"),
    bad({"type": "LSTM", "units": 2}, (3, None), match="known feature axis"),
    bad({"type": "BatchNormalization", "axis": 1}, (None, 3), match="known size on axis 1"),
    # a dropout mask that does not match the input (Keras fails, or broadcasts, only when training)
    bad({"type": "Dropout", "rate": 0.5, "noise_shape": [None, 5]}, (3, 4), match="noise_shape"),
    bad({"type": "Dropout", "rate": 0.5, "noise_shape": [None, 2, 4]}, (3, 4), match="noise_shape"),
    bad({"type": "Dropout", "rate": 0.5, "noise_shape": [None, 1, 1, 1]}, (3, 4), match="noise_shape"),
    # Reshape sizes
    bad({"type": "Reshape", "target_shape": [5]}, (2, 3), match="holds 5 values but each sample has 6"),
    bad({"type": "Reshape", "target_shape": [4, -1]}, (2, 3), match="cannot fit 6 values"),
    bad({"type": "Reshape", "target_shape": [-1, -1]}, (4,), match="at most one -1"),
    bad({"type": "Reshape", "target_shape": [0, -1]}, (2, 3), match="has a 0"),
    # normalization axes
    bad({"type": "BatchNormalization", "axis": 0}, (4, 3), match="not a feature axis"),
    bad({"type": "BatchNormalization", "axis": 3}, (4, 3), match="not a feature axis"),
    bad({"type": "LayerNormalization", "axis": 0}, (4, 3), match="not a feature axis"),
    bad({"type": "LayerNormalization", "axis": [1, 5]}, (4, 3), match="not a feature axis"),
    # merge layers: shapes that neither match nor broadcast
    bad({"type": "Add"}, [(3,), (4,)], match=r"axis -1 \(counted from the end\) is 3 in input 1 and 4 in input 2. "
        r"Received: input shapes \(None, 3\), \(None, 4\)"),
    bad({"type": "Add"}, [(3, 4), (3, 4), (2, 4)],
        match=r"axis -2 \(counted from the end\) is 3 in inputs 1 to 2 and 2 in input 3"),
    bad({"type": "Multiply"}, [(5, 3), (4, 3)], match="same shape, or sizes of 1"),
    bad({"type": "Subtract"}, [(2, 3), (2,)], match="is 3 in input 1 and 2 in input 2"),
    bad({"type": "Maximum"}, [(4,), (3, 5)], match="is 4 in input 1 and 5 in input 2"),
    bad({"type": "Average"}, [(8, 8, 16), (4, 4, 16)], match="axis -3"),
    bad({"type": "Minimum"}, [(2,), (2,), (3,)], match="inputs 1 to 2"),
    bad({"type": "Concatenate"}, [(3, 4), (2, 4)], match=r"axis 1 has sizes 3, 2. Received: input shapes"),
    bad({"type": "Concatenate", "axis": 1}, [(5, 5, 3), (5, 4, 3)], match="axis 2 has sizes 5, 4"),
    bad({"type": "Concatenate"}, [(3, 4), (4,)], match="same rank"),
    bad({"type": "Concatenate", "axis": 3}, [(3, 4), (3, 4)], match="out of range"),
    bad({"type": "Concatenate", "axis": -4}, [(3, 4), (3, 4)], match="out of range"),
    # Keras reports an unknown batch size but computes a batch of 4 samples from 2
    bad({"type": "Concatenate", "axis": 0}, [(3, 4), (3, 4)], match="batch axis"),
    bad({"type": "Concatenate", "axis": -3}, [(3, 4), (3, 4)], match="batch axis"),
    bad({"type": "Concatenate"}, [(), ()], match="batch axis"),
    bad({"type": "Dot", "axes": 1}, [(3,), (4,)],
        match=r"axis 1 of input 1 \(size 3\) with axis 1 of input 2 \(size 4\)"),
    bad({"type": "Dot", "axes": [1, 2]}, [(3, 5), (10, 4)], match="sizes must be equal"),
    bad({"type": "Dot", "axes": 1}, [(None,), (4,)], match="both sizes known"),
    bad({"type": "Dot", "axes": 0}, [(4,), (4,)], match="batch axis"),
    bad({"type": "Dot", "axes": -2}, [(4,), (4,)], match="batch axis"),
    bad({"type": "Dot", "axes": [3, 1]}, [(3,), (3, 4, 5)], match="out of range for input 1"),
    bad({"type": "Dot", "axes": [1, -4]}, [(3,), (3, 4)], match="out of range for input 2"),
    bad({"type": "Dot", "axes": -1}, [(), ()], match="at least 2-D"),
    # attention
    bad({"type": "MultiHeadAttention", "num_heads": 2, "key_dim": 4}, [(5, 6), (7, 3), (6, 9)],
        match="value and key to match"),
    bad({"type": "MultiHeadAttention", "num_heads": 2, "key_dim": 4}, [(5, 6), (None, 3), (7, 9)],
        match="unknown size matches only an unknown size"),
    bad({"type": "MultiHeadAttention", "num_heads": 2, "key_dim": 4}, [(6,), (3,)], match="at least 3-D"),
    bad({"type": "MultiHeadAttention", "num_heads": 2, "key_dim": 4}, [(5, 4, 6), (3, 3)], match="same rank"),
    bad({"type": "MultiHeadAttention", "num_heads": 2, "key_dim": 4}, [(5, 6), (3, 3), (3, 4, 2)], match="same rank"),
    bad({"type": "MultiHeadAttention", "num_heads": 2, "key_dim": 4}, [(5, None), (3, 3)], match="known last axis"),
    bad({"type": "MultiHeadAttention", "num_heads": 2, "key_dim": 4}, [(5, 6), (3, 3), (3, None)],
        match="known last axis on the key"),
    bad({"type": "MultiHeadAttention", "num_heads": 2, "key_dim": 4, "attention_axes": [2]}, [(5, 4, 6), (3, 4, 6)],
        match="axes it does not attend over"),
    bad({"type": "MultiHeadAttention", "num_heads": 2, "key_dim": 4, "attention_axes": [5]}, [(5, 4, 6), (5, 4, 6)],
        match="between the batch axis and the features"),
    bad({"type": "Attention"}, [(5, 6), (7, 4)], match="same size on the last axis of the query and key"),
    bad({"type": "Attention", "score_mode": "concat"}, [(5, 6), (7, 4)], match=r"same size \(or 1\)"),
    bad({"type": "Attention"}, [(5, 6), (7, 3), (6, 6)], match="same number of steps"),
    # Keras reports (None, 1, 5, 6) but computes (2, 3, 5, 6)
    bad({"type": "Attention"}, [(1, 5, 6), (3, 7, 6)], match="3-D inputs"),
    # more windows that do not fit, and arguments Keras refuses
    bad({"type": "DepthwiseConv2D", "kernel_size": 7}, (5, 6, 1), match="kernel_size 7 does not fit"),
    bad({"type": "SeparableConv2D", "filters": 2, "kernel_size": [2, 7]}, (5, 6, 1), match="width of 6"),
    bad({"type": "Conv3D", "filters": 2, "kernel_size": [1, 1, 8]}, (5, 6, 7, 1), match="width of 7"),
    bad({"type": "Conv3D", "filters": 2, "kernel_size": 3, "dilation_rate": 3}, (7, 7, 6, 1), match="does not fit"),
    bad({"type": "Conv3D", "filters": 2, "kernel_size": 3, "strides": 2, "dilation_rate": 2}, (9, 9, 9, 1),
        match="strides > 1 with dilation_rate > 1"),
    bad({"type": "Conv3D", "filters": 4, "kernel_size": 1, "groups": 3}, (3, 3, 3, 4), match="groups"),
    bad({"type": "DepthwiseConv2D", "kernel_size": 3}, (5, 6, None), match="known channel axis"),
    bad({"type": "SeparableConv2D", "filters": 2, "kernel_size": [3, 3, 3]}, (6, 6, 1), match="needs 2 values"),
    bad({"type": "DepthwiseConv2D", "kernel_size": 3}, (6, 6), match="expects a 4-D input"),
    bad({"type": "Conv3D", "filters": 1, "kernel_size": 3}, (6, 6, 1), match="expects a 5-D input"),
    bad({"type": "MaxPooling3D", "pool_size": 3}, (2, 6, 7, 1), match="depth of 2"),
    bad({"type": "AveragePooling3D", "pool_size": [1, 1, 5]}, (2, 2, 4, 1), match="width of 4"),
    bad({"type": "MaxPooling3D"}, (4, 4, 1), match="expects a 5-D input"),
    bad({"type": "GlobalMaxPooling3D"}, (4, 4, 3), match="expects a 5-D input"),
    bad({"type": "UpSampling3D", "size": [2, 2]}, (3, 3, 3, 1), match="needs 3 values"),
    # padding, cropping, permuting
    bad({"type": "Cropping1D", "cropping": [2, 3]}, (5, 2), match="leaves none"),
    bad({"type": "Cropping2D", "cropping": [[1, 0], [3, 3]]}, (5, 6, 2), match="width of 6"),
    bad({"type": "Cropping2D", "cropping": 3}, (6, 5, 1), match="height of 6"),
    bad({"type": "Cropping2D", "cropping": [1, 2, 3]}, (6, 6, 1), match="needs one int"),
    bad({"type": "ZeroPadding2D", "padding": [1, 2, 3]}, (4, 4, 1), match="needs one int"),
    bad({"type": "ZeroPadding2D", "padding": [1, [1, 2, 3]]}, (4, 4, 1), match="for columns"),
    bad({"type": "ZeroPadding1D", "padding": [1, 2, 3]}, (4, 1), match="needs one int"),
    bad({"type": "ZeroPadding1D"}, (4, 4, 1), match="expects a 3-D input"),
    bad({"type": "Cropping2D"}, (4, 4), match="expects a 4-D input"),
    bad({"type": "Permute", "dims": [2, 1]}, (5, 4, 3), match="expects a 3-D input"),
    bad({"type": "Permute", "dims": [1, 3]}, (5, 4), match="each of 1 to 2 once"),
    bad({"type": "Permute", "dims": [2, 2]}, (5, 4), match="each of 1 to 2 once"),
    bad({"type": "Rescaling", "scale": [1.0, 2.0, 3.0]}, (4, 2), match="one per channel"),
    # Keras reports (None, 4, 1) but computes (2, 4, 3)
    bad({"type": "Rescaling", "scale": 1.0, "offset": [1.0, 2.0, 3.0]}, (4, 1), match="one per channel"),
    # normalization
    bad({"type": "LayerScale", "init_values": 1.0, "projection_dim": 3}, (4, 4, 2), match="projection_dim equal"),
    bad({"type": "CustomScaleLayer", "scale": 1.0}, [(3, 4), (3, 5)], match="same shape"),
    bad({"type": "GroupNormalization", "groups": 4}, (5, 6), match=r"groups \(4\) must divide the 6 channels"),
    bad({"type": "GroupNormalization"}, (5, 6), match=r"groups \(32\)"),
    bad({"type": "GroupNormalization", "groups": 1, "axis": 0}, (4, 6), match="not a feature axis"),
    bad({"type": "GroupNormalization", "groups": 2, "axis": 3}, (4, 6), match="not a feature axis"),
    bad({"type": "GroupNormalization", "groups": 2}, (5, None), match="known size"),
    bad({"type": "RMSNormalization", "axis": 1}, (3, 4), match="last axes"),
    bad({"type": "RMSNormalization", "axis": [1, 2]}, (2, 3, 4), match="last axes"),
    bad({"type": "RMSNormalization", "axis": [1, -1]}, (3, 4), match="last axes"),
    bad({"type": "RMSNormalization"}, (3, None), match="known size"),
    bad({"type": "RMSNormalization", "axis": 0}, (3, 4), match="not a feature axis"),
    bad({"type": "RMSNormalization", "axis": [-1, -1]}, (3, 4), match="twice"),
    bad({"type": "UnitNormalization", "axis": [1, 1]}, (3, 4), match="twice"),
    bad({"type": "UnitNormalization", "axis": [1, -2]}, (3, 4), match="twice"),
    bad({"type": "UnitNormalization", "axis": 5}, (3, 4), match="out of range"),
    bad({"type": "Normalization", "mean": [1.0, 2.0, 3.0], "variance": [1.0, 1.0, 1.0]}, (4,), match="3 values"),
    bad({"type": "Normalization", "mean": [1.0], "variance": [1.0], "axis": None}, (4,), match="axis: null"),
    bad({"type": "Normalization", "mean": [1.0, 2.0], "variance": 1.0}, (2,), match="same shape"),
    bad({"type": "Normalization", "mean": 1.0, "variance": 1.0, "axis": 0}, (4,), match="not a feature axis"),
    bad({"type": "Normalization", "mean": 1.0, "variance": 1.0}, (None,), match="known size"),
    # activation and noise layers
    bad({"type": "Softmax", "axis": 5}, (3, 4), match="out of range"),
    bad({"type": "Softmax", "axis": [1, 3]}, (3, 4), match="out of range"),
    bad({"type": "Softmax", "axis": [1, 1]}, (3, 4), match="twice"),
    bad({"type": "PReLU"}, (None, 4), match="known sizes on every axis it does not share"),
    bad({"type": "PReLU", "shared_axes": [3]}, (3, 4), match="axes 1 to 2"),
    bad({"type": "SpatialDropout1D", "rate": 0.5}, (4,), match="expects a 3-D input"),
    bad({"type": "SpatialDropout2D", "rate": 0.5}, (4, 4), match="expects a 4-D input"),
    bad({"type": "TimeDistributed", "layer": {"type": "Add"}}, (3, 4), match="one input"),
    bad({"type": "TimeDistributed", "layer": {"type": "Attention"}}, (3, 4, 2), match="one input"),
]


@pytest.mark.parametrize("spec, shape, dtype, match", REFUSED)
def test_static_error_is_justified_by_keras(spec, shape, dtype, match):
    layer = ADAPTER.validate_python(spec)
    with pytest.raises(ShapeError, match=match) as caught:
        shapes_in = [(None, *s) for s in samples_of(shape)]
        layer.infer(shapes_in)
        layer.params(shapes_in)
    assert caught.value.message.strip()
    reason = keras_refusal(spec, shape, dtype)
    assert reason is not None, f"specc refuses ({caught.value.message}) but Keras builds and runs the layer"


def test_glu_is_refused_because_keras_reports_the_wrong_shape():
    """glu halves the last axis when it runs, but Keras layers report the unhalved shape."""
    with pytest.raises(pydantic.ValidationError):
        ADAPTER.validate_python({"type": "Dense", "units": 4, "activation": "glu"})
    with pytest.raises(pydantic.ValidationError):
        ADAPTER.validate_python({"type": "Activation", "activation": "glu"})
    dense = keras.layers.Dense(4, activation="glu")
    assert tuple(dense(keras.Input((3,))).shape) == (None, 4)
    assert tuple(dense(np.ones((BATCH, 3), "float32")).shape) == (BATCH, 2)


# Arguments specc's schema refuses, each paired with the Keras constructor call it stands for.
INVALID = [
    ({"type": "Dense", "units": 0}, lambda: keras.layers.Dense(0)),
    ({"type": "Conv2D", "filters": 0, "kernel_size": 3}, lambda: keras.layers.Conv2D(0, 3)),
    ({"type": "Conv2D", "filters": 1, "kernel_size": 3, "padding": "causal"},
     lambda: keras.layers.Conv2D(1, 3, padding="causal")(keras.Input((5, 5, 1)))),
    ({"type": "Conv2DTranspose", "filters": 1, "kernel_size": 3, "groups": 2},
     lambda: keras.layers.Conv2DTranspose(1, 3, groups=2)),
    ({"type": "MaxPooling2D", "pool_size": 0}, lambda: keras.layers.MaxPooling2D(0)),
    ({"type": "Embedding", "input_dim": 0, "output_dim": 3}, lambda: keras.layers.Embedding(0, 3)),
    ({"type": "Dropout", "rate": -0.1}, lambda: keras.layers.Dropout(-0.1)),
    ({"type": "Bidirectional", "layer": {"type": "Dense", "units": 3}},
     lambda: keras.layers.Bidirectional(keras.layers.Dense(3))),
    ({"type": "Dot", "axes": [1]}, lambda: keras.layers.Dot([1])),
    ({"type": "Dot", "axes": [1, 2, 1]}, lambda: keras.layers.Dot([1, 2, 1])),
    ({"type": "DepthwiseConv2D", "kernel_size": 3, "depth_multiplier": 0},
     lambda: keras.layers.DepthwiseConv2D(3, depth_multiplier=0)),
    ({"type": "UpSampling3D", "size": 0}, lambda: keras.layers.UpSampling3D(0)),
    ({"type": "ZeroPadding1D", "padding": -1}, lambda: keras.layers.ZeroPadding1D(-1)),
    ({"type": "Cropping2D", "cropping": -1}, lambda: keras.layers.Cropping2D(-1)),
    ({"type": "Permute", "dims": [0, 1]}, lambda: keras.layers.Permute([0, 1])),
    ({"type": "GroupNormalization", "groups": 0}, lambda: keras.layers.GroupNormalization(0)),
    ({"type": "Normalization", "mean": 1.0}, lambda: keras.layers.Normalization(mean=1.0)),
    ({"type": "ReLU", "max_value": -1.0}, lambda: keras.layers.ReLU(max_value=-1.0)),
    ({"type": "ReLU", "threshold": -0.5}, lambda: keras.layers.ReLU(threshold=-0.5)),
    ({"type": "LeakyReLU", "negative_slope": -0.1}, lambda: keras.layers.LeakyReLU(negative_slope=-0.1)),
    ({"type": "SpatialDropout2D", "rate": 1.5}, lambda: keras.layers.SpatialDropout2D(1.5)),
    ({"type": "GaussianNoise", "stddev": 1.5}, lambda: keras.layers.GaussianNoise(1.5)),
    ({"type": "GaussianDropout", "rate": 1.0},
     lambda: keras.layers.GaussianDropout(1.0)(np.ones((BATCH, 3), "float32"), training=True)),
    ({"type": "ActivityRegularization", "l1": -0.1}, lambda: keras.layers.ActivityRegularization(l1=-0.1)),
    ({"type": "MultiHeadAttention", "num_heads": 0, "key_dim": 2}, lambda: keras.layers.MultiHeadAttention(0, 2)),
    ({"type": "MultiHeadAttention", "num_heads": 2, "key_dim": 2, "value_dim": 0},
     lambda: keras.layers.MultiHeadAttention(2, 2, value_dim=0)),
    ({"type": "Attention", "score_mode": "additive"}, lambda: keras.layers.Attention(score_mode="additive")),
    ({"type": "Dense", "units": 2, "kernel_initializer": {"type": "VarianceScaling", "scale": 0.0}},
     lambda: keras.initializers.VarianceScaling(scale=0.0)),
    ({"type": "Dense", "units": 2, "kernel_initializer": {"type": "VarianceScaling", "mode": "fan_sum"}},
     lambda: keras.initializers.VarianceScaling(mode="fan_sum")),
    ({"type": "Dense", "units": 2, "kernel_initializer": {"type": "VarianceScaling", "distribution": "poisson"}},
     lambda: keras.initializers.VarianceScaling(distribution="poisson")),
    ({"type": "Normalization", "variance": 1.0}, lambda: keras.layers.Normalization(variance=1.0)),
]


@pytest.mark.parametrize("spec, keras_call", INVALID, ids=[fmt(s) for s, _ in INVALID])
def test_schema_error_is_justified_by_keras(spec, keras_call):
    with pytest.raises(pydantic.ValidationError):
        ADAPTER.validate_python(spec)
    with pytest.raises((ValueError, TypeError, ZeroDivisionError)):
        keras_call()


INPUT_COUNTS = [
    ("Subtract", 3, lambda x: keras.layers.Subtract()([x] * 3)),
    ("Dot", 3, lambda x: keras.layers.Dot(axes=-1)([x] * 3)),
    ("Attention", 4, lambda x: keras.layers.Attention()([x] * 4)),
    ("Attention", 1, lambda x: keras.layers.Attention()([x])),
    ("MultiHeadAttention", 1, lambda x: keras.layers.MultiHeadAttention(2, 2)(x)),
]


@pytest.mark.parametrize("kind, count, keras_call", INPUT_COUNTS, ids=[f"{k}x{n}" for k, n, _ in INPUT_COUNTS])
def test_input_count_error_is_justified_by_keras(kind, count, keras_call):
    args = {"Dot": "\n    axes: -1", "MultiHeadAttention": "\n    num_heads: 2\n    key_dim: 2"}.get(kind, "")
    names = ", ".join(["x"] * count)
    text = (f"specc: 1\nlayers:\n  - type: Input\n    name: x\n    shape: [3, 4]\n"
            f"  - type: {kind}\n    inputs: [{names}]{args}\n")
    result = check_text(text, "counts.yaml")
    assert [d.code for d in result.errors] == ["E204"], [d.message for d in result.errors]
    assert f"{kind} takes" in result.errors[0].message
    with pytest.raises((ValueError, TypeError)):
        keras_call(keras.Input((3, 4)))


@pytest.mark.parametrize("text", [
    "specc: 1\nlayers:\n  - type: UpSampling3D\n    inputs: []\n",
    "specc: 1\nlayers:\n  - {type: Dense, units: 3, input_shape: [4]}\n  - {type: Dense, units: 2, inputs: []}\n",
])
def test_an_empty_inputs_list_is_an_input_count_error_at_its_place(text):
    """Found by test_fuzz: `inputs: []` reached the shape pass, which crashed on a layer with no input."""
    result = check_text(text, "empty.yaml")
    assert [d.code for d in result.errors] == ["E204"]
    assert result.errors[0].message.endswith("takes exactly 1 input. Received: none")
    assert result.errors[0].path.endswith("].inputs")


def test_deliberately_stricter_than_keras():
    """Where specc refuses what Keras accepts, on purpose. A change on either side shows here."""
    # Dense on a 4-D input is not refused: Keras applies it to the last axis, position by position, and
    # ConvNeXt is built that way. As a model's output it is a forgotten Flatten: warning W407 (golden).
    dense = ADAPTER.validate_python({"type": "Dense", "units": 5})
    assert dense.infer([(None, 2, 2, 3)]) == tuple(keras.layers.Dense(5)(keras.Input((2, 2, 3))).shape)
    with pytest.raises(ShapeError, match="at least 2-D"):
        dense.infer([(None,)])
    # Dropout with rate 1 zeroes every value: Keras allows it, specc calls it a mistake.
    with pytest.raises(pydantic.ValidationError):
        ADAPTER.validate_python({"type": "Dropout", "rate": 1.0})
    assert float(np.abs(keras.layers.Dropout(1.0)(np.ones((2, 3), "float32"), training=True)).sum()) == 0.0
    # A fixed batch size in noise_shape: Keras runs it only for batches of exactly that size
    # (the last batch of an epoch is usually smaller), so specc asks for null or 1 there.
    spec = {"type": "Dropout", "rate": 0.5, "noise_shape": [BATCH, 1, 1]}
    with pytest.raises(ShapeError, match="noise_shape"):
        ADAPTER.validate_python(spec).infer([(None, 3, 4)])
    assert keras_refusal(spec, (3, 4)) is None
    with pytest.raises(Exception, match="Incompatible shapes|condition"):
        keras.layers.Dropout(0.5, noise_shape=(BATCH, 1, 1))(np.ones((BATCH + 1, 3, 4), "float32"), training=True)


# Static errors on inputs Keras builds and runs: each is a silent mistake, refused on purpose.
STRICTER = [
    # Keras wraps an int axes below -rank around: -3 on 2-D inputs contracts axis 1.
    bad({"type": "Dot", "axes": -3}, [(4,), (4,)], match="out of range"),
    # A softmax or a norm across the batch axis makes each sample's output depend on the others.
    bad({"type": "Softmax", "axis": 0}, (3, 4), match="batch axis"),
    bad({"type": "Softmax", "axis": [-3]}, (3, 4), match="batch axis"),
    bad({"type": "UnitNormalization", "axis": 0}, (3, 4), match="batch axis"),
    # Attention on 2-D inputs (or a 2-D value) attends across the samples of the batch.
    bad({"type": "Attention"}, [(6,), (6,)], match="3-D inputs"),
    bad({"type": "Attention"}, [(5, 6), (6,)], match="3-D inputs"),
    # Keras runs 4-D inputs as batched matrices; specc keeps to the documented (batch, steps, features).
    bad({"type": "Attention"}, [(2, 5, 6), (2, 7, 6)], match="3-D inputs"),
    # Keras normalizes axis 1 but multiplies its learned scale along the last axis, of the same size here.
    bad({"type": "RMSNormalization", "axis": 1}, (4, 4), match="last axes"),
]


@pytest.mark.parametrize("spec, shape, dtype, match", STRICTER)
def test_stricter_static_error_on_what_keras_runs(spec, shape, dtype, match):
    layer = ADAPTER.validate_python(spec)
    with pytest.raises(ShapeError, match=match):
        layer.infer([(None, *s) for s in samples_of(shape)])
    assert keras_refusal(spec, shape, dtype) is None


def test_new_kinds_schema_stricter_than_keras():
    """Schema refusals of values Keras accepts, each with what Keras does with them."""
    x = np.arange(1, 7, dtype="float32").reshape(BATCH, 3)
    # A merge of one input: Keras returns the input; in a spec it is a missing input.
    assert np.array_equal(np.asarray(keras.layers.Add()([x])), x)
    result = check_text("specc: 1\nlayers:\n  - type: Input\n    shape: [3]\n  - Add\n", "one.yaml")
    assert [d.code for d in result.errors] == ["E204"]
    # shared_axes counts from 1 (axis 0 is the batch); Keras reads 0 as the last axis.
    with pytest.raises(pydantic.ValidationError):
        ADAPTER.validate_python({"type": "PReLU", "shared_axes": [0]})
    prelu = keras.layers.PReLU(shared_axes=[0])
    prelu(keras.Input((3, 4)))
    assert tuple(prelu.alpha.shape) == (3, 1)
    # A negative variance: Keras outputs NaN.
    with pytest.raises(pydantic.ValidationError):
        ADAPTER.validate_python({"type": "Normalization", "mean": 0.0, "variance": -1.0})
    assert np.isnan(np.asarray(keras.layers.Normalization(mean=0.0, variance=-1.0)(x))).all()
