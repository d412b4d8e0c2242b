"""Conformance of the pooling and upsampling layer kinds (specc/layers/pooling.py): static shapes and parameter counts equal what Keras
builds (the harness: tests/layer_conformance.py)."""

from __future__ import annotations

import pytest
from layer_conformance import case, run_layer_case, uncovered


def _pool_cases():
    out = []
    for kind in ("MaxPooling1D", "AveragePooling1D"):
        for pool, strides in ((2, None), (3, None), (3, 1), (2, 3), (4, 2)):
            for padding in ("valid", "same"):
                spec = {"type": kind, "pool_size": pool, "padding": padding}
                if strides is not None:
                    spec["strides"] = strides
                out.append(case(spec, (11, 2)))
        out.append(case({"type": kind}, (None, 3)))
        out.append(case({"type": kind, "pool_size": [3], "strides": [2], "padding": "same"}, (None, 3)))
    for kind in ("MaxPooling2D", "AveragePooling2D"):
        for pool, strides in ((2, None), (3, None), (3, 1), ([2, 3], None), (2, [1, 2]), (3, 2)):
            for padding in ("valid", "same"):
                spec = {"type": kind, "pool_size": pool, "padding": padding}
                if strides is not None:
                    spec["strides"] = strides
                out.append(case(spec, (7, 8, 2)))
        out.append(case({"type": kind, "pool_size": 2}, (None, None, 3)))
        out.append(case({"type": kind, "pool_size": 4}, (4, 4, 1)))
    for kind in ("GlobalAveragePooling1D", "GlobalMaxPooling1D"):
        for keepdims in (False, True):
            out.append(case({"type": kind, "keepdims": keepdims}, (5, 3)))
            out.append(case({"type": kind, "keepdims": keepdims}, (None, 4)))
    for kind in ("GlobalAveragePooling2D", "GlobalMaxPooling2D"):
        for keepdims in (False, True):
            out.append(case({"type": kind, "keepdims": keepdims}, (5, 6, 3)))
            out.append(case({"type": kind, "keepdims": keepdims}, (None, None, 2)))
    out += [
        case({"type": "UpSampling1D"}, (4, 3)),
        case({"type": "UpSampling1D", "size": 3}, (5, 2)),
        case({"type": "UpSampling1D", "size": 1}, (None, 2)),
        case({"type": "UpSampling2D"}, (3, 4, 2)),
        case({"type": "UpSampling2D", "size": [2, 3]}, (3, 5, 1)),
        case({"type": "UpSampling2D", "size": 3, "interpolation": "bilinear"}, (None, 4, 1)),
        case({"type": "UpSampling2D", "size": [1, 2], "interpolation": "nearest"}, (None, None, 2)),
    ]
    return out


def _pool_more_cases():
    out = []
    for kind in ("MaxPooling3D", "AveragePooling3D"):
        for pool, strides in ((2, None), (3, 1), ([1, 2, 3], [1, 1, 2])):
            for padding in ("valid", "same"):
                spec = {"type": kind, "pool_size": pool, "padding": padding}
                if strides is not None:
                    spec["strides"] = strides
                out.append(case(spec, (4, 6, 7, 2)))
        out.append(case({"type": kind}, (None, None, 4, 1)))
    for kind in ("GlobalAveragePooling3D", "GlobalMaxPooling3D"):
        for keepdims in (False, True):
            out.append(case({"type": kind, "keepdims": keepdims}, (3, 4, 5, 2)))
            out.append(case({"type": kind, "keepdims": keepdims}, (None, None, None, 3)))
    out += [
        case({"type": "UpSampling3D"}, (2, 3, 4, 1)),
        case({"type": "UpSampling3D", "size": [1, 2, 3]}, (3, 4, None, 2)),
        case({"type": "UpSampling3D", "size": 3}, (None, 2, 2, 1)),
    ]
    return out


CASES = [*_pool_cases(), *_pool_more_cases()]


@pytest.mark.parametrize("spec, shape, dtype, fill", CASES)
def test_layer_matches_keras(spec, shape, dtype, fill):
    run_layer_case(spec, shape, dtype, fill)


def test_every_kind_of_the_family_has_a_case():
    assert uncovered(CASES, "pooling") == []
