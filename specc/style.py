"""Colour for people, none for machines: the same diagnostics text, painted for a terminal or for HTML.

Colour is on when the stream is a terminal, off in pipes, files and CI; ``NO_COLOR`` (any non-empty value)
turns it off and ``FORCE_COLOR`` (any non-empty value) on, NO_COLOR winning (https://no-color.org,
https://force-color.org). Painting never changes the text itself: strip the codes and the plain output is left.
Pure standard library: no rich, so that `specc validate` stays fast.
"""

from __future__ import annotations

import html
import os
import re

_ANSI = {"error": "1;31", "warning": "1;33", "location": "1", "caret": "1;31", "help": "36", "at": "2",
         "head": "1", "total": "1", "ok": "32"}
_CSS = {"error": "color:#c62828;font-weight:bold", "warning": "color:#b26a00;font-weight:bold",
        "location": "font-weight:bold", "caret": "color:#c62828", "help": "color:#00838f", "at": "color:#777",
        "head": "font-weight:bold", "total": "font-weight:bold", "ok": "color:#2e7d32"}

_HEADER = re.compile(r"^(.*?: )(error|warning)(\[[EW]\d+\])(: .*)$")
_GUTTER = re.compile(r"^( +\d* \| )(.*)$")
_NOTE = re.compile(r"^(   = )(help|at)(: .*)$")


def colour_enabled(stream, environ=None) -> bool:
    """Whether to paint what goes to ``stream``."""
    env = os.environ if environ is None else environ
    if env.get("NO_COLOR"):
        return False
    if env.get("FORCE_COLOR"):
        return True
    if env.get("CI") or env.get("TERM") == "dumb":
        return False
    isatty = getattr(stream, "isatty", None)
    try:
        return bool(isatty and isatty())
    except ValueError:  # a closed stream
        return False


def _segments(text: str) -> list[list[tuple[str, str | None]]]:
    """Each line of diagnostics text as (piece, style) pairs."""
    out = []
    for line in text.split("\n"):
        m = _HEADER.match(line)
        if m:
            out.append([(m[1], "location"), (m[2] + m[3], m[2]), (m[4], None)])
            continue
        m = _GUTTER.match(line)
        if m and set(m[2]) <= {"^", " "} and "^" in m[2]:
            out.append([(m[1], "at"), (m[2], "caret")])
            continue
        if m:
            out.append([(m[1], "at"), (m[2], None)])
            continue
        m = _NOTE.match(line)
        out.append([(m[1], None), (m[2], m[2]), (m[3], None)] if m else [(line, None)])
    return out


def paint(text: str, style: str) -> str:
    """``text`` in one terminal style (see _ANSI)."""
    return f"\x1b[{_ANSI[style]}m{text}\x1b[0m" if text else text


def diagnostics_ansi(text: str) -> str:
    """Diagnostics text with terminal colours."""
    return "\n".join("".join(paint(p, s) if s else p for p, s in line) for line in _segments(text))


def diagnostics_html(text: str) -> str:
    """Diagnostics text as an HTML block (for notebooks)."""
    lines = []
    for line in _segments(text):
        lines.append("".join(f'<span style="{_CSS[s]}">{html.escape(p)}</span>' if s else html.escape(p)
                             for p, s in line))
    return '<pre class="specc-diagnostics">' + "\n".join(lines) + "</pre>"
