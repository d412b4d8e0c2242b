"""`specc diff A B`: an architecture-level diff of two specs, statically.

Layers are aligned by type and explicit name (auto-generated names such as
``dense_2`` shift when a layer is inserted, so they are not used to align);
for each aligned pair the changed arguments, output shapes and parameter
counts are compared. Settings outside `layers` (compile, train, data, seed)
are compared key by key.
"""

from __future__ import annotations

import difflib
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

from .check import CheckResult, check_text, require_model
from .layers.base import GRAPH_FIELDS, fmt_shape
from .overrides import flatten


@dataclass
class LayerChange:
    status: str  # added, removed, changed, unchanged
    name: str
    type: str
    old_name: str | None = None
    args: dict = field(default_factory=dict)  # key -> [old, new]
    shape: list = field(default_factory=lambda: [None, None])
    params: list = field(default_factory=lambda: [0, 0])


@dataclass
class SpecDiff:
    a: str
    b: str
    layers: list[LayerChange]
    settings: dict  # dotted key -> [old, new]
    params: list  # [old total, new total]

    @property
    def changed(self) -> bool:
        return bool(self.settings) or any(c.status != "unchanged" for c in self.layers)


class DiffSourceError(Exception):
    pass


def read_source(ref: str, cwd: Path | None = None) -> tuple[str, str]:
    """Text of a spec given as a path, a run or sweep directory (its spec.yaml, as trained), or a git revision
    `REV:PATH`; and the name it goes by."""
    path = Path(ref)
    if path.is_dir() and (path / "spec.yaml").is_file():
        path = path / "spec.yaml"
        ref = str(path)
    if path.is_file():
        try:
            return path.read_text(encoding="utf-8"), ref
        except UnicodeDecodeError:
            raise DiffSourceError(f"{ref}: not a spec (not UTF-8 text: a spec is a YAML file)") from None
        except OSError as e:
            raise DiffSourceError(f"{ref}: cannot read ({e})") from None
    if ":" in ref:
        try:
            out = subprocess.run(["git", "show", ref], capture_output=True, cwd=cwd, timeout=30)
        except (OSError, subprocess.TimeoutExpired) as e:
            raise DiffSourceError(f"{ref}: cannot run git ({e})") from None
        if out.returncode == 0:
            return out.stdout.decode("utf-8", errors="replace"), ref
        raise DiffSourceError(f"{ref}: {out.stderr.decode(errors='replace').strip() or 'not found in git'}")
    if path.is_dir():
        raise DiffSourceError(f"{ref}: a folder, not a spec file or a run directory (no spec.yaml)")
    raise DiffSourceError(f"{ref}: no such file (use REV:PATH for a git revision)")


def _args(layer) -> dict:
    return layer.model_dump(mode="json", exclude=set(GRAPH_FIELDS) - {"inputs"}, exclude_none=True)


def _key(node) -> tuple:
    import json

    name = "<input>" if node.implicit else node.layer.name
    return (node.layer.kind(), name, json.dumps(_args(node.layer), sort_keys=True))


def diff_results(a: CheckResult, b: CheckResult) -> SpecDiff:
    na, nb = a.graph.nodes, b.graph.nodes
    changes: list[LayerChange] = []

    def pair(x, y):
        args_x, args_y = _args(x.layer), _args(y.layer)
        delta = {k: [args_x.get(k), args_y.get(k)] for k in sorted(set(args_x) | set(args_y))
                 if args_x.get(k) != args_y.get(k)}
        ix, iy = a.info[x.name], b.info[y.name]
        same = not delta and ix.shape == iy.shape and ix.params == iy.params and x.name == y.name
        changes.append(LayerChange("unchanged" if same else "changed", y.name, y.layer.kind(),
                                   old_name=x.name if x.name != y.name else None, args=delta,
                                   shape=[list(ix.shape), list(iy.shape)],
                                   params=[ix.params.total, iy.params.total]))

    def added(y):
        i = b.info[y.name]
        changes.append(LayerChange("added", y.name, y.layer.kind(), shape=[None, list(i.shape)],
                                   params=[0, i.params.total]))

    def removed(x):
        i = a.info[x.name]
        changes.append(LayerChange("removed", x.name, x.layer.kind(), shape=[list(i.shape), None],
                                   params=[i.params.total, 0]))

    def region(xs, ys):
        """Unmatched stretches: pair layers of the same type in order, the rest are added/removed."""
        types = difflib.SequenceMatcher(a=[x.layer.kind() for x in xs], b=[y.layer.kind() for y in ys],
                                        autojunk=False)
        for op, i1, i2, j1, j2 in types.get_opcodes():
            if op == "equal":
                for x, y in zip(xs[i1:i2], ys[j1:j2]):
                    pair(x, y)
                continue
            for x in xs[i1:i2]:
                removed(x)
            for y in ys[j1:j2]:
                added(y)

    # First align identical layers (type, explicit name and arguments), then the stretches between.
    exact = difflib.SequenceMatcher(a=[_key(n) for n in na], b=[_key(n) for n in nb], autojunk=False)
    for op, i1, i2, j1, j2 in exact.get_opcodes():
        if op == "equal":
            for x, y in zip(na[i1:i2], nb[j1:j2]):
                pair(x, y)
        else:
            region(na[i1:i2], nb[j1:j2])

    def settings(r: CheckResult) -> dict:
        data = r.spec.model_dump(mode="json", exclude={"layers"}, exclude_none=True)
        return flatten(data)

    sa, sb = settings(a), settings(b)
    delta = {k: [sa.get(k), sb.get(k)] for k in sorted(set(sa) | set(sb)) if sa.get(k) != sb.get(k)}
    return SpecDiff(a.file, b.file, changes, delta, [a.params.total, b.params.total])


