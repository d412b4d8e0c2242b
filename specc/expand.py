"""Pass 1b: variables, includes and blocks, expanded in the data before the schema check.

    vars:     `${name}` (or simple arithmetic, `${filters * 2}`) in any value of the spec
    include:  files whose `blocks`, `models` and `vars` the spec can use, inside the project tree
    blocks:   parameterized sub-graphs; a `type: Block` layer becomes a copy of the block's layers

The result is a new Document whose data has no `vars`, `include` or `blocks`
left (what `specc train` saves as the resolved spec) and whose every part still
knows where it came from, so a mistake inside a block is reported in the
block, in whichever file defines it. Nothing here runs code: `${...}` is parsed
with `ast` and only numbers, names, parentheses and + - * / // % are evaluated.
"""

from __future__ import annotations

import ast
import operator
import os
import re
from pathlib import Path
from typing import Any

from .diagnostics import Diagnostic, did_you_mean, short
from .extends import project_root
from .filecache import FileCache
from .layers.base import snake
from .layers.models import MAX_REPEAT
from .loader import Document, load_file

REUSE_KEYS = ("vars", "include", "blocks")
LIBRARY_KEYS = {"specc", "description", "vars", "include", "blocks", "models"}
MAX_LAYERS = 10_000  # after expansion; a repeat inside a repeat grows fast
MAX_EXPRESSION = 200
MAX_TEXT = 10_000  # characters of one string after `${...}` substitution (names, paths, descriptions)
MAX_VALUES = 100_000  # values copied out of variables: variables that hold lists of each other grow fast
_REF = re.compile(r"\$\{([^{}]*)\}")
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_INCLUDED = FileCache()  # included files, loaded once while unchanged: expansion copies out of them, never into
_LAYER_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_.\-]*$")
_USE_KEYS = {"type", "block", "name", "inputs", "with", "repeat", "comment"}


def needs_expansion(doc: Document) -> bool:
    """Cheap test: plain specs skip this pass entirely."""
    data = doc.data
    texts = [doc.text, *(d.text for d in doc.sources.values())]  # with the bases of `extends:`
    return isinstance(data, dict) and (any(k in data for k in REUSE_KEYS) or
                                       any("${" in t or "Block" in t for t in texts))


def is_library(data) -> bool:
    """A file of blocks/models/vars for `include:` (no `specc:` or `layers:`): `specc validate DIR` checks it
    as a library instead of refusing it as a spec."""
    return (isinstance(data, dict) and "specc" not in data and "layers" not in data and bool(data)
            and set(data) <= LIBRARY_KEYS and bool({"blocks", "models", "vars"} & set(data)))


def check_library(doc: Document) -> list[Diagnostic]:
    """A library's includes, its blocks' definitions and its names: what can be checked before a use."""
    ex = _Expander(doc)
    location = doc.location.resolve() if doc.location is not None else None
    ex.project = project_root(location.parent if location else Path.cwd().resolve())
    ex._library(doc, [location] if location else [], top=False)
    for name, (body, bdoc, bpath) in ex.blocks.items():
        try:
            ex._definition(name, body, bdoc, bpath)
        except _Stop:
            pass
    return ex.errors


def expand(doc: Document) -> tuple[Document, dict[str, tuple[str, ...]], list[Diagnostic]]:
    """The expanded document, the block uses each expanded layer came from, and the errors."""
    ex = _Expander(doc)
    data = ex.run()
    out = Document(path=doc.path, text=doc.text, data=data, spans=ex.spans, key_spans=ex.key_spans,
                   location=doc.location, origins=ex.origins, sources=ex.sources)
    return out, ex.groups, ex.errors


class _Stop(Exception):
    pass


class _Value:
    """A variable's or parameter's value and where it was written (for error locations)."""

    __slots__ = ("value", "doc", "path")

    def __init__(self, value, doc: Document | None = None, path: tuple = ()):
        self.value, self.doc, self.path = value, doc, path


