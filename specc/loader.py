"""Pass 1: read a spec file into plain data plus a map of source positions.

We do not use any PyYAML loader/constructor. The document is built here from
the parser's event stream, iteratively, which lets us:

* resolve plain scalars with YAML 1.2 core-schema rules (``1e-3`` is a float,
  ``no``/``on`` are strings, ``12:30`` is a string, ``010`` is 10);
* refuse every explicit tag outside the core schema (``!!python/...``), every
  alias (no expansion bombs), duplicate keys, complex keys and multiple
  documents, each with its position;
* cap the nesting depth before the parser or our own code can recurse or go
  quadratic on it (the C composer segfaults around 30,000 levels);
* record the span of every key and value, keyed by its path, so that later
  passes can point at ``file:line:col`` for any location they name.

The fast C parser (libyaml) is used when available; the pure-Python parser is a
drop-in fallback. Both emit the same events with the same marks.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from .diagnostics import Diagnostic, Span, diag, format_path

try:  # libyaml's parser: same events, much faster
    from yaml._yaml import CParser as _Parser
except ImportError:  # pragma: no cover - depends on the PyYAML build
    from yaml.parser import Parser as _PyParser
    from yaml.reader import Reader as _Reader
    from yaml.scanner import Scanner as _Scanner

    class _Parser(_Reader, _Scanner, _PyParser):  # type: ignore[no-redef]
        def __init__(self, stream):
            _Reader.__init__(self, stream)
            _Scanner.__init__(self)
            _PyParser.__init__(self)


MAX_BYTES = 4 * 1024 * 1024
MAX_DEPTH = 64
MAX_NODES = 200_000
_DROP = object()  # the key of an entry whose key was refused

Path_ = tuple  # a location in the data: keys and list indexes

_CORE = "tag:yaml.org,2002:"
_NULL = re.compile(r"^(?:~|null|Null|NULL|)$")
_BOOL = {"true": True, "True": True, "TRUE": True, "false": False, "False": False, "FALSE": False}
_INT = re.compile(r"^[-+]?[0-9]+$")
_OCT = re.compile(r"^0o[0-7]+$")
_HEX = re.compile(r"^0x[0-9a-fA-F]+$")
_FLOAT = re.compile(r"^[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?$")
_INF = re.compile(r"^[-+]?\.(?:inf|Inf|INF)$")
_NAN = re.compile(r"^\.(?:nan|NaN|NAN)$")


def resolve_plain(value: str) -> Any:
    """YAML 1.2 core schema resolution of an untagged plain scalar."""
    if _NULL.match(value):
        return None
    if value in _BOOL:
        return _BOOL[value]
    if _INT.match(value):
        return int(value)
    if _OCT.match(value):
        return int(value[2:], 8)
    if _HEX.match(value):
        return int(value[2:], 16)
    if _FLOAT.match(value):
        return float(value)
    if _INF.match(value):
        return -math.inf if value.startswith("-") else math.inf
    if _NAN.match(value):
        return math.nan
    return value


def _resolve_tagged(tag: str, value: str) -> Any:
    """Explicit core tags (!!str, !!int, ...). Raises ValueError when the value does not fit."""
    kind = tag[len(_CORE):]
    if kind == "str":
        return value
    resolved = resolve_plain(value)
    if kind == "null" and resolved is None:
        return None
    if kind == "bool" and isinstance(resolved, bool):
        return resolved
    if kind == "int" and isinstance(resolved, int) and not isinstance(resolved, bool):
        return resolved
    if kind == "float" and isinstance(resolved, (int, float)) and not isinstance(resolved, bool):
        return float(resolved)
    raise ValueError(f"'{value}' is not a valid !!{kind}")


_SCALAR_TAGS = {_CORE + k for k in ("str", "int", "float", "bool", "null")}
_COLLECTION_TAGS = {_CORE + "map", _CORE + "seq"}


@dataclass
class Document:
    """A loaded spec: plain data, its text, and where every part came from."""

    path: str
    text: str
    data: Any = None
    spans: dict[Path_, Span] = field(default_factory=dict)  # value spans
    key_spans: dict[Path_, Span] = field(default_factory=dict)  # mapping-key spans

    def resolve(self, loc: tuple) -> Path_:
        """Map a location from any pass onto the deepest real path in the data.

        Elements that are not in the document (a discriminated union's tag, a
        validator's name) are skipped, so Pydantic's ``('layers', 0, 'Dense',
        'units')`` lands on ``('layers', 0, 'units')``.
        """
        path: tuple = ()
        for part in loc:
            candidate = path + (part,)
            if candidate in self.spans:
                path = candidate
        return path

    def span(self, path: Path_, key: bool = False) -> Span | None:
        if key and path in self.key_spans:
            return self.key_spans[path]
        return self.spans.get(path)

    def line(self, number: int) -> str:
        lines = self.text.splitlines()
        return lines[number - 1] if 0 < number <= len(lines) else ""

    def error(self, code: str, message: str, loc: tuple = (), key: bool = False, **kw) -> Diagnostic:
        """A diagnostic located at ``loc`` (resolved onto the document)."""
        path = self.resolve(loc)
        return diag(code, message, file=self.path, span=self.span(path, key=key), path=format_path(path) or None, **kw)


def _span(start, end) -> Span:
    return Span(start.line + 1, start.column + 1, end.line + 1, end.column + 1)


class _Frame:
    __slots__ = ("container", "path", "start", "key", "key_span", "is_map")

    def __init__(self, container, path, start, is_map):
        self.container = container
        self.path = path
        self.start = start
        self.is_map = is_map
        self.key = None  # pending mapping key (None: expecting a key)
        self.key_span = None


def load_text(text: str, path: str = "<string>") -> tuple[Document, list[Diagnostic]]:
    """Build a Document from YAML text. Never raises for bad input."""
    doc = Document(path=path, text=text)
    errors: list[Diagnostic] = []

    def err(code, message, span=None, loc=(), **kw):
        errors.append(diag(code, message, file=path, span=span, path=format_path(loc) or None, **kw))

    tab = _leading_tab(text)
    parser = _Parser(text)
    stack: list[_Frame] = []
    root_set = False
    documents = 0
    skip = 0  # depth of a subtree being skipped (complex keys)
    nodes = 0

    def place(value, span, start_mark):
        """Attach a finished value to its parent; returns its path."""
        nonlocal root_set
        if not stack:
            doc.data = value
            root_set = True
            doc.spans[()] = span
            return ()
        top = stack[-1]
        if top.is_map:
            key = top.key
            top.key = None
            if key is _DROP:
                return None
            child = top.path + (key,)
            if key in top.container:
                first = doc.key_spans.get(child)
                where = f" (first at line {first.line})" if first else ""
                err("E011", f"duplicate key '{key}'{where}", top.key_span, child,
                    help="remove one of them; YAML loaders silently keep only one")
            else:
                top.container[key] = value
                doc.spans[child] = span
                doc.key_spans[child] = top.key_span
            return child
        child = top.path + (len(top.container),)
        top.container.append(value)
        doc.spans[child] = span
        return child

    try:
        while True:
            event = parser.get_event()
            nodes += 1
            if nodes > MAX_NODES:
                err("E003", f"the document has more than {MAX_NODES} nodes",
                    _span(event.start_mark, event.end_mark))
                break
            if isinstance(event, (yaml.StreamStartEvent, yaml.DocumentEndEvent)):
                continue
            if isinstance(event, yaml.StreamEndEvent):
                break
            if isinstance(event, yaml.DocumentStartEvent):
                documents += 1
                if documents > 1:
                    err("E015", "the file holds more than one YAML document (a second '---')",
                        _span(event.start_mark, event.end_mark), help="a spec is one document")
                    break
                continue

            start = event.start_mark
            if skip:
                if isinstance(event, (yaml.MappingStartEvent, yaml.SequenceStartEvent)):
                    skip += 1
                elif isinstance(event, (yaml.MappingEndEvent, yaml.SequenceEndEvent)):
                    skip -= 1
                continue

            top = stack[-1] if stack else None
            expecting_key = top is not None and top.is_map and top.key is None
            cur = (top.path if top else ())

            if isinstance(event, yaml.AliasEvent):
                span = _span(start, event.end_mark)
                if expecting_key:
                    err("E012", f"alias '*{event.anchor}' used as a key", span, cur)
                    top.key, top.key_span = _DROP, span
                    continue
                err("E012", f"alias '*{event.anchor}' is not allowed", span,
                    _child_loc(top), help="write the value out; specs do not use anchors and aliases")
                place(None, span, start)
                continue

            if isinstance(event, yaml.ScalarEvent):
                span = _span(start, event.end_mark)
                tag = event.tag
                plain = event.implicit[0]
                if tag in (None, "!") or (plain and tag is None):
                    value = resolve_plain(event.value) if plain and tag is None else event.value
                elif tag in _SCALAR_TAGS:
                    try:
                        value = _resolve_tagged(tag, event.value)
                    except ValueError as e:
                        err("E013", str(e), span, _child_loc(top))
                        value = event.value
                else:
                    err("E013", f"tag '{_short_tag(tag)}' is not allowed", span, _child_loc(top),
                        help="specs never construct objects; remove the tag")
                    value = event.value
                if expecting_key:
                    top.key = event.value
                    top.key_span = span
                    continue
                place(value, span, start)
                continue

            if isinstance(event, (yaml.MappingStartEvent, yaml.SequenceStartEvent)):
                is_map = isinstance(event, yaml.MappingStartEvent)
                if expecting_key:
                    err("E016", "a mapping key must be a plain name, not a list or mapping",
                        _span(start, event.end_mark), cur)
                    skip = 1
                    top.key, top.key_span = _DROP, None
                    continue
                if event.tag not in (None, "!") and event.tag not in _COLLECTION_TAGS:
                    err("E013", f"tag '{_short_tag(event.tag)}' is not allowed", _span(start, event.end_mark),
                        _child_loc(top), help="specs never construct objects; remove the tag")
                if len(stack) >= MAX_DEPTH:
                    err("E014", f"the document nests deeper than {MAX_DEPTH} levels",
                        _span(start, event.end_mark), cur)
                    break
                path_here = _child_loc(top)
                frame = _Frame({} if is_map else [], path_here, start, is_map)
                stack.append(frame)
                continue

            if isinstance(event, (yaml.MappingEndEvent, yaml.SequenceEndEvent)):
                frame = stack.pop()
                place(frame.container, _span(frame.start, event.end_mark), frame.start)
                continue
    except yaml.MarkedYAMLError as e:
        mark = e.problem_mark or e.context_mark
        span = Span(mark.line + 1, mark.column + 1, mark.line + 1, mark.column + 2) if mark else None
        problem = e.problem or e.context or "invalid YAML"
        hint = None
        if tab and mark is not None and mark.line + 1 >= tab:
            hint = "YAML does not allow tabs for indentation; use spaces"
        err("E010", f"YAML syntax error: {problem}", span, help=hint)
    except yaml.YAMLError as e:  # pragma: no cover - reader errors are caught earlier
        err("E010", f"YAML syntax error: {e}")
    except RecursionError:  # pragma: no cover - the depth cap comes first
        err("E014", "the document nests too deeply")

    if not errors and not root_set:
        doc.data = None
    return doc, errors


def _child_loc(top: _Frame | None) -> tuple:
    if top is None:
        return ()
    if top.is_map:
        return top.path + (top.key,)
    return top.path + (len(top.container),)


def _short_tag(tag: str) -> str:
    return "!!" + tag[len(_CORE):] if tag.startswith(_CORE) else tag


def _leading_tab(text: str) -> int | None:
    """1-based number of the first line indented with a tab, if any."""
    for number, line in enumerate(text.splitlines(), 1):
        stripped = line.lstrip(" ")
        if stripped.startswith("\t"):
            return number
    return None


def decode(raw: bytes, path: str) -> tuple[str | None, list[Diagnostic]]:
    """Bytes to text, refusing binary data and invalid UTF-8 with a position."""
    if len(raw) > MAX_BYTES:
        return None, [diag("E003", f"the file is {len(raw):,} bytes; specs are limited to {MAX_BYTES:,}", file=path)]
    if b"\x00" in raw[:8192]:
        return None, [diag("E002", "the file is binary, not YAML text", file=path)]
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        before = raw[: e.start]
        line = before.count(b"\n") + 1
        col = len(before) - (before.rfind(b"\n") + 1) + 1
        return None, [diag("E002", f"invalid UTF-8 (byte 0x{raw[e.start]:02x})", file=path,
                           span=Span(line, col, line, col + 1), help="save the file as UTF-8")]
    return text, []


def load_file(path: str | Path, display: str | None = None) -> tuple[Document | None, list[Diagnostic]]:
    """Read and load a spec file; errors are diagnostics, never exceptions."""
    display = display or str(path)
    p = Path(path)
    try:
        if p.is_dir():
            return None, [diag("E001", "is a directory, not a spec file", file=display)]
        size = p.stat().st_size
        if size > MAX_BYTES:
            return None, [diag("E003", f"the file is {size:,} bytes; specs are limited to {MAX_BYTES:,}", file=display)]
        raw = p.read_bytes()
    except FileNotFoundError:
        return None, [diag("E001", "no such file", file=display)]
    except OSError as e:
        return None, [diag("E001", f"cannot read the file: {e.strerror or e}", file=display)]
    text, errors = decode(raw, display)
    if text is None:
        return None, errors
    return load_text(text, display)
