"""Conformance of the convolution layer kinds (specc/layers/convolution.py): static shapes and parameter counts equal what Keras
builds (the harness: tests/layer_conformance.py)."""

from __future__ import annotations

import pytest
from layer_conformance import case, run_layer_case, uncovered


def _conv1d_cases():
    out = []
    for kernel in (1, 3, 4):
        for strides in (1, 2):
            for padding in ("valid", "same", "causal"):
                out.append(case({"type": "Conv1D", "filters": 3, "kernel_size": kernel, "strides": strides,
                                 "padding": padding}, (9 if kernel != 4 else 10, 2)))
    for padding in ("valid", "same", "causal"):
        out.append(case({"type": "Conv1D", "filters": 2, "kernel_size": 3, "dilation_rate": 2, "padding": padding},
                        (11, 3)))
        out.append(case({"type": "Conv1D", "filters": 4, "kernel_size": 2, "strides": 3, "padding": padding},
                        (None, 2)))
    out += [
        case({"type": "Conv1D", "filters": 4, "kernel_size": 3, "groups": 2}, (8, 6)),
        case({"type": "Conv1D", "filters": 6, "kernel_size": [5], "groups": 3, "use_bias": False}, (12, 3)),
        case({"type": "Conv1D", "filters": 2, "kernel_size": 8}, (8, 1)),
        case({"type": "Conv1D", "filters": 2, "kernel_size": 3, "dilation_rate": [3], "padding": "causal",
              "activation": "relu"}, (None, 5)),
    ]
    return out


def _conv2d_cases():
    out = []
    for kernel in (3, [3, 2], 4):
        for strides in (1, 2, [2, 1]):
            for padding in ("valid", "same"):
                out.append(case({"type": "Conv2D", "filters": 4, "kernel_size": kernel, "strides": strides,
                                 "padding": padding}, (7, 8, 3)))
    out += [
        case({"type": "Conv2D", "filters": 2, "kernel_size": 3, "dilation_rate": 2}, (9, 9, 1)),
        case({"type": "Conv2D", "filters": 2, "kernel_size": 3, "dilation_rate": [1, 2], "padding": "same"}, (6, 7, 2)),
        case({"type": "Conv2D", "filters": 4, "kernel_size": 3, "groups": 2}, (5, 5, 6)),
        case({"type": "Conv2D", "filters": 6, "kernel_size": 1, "groups": 3, "use_bias": False}, (4, 4, 3)),
        case({"type": "Conv2D", "filters": 8, "kernel_size": 3, "use_bias": False, "activation": "relu"}, (5, 5, 1)),
        case({"type": "Conv2D", "filters": 2, "kernel_size": 3, "strides": 2}, (None, None, 3)),
        case({"type": "Conv2D", "filters": 2, "kernel_size": [1, 5], "padding": "same"}, (None, 6, 1)),
        case({"type": "Conv2D", "filters": 3, "kernel_size": 28}, (28, 28, 1)),
        case({"type": "Conv2D", "filters": 3, "kernel_size": 3, "kernel_regularizer": {"l1": 0.01, "l2": 0.01}},
             (6, 6, 2)),
    ]
    return out


def _conv2d_transpose_cases():
    out = []
    for kernel in (3, 4):
        for strides in (1, 2, 3):
            for padding in ("valid", "same"):
                for output_padding in sorted({None, 0, strides - 1}, key=lambda v: -1 if v is None else v):
                    if output_padding == 0 and padding == "same" and kernel % 2 == 0:
                        continue  # TensorFlow cannot run it: a negative case below
                    spec = {"type": "Conv2DTranspose", "filters": 2, "kernel_size": kernel, "strides": strides,
                            "padding": padding}
                    if output_padding is not None:
                        spec["output_padding"] = output_padding
                    out.append(case(spec, (5, 4, 3)))
    out += [
        case({"type": "Conv2DTranspose", "filters": 2, "kernel_size": [3, 2], "strides": [2, 3],
              "output_padding": [1, 0]}, (4, 5, 1)),
        case({"type": "Conv2DTranspose", "filters": 2, "kernel_size": 3, "dilation_rate": 2}, (5, 5, 1)),
        case({"type": "Conv2DTranspose", "filters": 2, "kernel_size": 3, "dilation_rate": 2, "padding": "same"},
             (5, 5, 1)),
        case({"type": "Conv2DTranspose", "filters": 4, "kernel_size": 3, "use_bias": False, "groups": 1}, (3, 3, 2)),
        case({"type": "Conv2DTranspose", "filters": 1, "kernel_size": 2, "strides": 2}, (None, None, 3)),
        case({"type": "Conv2DTranspose", "filters": 1, "kernel_size": 3, "strides": 2, "padding": "same",
              "output_padding": 1}, (None, 7, 3)),
    ]
    return out


