"""Conformance of the wrapper layer kinds (specc/layers/wrappers.py): static shapes and parameter counts equal what Keras
builds (the harness: tests/layer_conformance.py)."""

from __future__ import annotations

import pytest
from layer_conformance import case, run_layer_case, uncovered

WRAPPERS = [
    case({"type": "TimeDistributed", "layer": {"type": "Dense", "units": 3}}, (4, 5)),
    case({"type": "TimeDistributed", "layer": {"type": "Dense", "units": 2, "use_bias": False}}, (None, 5)),
    case({"type": "TimeDistributed", "layer": {"type": "Dense", "units": 2}}, (4, 3, 5)),
    case({"type": "TimeDistributed", "layer": {"type": "Dense", "units": 2, "trainable": False}}, (4, 5)),
    case({"type": "TimeDistributed", "layer": {"type": "Conv2D", "filters": 2, "kernel_size": 3}}, (3, 6, 6, 1)),
    case({"type": "TimeDistributed", "layer": {"type": "Conv2D", "filters": 4, "kernel_size": 2, "strides": 2,
                                               "padding": "same"}}, (None, 5, 5, 3)),
    case({"type": "TimeDistributed", "layer": {"type": "Flatten"}}, (3, 4, 4, 2)),
    case({"type": "TimeDistributed", "layer": {"type": "MaxPooling2D"}}, (None, 4, 6, 2)),
    case({"type": "TimeDistributed", "layer": {"type": "BatchNormalization"}}, (3, 4)),
    case({"type": "TimeDistributed", "layer": {"type": "Embedding", "input_dim": 9, "output_dim": 3}}, (4, 5),
         "int32"),
    case({"type": "TimeDistributed", "layer": {"type": "LSTM", "units": 2}}, (3, 4, 5)),
    case({"type": "TimeDistributed", "layer": {"type": "TimeDistributed", "layer": {"type": "Dense", "units": 3}}},
         (2, 3, 4)),
    case({"type": "TimeDistributed", "layer": {"type": "SeparableConv2D", "filters": 3, "kernel_size": 3}},
         (2, 5, 5, 2)),
    case({"type": "TimeDistributed", "layer": {"type": "GroupNormalization", "groups": 2}}, (None, 4)),
]


CASES = [*WRAPPERS]


@pytest.mark.parametrize("spec, shape, dtype, fill", CASES)
def test_layer_matches_keras(spec, shape, dtype, fill):
    run_layer_case(spec, shape, dtype, fill)


def test_every_kind_of_the_family_has_a_case():
    assert uncovered(CASES, "wrappers") == []
