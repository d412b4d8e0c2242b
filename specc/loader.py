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
import stat
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import yaml
from yaml.parser import Parser as _PyParser
from yaml.reader import Reader as _Reader
from yaml.scanner import Scanner as _Scanner

from .diagnostics import Diagnostic, Span, diag, format_path, short
from .yaml_hints import indentation_hint


class PurePythonParser(_Reader, _Scanner, _PyParser):
    """PyYAML's pure-Python reader, scanner and parser: the event source without libyaml."""

    def __init__(self, stream):
        _Reader.__init__(self, stream)
        _Scanner.__init__(self)
        _PyParser.__init__(self)


try:  # libyaml's parser: same events, much faster
    from yaml._yaml import CParser as _Parser
except ImportError:  # pragma: no cover - depends on the PyYAML build
    _Parser = PurePythonParser  # type: ignore[misc,assignment]


MAX_BYTES = 4 * 1024 * 1024
MAX_DEPTH = 64
MAX_NODES = 200_000
_DROP = object()  # the key of an entry whose key was refused

Path_ = tuple  # a location in the data: keys and list indexes

_CORE = "tag:yaml.org,2002:"
_NULL = re.compile(r"(?:~|null|Null|NULL|)")
_BOOL = {"true": True, "True": True, "TRUE": True, "false": False, "False": False, "FALSE": False}
_INT = re.compile(r"[-+]?[0-9]+")
_OCT = re.compile(r"0o[0-7]+")
_HEX = re.compile(r"0x[0-9a-fA-F]+")
_FLOAT = re.compile(r"[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?")
_INF = re.compile(r"[-+]?\.(?:inf|Inf|INF)")
_NAN = re.compile(r"\.(?:nan|NaN|NAN)")
# Every number, infinity and NaN above starts with one of these (and the empty null, with nothing); other
# scalars can only be the named nulls, booleans, or strings.
_NUMBER_START = frozenset("0123456789+-.~") | {""}
_NULL_WORDS = frozenset({"null", "Null", "NULL"})
_PLAIN_WORDS = {**_BOOL, **dict.fromkeys(_NULL_WORDS)}  # the plain scalars not starting like a number that are not strings


MAX_INT = 2**63 - 1  # integers beyond 64 bits mean nothing to Keras, and break str() past 4,300 digits


class IntegerTooLarge(ValueError):
    """An integer scalar outside [-2**63, 2**63 - 1]."""


def resolve_plain(value: str) -> Any:
    """YAML 1.2 core schema resolution of an untagged plain scalar.

    Raises IntegerTooLarge for an integer that does not fit in 64 bits (checked
    on the digits first: converting thousands of them is slow, or refused).
    """
    if value[:1] not in _NUMBER_START:  # a name (most scalars: keys, layer types): null, a boolean or a string
        return None if value in _NULL_WORDS else _BOOL.get(value, value)
    if _NULL.fullmatch(value):
        return None
    number = None
    if _INT.fullmatch(value):
        if len(value.lstrip("+-").lstrip("0")) > 19:
            raise IntegerTooLarge(value)
        number = int(value)
    elif _OCT.fullmatch(value):
        if len(value[2:].lstrip("0")) > 22:
            raise IntegerTooLarge(value)
        number = int(value[2:], 8)
    elif _HEX.fullmatch(value):
        if len(value[2:].lstrip("0")) > 16:
            raise IntegerTooLarge(value)
        number = int(value[2:], 16)
    if number is not None:
        if not -MAX_INT - 1 <= number <= MAX_INT:
            raise IntegerTooLarge(value)
        return number
    if _FLOAT.fullmatch(value):
        return float(value)
    if _INF.fullmatch(value):
        return -math.inf if value.startswith("-") else math.inf
    if _NAN.fullmatch(value):
        return math.nan
    return value


class _TagMismatch(ValueError):
    pass


def _resolve_tagged(tag: str, value: str) -> Any:
    """Explicit core tags (!!str, !!int, ...). Raises _TagMismatch when the value does not fit."""
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
    wanted = {"null": "null", "bool": "true or false", "int": "an integer", "float": "a number"}[kind]
    raise _TagMismatch(f"!!{kind} needs {wanted}. Received: {_shown(value)}")


