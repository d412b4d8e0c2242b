"""The likely cause of a YAML syntax error when it is the layout: indentation, a tab, a missing space after ':'.

Parsers report where they gave up ("mapping values are not allowed in this context"), which is often a line
after the mistake. These rules read the source lines around that place instead of the parser's wording, so
libyaml and PyYAML's pure-Python parser get the same help.
"""

from __future__ import annotations

import re

# `units:4`: a key, a colon and a value with no space between (a URL's `http://` is not one).
_NO_SPACE = re.compile(r"^[ ]*(?:-[ ]+)*([A-Za-z_][\w.-]*):([^\s/#].*)$")
_LONG = 400  # longer lines are data, not layout: they are not read (nor regex-matched) for hints
_ABOVE = 200  # content lines read above the error
_KEY = re.compile(r"([^\s:#{}\[\],'\"][^:#{}\[\],]*?)[ ]*:(?:[ ]|$)")


def _content(line: str) -> bool:
    stripped = line.strip()
    return bool(stripped) and not stripped.startswith("#")


def _layout(line: str) -> tuple[int, int, str | None]:
    """(column of a '-' item marker or 0, column where the line's content after the markers starts, its key)."""
    line = line[:_LONG]
    indent = len(line) - len(line.lstrip(" "))
    dash = 0
    rest = line[indent:]
    column = indent + 1
    while rest.startswith("-") and rest[1:2] in (" ", ""):
        dash = dash or column
        skipped = len(rest) - len(rest[1:].lstrip(" "))
        column += skipped
        rest = rest[skipped:]
    key = _KEY.match(rest)
    return dash, column, key.group(1) if key else None


def _has_value(line: str) -> bool:
    """A `key: value` line (not `key:` opening a block below it)."""
    _, column, key = _layout(line)
    if key is None:
        return False
    after = line[column - 1:].split(":", 1)[1].strip()
    return bool(after) and not after.startswith("#")


def _above(lines: list[str], number: int) -> list[int]:
    """1-based numbers of the content lines above line ``number``, nearest first."""
    found = []
    for n in range(min(number, len(lines) + 1) - 1, 0, -1):
        if _content(lines[n - 1]):
            found.append(n)
            if len(found) == _ABOVE:
                break
    return found


def _missing_space(lines: list[str], candidates: list[int]) -> str | None:
    for n in candidates:
        found = _NO_SPACE.match(lines[n - 1]) if 0 < n <= len(lines) and len(lines[n - 1]) <= _LONG else None
        if found:
            key, value = found.groups()
            return f"put a space after the colon on line {n}: `{key}: {value.strip()}`, not `{key}:{value.strip()}`"
    return None


def _deeper(lines: list[str], number: int, column: int, above: list[int]) -> str | None:
    previous = above[0]
    _, sibling, key = _layout(lines[previous - 1])
    if column <= sibling or key is None or not _has_value(lines[previous - 1]):
        return None
    return (f"line {number} starts at column {column}, deeper than `{key}` on line {previous} (column {sibling}), "
            f"which already has its value: start it at column {sibling} like the keys beside it (or quote a value "
            f"that holds ': ')")


def _shallower(lines: list[str], number: int, column: int, above: list[int]) -> str | None:
    """Line ``number`` lines up with no key or item above it: say which columns are in use."""
    used: list[tuple[int, str, int]] = []  # (column, what, line), innermost first
    limit = 1 << 30
    for n in above:
        dash, start, key = _layout(lines[n - 1])
        for col, what in ((start, f"`{key}`" if key else "the value"), (dash, "-")):
            if 0 < col < limit:
                used.append((col, what, n))
                limit = col
        if limit == 1:
            break
    columns = [c for c, _, _ in used]
    if column in columns or not used or column > columns[0]:
        return None
    shown = [f"{c} (a new item, like the `-` on line {n})" if what == "-" else f"{c} (like {what} on line {n})"
             for c, what, n in used]
    listed = shown[0] if len(shown) == 1 else ", ".join(shown[:-1]) + f" or {shown[-1]}"
    return f"line {number} starts at column {column}, in line with no key above it: start it at column {listed}"


def indentation_hint(text: str, line: int, column: int, context_line: int | None = None) -> str | None:
    """A help line for a YAML syntax error at ``line``:``column`` (1-based) when the layout is the likely cause;
    ``context_line``: where the parser says the construct it was reading began."""
    lines = text.splitlines()
    if not 0 < line <= len(lines):
        return None
    here = lines[line - 1]
    if here[column - 1:column] == "\t":
        return "a tab where YAML expects a space: use spaces only, to indent and after `-`"
    above = _above(lines, line)
    if not above:
        return None
    hint = _missing_space(lines, [n for n in (context_line, above[0]) if n])
    if hint is None and _content(here):
        _, start, _ = _layout(here)
        hint = _deeper(lines, line, start, above) or _shallower(lines, line, start, above)
    return hint
