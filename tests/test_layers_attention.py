"""Conformance of the attention layer kinds (specc/layers/attention.py): static shapes and parameter counts equal what Keras
builds (the harness: tests/layer_conformance.py)."""

from __future__ import annotations

import pytest
from layer_conformance import case, run_layer_case, uncovered

ATTENTION = [
    case({"type": "MultiHeadAttention", "num_heads": 2, "key_dim": 4}, [(5, 6), (7, 3)]),
    case({"type": "MultiHeadAttention", "num_heads": 2, "key_dim": 4}, [(5, 6), (7, 3), (7, 9)]),
    case({"type": "MultiHeadAttention", "num_heads": 3, "key_dim": 2, "value_dim": 3, "use_bias": False},
         [(5, 6), (5, 6)]),
    case({"type": "MultiHeadAttention", "num_heads": 2, "key_dim": 4, "output_shape": 5}, [(5, 6), (3, 3)]),
    case({"type": "MultiHeadAttention", "num_heads": 2, "key_dim": 4, "output_shape": [3, 2]}, [(5, 6), (3, 3)]),
    case({"type": "MultiHeadAttention", "num_heads": 2, "key_dim": 4, "dropout": 0.5, "seed": 1},
         [(None, 6), (None, 6)]),
    case({"type": "MultiHeadAttention", "num_heads": 2, "key_dim": 4}, [(5, 4, 6), (3, 2, 3)]),
    case({"type": "MultiHeadAttention", "num_heads": 1, "key_dim": 1, "kernel_regularizer": {"l2": 1e-4}},
         [(None, 2), (4, 3), (4, 1)]),
    case({"type": "MultiHeadAttention", "num_heads": 2, "key_dim": 4, "attention_axes": [2]}, [(5, 4, 6), (5, 3, 6)]),
    case({"type": "MultiHeadAttention", "num_heads": 2, "key_dim": 4, "attention_axes": -2}, [(5, 6), (7, 3)]),
    case({"type": "MultiHeadAttention", "num_heads": 1, "key_dim": 2, "attention_axes": [1, 2]},
         [(3, 4, 6), (2, 2, 6)]),
    case({"type": "Attention"}, [(5, 6), (7, 6)]),
    case({"type": "Attention"}, [(5, 6), (7, 3), (7, 6)]),
    case({"type": "Attention", "use_scale": True}, [(None, 4), (None, 4)]),
    case({"type": "Attention", "score_mode": "concat"}, [(5, 6), (7, 6)]),
    case({"type": "Attention", "score_mode": "concat", "use_scale": True}, [(5, 1), (7, 4)]),
    case({"type": "Attention", "dropout": 0.5, "seed": 2}, [(5, 6), (5, 6)]),
    case({"type": "Attention"}, [(3, 2), (None, 2), (None, 2)]),
]


CASES = [*ATTENTION]


@pytest.mark.parametrize("spec, shape, dtype, fill", CASES)
def test_layer_matches_keras(spec, shape, dtype, fill):
    run_layer_case(spec, shape, dtype, fill)


def test_every_kind_of_the_family_has_a_case():
    assert uncovered(CASES, "attention") == []
