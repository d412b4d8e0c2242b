"""Conformance of the regularization layer kinds (specc/layers/regularization.py): static shapes and parameter counts equal what Keras
builds (the harness: tests/layer_conformance.py)."""

from __future__ import annotations

import pytest
from layer_conformance import case, run_layer_case, uncovered

REGULARIZATION = [
    case({"type": "SpatialDropout1D", "rate": 0.5}, (4, 3)),
    case({"type": "SpatialDropout1D", "rate": 0.0, "seed": 1}, (None, 2)),
    case({"type": "SpatialDropout2D", "rate": 0.5}, (4, 4, 3)),
    case({"type": "SpatialDropout2D", "rate": 0.2, "seed": 7}, (None, None, 2)),
    case({"type": "GaussianNoise", "stddev": 0.1}, (4,)),
    case({"type": "GaussianNoise", "stddev": 1.0, "seed": 3}, (None, 3)),
    case({"type": "GaussianNoise", "stddev": 0.0}, (2, 2, 1)),
    case({"type": "GaussianDropout", "rate": 0.3}, (4,)),
    case({"type": "GaussianDropout", "rate": 0.0}, (None, 2)),
    case({"type": "ActivityRegularization"}, (4,)),
    case({"type": "ActivityRegularization", "l1": 0.01}, (3, 2)),
    case({"type": "ActivityRegularization", "l2": 0.01}, (None,)),
    case({"type": "ActivityRegularization", "l1": 0.1, "l2": 0.2}, (2, 2, 2)),
]


CASES = [*REGULARIZATION]


@pytest.mark.parametrize("spec, shape, dtype, fill", CASES)
def test_layer_matches_keras(spec, shape, dtype, fill):
    run_layer_case(spec, shape, dtype, fill)


def test_every_kind_of_the_family_has_a_case():
    assert uncovered(CASES, "regularization") == []
