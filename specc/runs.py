"""Reading run directories and sweeps, without TensorFlow: `specc runs`, `specc compare` and `specc report`
start here.

A run directory is what `specc train` writes (run.json, metrics.json, history.json, spec.yaml, plots); a
sweep directory is what `specc tune` writes (sweep.json, results.json, trials/NNNN/ run directories). Every
reader here takes a broken or foreign folder without a traceback: the run is listed with a note saying what
could not be read, or the folder is skipped with a note.
"""

from __future__ import annotations

import csv
import io
import json
import math
import os
from dataclasses import dataclass, field
from pathlib import Path

RUN_FILE, SWEEP_FILE = "run.json", "sweep.json"
MAX_DEPTH = 8  # how deep below a listed folder runs are looked for
TEXT_SPEC_COLUMNS = 8  # the text table shows this many differing spec values; the other formats show all


class RunsError(Exception):
    """A path that is not a run (or sweep) directory where one is needed."""


def read_json(path: Path) -> tuple[object, str | None]:
    """(data, None), or (None, what went wrong) for a missing, unreadable or invalid file."""
    try:
        return json.loads(Path(path).read_text(encoding="utf-8")), None
    except FileNotFoundError:
        return None, f"no {Path(path).name}"
    except (OSError, UnicodeDecodeError) as e:
        return None, f"cannot read {Path(path).name} ({e.__class__.__name__})"
    except ValueError as e:
        return None, f"{Path(path).name} is not valid JSON ({e})"


def higher_is_better(metric: str) -> bool:
    """Accuracy-like metrics improve upwards, losses and errors downwards."""
    name = metric.lower().removeprefix("val_").removeprefix("test_").removeprefix("train_")
    return any(k in name for k in ("acc", "auc", "precision", "recall", "f1", "r2", "iou"))


@dataclass
class Run:
    path: Path
    info: dict = field(default_factory=dict)  # run.json
    metrics: dict = field(default_factory=dict)  # metrics.json: {"train": {...}, "validation": ..., "test": ...}
    notes: list = field(default_factory=list)  # what could not be read
    sweep: Path | None = None  # the sweep directory of a trial
    trial: dict | None = None  # a trial's number, params and state
    _spec: object = None
    _flat: dict | None = None

    @property
    def name(self) -> str:
        return _text(self.info.get("name")) or self.spec_data().get("name") or self.path.name

    @property
    def status(self) -> str:
        """The full status: completed, running, killed, interrupted, "stopped early after 3 epochs", pruned, ..."""
        state = (self.trial or {}).get("state")
        if state in ("pruned", "invalid", "failed"):
            return state
        if self.notes and not self.info:
            return "broken"
        status = _text(self.info.get("status")) or "unknown"
        if status == "running" and self._killed():
            return "killed"
        return status

    def _killed(self) -> bool:
        """A run of this machine that says "running" while no process holds its directory (runners/rundir.py)."""
        import platform

        from .runners.rundir import unowned

        return self.info.get("host") == platform.node() and unowned(self.path)

    @property
    def short_status(self) -> str:
        return self.status.split()[0].rstrip(":")

    @property
    def started(self) -> str | None:
        return _text(self.info.get("started"))

    @property
    def seconds(self) -> float | None:
        return _number(self.info.get("seconds"))

    @property
    def epochs(self) -> int | None:
        value = _number(self.info.get("epochs_done"))
        if value is None and isinstance(self.trial, dict):
            value = _number(self.trial.get("epochs"))
        return None if value is None else int(value)

    @property
    def params(self) -> int | None:
        params = self.info.get("params")
        value = _number(params.get("total") if isinstance(params, dict) else params)
        return None if value is None else int(value)

    def split(self, name: str) -> dict:
        values = self.metrics.get(name) if isinstance(self.metrics, dict) else None
        return {k: v for k, v in values.items() if _number(v) is not None} if isinstance(values, dict) else {}

    def spec_data(self) -> dict:
        """The resolved spec (spec.yaml) as plain data; {} when it is missing or unreadable (with a note)."""
        if self._spec is None:
            self._spec = {}
            path = self.path / "spec.yaml"
            if path.is_file():
                data, problem = read_spec(path, self.info.get("spec_sha256"))
                self._spec = data if isinstance(data, dict) else {}
                if problem:
                    self.notes.append(problem)
            elif self.info:
                self.notes.append("no spec.yaml")
        return self._spec

    def flat_spec(self) -> dict:
        """The resolved spec's values by key path (`compile.optimizer.learning_rate`)."""
        if self._flat is None:
            from .overrides import flatten

            self._flat = flatten(self.spec_data(), lists=True)
        return self._flat

    def history(self) -> dict:
        data, problem = read_json(self.path / "history.json")
        if not isinstance(data, dict):
            return {}
        return {k: [float(x) if _number(x) is not None else math.nan for x in v]
                for k, v in data.items() if isinstance(v, list)}

    def file(self, name: str) -> Path | None:
        path = self.path / name
        return path if path.is_file() else None


