"""Colour (specc/style.py): on a terminal, never in pipes or CI; NO_COLOR and FORCE_COLOR honoured. The
terminal is a real pseudo-terminal, the pipes real pipes."""

import os
import pty
import subprocess
import sys

import pytest
from conftest import ROOT, run_cli

from specc.style import colour_enabled, diagnostics_ansi, diagnostics_html

BAD = "specc: 1\nlayers:\n  - {type: Dense, units: 0, input_dim: 3}\n"
ESC = "\x1b["


def _on_a_terminal(args, env):
    """Run `specc ARGS` with stdout and stderr on a pseudo-terminal; what the terminal showed."""
    leader, follower = pty.openpty()
    clean = {k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "FORCE_COLOR", "CI")}
    proc = subprocess.Popen([sys.executable, "-m", "specc", *args], stdin=subprocess.DEVNULL, stdout=follower,
                            stderr=follower, cwd=ROOT, env={**clean, "TERM": "xterm", **env})
    os.close(follower)
    chunks = []
    while True:
        try:
            data = os.read(leader, 65536)
        except OSError:  # the terminal closed: the process ended
            break
        if not data:
            break
        chunks.append(data)
    proc.wait(timeout=120)
    os.close(leader)
    return proc.returncode, b"".join(chunks).decode()


@pytest.fixture
def bad(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text(BAD)
    return path


def test_a_terminal_gets_colour_and_the_same_text(bad):
    code, shown = _on_a_terminal(["validate", str(bad)], {})
    assert code == 1
    assert f"{ESC}1;31merror[E102]{ESC}0m" in shown
    plain = run_cli("validate", bad, env={"NO_COLOR": "", "FORCE_COLOR": ""})
    import re

    assert re.sub(r"\x1b\[[0-9;]*m", "", shown).replace("\r\n", "\n") == plain.stdout


def test_no_color_wins_on_a_terminal(bad):
    code, shown = _on_a_terminal(["validate", str(bad)], {"NO_COLOR": "1"})
    assert code == 1 and "error[E102]" in shown and ESC not in shown


def test_ci_gets_no_colour_even_on_a_terminal(bad):
    _, shown = _on_a_terminal(["summary", "specs/digits_mlp.yaml"], {"CI": "true"})
    assert "Total params" in shown and ESC not in shown


def test_the_summary_table_is_bold_on_a_terminal():
    _, shown = _on_a_terminal(["summary", "specs/digits_mlp.yaml"], {})
    assert f"{ESC}1mTotal params" in shown and f"{ESC}1mModel: digits-mlp" in shown


def test_pipes_get_no_colour_unless_forced(bad):
    piped = run_cli("summary", bad, env={"NO_COLOR": "", "FORCE_COLOR": "", "CI": ""})
    assert piped.returncode == 1 and ESC not in piped.stderr
    forced = run_cli("summary", bad, env={"NO_COLOR": "", "FORCE_COLOR": "1"})
    assert f"{ESC}1;31merror[E102]" in forced.stderr
    both = run_cli("summary", bad, env={"NO_COLOR": "1", "FORCE_COLOR": "1"})
    assert ESC not in both.stderr


def test_colour_decision():
    class Tty:
        def isatty(self):
            return True

    assert colour_enabled(Tty(), {}) and not colour_enabled(Tty(), {"NO_COLOR": "1"})
    assert colour_enabled(Tty(), {"NO_COLOR": ""})  # empty means unset (no-color.org)
    assert not colour_enabled(Tty(), {"TERM": "dumb"}) and not colour_enabled(Tty(), {"CI": "1"})
    assert colour_enabled(object(), {"FORCE_COLOR": "1"}) and not colour_enabled(object(), {})


def test_html_and_ansi_paint_without_changing_the_text():
    text = ("a.yaml:3:26: error[E102]: units <b> must be > 0\n   |\n 3 |   - {units: 0}\n   |           ^\n"
            "   = help: try 1")
    ansi = diagnostics_ansi(text)
    import re

    assert re.sub(r"\x1b\[[0-9;]*m", "", ansi) == text
    html = diagnostics_html(text)
    assert "&lt;b&gt;" in html and "<b>" not in html
    assert '<span style="color:#c62828;font-weight:bold">error[E102]</span>' in html