def _conv_more_cases():
    out = []
    for kernel in (3, [1, 2, 3]):
        for strides in (1, 2):
            for padding in ("valid", "same"):
                out.append(case({"type": "Conv3D", "filters": 2, "kernel_size": kernel, "strides": strides,
                                 "padding": padding}, (5, 6, 7, 2)))
    out += [
        case({"type": "Conv3D", "filters": 2, "kernel_size": 2, "dilation_rate": 2}, (5, 5, 5, 1)),
        case({"type": "Conv3D", "filters": 4, "kernel_size": 1, "groups": 2, "use_bias": False}, (3, 3, 3, 2)),
        case({"type": "Conv3D", "filters": 3, "kernel_size": [2, 3, 3], "strides": [1, 2, 2], "padding": "same"},
             (None, None, 6, 1)),
        case({"type": "Conv3D", "filters": 1, "kernel_size": [4, 4, 4], "activation": "relu"}, (4, 4, 4, 3)),
    ]
    for i, (kernel, strides, padding) in enumerate(
        [(k, s, p) for k in (3, [3, 2]) for s in (1, 2) for p in ("valid", "same")]
    ):
        out.append(case({"type": "DepthwiseConv2D", "kernel_size": kernel, "strides": strides, "padding": padding,
                         "depth_multiplier": 1 + i % 2}, (7, 8, 3)))
        out.append(case({"type": "SeparableConv2D", "filters": 4, "kernel_size": kernel, "strides": strides,
                         "padding": padding, "depth_multiplier": 2 - i % 2}, (7, 8, 3)))
    out += [
        case({"type": "DepthwiseConv2D", "kernel_size": 3, "dilation_rate": 2}, (9, 9, 2)),
        case({"type": "DepthwiseConv2D", "kernel_size": 3, "dilation_rate": [1, 2], "padding": "same"}, (5, 6, 2)),
        # unlike Conv2D, Keras runs depthwise convolutions with strides > 1 and dilation_rate > 1
        case({"type": "DepthwiseConv2D", "kernel_size": 3, "strides": 2, "dilation_rate": 2}, (9, 9, 2)),
        case({"type": "DepthwiseConv2D", "kernel_size": 3, "use_bias": False, "depth_multiplier": 3}, (None, None, 2)),
        case({"type": "DepthwiseConv2D", "kernel_size": [5, 6], "activation": "relu"}, (5, 6, 1)),
        case({"type": "SeparableConv2D", "filters": 2, "kernel_size": 3, "dilation_rate": 2, "padding": "same"},
             (5, 6, 2)),
        case({"type": "SeparableConv2D", "filters": 3, "kernel_size": 3, "strides": 2, "dilation_rate": 2}, (9, 9, 2)),
        case({"type": "SeparableConv2D", "filters": 8, "kernel_size": 1, "use_bias": False}, (None, 5, 4)),
        case({"type": "SeparableConv2D", "filters": 2, "kernel_size": 3, "pointwise_regularizer": {"l2": 1e-4},
              "depthwise_regularizer": {"l1": 1e-4}}, (4, 4, 3)),
    ]
    return out


CASES = [*_conv1d_cases(), *_conv2d_cases(), *_conv2d_transpose_cases(), *_conv_more_cases()]


@pytest.mark.parametrize("spec, shape, dtype, fill", CASES)
def test_layer_matches_keras(spec, shape, dtype, fill):
    run_layer_case(spec, shape, dtype, fill)


def test_every_kind_of_the_family_has_a_case():
    assert uncovered(CASES, "convolution") == []