def _text(value) -> str | None:
    return value if isinstance(value, str) and value else None


def _number(value) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return value if math.isfinite(value) else None


def read_spec(path: Path, sha256: str | None) -> tuple[object, str | None]:
    """A run's resolved spec as data, and a note when something is off. The file specc wrote (its SHA-256 is
    run.json's spec_sha256) is read with libyaml's fast safe loader; any other text (edited, or from an
    unknown writer) with specc's own loader, which caps size and nesting and refuses tags and aliases."""
    import hashlib

    import yaml

    try:
        raw = path.read_bytes()
    except OSError as e:
        return None, f"cannot read spec.yaml ({e.__class__.__name__})"
    if sha256 and hashlib.sha256(raw).hexdigest() == sha256:
        try:
            return yaml.load(raw, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader)), None
        except yaml.YAMLError:  # pragma: no cover - specc wrote it
            pass
    from .loader import load_file

    doc, errors = load_file(path)
    if doc is None or errors or not isinstance(doc.data, dict):
        return None, "spec.yaml cannot be read" + (f": {errors[0].message}" if errors else "")
    return doc.data, "spec.yaml is not the spec this run was trained with (its SHA-256 differs from run.json's)" \
        if sha256 else None


def checked_spec(run: Run):
    """The run's resolved spec, checked statically (no TensorFlow): a CheckResult, or why there is none."""
    from .check import check_file

    path = run.path / "spec.yaml"
    if not path.is_file():
        return f"{run.path} has no spec.yaml"
    result = check_file(path)
    if not result.ok:
        return f"{path}: not a valid spec ({result.errors[0].message})"
    return result


def read_run(path: Path) -> Run:
    """One run directory; problems become notes, never exceptions."""
    run = Run(Path(path))
    info, problem = read_json(run.path / RUN_FILE)
    if problem or not isinstance(info, dict) or not info:
        run.notes.append(problem or ("run.json is empty ({}): no run specc wrote" if info == {} else
                                     "run.json is not a JSON object"))
        info = {}
    run.info = info
    if isinstance(info.get("trial"), dict):
        run.trial = info["trial"]
    metrics, problem = read_json(run.path / "metrics.json")
    if isinstance(metrics, dict):
        run.metrics = metrics
    elif info.get("status") not in (None, "running", "interrupted") and not run.trial:  # "killed" says running
        run.notes.append(problem or "metrics.json is not a JSON object")
    return run


@dataclass
class Sweep:
    path: Path
    info: dict  # sweep.json
    results: dict  # results.json ({} while the first trial runs)
    trials: list[Run]
    notes: list = field(default_factory=list)

    @property
    def name(self) -> str:
        return _text(self.info.get("name")) or self.path.name

    @property
    def objective(self) -> dict:
        objective = self.info.get("objective") or self.results.get("objective")
        if not isinstance(objective, dict):
            return {}
        return {k: v for k, v in objective.items() if k not in ("metric", "direction") or isinstance(v, str)}


def read_sweep(path: Path) -> Sweep:
    """A sweep directory: its trials in order, from results.json and the trials/ folder together (a trial
    that never trained, e.g. an invalid point, has no run directory but is listed from results.json)."""
    path = Path(path)
    info, problem = read_json(path / SWEEP_FILE)
    notes = [problem] if problem else []
    results, problem = read_json(path / "results.json")
    if not isinstance(results, dict):
        results = {}
    entries = {}
    for entry in results.get("trials") if isinstance(results.get("trials"), list) else []:
        if isinstance(entry, dict) and isinstance(entry.get("number"), int):
            entries[entry["number"]] = entry
    trials: list[Run] = []
    seen = set()
    folder = path / "trials"
    for sub in sorted(folder.iterdir()) if folder.is_dir() else []:
        if (sub / RUN_FILE).is_file():
            run = read_run(sub)
            run.sweep = path
            number = (run.trial or {}).get("number")
            number = number if isinstance(number, int) else \
                int(sub.name) if sub.name.isascii() and sub.name.isdigit() else None
            run.trial = {**entries.get(number, {}), **(run.trial or {}), "number": number}
            seen.add(number)
            trials.append(run)
    for number, entry in sorted(entries.items()):
        if number not in seen:  # never trained: listed from results.json
            run = Run(path / "trials" / f"{number:04d}", sweep=path, trial=entry)
            if _text(entry.get("message")):
                run.notes.append(entry["message"])
            trials.append(run)
    trials.sort(key=lambda r: (r.trial or {}).get("number") if isinstance((r.trial or {}).get("number"), int) else -1)
    return Sweep(path, info if isinstance(info, dict) else {}, results, trials, notes)


