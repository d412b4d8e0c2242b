"""specc/lower.py: whole specs, every node of a checked spec against the model Keras builds."""

from __future__ import annotations

import keras
import numpy as np
import pytest
from layer_conformance import BATCH, keras_counts, sample_batch

from specc.check import check_text
from specc.lower import keras_model

MODELS = {
    "cnn": """
specc: 1
name: cnn
layers:
  - type: Conv2D
    filters: 8
    kernel_size: 3
    activation: relu
    input_shape: [28, 28, 1]
  - type: BatchNormalization
  - type: MaxPooling2D
  - type: Conv2D
    filters: 16
    kernel_size: [3, 2]
    strides: 2
    padding: same
    groups: 2
    use_bias: false
  - type: AveragePooling2D
    pool_size: 3
    strides: 1
  - type: Dropout
    rate: 0.25
  - Flatten
  - type: Dense
    units: 32
    activation: relu
    trainable: false
  - type: Dense
    units: 10
    activation: softmax
""",
    "text": """
specc: 1
name: text
layers:
  - type: Input
    name: tokens
    shape: [null]
    dtype: int32
  - type: Embedding
    input_dim: 1000
    output_dim: 16
    mask_zero: true
  - type: Bidirectional
    layer: {type: LSTM, units: 8, return_sequences: true}
  - type: LayerNormalization
  - type: GRU
    units: 8
    reset_after: false
  - type: Dense
    units: 1
    activation: sigmoid
""",
    "two_heads": """
specc: 1
name: two_heads
layers:
  - type: Input
    name: series
    shape: [16, 3]
  - type: Conv1D
    name: features
    filters: 4
    kernel_size: 3
    padding: causal
    dilation_rate: 2
  - type: MaxPooling1D
    pool_size: 3
    strides: 2
  - type: UpSampling1D
    size: 2
  - type: GlobalMaxPooling1D
  - type: Dense
    name: head_a
    units: 2
  - type: SimpleRNN
    inputs: features
    units: 4
  - type: RepeatVector
    n: 3
  - type: GRU
    units: 5
    return_sequences: true
  - type: TimeDistributed
    name: head_b
    layer: {type: Dense, units: 2, activation: tanh}
outputs: [head_a, head_b]
""",
    "decoder": """
specc: 1
name: decoder
layers:
  - type: Dense
    units: 98
    input_dim: 16
    activation: relu
  - type: Reshape
    target_shape: [7, 7, 2]
  - type: Conv2DTranspose
    filters: 8
    kernel_size: 3
    strides: 2
    padding: same
    output_padding: 1
  - type: UpSampling2D
    size: [2, 1]
  - type: BatchNormalization
    center: false
    trainable: false
  - type: Conv2DTranspose
    filters: 4
    kernel_size: [4, 3]
    strides: [1, 2]
  - type: Conv2D
    filters: 1
    kernel_size: 3
    padding: same
    activation: sigmoid
  - type: GlobalAveragePooling2D
    keepdims: true
  - type: Reshape
    target_shape: [-1]
""",
    "residual": """
specc: 1
name: residual
layers:
  - type: Input
    name: image
    shape: [32, 32, 3]
  - type: Rescaling
    scale: 0.00392156862745098
  - type: Conv2D
    name: stem
    filters: 16
    kernel_size: 3
    padding: same
  - type: BatchNormalization
  - type: ReLU
  - type: Conv2D
    filters: 16
    kernel_size: 3
    padding: same
    use_bias: false
  - type: BatchNormalization
    name: block1_bn
  - type: Add
    name: block1
    inputs: [block1_bn, stem]
  - type: ReLU
    name: block1_out
  - type: SeparableConv2D
    filters: 32
    kernel_size: 3
    strides: 2
    padding: same
  - type: GroupNormalization
    groups: 8
  - type: ReLU
    max_value: 6
    name: block2_main
  - type: Conv2D
    name: projection
    inputs: block1_out
    filters: 32
    kernel_size: 1
    strides: 2
  - type: Add
    name: block2
    inputs: [block2_main, projection]
  - type: GlobalAveragePooling2D
  - type: Dense
    units: 10
  - type: Softmax
    name: probabilities
compile:
  optimizer: adam
  loss: sparse_categorical_crossentropy
""",
    "inception": """
specc: 1
name: inception
layers:
  - type: Input
    name: image
    shape: [28, 28, 1]
  - type: Conv2D
    name: stem
    filters: 8
    kernel_size: 3
    activation: relu
  - type: Conv2D
    name: branch_1x1
    inputs: stem
    filters: 4
    kernel_size: 1
  - type: Conv2D
    name: branch_3x3_reduce
    inputs: stem
    filters: 4
    kernel_size: 1
  - type: Conv2D
    name: branch_3x3
    filters: 6
    kernel_size: 3
    padding: same
  - type: Conv2D
    name: branch_5x5_reduce
    inputs: stem
    filters: 2
    kernel_size: 1
  - type: Conv2D
    name: branch_5x5
    filters: 3
    kernel_size: 5
    padding: same
  - type: MaxPooling2D
    name: branch_pool
    inputs: stem
    pool_size: 3
    strides: 1
    padding: same
  - type: Conv2D
    name: branch_pool_proj
    filters: 2
    kernel_size: 1
  - type: Concatenate
    name: mixed
    inputs: [branch_1x1, branch_3x3, branch_5x5, branch_pool_proj]
  - type: SpatialDropout2D
    rate: 0.2
  - type: GlobalMaxPooling2D
  - type: Dense
    units: 10
    activation: softmax
""",
    "transformer": """
specc: 1
name: transformer
layers:
  - type: Input
    name: tokens
    shape: [12]
    dtype: int32
  - type: Embedding
    name: embed
    input_dim: 50
    output_dim: 16
  - type: MultiHeadAttention
    name: self_attention
    inputs: [embed, embed]
    num_heads: 4
    key_dim: 4
    dropout: 0.1
  - type: Dropout
    rate: 0.1
  - type: Add
    name: residual_1
    inputs: [embed, dropout]
  - type: LayerNormalization
    name: norm_1
  - type: Dense
    units: 32
    activation: gelu
  - type: Dense
    units: 16
  - type: Add
    name: residual_2
    inputs: [norm_1, dense_1]
  - type: RMSNormalization
  - type: MultiHeadAttention
    name: cross_attention
    inputs: [rms_normalization, embed, norm_1]
    num_heads: 2
    key_dim: 8
    value_dim: 4
    output_shape: 8
  - type: GlobalAveragePooling1D
  - type: Dense
    units: 1
    activation: sigmoid
""",
    "unet": """
specc: 1
name: unet
layers:
  - type: Input
    shape: [14, 14, 1]
  - type: ZeroPadding2D
    padding: 1
  - type: Conv2D
    name: enc1
    filters: 4
    kernel_size: 3
    padding: same
  - type: LeakyReLU
    negative_slope: 0.2
  - type: MaxPooling2D
  - type: DepthwiseConv2D
    name: enc2
    kernel_size: 3
    padding: same
    depth_multiplier: 2
  - type: PReLU
    shared_axes: [1, 2]
  - type: UpSampling2D
    name: up
  - type: Concatenate
    name: skip
    inputs: [enc1, up]
  - type: Conv2D
    filters: 1
    kernel_size: 1
  - type: Cropping2D
    cropping: 1
  - type: Activation
    activation: sigmoid
""",
    "two_towers": """
specc: 1
name: two_towers
layers:
  - type: Input
    name: left
    shape: [6, 4]
  - type: Input
    name: right
    shape: [8, 4]
  - type: Attention
    name: attend
    inputs: [left, right]
    use_scale: true
  - type: GlobalAveragePooling1D
    name: left_vec
  - type: GlobalMaxPooling1D
    name: right_vec
    inputs: right
  - type: Dot
    name: cosine
    inputs: [left_vec, right_vec]
    axes: 1
    normalize: true
  - type: Subtract
    name: difference
    inputs: [left_vec, right_vec]
  - type: Multiply
    name: product
    inputs: [left_vec, right_vec]
  - type: Maximum
    name: largest
    inputs: [left_vec, right_vec, product]
  - type: Average
    name: mean
    inputs: [left_vec, right_vec]
  - type: Minimum
    name: smallest
    inputs: [difference, mean]
  - type: Concatenate
    name: features
    inputs: [cosine, difference, product, largest, smallest]
  - type: UnitNormalization
  - type: GaussianNoise
    stddev: 0.1
  - type: Dense
    units: 2
  - type: ELU
    name: output
""",
    "preprocess_3d": """
specc: 1
name: preprocess_3d
layers:
  - type: Input
    shape: [6, 3]
  - type: Rescaling
    scale: [0.5, 0.25, 2.0]
    offset: [1.0, 0.0, -1.0]
  - type: Normalization
    mean: [0.0, 1.0, 2.0]
    variance: [1.0, 4.0, 9.0]
  - type: Conv1D
    filters: 4
    kernel_size: 2
  - type: Permute
    dims: [2, 1]
  - type: ZeroPadding1D
    padding: [1, 2]
  - type: Cropping1D
    cropping: [0, 1]
  - type: SpatialDropout1D
    rate: 0.1
  - type: GaussianDropout
    rate: 0.2
  - type: ActivityRegularization
    l1: 0.01
  - type: PReLU
  - type: Flatten
  - type: Reshape
    target_shape: [1, 1, 1, 30]
  - type: Conv3D
    filters: 2
    kernel_size: 1
  - type: UpSampling3D
    size: [2, 1, 1]
  - type: MaxPooling3D
    pool_size: [2, 1, 1]
  - type: AveragePooling3D
    pool_size: 1
  - type: GlobalMaxPooling3D
""",
    "video": """
specc: 1
name: video
layers:
  - type: Input
    shape: [null, 12, 12, 3]
  - type: TimeDistributed
    layer: {type: Conv2D, filters: 4, kernel_size: 3, strides: 2}
  - type: TimeDistributed
    layer: {type: GlobalAveragePooling2D}
  - type: LSTM
    units: 6
    return_sequences: true
  - type: Bidirectional
    merge_mode: ave
    layer: {type: SimpleRNN, units: 3}
  - type: Dense
    units: 3
    activation: softmax
""",
}


