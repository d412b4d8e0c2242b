"""Conformance of the padding, cropping and permuting layer kinds (specc/layers/reshaping.py): static shapes and parameter counts equal what Keras
builds (the harness: tests/layer_conformance.py)."""

from __future__ import annotations

import pytest
from layer_conformance import case, run_layer_case, uncovered

RESHAPING = [
    case({"type": "ZeroPadding1D"}, (5, 2)),
    case({"type": "ZeroPadding1D", "padding": [0, 3]}, (5, 2)),
    case({"type": "ZeroPadding1D", "padding": 2}, (None, 3)),
    case({"type": "ZeroPadding2D"}, (4, 5, 2)),
    case({"type": "ZeroPadding2D", "padding": [1, 2]}, (4, 5, 2)),
    case({"type": "ZeroPadding2D", "padding": [[0, 1], [2, 3]]}, (4, 5, 2)),
    case({"type": "ZeroPadding2D", "padding": [1, [2, 0]]}, (None, 5, 1)),
    case({"type": "ZeroPadding2D", "padding": 0}, (None, None, 3)),
    case({"type": "Cropping1D"}, (5, 2)),
    case({"type": "Cropping1D", "cropping": [2, 0]}, (5, 2)),
    case({"type": "Cropping1D", "cropping": 0}, (5, 2)),
    case({"type": "Cropping1D", "cropping": [1, 3]}, (None, 3)),
    case({"type": "Cropping2D"}, (4, 5, 2)),
    case({"type": "Cropping2D", "cropping": 1}, (4, 5, 2)),
    case({"type": "Cropping2D", "cropping": [1, 2]}, (4, 5, 2)),
    case({"type": "Cropping2D", "cropping": [[0, 1], [2, 0]]}, (4, 5, 2)),
    case({"type": "Cropping2D", "cropping": [[1, 1], 1]}, (None, 6, 3)),
    case({"type": "Permute", "dims": [2, 1]}, (3, 4)),
    case({"type": "Permute", "dims": [3, 1, 2]}, (2, 3, 4)),
    case({"type": "Permute", "dims": [1]}, (5,)),
    case({"type": "Permute", "dims": [2, 1]}, (None, 4)),
]


CASES = [*RESHAPING]


@pytest.mark.parametrize("spec, shape, dtype, fill", CASES)
def test_layer_matches_keras(spec, shape, dtype, fill):
    run_layer_case(spec, shape, dtype, fill)


def test_every_kind_of_the_family_has_a_case():
    assert uncovered(CASES, "reshaping") == []