def find_runs(paths: list[Path]) -> tuple[list[Run], list[str]]:
    """Every run below ``paths`` (a run or sweep directory itself, or a folder holding them), and notes on
    what was skipped or could not be read."""
    runs: list[Run] = []
    notes: list[str] = []
    seen: set[Path] = set()  # each run once, however many of the paths reach it (runs/a runs ./runs/a)
    for root in paths:
        root = Path(root)
        if not root.is_dir():
            notes.append(f"{root}: {'not a folder' if root.exists() else 'no such folder'}")
            continue
        start, again = len(runs), False
        for top, dirs, files in os.walk(root):
            here = Path(top)
            if len(here.relative_to(root).parts) >= MAX_DEPTH:
                dirs[:] = []
            dirs[:] = sorted(d for d in dirs if not d.startswith("."))
            if (SWEEP_FILE in files or RUN_FILE in files) and here.resolve() in seen:
                dirs[:], again = [], True
            elif SWEEP_FILE in files:
                dirs[:] = []
                seen.add(here.resolve())
                sweep = read_sweep(here)
                notes += [f"{here}: {n}" for n in sweep.notes]
                runs += [trial for trial in sweep.trials if trial.path.resolve() not in seen]
                seen.update(trial.path.resolve() for trial in sweep.trials)
            elif RUN_FILE in files:
                dirs[:] = []
                seen.add(here.resolve())
                runs.append(read_run(here))
            elif here.parent == root and not dirs and files:
                notes.append(f"{here}: skipped, not a specc run (no run.json)")
        if len(runs) == start and not again and not any(n.startswith(f"{root}") for n in notes):
            notes.append(f"{root}: no runs found")
    return runs, notes


def run_notes(runs: list[Run]) -> list[str]:
    """What could not be read in each run (after its files were read for the table)."""
    return [f"{run.path}: {note}" for run in runs for note in run.notes]


# -- the table -------------------------------------------------------------------------------------------
STATUSES = ("completed", "running", "killed", "interrupted", "stopped", "pruned", "invalid", "failed", "broken",
            "unknown")


def metric_column(split: str, name: str) -> str:
    return {"test": "test_", "validation": "val_", "train": "train_"}[split] + name


def differing(runs: list[Run]) -> list[str]:
    """Key paths of the resolved specs whose values are not the same in every run (in spec order)."""
    flat = [values for values in (run.flat_spec() for run in runs) if values]
    keys: dict[str, None] = {}
    for values in flat:
        keys.update(dict.fromkeys(values))
    keys.pop("name", None)  # the table's own column
    return [k for k in keys if len({repr(v.get(k)) for v in flat}) > 1]


def table(runs: list[Run]) -> tuple[list[str], list[dict]]:
    """Columns and one row per run: run, name, status, started, seconds, epochs, params, the test metrics,
    and the spec values that differ between the runs."""
    metrics: dict[str, None] = {}
    for run in runs:
        metrics.update(dict.fromkeys(metric_column("test", m) for m in run.split("test")))
    spec_keys = differing(runs) if len(runs) > 1 else []
    columns = ["run", "name", "status", "started", "seconds", "epochs", "params", *metrics, *spec_keys]
    rows = []
    for run in runs:
        flat = run.flat_spec()
        row = {"run": str(run.path), "name": run.name, "status": run.status, "started": run.started,
               "seconds": run.seconds, "epochs": run.epochs, "params": run.params}
        row.update({metric_column("test", k): v for k, v in run.split("test").items()})
        row.update({k: flat.get(k) for k in spec_keys})
        rows.append(row)
    return columns, rows


def sort_rows(rows: list[dict], key: str, reverse: bool = False) -> list[dict]:
    """Best first for a metric (by its direction), newest first for `started`, ascending otherwise; rows
    without the value last."""
    best_first = key.startswith(("test_", "val_", "train_")) and higher_is_better(key)
    descending = best_first or key == "started"
    have = [r for r in rows if r.get(key) is not None]
    lacking = [r for r in rows if r.get(key) is None]
    try:
        have.sort(key=lambda r: r[key], reverse=descending != reverse)
    except TypeError:  # mixed types in a spec column: compare as text
        have.sort(key=lambda r: str(r[key]), reverse=descending != reverse)
    return have + lacking


