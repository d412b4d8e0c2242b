"""`specc compare RUN_A RUN_B [RUN...]`: what differs between runs, and how their results differ.

Four parts, each against the first run: the spec (the architecture diff of `specc diff` on the resolved
specs), the data (sources, sizes, fingerprints), the environment (versions, device, precision) and the
results (every metric with its delta). The learning curves of all runs, overlaid, go to a PNG on request.
Only the PNG needs Pillow (the `train` extra); the rest reads files.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .runs import Run, checked_spec, duration, higher_is_better

DATA_KEYS = ("source", "fingerprint", "train_samples", "validation_samples", "test_samples")
ENV_KEYS = ("specc_version", "keras_version", "backend", "device", "precision", "fast", "workers", "replicas",
            "stream", "seed", "python", "platform")
RUN_KEYS = ("status", "epochs_done", "best_epoch", "seconds")


@dataclass
class Comparison:
    labels: list[str]
    spec: list  # per run after the first: a diff.SpecDiff, or a string saying why there is none
    data: dict = field(default_factory=dict)  # key -> one value per run
    environment: dict = field(default_factory=dict)
    run: dict = field(default_factory=dict)
    results: dict = field(default_factory=dict)  # "test accuracy" -> one value per run


def labels(runs: list[Run]) -> list[str]:
    """Short, distinct names: the folder names, or the whole paths where two folder names are the same."""
    names = [run.path.name for run in runs]
    return names if len(set(names)) == len(names) else [str(run.path) for run in runs]


def compare(runs: list[Run]) -> Comparison:
    from .diff import diff_results

    c = Comparison(labels(runs), [])
    first = checked_spec(runs[0])
    for run in runs[1:]:
        other = checked_spec(run)
        problem = next((x for x in (first, other) if isinstance(x, str)), None)
        c.spec.append(problem or diff_results(first, other))
    c.data = {k: [_get(run.info.get("data"), k) for run in runs] for k in DATA_KEYS}
    c.environment = {k: [run.info.get(k) for run in runs] for k in ENV_KEYS}
    c.run = {k: [run.info.get(k) for run in runs] for k in RUN_KEYS}
    for split in ("test", "validation", "train"):
        names: dict[str, None] = {}
        for run in runs:
            names.update(dict.fromkeys(run.split(split)))
        for name in names:
            c.results[f"{split} {name}"] = [run.split(split).get(name) for run in runs]
    return c


def _get(data, key):
    return data.get(key) if isinstance(data, dict) else None


def _value(value) -> str:
    if value is None:
        return "—"
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, float):
        return f"{value:.4f}" if abs(value) < 1e4 else f"{value:,.0f}"
    return str(value)


def _delta(key: str, base, value) -> str:
    """`0.9125 (+0.0312, better)`: a metric against the first run's."""
    if not isinstance(value, (int, float)) or not isinstance(base, (int, float)) or value == base:
        return _value(value)
    d = value - base
    better = (d > 0) == higher_is_better(key.split()[-1])
    return f"{_value(value)} ({'+' if d > 0 else ''}{d:.4f}, {'better' if better else 'worse'})"


def _rows(title: str, labels_: list[str], rows: dict, render) -> list[str]:
    """A section: one line per key, a column per run; `*` marks a key whose values differ."""
    cells = [[k, *render(k, values)] for k, values in rows.items()]
    if not cells:
        return []
    heads = ["", *labels_]
    widths = [max(len(str(h)), *(len(row[i]) for row in cells)) for i, h in enumerate(heads)]
    out = [f"{title}:", "    " + "  ".join(str(h).ljust(w) for h, w in zip(heads, widths)).rstrip()]
    for values, row in zip(rows.values(), cells):
        mark = "*" if len({repr(v) for v in values}) > 1 else " "
        out.append(f"  {mark} " + "  ".join(c.ljust(w) for c, w in zip(row, widths)).rstrip())
    return out + [""]


def as_text(c: Comparison) -> str:
    from .diff import as_text as diff_text

    out = [f"comparing {', '.join(c.labels)} (against {c.labels[0]}; * marks a difference)", ""]
    out.append("spec:")
    for label, d in zip(c.labels[1:], c.spec):
        if isinstance(d, str):
            out.append(f"  {label}: cannot compare the specs: {d}")
        elif not d.changed:
            out.append(f"  {label}: the same spec as {c.labels[0]}")
        else:
            out.append(f"  {c.labels[0]} -> {label}:")
            out += ["    " + line for line in diff_text(d).splitlines()[2:] if line]
    out.append("")
    plain = lambda k, values: [_value(v) for v in values]  # noqa: E731
    out += _rows("data", c.labels, c.data, plain)
    out += _rows("environment", c.labels, c.environment, plain)
    out += _rows("run", c.labels, c.run,
                 lambda k, values: [duration(v) if k == "seconds" and v is not None else _value(v) for v in values])
    out += _rows("results", c.labels, c.results,
                 lambda k, values: [_value(values[0]), *(_delta(k, values[0], v) for v in values[1:])])
    return "\n".join(out).rstrip("\n") + "\n"


def as_json(c: Comparison) -> dict:
    from .diff import as_json as diff_json

    return {
        "runs": c.labels,
        "spec": [d if isinstance(d, str) else diff_json(d) for d in c.spec],
        "data": c.data,
        "environment": c.environment,
        "run": c.run,
        "results": {k: {"values": v, "deltas": [None if not _numbers(v[0], x) else x - v[0] for x in v]}
                    for k, v in c.results.items()},
    }


def _numbers(*values) -> bool:
    return all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values)