def check_source(ref: str) -> CheckResult:
    from pathlib import Path

    text, name = read_source(ref)
    if Path(name).is_file():
        return require_model(check_text(text, name, Path(name)))
    # REV:PATH: paths in the spec (its base, includes) start from PATH's folder in the working tree
    return require_model(check_text(text, name, Path(name.split(":", 1)[1]) if ":" in name else None))


# -- rendering ------------------------------------------------------------------
def _v(value) -> str:
    if value is None:
        return "—"
    if isinstance(value, bool):
        return str(value).lower()
    return str(value)


def _shape(shape) -> str:
    return "—" if shape is None else fmt_shape(tuple(shape))


def _delta(old: int, new: int) -> str:
    d = new - old
    return f"{new:,} ({'+' if d >= 0 else ''}{d:,})" if d else f"{new:,}"


def as_json(d: SpecDiff) -> dict:
    return {
        "a": d.a,
        "b": d.b,
        "changed": d.changed,
        "params": {"a": d.params[0], "b": d.params[1], "delta": d.params[1] - d.params[0]},
        "layers": [
            {"status": c.status, "name": c.name, "old_name": c.old_name, "type": c.type, "args": c.args,
             "output_shape": {"a": c.shape[0], "b": c.shape[1]},
             "params": {"a": c.params[0], "b": c.params[1], "delta": c.params[1] - c.params[0]}}
            for c in d.layers
        ],
        "settings": {k: {"a": v[0], "b": v[1]} for k, v in d.settings.items()},
    }


_MARK = {"added": "+", "removed": "-", "changed": "~", "unchanged": " "}


def as_text(d: SpecDiff) -> str:
    if not d.changed:
        return f"no architecture or setting changes between {d.a} and {d.b}\n"
    lines = [f"--- {d.a}", f"+++ {d.b}", f"params: {d.params[0]:,} -> {_delta(*d.params)}", ""]
    for c in d.layers:
        if c.status == "unchanged":
            continue
        name = f"{c.old_name} -> {c.name}" if c.old_name else c.name
        lines.append(f"{_MARK[c.status]} {c.status:<8} {name} ({c.type})  {_shape(c.shape[0])} -> "
                     f"{_shape(c.shape[1])}  params {c.params[0]:,} -> {_delta(*c.params)}")
        for k, (old, new) in c.args.items():
            lines.append(f"      {k}: {_v(old)} -> {_v(new)}")
    if d.settings:
        lines += ["", "settings:"]
        lines += [f"  {k}: {_v(old)} -> {_v(new)}" for k, (old, new) in d.settings.items()]
    return "\n".join(lines) + "\n"


def as_markdown(d: SpecDiff) -> str:
    if not d.changed:
        return f"**specc diff**: no architecture or setting changes between `{d.a}` and `{d.b}`.\n"
    out = [f"### specc diff: `{d.a}` → `{d.b}`", "",
           f"**Parameters:** {d.params[0]:,} → {_delta(*d.params)}", "",
           "| | layer | type | output shape | params | changed arguments |", "|---|---|---|---|---|---|"]
    for c in d.layers:
        if c.status == "unchanged":
            continue
        name = f"`{c.old_name}` → `{c.name}`" if c.old_name else f"`{c.name}`"
        shape = _shape(c.shape[1] if c.shape[1] is not None else c.shape[0])
        if c.shape[0] is not None and c.shape[1] is not None and c.shape[0] != c.shape[1]:
            shape = f"{_shape(c.shape[0])} → {_shape(c.shape[1])}"
        args = "<br>".join(f"`{k}`: {_v(o)} → {_v(n)}" for k, (o, n) in c.args.items())
        out.append(f"| {c.status} | {name} | {c.type} | {shape} | {c.params[0]:,} → {_delta(*c.params)} | {args} |")
    if d.settings:
        out += ["", "| setting | before | after |", "|---|---|---|"]
        out += [f"| `{k}` | {_v(o)} | {_v(n)} |" for k, (o, n) in d.settings.items()]
    return "\n".join(out) + "\n"