def sort_key(name: str, columns: list[str]) -> str | None:
    """The column `--sort NAME` means: a column name, or a metric name standing for its test value
    (`accuracy` is `test_accuracy`); None when there is no such column."""
    aliases = {"duration": "seconds", "time": "started", "when": "started"}
    name = aliases.get(name, name)
    if name in columns:
        return name
    if f"test_{name}" in columns:
        return f"test_{name}"
    return None


def cell(column: str, value) -> str:
    """A value as the text, markdown and CSV tables show it."""
    if value is None:
        return "—"
    if column == "seconds":
        return duration(value)
    if column == "started":
        return value[:16].replace("T", " ")
    if column == "params":
        return f"{value:,}"
    if column == "status":
        return value.split()[0].rstrip(":")
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, float):
        return f"{value:.4f}" if column.startswith(("test_", "val_", "train_")) else f"{value:g}"
    if isinstance(value, (list, dict)):
        return json.dumps(value, separators=(", ", ": "))
    return str(value)


def duration(seconds: float) -> str:
    if seconds < 60:
        return f"{seconds:.1f}s"
    minutes, s = divmod(int(round(seconds)), 60)
    hours, m = divmod(minutes, 60)
    return f"{hours}h{m:02d}m" if hours else f"{m}m{s:02d}s"


HEADINGS = {"seconds": "duration"}


def as_text(columns: list[str], rows: list[dict], limit: int = TEXT_SPEC_COLUMNS) -> str:
    shown = _limited(columns, limit)
    cells = [[cell(c, r.get(c)) for c in shown] for r in rows]
    heads = [HEADINGS.get(c, c) for c in shown]
    widths = [max(len(h), *(len(row[i]) for row in cells)) for i, h in enumerate(heads)]
    numeric = [c in ("seconds", "epochs", "params") or c.startswith("test_") for c in shown]

    def line(values):
        return "  ".join(v.rjust(w) if num else v.ljust(w) for v, w, num in zip(values, widths, numeric)).rstrip()

    out = [line(heads), *(line(row) for row in cells)]
    hidden = len(columns) - len(shown)
    if hidden:
        out.append(f"({hidden} more differing spec value(s) not shown: use --format json, csv or markdown)")
    return "\n".join(out) + "\n"


def _limited(columns: list[str], limit: int) -> list[str]:
    fixed = [c for c in columns if c in ("run", "name", "status", "started", "seconds", "epochs", "params")
             or c.startswith("test_")]
    return fixed + [c for c in columns if c not in fixed][:limit]


def as_markdown(columns: list[str], rows: list[dict]) -> str:
    def esc(text: str) -> str:
        return text.replace("|", "\\|").replace("\n", " ")

    out = ["| " + " | ".join(esc(HEADINGS.get(c, c)) for c in columns) + " |",
           "|" + "|".join("---:" if c in ("seconds", "epochs", "params") or c.startswith("test_") else "---"
                          for c in columns) + "|"]
    out += ["| " + " | ".join(esc(cell(c, r.get(c))) for c in columns) + " |" for r in rows]
    return "\n".join(out) + "\n"


def as_csv(columns: list[str], rows: list[dict]) -> str:
    """Plain values (full status, ISO times, seconds, unrounded metrics) for a spreadsheet."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(columns)
    for r in rows:
        writer.writerow(["" if r.get(c) is None else json.dumps(r[c]) if isinstance(r[c], (list, dict, bool))
                         else r[c] for c in columns])
    return out.getvalue()


def as_json(columns: list[str], rows: list[dict], runs: list[Run], notes: list[str]) -> dict:
    by_path = {str(run.path): run for run in runs}
    spec_keys = [c for c in columns if c not in ("run", "name", "status", "started", "seconds", "epochs",
                                                  "params") and not c.startswith("test_")]
    items = []
    for r in rows:
        run = by_path[r["run"]]
        items.append({
            "run": r["run"], "name": r["name"], "status": r["status"], "started": r["started"],
            "ended": _text(run.info.get("ended")), "seconds": r["seconds"], "epochs": r["epochs"],
            "params": r["params"],
            "metrics": {split: run.split(split) for split in ("train", "validation", "test")},
            "spec": {k: r.get(k) for k in spec_keys},
            "sweep": str(run.sweep) if run.sweep else None,
            "trial": run.trial,
            "notes": run.notes,
        })
    return {"columns": columns, "runs": items, "notes": notes}
