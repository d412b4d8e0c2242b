"""Conformance of the merging layer kinds (specc/layers/merging.py): static shapes and parameter counts equal what Keras
builds (the harness: tests/layer_conformance.py)."""

from __future__ import annotations

import pytest
from layer_conformance import case, run_layer_case, uncovered


def _merge_cases():
    out = []
    for kind in ("Add", "Multiply", "Average", "Maximum", "Minimum"):
        out += [
            case({"type": kind}, [(4,), (4,)]),
            case({"type": kind}, [(3, 4), (3, 4), (3, 4)]),
            case({"type": kind}, [(3, 1), (1, 4)]),
            case({"type": kind}, [(4,), (3, 4)]),
            case({"type": kind}, [(None, 4), (None, 4)]),
        ]
    out += [
        case({"type": "Add"}, [(5, 5, 3)] * 4),
        case({"type": "Add"}, [(None, 1), (5, 4)], fill=5),  # Keras reports the unknown axis as unknown
        case({"type": "Add"}, [(2, None, 3), (None, 3)]),
        case({"type": "Add"}, [(), (3,)]),
        case({"type": "Add"}, [(1,), (6,)]),
        case({"type": "Subtract"}, [(4,), (4,)]),
        case({"type": "Subtract"}, [(3, 1), (3, 5)]),
        case({"type": "Subtract"}, [(None, 2), (None, 2)]),
        case({"type": "Subtract"}, [(5,), (2, 5)]),
        case({"type": "Concatenate"}, [(3, 4), (3, 2)]),
        case({"type": "Concatenate", "axis": 1}, [(3, 4), (2, 4)]),
        case({"type": "Concatenate", "axis": -2}, [(3, 4), (2, 4)]),
        case({"type": "Concatenate", "axis": 2}, [(3, 4), (3, 1)]),
        case({"type": "Concatenate", "axis": 1}, [(2, 5, 3), (4, 5, 3), (1, 5, 3)]),
        case({"type": "Concatenate"}, [(5, 5, 2), (5, 5, 3), (5, 5, 1)]),
        case({"type": "Concatenate"}, [(None, 4), (None, 2)]),
        case({"type": "Concatenate"}, [(None, 4), (3, 2)], fill=3),  # other axes as the first input reports them
        case({"type": "Concatenate"}, [(3, None), (3, 2)], fill=4),
        case({"type": "Concatenate"}, [(4,), (5,)]),
        case({"type": "Concatenate", "axis": 1}, [(3, 4), (3, 4), (3, 4), (3, 4)]),
        case({"type": "Dot", "axes": 1}, [(4,), (4,)]),
        case({"type": "Dot", "axes": -1}, [(2, 3, 4), (5, 4)]),
        case({"type": "Dot", "axes": [1, 2]}, [(3, 5), (10, 3)]),
        case({"type": "Dot", "axes": [2, 2]}, [(3, 5), (4, 5)]),
        case({"type": "Dot", "axes": [1, 1]}, [(3,), (3, 4, 5)]),
        case({"type": "Dot", "axes": [2, 1]}, [(3, 4), (4,)]),
        case({"type": "Dot", "axes": -1, "normalize": True}, [(6,), (6,)]),
        case({"type": "Dot", "axes": 1}, [(None,), (None,)]),
        case({"type": "Dot", "axes": [3, 2]}, [(2, 3, 4), (5, 4, 6)]),
        case({"type": "Dot", "axes": [1, -1]}, [(4,), (2, 4)]),
    ]
    return out


CASES = [*_merge_cases()]


@pytest.mark.parametrize("spec, shape, dtype, fill", CASES)
def test_layer_matches_keras(spec, shape, dtype, fill):
    run_layer_case(spec, shape, dtype, fill)


def test_every_kind_of_the_family_has_a_case():
    assert uncovered(CASES, "merging") == []