def _shown(value: str) -> str:
    return repr(value) if len(value) <= 40 else repr(value[:37]) + "..."


_SCALAR_TAGS = {_CORE + k for k in ("str", "int", "float", "bool", "null")}
_COLLECTION_TAGS = {_CORE + "map", _CORE + "seq"}


@dataclass
class Document:
    """A loaded spec: plain data, its text, and where every part came from."""

    path: str
    text: str
    data: Any = None
    spans: dict[Path_, Span | None] = field(default_factory=dict)  # value spans (None: set by `--set`)
    key_spans: dict[Path_, Span] = field(default_factory=dict)  # mapping-key spans
    refused: set[Path_] = field(default_factory=set)  # values the loader reported (alias, tag, ...)
    location: Path | None = None  # the file on disk, when the spec came from one
    # After expansion (specc/expand.py): where a part that came from elsewhere (a block's body, an
    # included file) really is: its file and its path there. ``sources`` holds those files' Documents.
    origins: dict[Path_, tuple[str, Path_]] = field(default_factory=dict)
    sources: dict[str, Document] = field(default_factory=dict)
    _lines: list[str] | None = field(default=None, init=False, repr=False, compare=False)

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
        if self._lines is None:  # split once: a file can have thousands of diagnostics
            self._lines = self.text.splitlines()
        lines = self._lines
        return lines[number - 1] if 0 < number <= len(lines) else ""

    def error(self, code: str, message: str, loc: tuple = (), key: bool = False, **kw) -> Diagnostic:
        """A diagnostic located at ``loc`` (resolved onto the document, then onto the file it came from)."""
        path = self.resolve(loc)
        file, shown = self.origins.get(path, (self.path, path))
        return diag(code, message, file=file, span=self.span(path, key=key), path=format_path(shown) or None,
                    loc=path, **kw)

    def source_line(self, diagnostic: Diagnostic) -> str | None:
        """The text of the line a diagnostic points at, in whichever file it points into."""
        if diagnostic.span is None:
            return None
        source = self.sources.get(diagnostic.file, self) if diagnostic.file != self.path else self
        return source.line(diagnostic.span.line)


def _span(start, end, last: tuple[int, int] = (1 << 62, 0)) -> Span:
    """A Span from two parser marks, no further than ``last``: libyaml ends the stream on a
    line after the text's last one when the text does not end with a line break."""
    a = (start.line + 1, start.column + 1)
    b = (end.line + 1, end.column + 1)
    if b > last:  # a before b: only then can a be past the end too
        b = last
        a = min(a, last)
    return Span(*a, *b)


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
    builder = _Builder(text, path)
    builder.build()
    return builder.doc, builder.errors


