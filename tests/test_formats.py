"""`specc validate --format json|github|sarif`: each checked against its format's rules."""

import json
import re

import jsonschema
import pytest
from conftest import ROOT, run_cli

from specc.diagnostics import CODES

BAD = """\
specc: 1
layers:
  - {type: Dense, units: 12, input_dim: 8, activaton: relu}
"""
SHAPE = """\
specc: 1
layers:
  - {type: Dense, units: 12, input_dim: 8}
  - {type: LSTM, units: 4}
"""
WARN = """\
specc: 1
layers:
  - {type: Dense, units: 3, input_dim: 4, activation: softmax}
compile: {loss: {type: categorical_crossentropy, from_logits: true}}
"""

# The parts of SARIF 2.1.0 (OASIS standard, section 3) that consumers such as GitHub code scanning rely on.
SARIF_RULES = {
    "type": "object",
    "required": ["version", "runs"],
    "properties": {
        "version": {"const": "2.1.0"},
        "$schema": {"type": "string", "format": "uri"},
        "runs": {"type": "array", "minItems": 1, "items": {
            "type": "object",
            "required": ["tool", "results"],
            "properties": {
                "tool": {"type": "object", "required": ["driver"], "properties": {"driver": {
                    "type": "object", "required": ["name", "rules"],
                    "properties": {"name": {"type": "string"}, "version": {"type": "string"},
                                   "rules": {"type": "array", "items": {
                                       "type": "object", "required": ["id", "shortDescription"],
                                       "properties": {"id": {"type": "string"},
                                                      "shortDescription": {"type": "object", "required": ["text"]},
                                                      "defaultConfiguration": {"type": "object", "properties": {
                                                          "level": {"enum": ["none", "note", "warning", "error"]}}}}}}}}}},
                "results": {"type": "array", "items": {
                    "type": "object",
                    "required": ["ruleId", "message", "locations", "level"],
                    "properties": {
                        "ruleId": {"type": "string"},
                        "ruleIndex": {"type": "integer", "minimum": 0},
                        "level": {"enum": ["none", "note", "warning", "error"]},
                        "message": {"type": "object", "required": ["text"], "properties": {"text": {"type": "string", "minLength": 1}}},
                        "locations": {"type": "array", "minItems": 1, "items": {"type": "object", "required": ["physicalLocation"], "properties": {
                            "physicalLocation": {"type": "object", "required": ["artifactLocation"], "properties": {
                                "artifactLocation": {"type": "object", "required": ["uri"], "properties": {"uri": {"type": "string", "pattern": "^[^\\\\]*$"}}},
                                "region": {"type": "object", "required": ["startLine", "startColumn"], "properties": {
                                    "startLine": {"type": "integer", "minimum": 1}, "startColumn": {"type": "integer", "minimum": 1},
                                    "endLine": {"type": "integer", "minimum": 1}, "endColumn": {"type": "integer", "minimum": 1}}}}}}}},
                    },
                }},
            },
        }},
    },
}


@pytest.fixture
def files(tmp_path):
    bad, warn, shape = tmp_path / "bad.yaml", tmp_path / "warn.yaml", tmp_path / "shape.yaml"
    bad.write_text(BAD)
    warn.write_text(WARN)
    shape.write_text(SHAPE)
    return bad, warn, shape


def test_sarif(files, tmp_path):
    bad, warn, shape = files
    out = run_cli("validate", "--format", "sarif", bad, warn, shape, ROOT / "specs" / "digits_mlp.yaml")
    assert out.returncode == 1
    doc = json.loads(out.stdout)
    jsonschema.validate(doc, SARIF_RULES)
    run = doc["runs"][0]
    rules = run["tool"]["driver"]["rules"]
    assert [r["id"] for r in rules] == list(CODES)
    for result in run["results"]:
        assert rules[result["ruleIndex"]]["id"] == result["ruleId"]
    levels = {(r["ruleId"], r["level"]) for r in run["results"]}
    assert ("E100", "error") in levels and ("E300", "error") in levels and ("W401", "warning") in levels
    e100 = next(r for r in run["results"] if r["ruleId"] == "E100")
    region = e100["locations"][0]["physicalLocation"]["region"]
    assert (region["startLine"], region["startColumn"]) == (3, 44)
    # --output writes the same report to a file
    target = tmp_path / "out.sarif"
    assert run_cli("validate", "--format", "sarif", "-o", target, bad).returncode == 1
    jsonschema.validate(json.loads(target.read_text()), SARIF_RULES)


GH = re.compile(r"^::(error|warning) file=([^,:]+),line=(\d+),col=(\d+),endLine=\d+,endColumn=\d+,title=([^,:]+)::(.+)$")


def test_github_annotations(files):
    bad, warn, _ = files
    out = run_cli("validate", "--format", "github", bad, warn)
    assert out.returncode == 1
    lines = [line for line in out.stdout.splitlines() if line.startswith("::")]
    assert len(lines) == 2
    parsed = [GH.match(line) for line in lines]
    assert all(parsed), lines
    first = parsed[0]
    assert first.group(1) == "error" and first.group(2) == str(bad) and first.group(3) == "3"
    assert "unknown key 'activaton' in Dense" in first.group(6)
    assert any(m.group(1) == "warning" and "W401" in m.group(5) for m in parsed)
    assert all("\n" not in line for line in lines)


def test_github_escapes_newlines_and_percent():
    from specc.render import _gh_escape

    assert _gh_escape("a%b\nc") == "a%25b%0Ac"
    assert _gh_escape("x:y,z", prop=True) == "x%3Ay%2Cz"


def test_json_is_stable(files):
    bad, _, _ = files
    doc = json.loads(run_cli("validate", "--format", "json", bad).stdout)
    assert set(doc) == {"version", "valid", "files"}
    keys = {"file", "line", "column", "end_line", "end_column", "severity", "code", "name", "message", "path", "help"}
    for d in doc["files"][0]["diagnostics"]:
        assert set(d) == keys
        assert d["code"] in CODES and CODES[d["code"]].name == d["name"]
