"""Conformance of the Embedding kind (specc/layers/embedding.py): static shapes and parameter counts equal what Keras
builds (the harness: tests/layer_conformance.py)."""

from __future__ import annotations

import pytest
from layer_conformance import case, run_layer_case, uncovered

EMBEDDING = [
    case({"type": "Embedding", "input_dim": 10, "output_dim": 4}, (5,), "int32"),
    case({"type": "Embedding", "input_dim": 100, "output_dim": 8, "mask_zero": True}, (None,), "int32"),
    case({"type": "Embedding", "input_dim": 7, "output_dim": 3}, (3, 4), "int32"),
    case({"type": "Embedding", "input_dim": 5, "output_dim": 2}, (None, 6), "int64"),
    case({"type": "Embedding", "input_dim": 1, "output_dim": 1}, (), "int32"),
]


CASES = [*EMBEDDING]


@pytest.mark.parametrize("spec, shape, dtype, fill", CASES)
def test_layer_matches_keras(spec, shape, dtype, fill):
    run_layer_case(spec, shape, dtype, fill)


def test_every_kind_of_the_family_has_a_case():
    assert uncovered(CASES, "embedding") == []