class _Builder:
    """Builds a Document from the parser's events, one method per kind of event; every problem is a
    diagnostic in ``errors``."""

    def __init__(self, text: str, path: str):
        self.text, self.path = text, path
        self.doc = Document(path=path, text=text)
        self.errors: list[Diagnostic] = []
        self.last = _line_col(text, len(text))  # where the text ends: no span goes past it
        self.stack: list[_Frame] = []
        self.root_set = False
        self.documents = 0
        self.skip = 0  # depth of a subtree being skipped (complex keys)
        self.skipped = 0  # index in errors of the complex key's diagnostic
        self.aliases: dict[str, int] = {}  # anchor name -> index in errors of the diagnostic for its first alias
        self.alias_uses: dict[str, int] = {}  # anchor name -> how many aliases name it

    def err(self, code, message, span=None, loc=(), **kw):
        self.errors.append(diag(code, message, file=self.path, span=span, path=format_path(loc) or None, loc=loc,
                                **kw))

    def span(self, start, end) -> Span:
        line = end.line + 1
        if line < self.last[0]:  # most spans: nowhere near the end of the text, so nothing to clamp
            return Span(start.line + 1, start.column + 1, line, end.column + 1)
        return _span(start, end, self.last)

    def build(self) -> None:
        bad = _unencodable(self.text)
        if bad is not None:
            line, col = _line_col(self.text, bad)
            self.err("E002", f"the text holds a lone surrogate (U+{ord(self.text[bad]):04X}), which is not Unicode "
                     "text", Span(line, col, line, col + 1), help="save the file as UTF-8")
            return
        try:
            self.read(_Parser(self.text))  # the pure-Python reader checks every character here
        except yaml.MarkedYAMLError as e:
            if self.syntax_error(e):
                return
        except yaml.reader.ReaderError as e:
            self.reader_error(e)
        except yaml.YAMLError as e:  # pragma: no cover - every parser error is one of the above
            self.err("E010", f"YAML syntax error: {e}")
        except RecursionError:  # pragma: no cover - the depth cap comes first
            self.err("E014", "the document nests too deeply")
        self.finish()

    def finish(self) -> None:
        for anchor, index in self.aliases.items():
            more = self.alias_uses[anchor] - 1
            if more and index < len(self.errors):
                d = self.errors[index]
                self.errors[index] = replace(d, message=f"{d.message} ({more} more use{'s' if more > 1 else ''} "
                                             f"of '*{anchor}' not shown)")
        if not self.errors and not self.root_set:
            self.doc.data = None

    # -- events ------------------------------------------------------------
    def read(self, parser) -> None:
        """Handle the parser's events until one says to stop; one loop, as it runs for every node of a spec."""
        handlers = {kind: method.__get__(self) for kind, method in _CONTENT.items()}
        get_event = parser.get_event
        for _ in range(MAX_NODES):
            event = get_event()
            handler = handlers.get(type(event))
            if handler is None:  # the stream's and documents' starts and ends
                if self.frame_event(event):
                    return
            elif self.skip:
                self.skip_event(event)
            elif handler(event):
                return
        event = get_event()
        if type(event) is not yaml.StreamEndEvent:
            self.err("E003", f"the document has more than {MAX_NODES:,} nodes; specs are far smaller",
                     self.span(event.start_mark, event.end_mark))

    def frame_event(self, event) -> bool:
        """The stream's and documents' starts and ends: one document only."""
        if isinstance(event, yaml.StreamEndEvent):
            return True
        if isinstance(event, yaml.DocumentStartEvent):
            self.documents += 1
            if self.documents > 1:
                self.err("E015", "the file holds more than one YAML document (a second '---')",
                         self.span(event.start_mark, event.end_mark),
                         help="a spec is one document; remove the '---' line and everything after it, or split the "
                              "file")
                return True
        return False

    def collection_end(self, event) -> bool:
        frame = self.stack.pop()
        self.place(frame.container, self.span(frame.start, event.end_mark))
        return False

    def skip_event(self, event) -> None:
        """An event inside a complex key, which is skipped."""
        if isinstance(event, (yaml.MappingStartEvent, yaml.SequenceStartEvent)):
            self.skip += 1
        elif isinstance(event, (yaml.MappingEndEvent, yaml.SequenceEndEvent)):
            self.skip -= 1
            if not self.skip:  # the whole key is known now: point at all of it
                whole = self.span(event.start_mark, event.end_mark)
                first = self.errors[self.skipped].span
                self.errors[self.skipped] = replace(self.errors[self.skipped], span=Span(
                    first.line, first.col, whole.end_line, whole.end_col))

    def _top(self) -> tuple[_Frame | None, bool, tuple]:
        """The open collection, whether it expects a key next, and its path."""
        top = self.stack[-1] if self.stack else None
        return top, top is not None and top.is_map and top.key is None, (top.path if top else ())

    def alias(self, event) -> bool:
        top, expecting_key, cur = self._top()
        span = self.span(event.start_mark, event.end_mark)
        anchor = event.anchor
        self.alias_uses[anchor] = self.alias_uses.get(anchor, 0) + 1
        if anchor not in self.aliases:  # one diagnostic per anchor: a bomb holds thousands of aliases
            self.aliases[anchor] = len(self.errors)
            if expecting_key:
                self.err("E012", f"alias '*{anchor}' used as a key", span, cur,
                         help="write the key out; specs do not use anchors and aliases")
            elif top is not None and top.is_map and top.key == "<<":
                self.err("E012", f"merge key '<<: *{anchor}' is not allowed", span, _child_loc(top),
                         help="write the keys out; specs do not use anchors, aliases or merge keys")
            else:
                self.err("E012", f"alias '*{anchor}' is not allowed", span, _child_loc(top),
                         help="write the value out; specs do not use anchors and aliases")
        if top is not None and top.is_map and top.key == "<<":
            self.doc.refused.add(top.path)  # the mapping lacks what the merge would have added
        if expecting_key:
            top.key, top.key_span = _DROP, span
            return False
        self.doc.refused.add(_child_loc(top))
        self.place(None, span)
        return False

    def scalar(self, event) -> bool:
        top, expecting_key, cur = self._top()
        span = self.span(event.start_mark, event.end_mark)
        value = event.value
        if event.style == '"' and _unencodable(value) is not None:
            # "\ud800": libyaml refuses the escape; the pure-Python scanner makes a lone surrogate.
            self.err("E010", "YAML syntax error: found invalid Unicode character escape code", span)
            return True
        if event.tag is None and (not event.implicit[0] or value[:1] not in _NUMBER_START):
            # Most scalars: a quoted string, or a plain name (a key, a layer type): nothing to refuse.
            if expecting_key:
                top.key, top.key_span = value, span
            else:
                self.place(_PLAIN_WORDS.get(value, value) if event.implicit[0] else value, span)
            return False
        loc = cur if expecting_key else _child_loc(top)
        value, refused = self.scalar_value(event, span, loc)
        if expecting_key:
            # Keys are names: their text is the key, whatever it would resolve to.
            top.key = _DROP if refused else event.value
            top.key_span = span
            return False
        if refused:
            self.doc.refused.add(loc)
        self.place(value, span)
        return False

    def scalar_value(self, event, span: Span, loc: tuple) -> tuple[Any, bool]:
        """A scalar's value, and whether it was refused (a diagnostic says why)."""
        tag = event.tag
        if tag is None or tag == "!":
            try:
                return (resolve_plain(event.value) if event.implicit[0] and tag is None else event.value), False
            except IntegerTooLarge:
                self.err("E102", _too_large(event.value), span, loc)
                return None, True
        if tag in _SCALAR_TAGS:
            try:
                return _resolve_tagged(tag, event.value), False
            except IntegerTooLarge:
                self.err("E102", _too_large(event.value), span, loc)
                return None, True
            except _TagMismatch as e:
                self.err("E013", str(e), span, loc, help=f"remove the tag or write a valid {_short_tag(tag)}")
                return event.value, True
        if tag in _COLLECTION_TAGS:
            self.err("E013", f"tag '{_short_tag(tag)}' does not fit a scalar", span, loc, help="remove the tag")
        else:
            self.err("E013", f"tag '{_short_tag(tag)}' is not allowed", span, loc,
                     help="specs never construct objects; remove the tag")
        return event.value, True

    def collection_start(self, event) -> bool:
        top, expecting_key, cur = self._top()
        is_map = isinstance(event, yaml.MappingStartEvent)
        span = self.span(event.start_mark, event.end_mark)
        if expecting_key:
            self.err("E016", "a mapping key must be a plain name, not a list or mapping", span, cur,
                     help="write the key as a plain name, such as `units:`")
            self.skip, self.skipped = 1, len(self.errors) - 1
            top.key, top.key_span = _DROP, None
            return False
        wanted = _CORE + ("map" if is_map else "seq")
        if event.tag not in (None, "!", wanted):
            self.collection_tag_error(event.tag, is_map, span, _child_loc(top))
            self.doc.refused.add(_child_loc(top))
        if len(self.stack) >= MAX_DEPTH:
            # No path: it would be MAX_DEPTH parts long; the position says where.
            self.err("E014", f"the document nests deeper than {MAX_DEPTH} levels", span,
                     help="specs need only a few levels; is a bracket or indentation runaway?")
            return True
        self.stack.append(_Frame({} if is_map else [], _child_loc(top), event.start_mark, is_map))
        return False

    def collection_tag_error(self, tag, is_map, span, loc):
        kind = "mapping" if is_map else "list"
        if tag in _SCALAR_TAGS or tag in _COLLECTION_TAGS:
            self.err("E013", f"tag '{_short_tag(tag)}' does not fit a {kind}", span, loc, help="remove the tag")
        else:
            self.err("E013", f"tag '{_short_tag(tag)}' is not allowed", span, loc,
                     help="specs never construct objects; remove the tag")

    def place(self, value, span) -> tuple | None:
        """Attach a finished value to its parent; returns its path."""
        doc = self.doc
        if not self.stack:
            doc.data = value
            self.root_set = True
            doc.spans[()] = span
            return ()
        top = self.stack[-1]
        if top.is_map:
            key = top.key
            top.key = None
            if key is _DROP:
                return None
            child = top.path + (key,)
            if key in top.container:
                first = doc.key_spans.get(child)
                where = f" (first at line {first.line})" if first else ""
                self.err("E011", f"duplicate key '{short(key)}'{where}", top.key_span, child,
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

    # -- errors the parser raises -----------------------------------------------
    def syntax_error(self, e: yaml.MarkedYAMLError) -> bool:
        """A YAML syntax error as E010 (E014 for libyaml's depth limit); True when nothing more is to be said."""
        def where(m) -> tuple[int, int]:  # libyaml puts the end of the stream on a line after the last one
            return min((m.line + 1, m.column + 1), self.last)

        mark = e.problem_mark or e.context_mark
        span = None
        if mark is not None:
            line, col = where(mark)
            span = Span(line, col, line, col + 1)
        problem = e.problem or e.context or "invalid YAML"
        if "maximum nesting depth" in problem:  # libyaml >= 0.2.6 stops at 1,000 levels while scanning ahead
            self.err("E014", f"the document nests deeper than {MAX_DEPTH} levels", span)
            return True
        cm = e.context_mark
        opened = where(cm) if cm is not None else None
        construct = bool(e.context) and not e.context.endswith(("flow node", "block node"))
        if e.problem and construct and opened is not None and (span is None or opened[0] != span.line):
            # The cause is often where the construct began: an unclosed '{' or quote.
            problem += f" ({e.context} that starts at line {opened[0]}, column {opened[1]})"
        self.err("E010", f"YAML syntax error: {problem}", span, help=self.syntax_hint(e, span, construct, opened))
        return False

    def syntax_hint(self, e: yaml.MarkedYAMLError, span, construct: bool, opened) -> str | None:
        tab = _leading_tab(self.text)
        if tab and span is not None and span.line >= tab:
            return "YAML does not allow tabs for indentation; use spaces"
        if construct and "quoted scalar" in e.context and opened and "unexpected" in (e.problem or ""):
            return f"close the quote opened at line {opened[0]}, column {opened[1]}"
        if construct and e.context.startswith(("while parsing a flow sequence", "while parsing a flow mapping")) \
                and opened:
            return f"close the bracket opened at line {opened[0]}, column {opened[1]}, or separate its entries " \
                   "with ','"
        layout = indentation_hint(self.text, span.line, span.col, opened and opened[0]) if span else None
        if layout is None and "mapping values are not allowed" in (e.problem or ""):  # libyaml: "in this context"
            return "quote a value that holds ': ', or fix the indentation of this line"
        return layout

    def reader_error(self, e: yaml.reader.ReaderError) -> None:
        # A character YAML does not allow (control characters, NUL). The C
        # reader gives a byte offset and the Python one a character offset,
        # but the first such character in the text is the one it stopped at.
        found = self.text.find(chr(e.character)) if isinstance(e.character, int) else -1
        span = None
        if found >= 0:
            line, col = _line_col(self.text, found)
            span = Span(line, col, line, col + 1)
        code = f"U+{e.character:04X}" if isinstance(e.character, int) else "character"
        self.err("E002", f"the file holds the control character {code}, which YAML text may not contain", span,
                 help="the file may be binary or damaged; specs are plain UTF-8 text")


# The handler of each event inside the document; True stops reading.
_CONTENT = {yaml.AliasEvent: _Builder.alias, yaml.ScalarEvent: _Builder.scalar,
            yaml.MappingStartEvent: _Builder.collection_start, yaml.SequenceStartEvent: _Builder.collection_start,
            yaml.MappingEndEvent: _Builder.collection_end, yaml.SequenceEndEvent: _Builder.collection_end}


def _too_large(text: str) -> str:
    return f"integers must fit in 64 bits (at most {MAX_INT}). Received: {short(text, 40)}"


def _unencodable(text: str) -> int | None:
    """Index of the first character that UTF-8 cannot encode (a lone surrogate), if any."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as e:
        return e.start
    return None


def _line_col(text: str, index: int) -> tuple[int, int]:
    """1-based line and column of a character index, counting lines as YAML does."""
    before = text[:index]
    line_start = max(before.rfind("\n"), before.rfind("\r"), before.rfind("\x85"), before.rfind("\u2028"),
                     before.rfind("\u2029")) + 1
    line = 1 + len(_BREAK.findall(before))
    return line, index - line_start + 1


_BREAK = re.compile("\r\n|[\r\n\x85\u2028\u2029]")


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


_BOMS = ((b"\xff\xfe\x00\x00", "UTF-32"), (b"\x00\x00\xfe\xff", "UTF-32"), (b"\xff\xfe", "UTF-16"),
         (b"\xfe\xff", "UTF-16"))


def decode(raw: bytes, path: str) -> tuple[str | None, list[Diagnostic]]:
    """Bytes to text, refusing binary data and invalid UTF-8 with a position.

    A UTF-8 byte-order mark is accepted and dropped. Columns count characters,
    as the YAML parser's do.
    """
    if len(raw) > MAX_BYTES:
        return None, [diag("E003", f"the file is {len(raw):,} bytes; specs are limited to {MAX_BYTES:,}", file=path)]
    for bom, encoding in _BOMS:
        if raw.startswith(bom):
            return None, [diag("E002", f"the file is {encoding} text, not UTF-8", file=path,
                               span=Span(1, 1, 1, 2), help="save the file as UTF-8")]
    body = raw[3:] if raw.startswith(b"\xef\xbb\xbf") else raw
    nul = body.find(b"\x00", 0, 8192)
    if nul >= 0:
        line, col = _byte_line_col(body, nul)
        return None, [diag("E002", "the file is binary, not YAML text (it holds a NUL byte)", file=path,
                           span=Span(line, col, line, col + 1), help="specs are plain UTF-8 text files")]
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as e:
        line, col = _byte_line_col(body, e.start)
        return None, [diag("E002", f"invalid UTF-8 (byte 0x{body[e.start]:02x})", file=path,
                           span=Span(line, col, line, col + 1), help="save the file as UTF-8")]
    return text, []


def _byte_line_col(raw: bytes, offset: int) -> tuple[int, int]:
    """1-based line and character column of a byte offset, counting lines as YAML does."""
    before = raw[:offset].decode("utf-8", errors="replace")
    return _line_col(before, len(before))


def load_file(path: str | Path, display: str | None = None) -> tuple[Document | None, list[Diagnostic]]:
    """Read and load a spec file; errors are diagnostics, never exceptions."""
    display = display or str(path)
    p = Path(path)
    try:
        if p.is_dir():
            return None, [diag("E001", "is a directory, not a spec file", file=display)]
        st = p.stat()
        if not stat.S_ISREG(st.st_mode):
            # A device or pipe (say, a link to /dev/zero) could block or never end.
            return None, [diag("E001", "is not a regular file", file=display)]
        if st.st_size > MAX_BYTES:
            return None, [diag("E003", f"the file is {st.st_size:,} bytes; specs are limited to {MAX_BYTES:,}",
                               file=display)]
        with p.open("rb") as f:
            raw = f.read(MAX_BYTES + 1)  # never more, even if the file grows meanwhile
    except FileNotFoundError:
        return None, [diag("E001", "no such file", file=display)]
    except OSError as e:
        return None, [diag("E001", f"cannot read the file: {e.strerror or e}", file=display)]
    except ValueError as e:  # an embedded NUL in the path
        return None, [diag("E001", f"cannot read the file: {e}", file=display)]
    text, errors = decode(raw, display)
    if text is None:
        return None, errors
    doc, errors = load_text(text, display)
    doc.location = p
    return doc, errors


def load_stream(stream, display: str = "<stdin>") -> tuple[Document | None, list[Diagnostic]]:
    """Read and load a spec from a stream (standard input's bytes, or text), with the limits a file has."""
    try:
        raw = stream.read(MAX_BYTES + 1)
        raw = raw.encode("utf-8", "surrogatepass") if isinstance(raw, str) else raw
    except OSError as e:
        return None, [diag("E001", f"cannot read: {e.strerror or e}", file=display)]
    text, errors = decode(raw, display)
    if text is None:
        return None, errors
    return load_text(text, display)