class _Expander:
    def __init__(self, root: Document):
        self.root = root
        self.errors: list[Diagnostic] = []
        self.spans: dict = {}
        self.key_spans: dict = {}
        self.origins: dict = {}
        self.sources: dict[str, Document] = {**root.sources, root.path: root}  # bases of `extends:` too
        self.blocks: dict[str, tuple[Any, Document, tuple]] = {}
        self.models: dict[str, tuple[Any, Document, tuple]] = {}
        self.var_files: list[tuple[Document, dict]] = []  # in precedence order, lowest first
        self.groups: dict[str, tuple[str, ...]] = {}
        self.checked_blocks: dict[str, bool] = {}
        self.layers = 0
        self.values = 0
        self.failed_vars: set[str] = set()
        self.use_counts: dict[str, int] = {}

    # -- driver ---------------------------------------------------------------
    def run(self) -> Any:
        root = self.root
        data = root.data
        location = root.location.resolve() if root.location is not None else None
        self.project = project_root(location.parent if location else Path.cwd().resolve())
        self._library(root, [location] if location else [], top=True)
        scope = self._vars()
        out: dict = {}
        try:
            for key, value in data.items():
                if key in REUSE_KEYS:
                    continue
                if key == "layers" and isinstance(value, list):
                    out[key] = self._layer_list(value, root, (key,), (key,), scope, ())
                elif key == "models" and isinstance(value, dict):
                    continue  # merged with the included models below
                else:
                    out[key] = self._copy(value, root, (key,), (key,), scope)
                self._key(root, (key,), (key,))
            if self.models or isinstance(data.get("models"), dict):
                out["models"] = self._models(scope)
            elif "models" in data:
                out["models"] = self._copy(data["models"], root, ("models",), ("models",), scope)
        except _Stop:
            pass
        self._record(root, (), ())
        return out

    def _error(self, doc: Document, code: str, message: str, path: tuple, key: bool = False, **kw) -> None:
        self.errors.append(doc.error(code, message, path, key=key, **kw))

    # -- positions ----------------------------------------------------------------
    def _record(self, doc: Document, path: tuple, new: tuple) -> None:
        if path in doc.spans:  # None: a value set on the command line (`--set`), placed at its assignment
            self.spans[new] = doc.spans[path]
        origin = doc.origins.get(path)  # a value the spec inherited (`extends:`): from its base file
        if origin is not None or doc is not self.root or path != new:
            self.origins[new] = origin or (doc.path, path)
            self.sources.setdefault(doc.path, doc)

    def _key(self, doc: Document, path: tuple, new: tuple) -> None:
        span = doc.key_spans.get(path)
        if span is not None:
            self.key_spans[new] = span

    # -- includes -----------------------------------------------------------------
    def _library(self, doc: Document, stack: list[Path], top: bool = False) -> None:
        """Collect the blocks, models and vars of ``doc`` and of the files it includes (depth first)."""
        data = doc.data
        if not top:
            for key in data:
                if key not in LIBRARY_KEYS:
                    self._error(doc, "E100", f"unknown key '{short(key)}' in an included file", (key,), key=True,
                                help="an included file holds only vars, blocks, models and include")
        includes = data.get("include")
        if includes is not None:
            if not isinstance(includes, list) or not all(isinstance(i, str) and i for i in includes):
                self._error(doc, "E102", "include must be a list of file paths", ("include",))
            else:
                for j, rel in enumerate(includes):
                    self._include(doc, rel, ("include", j), stack)
        for section, table in (("blocks", self.blocks), ("models", self.models)):
            entries = data.get(section)
            if entries is None or top and section == "models":
                continue
            if not isinstance(entries, dict):
                self._error(doc, "E102", f"{section} must be a mapping of names to definitions", (section,))
                continue
            for name, body in entries.items():
                if name in table:
                    other_doc, other_path = table[name][1], table[name][2]
                    first = other_doc.key_spans.get(other_path)
                    where = f" (first in {other_doc.path}" + (f":{first.line}" if first else "") + ")"
                    self._error(doc, "E059", f"{section[:-1]} '{short(name)}' is defined twice{where}",
                                (section, name), key=True)
                    continue
                table[name] = (body, doc, (section, name))
        values = data.get("vars")
        if values is not None:
            if not isinstance(values, dict):
                self._error(doc, "E102", "vars must be a mapping of names to values", ("vars",))
            else:
                self.var_files.append((doc, values))

    def _include(self, doc: Document, rel: str, loc: tuple, stack: list[Path]) -> None:
        if os.path.isabs(rel) or rel.startswith("~"):
            self._error(doc, "E053", f"include paths are relative to the including file. Received: {rel!r}", loc)
            return
        base = doc.location.resolve().parent if doc.location is not None else Path.cwd().resolve()
        target = (base / rel).resolve()
        if not target.is_relative_to(self.project):
            self._error(doc, "E053", f"include leaves the project tree (the folder above the spec that holds .git or "
                        f"pyproject.toml). Received: {rel!r}", loc,
                        help="keep shared blocks inside the project; copy them in if they live elsewhere")
            return
        if target in stack:
            names = [os.path.relpath(p, self.project) for p in stack[stack.index(target):]] + [
                os.path.relpath(target, self.project)]
            self._error(doc, "E054", f"files include each other in a loop: {' -> '.join(names)}", loc)
            return
        if any(d.location is not None and d.location.resolve() == target for d in self.sources.values()):
            return  # already included through another file
        display = os.path.relpath(target) if not os.path.relpath(target).startswith("..") else str(target)
        sub, errors = _INCLUDED.get(target, lambda: load_file(target, display), display)
        if sub is None or errors:
            if sub is None and errors and errors[0].code == "E001":
                self._error(doc, "E052", f"cannot include {rel!r}: {errors[0].message}", loc)
            else:
                self.errors += errors
            return
        if not isinstance(sub.data, dict):
            self._error(doc, "E052", f"cannot include {rel!r}: it is not a mapping of blocks, models and vars", loc)
            return
        self.sources[sub.path] = sub
        self._library(sub, stack + [target])

    # -- variables ------------------------------------------------------------------
    def _vars(self) -> dict[str, _Value]:
        """Included files' vars first, then the spec's own (later files win); each may use the ones before."""
        scope: dict[str, _Value] = {}
        files = self.var_files
        own = [f for f in files if f[0] is self.root]
        for doc, values in [f for f in files if f[0] is not self.root][::-1] + own:
            for name, value in values.items():
                path = ("vars", name)
                if not isinstance(name, str) or not _NAME.match(name):
                    self._error(doc, "E102", f"a variable name must start with a letter or _ and hold only letters, "
                                f"digits and _. Received: {short(name)!r}", path, key=True)
                    continue
                try:
                    resolved = self._copy(value, doc, path, ("vars", name), scope, record=False)
                except _Stop:
                    self.failed_vars.add(name)  # already reported: its users say nothing more
                    continue
                scope[name] = _Value(resolved, doc, path)
        return scope

    def _copy(self, value, doc: Document, path: tuple, new: tuple, scope: dict, record: bool = True):
        """``value`` with ``${...}`` substituted, its positions recorded under ``new``."""
        if isinstance(value, dict):
            out = {}
            for k, v in value.items():
                out[k] = self._copy(v, doc, path + (k,), new + (k,), scope, record)
                if record:
                    self._key(doc, path + (k,), new + (k,))
        elif isinstance(value, list):
            out = [self._copy(v, doc, path + (i,), new + (i,), scope, record) for i, v in enumerate(value)]
        elif isinstance(value, str) and "${" in value:
            return self._substitute(value, doc, path, new, scope, record)
        else:
            out = value
        if record:
            self._record(doc, path, new)
        return out

    def _substitute(self, text: str, doc: Document, path: tuple, new: tuple, scope: dict, record: bool):
        whole = _REF.fullmatch(text.strip())
        if whole and "$${" not in text:
            expr = whole.group(1).strip()
            if _NAME.match(expr) and expr in scope:
                v = scope[expr]
                if record and v.doc is not None:  # point later errors at where the value was written
                    self._grow(v.value, doc, path)
                    return self._copy(v.value, v.doc, v.path, new, {}, record)
                if record:
                    self._record(doc, path, new)
                return v.value
            value = self._evaluate(expr, doc, path, scope)
            if record:
                self._record(doc, path, new)
            return value
        parts, pos = [], 0
        for m in _REF.finditer(text):
            if m.start() > 0 and text[m.start() - 1] == "$":  # $${...} is a literal ${...}
                parts.append(text[pos:m.start() - 1] + m.group(0))
            else:
                value = self._evaluate(m.group(1).strip(), doc, path, scope)
                if isinstance(value, (dict, list)) or value is None or isinstance(value, bool):
                    self._error(doc, "E051", f"`{m.group(0)}` inside a longer string must be a number or a string. "
                                f"Received: {type(value).__name__ if value is not None else 'null'}", path)
                    raise _Stop
                parts.append(text[pos:m.start()] + str(value))
            pos = m.end()
            if sum(map(len, parts)) > MAX_TEXT:
                self._error(doc, "E058", f"the text after `${{...}}` substitution is longer than {MAX_TEXT:,} "
                            f"characters", path, help="a variable that repeats another one grows fast; shorten it")
                raise _Stop
        parts.append(text[pos:])
        if record:
            self._record(doc, path, new)
        return "".join(parts)

    def _evaluate(self, expr: str, doc: Document, path: tuple, scope: dict):
        if len(expr) > MAX_EXPRESSION:
            self._error(doc, "E051", f"`${{...}}` holds {len(expr)} characters; expressions are limited to "
                        f"{MAX_EXPRESSION}", path)
            raise _Stop
        try:
            tree = ast.parse(expr, mode="eval")
        except SyntaxError:
            self._error(doc, "E051", f"`${{{short(expr)}}}` is not a name or arithmetic (+ - * / // %)", path)
            raise _Stop from None
        try:
            return _eval(tree.body, scope)
        except _Unknown as e:
            if e.name in self.failed_vars:
                raise _Stop from None
            hint = did_you_mean(e.name, list(scope)) or (
                f"the variables here are: {', '.join(sorted(scope))}" if scope else "define it under `vars:`")
            self._error(doc, "E050", f"unknown variable '{short(e.name)}' in `${{{short(expr)}}}`", path, help=hint)
        except _Bad as e:
            self._error(doc, "E051", f"`${{{short(expr)}}}`: {e}", path)
        raise _Stop

    # -- layers and blocks ------------------------------------------------------------
    def _layer_list(self, items: list, doc: Document, path: tuple, new: tuple, scope: dict,
                    group: tuple) -> list:
        out: list = []
        pending = None  # a block's output, when it is not the last layer copied
        for i, item in enumerate(items):
            if isinstance(item, dict) and item.get("type") == "Block":
                if pending is None and out:
                    named = out[-1].get("name") if isinstance(out[-1], dict) else None
                    pending = named if isinstance(named, str) else f"#{len(out) - 1}"  # see graph.build_graph
                try:
                    pending = self._use(item, doc, path + (i,), scope, out, new, group, pending)
                except _Stop:
                    pending = None
                continue
            try:
                layer = self._copy(item, doc, path + (i,), new + (len(out),), scope)
            except _Stop:
                continue
            if pending is not None and isinstance(layer, dict) and "inputs" not in layer and layer.get("type") != "Input":
                layer["inputs"] = pending
                self._record(doc, path + (i,), new + (len(out), "inputs"))
            pending = None
            out.append(layer)
            self._count(doc, path + (i,))
        self._record(doc, path, new)
        return out

    def _grow(self, value, doc: Document, path: tuple) -> None:
        """Bound the values copied out of variables (a variable holding another twice doubles at every level),
        before copying them."""
        stack = [value]
        while stack and self.values <= MAX_VALUES:
            item = stack.pop()
            self.values += 1
            if isinstance(item, dict):
                stack.extend(item.values())
            elif isinstance(item, list):
                stack.extend(item)
        if self.values > MAX_VALUES:
            self._error(doc, "E058", f"the variables used here expand to more than {MAX_VALUES:,} values", path,
                        help="a variable that repeats another one grows fast; nest fewer of them")
            raise _Stop

    def _count(self, doc: Document, path: tuple) -> None:
        self.layers += 1
        if self.layers > MAX_LAYERS:
            self._error(doc, "E058", f"the blocks expand to more than {MAX_LAYERS:,} layers", path,
                        help="lower a `repeat`, or nest fewer repeated blocks")
            raise _Stop

    def _use(self, item: dict, doc: Document, path: tuple, scope: dict, out: list, new: tuple, group: tuple,
             pending) -> str | None:
        """Copy block ``item['block']`` into ``out``; returns its output's name when a later layer must be wired to
        it explicitly (it is not the last layer copied)."""
        use = self._copy(item, doc, path, ("<use>",), scope, record=False)
        for key in use:
            if key not in _USE_KEYS:
                self._error(doc, "E100", f"unknown key '{short(key)}' in Block", path + (key,), key=True,
                            help="a Block use takes: block, name, inputs, with, repeat")
                raise _Stop
        name = use.get("block")
        if not isinstance(name, str):
            self._error(doc, "E101" if name is None else "E102", "a Block layer names its block with `block:`",
                        path + (("block",) if "block" in use else ()))
            raise _Stop
        if name not in self.blocks:
            known = sorted(self.blocks)
            self._error(doc, "E055", f"block must name a block of this spec or its includes. Received: {name!r}",
                        path + ("block",), help=did_you_mean(name, known) or (
                            f"the blocks are: {', '.join(known)}" if known else "define it under `blocks:`"))
            raise _Stop
        if name in group[1::2]:
            chain = " -> ".join([*group[1::2][list(group[1::2]).index(name):], name])
            self._error(doc, "E057", f"blocks use each other in a loop: {chain}", path + ("block",))
            raise _Stop
        body, bdoc, bpath = self.blocks[name]
        definition = self._definition(name, body, bdoc, bpath)
        repeat = use.get("repeat", 1)
        if type(repeat) is not int or not 1 <= repeat <= MAX_REPEAT:
            self._error(doc, "E102", f"repeat must be a whole number from 1 to {MAX_REPEAT:,}. Received: {repeat!r}",
                        path + ("repeat",))
            raise _Stop
        use_name = use.get("name")
        if use_name is None:
            k = self.use_counts.get(name, 0)
            self.use_counts[name] = k + 1
            use_name = name if k == 0 else f"{name}_{k}"  # (a use inside a block is named by _copy_block)
        elif not isinstance(use_name, str) or not _LAYER_NAME.match(use_name):
            self._error(doc, "E102", f"name must start with a letter or _ and hold only letters, digits, _ . and -. "
                        f"Received: {use_name!r}", path + ("name",))
            raise _Stop
        params = self._params(definition, use, doc, path, bdoc, bpath, name, scope)
        actual = use.get("inputs")
        actual = [actual] if isinstance(actual, str) else actual
        if actual is None:
            actual = [pending] if pending is not None else [None]
        if len(actual) != len(definition["inputs"]) or not all(a is None or isinstance(a, str) for a in actual):
            self._error(doc, "E056", f"block '{name}' takes {len(definition['inputs'])} input(s) "
                        f"({', '.join(definition['inputs'])}). Received: {len(actual)}", path + ("inputs",))
            raise _Stop
        inner_scope = {**scope, **params}
        output = None
        for r in range(repeat):
            prefix = use_name if repeat == 1 else f"{use_name}_{r + 1}"
            last = r == repeat - 1
            output = self._copy_block(definition, bdoc, bpath, inner_scope, out, new, actual, prefix,
                                      use_name if last else None, group + (use_name, name))
            actual = [output]
        return output if out and out[-1].get("name") != output else None

    def _definition(self, name: str, body, doc: Document, path: tuple) -> dict:
        """The block's definition, checked once (shape of the definition, not of its layers)."""
        if name not in self.checked_blocks:
            from pydantic import ValidationError

            from .schema.errors import schema_diagnostics
            from .schema.reuse import BlockDef

            try:
                BlockDef.model_validate(body)
                self.checked_blocks[name] = True
            except ValidationError as e:
                errors = [{**err, "loc": path + tuple(err["loc"])} for err in e.errors()]
                self.errors += schema_diagnostics(errors, doc)
                self.checked_blocks[name] = False
        if not self.checked_blocks[name]:
            raise _Stop
        return {"params": body.get("params") or {}, "inputs": body.get("inputs") or ["input"],
                "layers": body["layers"], "outputs": body.get("outputs")}

    def _params(self, definition: dict, use: dict, doc: Document, path: tuple, bdoc: Document, bpath: tuple,
                name: str, scope: dict) -> dict[str, _Value]:
        """The block's parameters for one use: the values it gives (already substituted), else the defaults."""
        given = use.get("with", {})
        if not isinstance(given, dict):
            self._error(doc, "E102", "with must be a mapping of the block's parameters to values", path + ("with",))
            raise _Stop
        declared = definition["params"]
        params: dict[str, _Value] = {}
        for key, value in given.items():
            if key not in declared:
                self._error(doc, "E056", f"block '{name}' has no parameter '{short(key)}'", path + ("with", key),
                            key=True, help=did_you_mean(key, list(declared)) or (
                                f"its parameters are: {', '.join(declared)}" if declared else "it takes no parameters"))
                raise _Stop
            params[key] = _Value(value, doc, path + ("with", key))
        for key, default in declared.items():
            if key in params:
                continue
            where = bpath + ("params", key)
            if default is None:
                self._error(doc, "E056", f"block '{name}' needs a value for its parameter '{key}'", path,
                            help=f"add `with: {{{key}: ...}}`")
                raise _Stop
            params[key] = _Value(self._copy(default, bdoc, where, where, scope, record=False), bdoc, where)
        return params

    def _copy_block(self, definition: dict, doc: Document, path: tuple, scope: dict, out: list, new: tuple,
                    actual: list, prefix: str, out_name: str | None, group: tuple) -> str:
        body = definition["layers"]
        outputs = definition["outputs"]
        # Local names first: every layer of the block gets a full name, so the copies can be wired explicitly.
        local: dict[str, str] = {}
        names: list[str] = []
        taken: set[str] = set()
        for item in body:
            item = {"type": item} if isinstance(item, str) else item
            own = item.get("name") if isinstance(item, dict) else None
            if not isinstance(own, str) or "${" in own:
                base = snake(item.get("block", "block")) if item.get("type") == "Block" else \
                    snake(str(item.get("type", "layer")))
                own, k = base, 1
                while own in taken:
                    own, k = f"{base}_{k}", k + 1
            taken.add(own)
            names.append(own)
        output_local = (outputs or [names[-1]])[0]
        if output_local not in names:
            error = doc.error("E205", f"outputs must name a layer of this block. Received: {output_local!r}",
                              path + ("outputs", 0), help=did_you_mean(str(output_local), names) or
                              f"they are: {', '.join(names)}")
            if error not in self.errors:  # once, however often the block is used
                self.errors.append(error)
            raise _Stop
        for own in names:
            local[own] = out_name if (out_name and own == output_local) else f"{prefix}_{own}"
        refs = {**dict(zip(definition["inputs"], actual)), **local}
        previous = actual[0]
        for j, item in enumerate(body):
            src = path + ("layers", j)
            item = {"type": item} if isinstance(item, str) else item
            full = local[names[j]]
            if item.get("type") == "Block":
                nested = {**item, "name": full}
                if "inputs" in item:
                    nested["inputs"] = self._wire(item["inputs"], refs, doc, src, definition)
                elif previous is not None:
                    nested["inputs"] = previous
                self._use(nested, doc, src, scope, out, new, group, None)
                previous = full
                continue
            try:
                layer = self._copy(item, doc, src, new + (len(out),), scope)
            except _Stop:
                previous = full
                continue
            layer["name"] = full
            self._record(doc, src + (("name",) if "name" in item else ()), new + (len(out), "name"))
            if "inputs" in item:
                layer["inputs"] = self._wire(item["inputs"], refs, doc, src, definition)
            elif previous is not None and layer.get("type") != "Input":
                layer["inputs"] = previous
                self._record(doc, src, new + (len(out), "inputs"))
            self.groups[full] = group[0::2]
            previous = full
            out.append(layer)
            self._count(doc, src)
        return local[output_local]

    def _wire(self, refs, table: dict, doc: Document, src: tuple, definition: dict):
        single = isinstance(refs, str)
        wired = []
        for k, ref in enumerate([refs] if single else refs if isinstance(refs, list) else []):
            if not isinstance(ref, str) or ref not in table:
                where = src + (("inputs",) if single else ("inputs", k))
                known = list(definition["inputs"]) + [r for r in table if r not in definition["inputs"]]
                self._error(doc, "E201", f"inputs in a block must name one of its layers or inputs. Received: "
                            f"{ref!r}", where, help=did_you_mean(str(ref), known) or f"they are: {', '.join(known)}")
                raise _Stop
            if table[ref] is None:
                self._error(doc, "E201", f"the block's input '{ref}' comes from an unnamed layer; give the layer "
                            f"before the block a name, or name the block's `inputs`", src + ("inputs",))
                raise _Stop
            wired.append(table[ref])
        return wired[0] if single else wired

    def _models(self, scope: dict) -> dict:
        root_models = self.root.data.get("models")
        entries = dict(self.models)
        if isinstance(root_models, dict):
            for name, body in root_models.items():
                if name in entries:
                    other = entries[name][1]
                    self._error(self.root, "E059", f"model '{short(name)}' is also defined in {other.path}",
                                ("models", name), key=True)
                    continue
                entries[name] = (body, self.root, ("models", name))
        out = {}
        for name, (body, doc, path) in entries.items():
            new = ("models", name)
            if isinstance(body, dict) and isinstance(body.get("layers"), list):
                entry = {}
                for key, value in body.items():
                    if key == "layers":
                        entry[key] = self._layer_list(value, doc, path + (key,), new + (key,), scope, ())
                    else:
                        entry[key] = self._copy(value, doc, path + (key,), new + (key,), scope)
                    self._key(doc, path + (key,), new + (key,))
                self._record(doc, path, new)
            else:
                entry = self._copy(body, doc, path, new, scope)
            self._key(doc, path, new)
            out[name] = entry
        self._record(self.root, ("models",), ("models",))
        return out


