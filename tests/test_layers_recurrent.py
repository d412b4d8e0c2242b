"""Conformance of the recurrent layer kinds (specc/layers/recurrent.py): static shapes and parameter counts equal what Keras
builds (the harness: tests/layer_conformance.py)."""

from __future__ import annotations

import pytest
from layer_conformance import case, run_layer_case, uncovered


def _recurrent_cases():
    out = []
    for kind in ("SimpleRNN", "LSTM", "GRU"):
        for return_sequences in (False, True):
            out.append(case({"type": kind, "units": 3, "return_sequences": return_sequences}, (5, 2)))
            out.append(case({"type": kind, "units": 2, "return_sequences": return_sequences}, (None, 4)))
        out.append(case({"type": kind, "units": 4, "use_bias": False}, (3, 5)))
        out.append(case({"type": kind, "units": 1, "go_backwards": True, "dropout": 0.2}, (4, 1)))
        out.append(case({"type": kind, "units": 2, "unroll": True, "return_sequences": True}, (3, 2)))
    for reset_after in (True, False):
        for use_bias in (True, False):
            out.append(case({"type": "GRU", "units": 3, "reset_after": reset_after, "use_bias": use_bias}, (4, 2)))
    out.append(case({"type": "LSTM", "units": 3, "unit_forget_bias": False, "recurrent_activation": "hard_sigmoid"},
                    (4, 2)))
    for merge_mode in ("concat", "sum", "mul", "ave"):
        out.append(case({"type": "Bidirectional", "merge_mode": merge_mode, "layer": {"type": "LSTM", "units": 3}},
                        (5, 2)))
        out.append(case({"type": "Bidirectional", "merge_mode": merge_mode,
                         "layer": {"type": "GRU", "units": 2, "return_sequences": True}}, (None, 3)))
    out += [
        case({"type": "Bidirectional", "layer": {"type": "SimpleRNN", "units": 4, "use_bias": False}}, (6, 1)),
        case({"type": "Bidirectional", "layer": {"type": "GRU", "units": 2, "reset_after": False}}, (3, 3)),
        case({"type": "Bidirectional", "layer": {"type": "LSTM", "units": 2, "trainable": False}}, (4, 3)),
        case({"type": "Bidirectional", "layer": {"type": "LSTM", "units": 2, "name": "encoder"}}, (4, 3)),
    ]
    return out


CASES = [*_recurrent_cases()]


@pytest.mark.parametrize("spec, shape, dtype, fill", CASES)
def test_layer_matches_keras(spec, shape, dtype, fill):
    run_layer_case(spec, shape, dtype, fill)


def test_every_kind_of_the_family_has_a_case():
    assert uncovered(CASES, "recurrent") == []
