"""Conformance of the layer kinds of Keras's applications package (specc/layers/applications.py): static shapes
and parameter counts equal what Keras builds (the harness: tests/layer_conformance.py)."""

from __future__ import annotations

import pytest
from layer_conformance import case, run_layer_case, uncovered

APPLICATION_LAYERS = [
    case({"type": "LayerScale", "init_values": 0.5, "projection_dim": 4}, (3, 3, 4)),
    case({"type": "LayerScale", "init_values": 1e-6, "projection_dim": 6}, (6,)),
    case({"type": "CustomScaleLayer", "scale": 0.17}, [(3, 3, 4), (3, 3, 4)]),
    case({"type": "CustomScaleLayer", "scale": 2.0}, [(5,), (1,)]),
]


CASES = [*APPLICATION_LAYERS]


@pytest.mark.parametrize("spec, shape, dtype, fill", CASES)
def test_layer_matches_keras(spec, shape, dtype, fill):
    run_layer_case(spec, shape, dtype, fill)


def test_every_kind_of_the_family_has_a_case():
    assert uncovered(CASES, "applications") == []
