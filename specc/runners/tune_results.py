"""A sweep's results: the trials table (live while it runs, a leaderboard at the end), results.json and .csv,
best.yaml (the best trial's spec, standalone) and the plots (history, each parameter, importances)."""

from __future__ import annotations

import csv
import io
import math
import sys
from pathlib import Path

from .files import atomic_write_bytes, atomic_write_json, atomic_write_text

STATES = ("complete", "pruned", "invalid", "failed", "running")


def trial_rows(study, sweep) -> list[dict]:
    """One row per counted trial, in trial order, as results.json lists them."""
    from .tune import counted, values_of

    rows = []
    for t in counted(study.get_trials(deepcopy=False)):
        attrs = t.user_attrs
        state = attrs.get("state") or ("running" if t.state.name == "RUNNING" else t.state.name.lower())
        value = t.value if t.value is not None else attrs.get("value")
        rows.append({"number": t.number, "params": values_of(t.params, sweep), "value": value, "state": state,
                     "epochs": attrs.get("epochs", len(t.intermediate_values) or None),
                     "run_dir": attrs.get("run_dir"), "message": attrs.get("message"),
                     "host": attrs.get("host"), "pid": attrs.get("pid"), "seconds": attrs.get("seconds")})
    return rows


def best_row(rows: list[dict], direction: str) -> dict | None:
    done = [r for r in rows if r["state"] == "complete" and r["value"] is not None]
    if not done:
        return None
    return (max if direction == "maximize" else min)(done, key=lambda r: r["value"])


def leaderboard(rows: list[dict], direction: str) -> list[dict]:
    """Complete trials best first, then pruned (by their best value), invalid, failed and running ones."""
    sign = -1 if direction == "maximize" else 1

    def key(r):
        v = r["value"]
        return (STATES.index(r["state"]) if r["state"] in STATES else 9,
                sign * v if isinstance(v, (int, float)) and math.isfinite(v) else math.inf, r["number"])

    return sorted(rows, key=key)


def _cell(value) -> str:
    from ..analysis.search import label

    if isinstance(value, float):
        return f"{value:.4g}"
    return label(value)


def table_cells(rows: list[dict], keys: list[str], metric: str) -> tuple[list[str], list[list[str]]]:
    """The trials table's heads and cells: trial, the values, objective, epochs, status."""
    heads = ["trial", *keys, metric, "epochs", "status"]
    body = [[str(r["number"]), *(_cell(r["params"].get(k)) for k in keys),
             "" if r["value"] is None else f"{r['value']:.4f}", "" if r["epochs"] is None else str(r["epochs"]),
             r["state"]] for r in rows]
    return heads, body


def _why(row: dict) -> str:
    return f"  ({row['message'].splitlines()[0][:120]})" if row["state"] in ("invalid", "failed") and \
        row["message"] else ""


def table_lines(rows: list[dict], keys: list[str], metric: str) -> list[str]:
    """A plain-text table (and a failure's message after its row)."""
    heads, body = table_cells(rows, keys, metric)
    widths = [max(len(h), *(len(b[i]) for b in body)) if body else len(h) for i, h in enumerate(heads)]
    out = ["  ".join(h.ljust(w) for h, w in zip(heads, widths)).rstrip()]
    for r, b in zip(rows, body):
        out.append("  ".join(c.ljust(w) for c, w in zip(b, widths)).rstrip() + _why(r))
    return out


def trial_line(row: dict, metric: str) -> str:
    """One finished trial as a log line."""
    values = "  ".join(f"{k}={_cell(v)}" for k, v in row["params"].items())
    value = "" if row["value"] is None else f"  {metric} {row['value']:.4f}"
    epochs = "" if row["epochs"] is None else f"  {row['epochs']} epochs"
    return f"trial {row['number']}  {values}{value}{epochs}  {row['state']}{_why(row)}"


class Live:
    """The trials while the sweep runs: a rich table redrawn in place on a terminal, one plain line per
    finished trial otherwise (CI logs, pipes)."""

    def __init__(self, sweep, quiet: bool = False):
        import os

        self.sweep = sweep
        self.keys = list(sweep.search.space)
        self.metric = sweep.search.objective.metric
        self.quiet = quiet
        self.rich = not quiet and sys.stderr.isatty() and not os.environ.get("CI")
        self.shown: set[int] = set()
        self.live = None

    def __enter__(self):
        if self.rich:
            from rich.console import Console
            from rich.live import Live as RichLive

            self.live = RichLive(console=Console(stderr=True), refresh_per_second=2, transient=True)
            self.live.start()
        return self

    def update(self, rows: list[dict]) -> None:
        if self.quiet:
            return
        if self.live is not None:
            from rich.table import Table

            table = Table(title=f"sweep {self.sweep.study}: {sum(r['state'] != 'running' for r in rows)} of "
                                f"{self.sweep.trials} trials")
            heads, body = table_cells(rows, self.keys, self.metric)
            for head in heads:
                table.add_column(head)
            for cells in body:
                table.add_row(*cells)
            self.live.update(table)
            return
        for r in rows:
            if r["state"] != "running" and r["number"] not in self.shown:
                self.shown.add(r["number"])
                print(trial_line(r, self.metric), file=sys.stderr, flush=True)

    def __exit__(self, *exc):
        if self.live is not None:
            self.live.stop()


