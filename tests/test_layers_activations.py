"""Conformance of the activation layer kinds (specc/layers/activations.py): static shapes and parameter counts equal what Keras
builds (the harness: tests/layer_conformance.py)."""

from __future__ import annotations

import pytest
from layer_conformance import case, run_layer_case, uncovered

ACTIVATION_LAYERS = [
    case({"type": "LeakyReLU"}, (4,)),
    case({"type": "LeakyReLU", "negative_slope": 0.1}, (None, 3)),
    case({"type": "LeakyReLU", "negative_slope": 0}, (2, 3, 4)),
    case({"type": "ReLU"}, (4,)),
    case({"type": "ReLU", "max_value": 6}, (3, 3, 2)),
    case({"type": "ReLU", "negative_slope": 0.1, "threshold": 0.5}, (None, 4)),
    case({"type": "ReLU", "max_value": 1.0, "negative_slope": 0.2, "threshold": 0.1}, (5,)),
    case({"type": "PReLU"}, (3, 4)),
    case({"type": "PReLU", "shared_axes": [1, 2]}, (None, None, 4)),
    case({"type": "PReLU", "shared_axes": [1]}, (None, 3)),
    case({"type": "PReLU", "alpha_initializer": "ones", "alpha_regularizer": {"l2": 0.01}}, (5,)),
    case({"type": "PReLU", "shared_axes": [2]}, (4, 5, 2)),
    case({"type": "ELU"}, (4,)),
    case({"type": "ELU", "alpha": 0.5}, (None, 3)),
    case({"type": "ELU", "alpha": -1}, (2, 2)),
    case({"type": "Softmax"}, (4,)),
    case({"type": "Softmax", "axis": 1}, (3, 4)),
    case({"type": "Softmax", "axis": [1, 2]}, (3, 4)),
    case({"type": "Softmax", "axis": [-1]}, (2, 3, 4)),
    case({"type": "Softmax"}, (None, 5)),
]


CASES = [*ACTIVATION_LAYERS]


@pytest.mark.parametrize("spec, shape, dtype, fill", CASES)
def test_layer_matches_keras(spec, shape, dtype, fill):
    run_layer_case(spec, shape, dtype, fill)


def test_every_kind_of_the_family_has_a_case():
    assert uncovered(CASES, "activations") == []
