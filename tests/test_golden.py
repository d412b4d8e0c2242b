"""Golden error output: tests/golden/<name>.yaml and the exact text `specc validate` prints for it.

The .txt file holds the rendered diagnostics without the final summary line.
Run with SPECC_UPDATE_GOLDEN=1 to rewrite the .txt files after a deliberate
change to a message, then read the diff as a user would.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from specc.check import check_file
from specc.cli import app
from specc.diagnostics import CODES
from specc.loader import MAX_BYTES

ROOT = Path(__file__).resolve().parent.parent
GOLDEN = ROOT / "tests" / "golden"
HOSTILE = ROOT / "tests" / "data" / "hostile"
UPDATE = os.environ.get("SPECC_UPDATE_GOLDEN") == "1"
SPECS = sorted(p.stem for p in GOLDEN.glob("*.yaml"))
HEADER = re.compile(r"^\S+?(?::\d+:\d+)?: (?:error|warning)\[(\w+)\]: ", re.M)


def rendered(name: str, monkeypatch) -> tuple[str, int]:
    """What `specc validate tests/golden/<name>.yaml` prints, less its summary line, and its exit code."""
    monkeypatch.chdir(ROOT)  # display paths stay relative: the files are the same on every machine
    result = CliRunner().invoke(app, ["validate", f"tests/golden/{name}.yaml"])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    lines = result.output.splitlines()
    assert lines and re.match(r"1 file\(s\) checked: ", lines[-1]), result.output
    return "\n".join(lines[:-1]) + "\n", result.exit_code


@pytest.mark.parametrize("name", SPECS)
def test_golden(name, monkeypatch):
    text, exit_code = rendered(name, monkeypatch)
    expected_file = GOLDEN / f"{name}.txt"
    if UPDATE:
        expected_file.write_text(text)
    assert expected_file.exists(), f"no {expected_file.name}; run with SPECC_UPDATE_GOLDEN=1"
    assert text == expected_file.read_text()
    found = HEADER.findall(text)
    assert found, "a golden spec must produce at least one diagnostic"
    errors = [c for c in found if CODES[c].severity.value == "error"]
    assert exit_code == (1 if errors else 0)
    # A message that received a value says so last; every diagnostic is located or file-wide by design.
    for line in text.splitlines():
        if "Received:" in line:
            assert line.split("Received:")[-1].strip(), line


def test_every_golden_output_has_its_spec():
    assert sorted(p.stem for p in GOLDEN.glob("*.txt")) == SPECS


def test_golden_output_matches_a_real_cli_process():
    """One subprocess over every golden spec: the in-process runner above is the same program."""
    paths = [f"tests/golden/{name}.yaml" for name in SPECS]
    proc = subprocess.run([sys.executable, "-m", "specc", "validate", *paths], cwd=ROOT,
                          env={**os.environ, "PYTHONPATH": str(ROOT)}, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 1
    assert "Traceback" not in proc.stdout + proc.stderr
    expected = "".join((GOLDEN / f"{name}.txt").read_text() for name in SPECS)
    body, summary = proc.stdout.rstrip("\n").rsplit("\n", 1)
    assert body + "\n" == expected
    assert summary.startswith(f"{len(SPECS)} file(s) checked: ")


# Messages written by the schema's own validators (specc/schema/), passed through as they are.
OWN_WORDS = {"value_check"}


def test_messages_read_well():
    """Unknown names get a suggestion or the valid names; a message about a value ends with what was received."""
    for name in sorted(set(SPECS) - OWN_WORDS):
        text = (GOLDEN / f"{name}.txt").read_text()
        blocks = re.split(r"\n(?=\S)", text.strip())
        for block in blocks:
            code = HEADER.match(block).group(1)
            if code in ("E100", "E103", "E201", "E205"):
                assert "= help:" in block, block  # did you mean ..., or the list of valid names
            if code in ("E102", "E103", "E104", "E201", "E205"):
                assert "Received: " in block.splitlines()[0], block


def codes_in_goldens() -> set[str]:
    found: set[str] = set()
    for name in SPECS:
        found |= set(HEADER.findall((GOLDEN / f"{name}.txt").read_text()))
    return found


def test_every_code_is_triggered(tmp_path):
    """Each code in the catalogue is produced by a golden spec or by a loader test's input."""
    covered = codes_in_goldens()
    # tests/test_loader.py checks that each hostile file produces the code its name starts with.
    covered |= {p.name.split("-")[0] for p in HOSTILE.iterdir() if re.match(r"[EW]\d{3}-", p.name)}
    # Inputs that cannot live in the repository: a missing file, a file over the size limit.
    big = tmp_path / "big.yaml"
    big.write_bytes(b"#" * (MAX_BYTES + 1))
    for path in (tmp_path / "missing.yaml", big):
        covered |= {d.code for d in check_file(path).diagnostics}
    assert covered - set(CODES) == set(), "codes used but not in the catalogue"
    assert set(CODES) - covered == set(), "codes that nothing triggers"
