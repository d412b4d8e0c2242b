"""The JSON Schema, checked with an independent validator (jsonschema), not with specc's own code."""

import json

import jsonschema
import pytest
from conftest import ROOT, SPECS, run_cli

from specc.jsonschema import spec_schema
from specc.loader import load_file, load_text

VALIDATOR = jsonschema.Draft202012Validator(spec_schema())


def test_schema_is_a_valid_draft_2020_12_schema():
    jsonschema.Draft202012Validator.check_schema(spec_schema())


@pytest.mark.parametrize("path", SPECS, ids=lambda p: p.name)
def test_every_example_spec_is_accepted(path):
    doc, errors = load_file(path)
    assert not errors
    assert list(VALIDATOR.iter_errors(doc.data)) == []


@pytest.mark.parametrize(
    "text",
    [
        "specc: 1\nlayers: [{type: Dense, units: 3, input_dim: 2, unit: 4}]\n",  # unknown layer key
        "specc: 1\nlayers: [{type: Dense, units: 3, input_dim: 2}]\nextra: 1\n",  # unknown top-level key
        "specc: 1\nlayers: [{type: Dens, units: 3}]\n",  # unknown layer type
        "specc: 1\nlayers: [Dense]\n",  # Dense has a required argument: no short form
        "specc: 2\nlayers: [Flatten]\n",  # unsupported version
        "specc: 1\nlayers: [{type: Dense, units: 0, input_dim: 2}]\n",  # out of range
        "specc: 1\nlayers: [{type: Dense, units: 2, input_dim: 2}]\ncompile: {loss: msee}\n",  # unknown loss
        "specc: 1\nlayers: [{type: Dense, units: 2, input_dim: 2}]\ncompile: {loss: mse, optimizer: {type: Adam, lr: 1}}\n",
        "specc: 1\nlayers: [{type: Dense, units: 2, input_dim: 2}]\ntrain: {shuffle: yes}\n",
        "specc: 1\nseed: -1\nlayers: [{type: Dense, units: 2, input_dim: 2}]\n",  # NumPy's seeds: 0 to 2**32 - 1
        "specc: 1\nseed: 4294967296\nlayers: [{type: Dense, units: 2, input_dim: 2}]\n",
    ],
)
def test_schema_rejects_what_the_checker_rejects(text):
    from specc.check import check_text

    doc, _ = load_text(text)
    assert list(VALIDATOR.iter_errors(doc.data)), "the schema accepts it"
    assert not check_text(text).ok, "the checker accepts it"


def test_short_forms_are_accepted():
    text = "specc: 1\nlayers: [{type: Dense, units: 2, input_dim: 2}, Flatten]\ncompile: {loss: mse, optimizer: sgd}\n"
    doc, _ = load_text(text)
    assert list(VALIDATOR.iter_errors(doc.data)) == []


def test_cli_schema_matches_committed_copy(tmp_path):
    out = run_cli("schema")
    assert out.returncode == 0
    assert json.loads(out.stdout) == json.loads((ROOT / "docs" / "specc.schema.json").read_text())
    target = tmp_path / "schema.json"
    assert run_cli("schema", "-o", target).returncode == 0
    assert json.loads(target.read_text()) == spec_schema()
    dash = run_cli("schema", "-o", "-", cwd=tmp_path)  # stdout, as elsewhere; it wrote a file named '-'
    assert dash.returncode == 0 and dash.stdout == out.stdout and not (tmp_path / "-").exists()