@pytest.mark.parametrize("name", sorted(MODELS))
def test_model_matches_keras(name):
    result = check_text(MODELS[name], f"{name}.yaml")
    assert result.ok, [d.message for d in result.errors]
    model = keras_model(result, compile=False)
    assert len(result.graph.nodes) == len(model.layers)
    for node in result.graph.nodes:
        info = result.info[node.name]
        built = model.get_layer(node.name)
        assert tuple(built.output.shape) == info.shape, node.name
        assert built.count_params() == info.params.total, node.name
        assert keras_counts(built) == (info.params.trainable, info.params.non_trainable), node.name
    assert model.count_params() == result.params.total
    assert keras_counts(model) == (result.params.trainable, result.params.non_trainable)

    # One real batch: every size specc knows is the size Keras computes.
    inputs = []
    for n in result.graph.inputs:
        layer = result.graph.by_name[n].layer
        shape = (BATCH, *(5 if d is None else d for d in layer.shape))
        inputs.append(sample_batch(shape, layer.dtype, 2))
    outputs = model(inputs[0] if len(inputs) == 1 else inputs)
    outputs = outputs if isinstance(outputs, (list, tuple)) else [outputs]
    for n, out in zip(result.graph.outputs, outputs):
        want = result.info[n].shape
        assert len(out.shape) == len(want)
        assert all(w is None or w == g for w, g in zip(want[1:], out.shape[1:])), (n, want, tuple(out.shape))


def test_softmax_layer_is_the_output_activation():
    """The whole-model loss checks read a Softmax layer as a softmax output, as they read ``activation``."""
    result = check_text(MODELS["residual"], "residual.yaml")
    assert result.ok and not result.diagnostics, [d.message for d in result.diagnostics]
    linear = MODELS["residual"].replace("  - type: Softmax\n    name: probabilities\n", "")
    assert [d.code for d in check_text(linear, "linear.yaml").warnings] == ["W402"]


@pytest.mark.parametrize("name", ["transformer", "preprocess_3d"])
def test_new_kinds_save_and_load_without_specc(name, tmp_path):
    """The lowered model is plain Keras: it saves, loads, and computes the same outputs."""
    result = check_text(MODELS[name], f"{name}.yaml")
    model = keras_model(result, compile=False)
    layer = result.graph.by_name[result.graph.inputs[0]].layer
    x = sample_batch((BATCH, *layer.shape), layer.dtype, 2)
    model.save(tmp_path / "model.keras")
    loaded = keras.saving.load_model(tmp_path / "model.keras")
    np.testing.assert_allclose(np.asarray(loaded(x)), np.asarray(model(x)), atol=1e-6)
