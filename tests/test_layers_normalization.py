"""Conformance of the normalization layer kinds (specc/layers/normalization.py): static shapes and parameter counts equal what Keras
builds (the harness: tests/layer_conformance.py)."""

from __future__ import annotations

import pytest
from layer_conformance import case, run_layer_case, uncovered

# Keras 3.15 deprecates rms_scaling (it scales by the variance); the parameter rule still holds.
RMS_DEPRECATED = pytest.mark.filterwarnings("ignore:You passed `rms_scaling=True`:UserWarning")

NORMALIZATION = [
    case({"type": "BatchNormalization"}, (4,)),
    case({"type": "BatchNormalization"}, (5, 6)),
    case({"type": "BatchNormalization", "axis": 1}, (5, 6)),
    case({"type": "BatchNormalization", "axis": -2}, (3, 4, 5)),
    case({"type": "BatchNormalization", "center": False}, (6, 6, 3)),
    case({"type": "BatchNormalization", "scale": False}, (6, 6, 3)),
    case({"type": "BatchNormalization", "center": False, "scale": False}, (3,)),
    case({"type": "BatchNormalization", "momentum": 0.9, "epsilon": 1e-5}, (None, 4)),
    case({"type": "LayerNormalization"}, (4,)),
    case({"type": "LayerNormalization"}, (None, 6)),
    case({"type": "LayerNormalization", "axis": 1}, (3, 5)),
    case({"type": "LayerNormalization", "axis": [1, 2]}, (3, 4, 5)),
    case({"type": "LayerNormalization", "axis": [-1, -2]}, (3, 4, 5)),
    case({"type": "LayerNormalization", "axis": [1, 3]}, (2, 3, 4)),
    case({"type": "LayerNormalization", "rms_scaling": True}, (7,), marks=RMS_DEPRECATED),
    case({"type": "LayerNormalization", "rms_scaling": True, "center": False, "scale": False}, (2, 7),
         marks=RMS_DEPRECATED),
    case({"type": "LayerNormalization", "center": False}, (5,)),
    case({"type": "LayerNormalization", "scale": False}, (5,)),
    case({"type": "LayerNormalization", "center": False, "scale": False}, (5,)),
]


NORMALIZATION_MORE = [
    case({"type": "GroupNormalization", "groups": 3}, (5, 6)),
    case({"type": "GroupNormalization", "groups": -1}, (5, 6)),
    case({"type": "GroupNormalization", "groups": 2, "axis": 1}, (4, 6)),
    case({"type": "GroupNormalization", "groups": 2, "axis": -2}, (3, 4, 6)),
    case({"type": "GroupNormalization"}, (4, 4, 64)),
    case({"type": "GroupNormalization", "groups": 4, "center": False}, (4, 4, 8)),
    case({"type": "GroupNormalization", "groups": 1, "scale": False}, (None, 6)),
    case({"type": "GroupNormalization", "groups": 6, "center": False, "scale": False}, (6,)),
    case({"type": "UnitNormalization"}, (4,)),
    case({"type": "UnitNormalization", "axis": 1}, (3, 4)),
    case({"type": "UnitNormalization", "axis": [1, 2]}, (3, 4)),
    case({"type": "UnitNormalization", "axis": [-1, -2]}, (2, 3, 4)),
    case({"type": "UnitNormalization"}, (None, None)),
    case({"type": "RMSNormalization"}, (4,)),
    case({"type": "RMSNormalization", "epsilon": 1e-5}, (3, 5)),
    case({"type": "RMSNormalization", "axis": [-2, -1]}, (2, 3, 4)),
    case({"type": "RMSNormalization", "axis": [2, 1]}, (3, 4)),
    case({"type": "RMSNormalization", "axis": 2}, (3, 4)),
    case({"type": "RMSNormalization"}, (None, 4)),
    case({"type": "Normalization", "mean": 0.5, "variance": 4.0}, (4,)),
    case({"type": "Normalization", "mean": [0.0, 1.0, 2.0], "variance": [1.0, 4.0, 9.0]}, (3,)),
    case({"type": "Normalization", "mean": 1.0, "variance": 2.0, "axis": None}, (2, 3)),
    case({"type": "Normalization", "mean": [1.0, 2.0, 3.0], "variance": [1.0, 1.0, 1.0], "axis": 1}, (3, 4)),
    case({"type": "Normalization", "mean": [1.0, 2.0], "variance": [1.0, 2.0], "axis": [1, 2], "invert": True},
         (3, 2)),
    case({"type": "Normalization", "mean": [0.0], "variance": [1.0]}, (None, 5)),
    # Without mean and variance: Keras's adapt form, statistics as non-trainable weights (e.g. EfficientNet).
    case({"type": "Normalization"}, (4,)),
    case({"type": "Normalization"}, (None, 3)),
    case({"type": "Normalization", "axis": [1, 2]}, (3, 4, 2)),
    case({"type": "Normalization", "axis": None}, (2, 3)),
    case({"type": "Normalization", "axis": 1, "invert": True}, (3, 5)),
]


CASES = [*NORMALIZATION, *NORMALIZATION_MORE]


@pytest.mark.parametrize("spec, shape, dtype, fill", CASES)
def test_layer_matches_keras(spec, shape, dtype, fill):
    run_layer_case(spec, shape, dtype, fill)


def test_every_kind_of_the_family_has_a_case():
    assert uncovered(CASES, "normalization") == []