# -- arithmetic without eval ---------------------------------------------------------
class _Unknown(Exception):
    def __init__(self, name: str):
        super().__init__(name)
        self.name = name


class _Bad(Exception):
    pass


_OPS = {ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul, ast.Div: operator.truediv,
        ast.FloorDiv: operator.floordiv, ast.Mod: operator.mod}


def _eval(node, scope: dict):
    if isinstance(node, ast.Constant) and type(node.value) in (int, float):
        return node.value
    if isinstance(node, ast.Name):
        if node.id not in scope:
            raise _Unknown(node.id)
        return scope[node.id].value
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
        value = _number(_eval(node.operand, scope))
        return -value if isinstance(node.op, ast.USub) else value
    if isinstance(node, ast.BinOp) and type(node.op) in _OPS:
        a, b = _number(_eval(node.left, scope)), _number(_eval(node.right, scope))
        if isinstance(node.op, (ast.Div, ast.FloorDiv, ast.Mod)) and b == 0:
            raise _Bad("division by zero")
        result = _OPS[type(node.op)](a, b)
        if abs(result) > 2**63:
            raise _Bad("the result is too large")
        return result
    raise _Bad("only numbers, names, parentheses and + - * / // % are allowed")


def _number(value):
    if type(value) not in (int, float):
        raise _Bad(f"arithmetic needs numbers. Received: {short(repr(value))}")
    return value