def write_results(sweep, study) -> dict:
    """results.json, results.csv, best.yaml and the plots; returns results.json's content."""
    direction = sweep.search.objective.resolved_direction
    rows = trial_rows(study, sweep)
    best = best_row(rows, direction)
    objective = {"metric": sweep.search.objective.metric, "direction": direction}
    results = {"objective": objective, "trials": rows,
               "best": None if best is None else {k: best[k] for k in ("number", "params", "value", "run_dir")}}
    atomic_write_json(sweep.dir / "results.json", results)
    atomic_write_text(sweep.dir / "results.csv", results_csv(rows, list(sweep.search.space)))
    best_spec = sweep.dir / best["run_dir"] / "spec.yaml" if best and best["run_dir"] else None
    if best_spec is not None and best_spec.is_file():
        atomic_write_text(sweep.dir / "best.yaml", best_spec.read_text())
    write_plots(sweep.dir / "plots", rows, list(sweep.search.space), objective, study)
    return results


def results_csv(rows: list[dict], keys: list[str]) -> str:
    from ..analysis.search import label

    out = io.StringIO()
    w = csv.writer(out, lineterminator="\n")
    w.writerow(["number", *keys, "value", "state", "epochs", "run_dir", "message"])
    for r in rows:
        w.writerow([r["number"], *(label(r["params"].get(k)) for k in keys),
                    "" if r["value"] is None else r["value"], r["state"], r["epochs"] or "", r["run_dir"] or "",
                    r["message"] or ""])
    return out.getvalue()


def write_plots(folder: Path, rows: list[dict], keys: list[str], objective: dict, study) -> None:
    """history.png (each trial's objective and the best so far), params.png (each parameter against the
    objective), importance.png (Optuna's parameter importances, once two complete trials differ)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from ..analysis.search import label

    done = [r for r in rows if r["value"] is not None and r["state"] in ("complete", "pruned")]
    if not done:
        return
    folder.mkdir(parents=True, exist_ok=True)
    metric, better = objective["metric"], (max if objective["direction"] == "maximize" else min)
    fig, ax = plt.subplots(figsize=(6, 3.5))
    for state, marker in (("complete", "o"), ("pruned", "x")):
        pts = [(r["number"], r["value"]) for r in done if r["state"] == state]
        if pts:
            ax.scatter(*zip(*pts), marker=marker, label=state)
    complete = [r for r in done if r["state"] == "complete"]
    if complete:
        running, best = [], None
        for r in complete:
            best = r["value"] if best is None else better(best, r["value"])
            running.append((r["number"], best))
        ax.step(*zip(*running), where="post", label="best so far")
    ax.set(xlabel="trial", ylabel=metric, title="optimization history")
    ax.legend()
    _save(fig, folder / "history.png")
    fig, axes = plt.subplots(len(keys), 1, figsize=(7, 2.6 * len(keys)), squeeze=False)
    colors = ["C0" if r["state"] == "complete" else "C1" for r in done]
    for ax, key in zip(axes[:, 0], keys):
        values = [r["params"].get(key) for r in done]
        if all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values):
            ax.scatter(values, [r["value"] for r in done], c=colors)
            ax.set(xlabel=key, ylabel=metric)
            if min(values) > 0 and max(values) / min(values) >= 100:
                ax.set_xscale("log")
        else:  # choices: one row each, the objective across
            ax.scatter([r["value"] for r in done], [label(v) for v in values], c=colors)
            ax.set(xlabel=metric, title=key)
            ax.locator_params(axis="x", nbins=5)
    fig.suptitle(f"{metric} against each parameter (orange: pruned)")
    _save(fig, folder / "params.png")
    _importance_plot(folder / "importance.png", study, complete, metric)


def _importance_plot(path: Path, study, complete: list[dict], metric: str) -> None:
    import matplotlib.pyplot as plt

    if len({r["value"] for r in complete}) < 2:
        return
    try:
        import optuna

        importances = optuna.importance.get_param_importances(study)
    except (ValueError, RuntimeError, ZeroDivisionError, ImportError):
        return  # too few trials, or a single value for every parameter
    if not importances:
        return
    fig, ax = plt.subplots(figsize=(6, 0.6 * len(importances) + 1.2))
    names = list(importances)[::-1]
    ax.barh(names, [importances[n] for n in names])
    ax.set(xlabel=f"importance for {metric} (fANOVA)", title="parameter importances")
    _save(fig, path)


def _save(fig, path: Path) -> None:
    import matplotlib.pyplot as plt

    buf = io.BytesIO()
    fig.tight_layout()
    fig.savefig(buf, format="png", dpi=100)
    plt.close(fig)
    atomic_write_bytes(path, buf.getvalue())


def summary_lines(results: dict, sweep) -> list[str]:
    rows = leaderboard(results["trials"], results["objective"]["direction"])
    counts = {s: sum(r["state"] == s for r in rows) for s in STATES}
    out = [f"leaderboard ({', '.join(f'{n} {s}' for s, n in counts.items() if n)}):",
           *table_lines(rows, list(sweep.search.space), results["objective"]["metric"])]
    best = results["best"]
    if best is not None:
        out.append(f"best: trial {best['number']} ({results['objective']['metric']} {best['value']:.4f}); "
                   f"retrain it with `specc train {sweep.dir / 'best.yaml'}`")
    out.append(f"sweep: {sweep.dir}")
    return out

