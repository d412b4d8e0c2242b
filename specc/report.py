"""`specc report RUN_DIR|SWEEP_DIR -o report.html`: one self-contained HTML page of a run or a sweep.

The page works offline and can be mailed or attached to a CI job: no scripts at all, no external styles,
fonts or images. Its CSS is inline, the architecture diagram is specc's own SVG (`specc plot`) and the
run's plots are its PNGs, both as data: URIs. A Content-Security-Policy forbids the browser any request.
It reads the run's files only (no TensorFlow): the resolved spec is checked statically for the diagram and
the layer table. Semantic HTML (header, nav, main, sections with headings, tables with captions and
scoped headers, figures with alt text) that reads on a phone and prints cleanly.
"""

from __future__ import annotations

import base64
import html
import json
from datetime import datetime, timezone
from pathlib import Path

from .runs import Run, Sweep, duration, higher_is_better, read_run, read_sweep
from .version import __version__

CSS = """
:root { --fg: #1a1a1a; --muted: #5b6470; --line: #d8dde3; --bg: #ffffff; --soft: #f4f6f8; --accent: #2f5f9e; }
* { box-sizing: border-box; }
body { margin: 0; color: var(--fg); background: var(--bg); line-height: 1.5;
       font: 16px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; }
header, nav, main, footer { max-width: 64rem; margin: 0 auto; padding: 0 1rem; }
header { padding-top: 1.5rem; }
.kicker { margin: 0; color: var(--muted); font-size: .9rem; text-transform: uppercase; letter-spacing: .06em; }
h1 { margin: .2rem 0 .6rem; font-size: 1.9rem; overflow-wrap: anywhere; }
h2 { margin: 2rem 0 .6rem; font-size: 1.35rem; border-bottom: 1px solid var(--line); padding-bottom: .25rem; }
h3 { margin: 1.4rem 0 .4rem; font-size: 1.1rem; }
.status { display: inline-block; padding: .1rem .6rem; border-radius: 1rem; font-weight: 600;
          background: var(--soft); border: 1px solid var(--line); }
.status.completed, .status.complete { background: #e6f4ea; border-color: #9ccfa8; }
.status.stopped, .status.interrupted, .status.pruned, .status.running { background: #fff4e0; border-color: #f0c36d; }
.status.failed, .status.killed, .status.invalid, .status.broken { background: #fdecea; border-color: #f1a7a0; }
dl.facts { display: grid; grid-template-columns: max-content 1fr; gap: .2rem 1rem; margin: 1rem 0; }
dl.facts dt { color: var(--muted); }
dl.facts dd { margin: 0; overflow-wrap: anywhere; }
ul.cards { list-style: none; padding: 0; margin: .5rem 0; display: flex; flex-wrap: wrap; gap: .75rem; }
ul.cards li { border: 1px solid var(--line); border-radius: .5rem; padding: .5rem .9rem; min-width: 9rem; }
ul.cards .label { display: block; color: var(--muted); font-size: .85rem; }
ul.cards .value { display: block; font-size: 1.5rem; font-weight: 600; font-variant-numeric: tabular-nums; }
nav ol { display: flex; flex-wrap: wrap; gap: .3rem 1rem; padding: .6rem 0; margin: 0; list-style: none;
         border-top: 1px solid var(--line); border-bottom: 1px solid var(--line); font-size: .95rem; }
a { color: var(--accent); }
figure { margin: 1rem 0; }
figure img { display: block; max-width: 100%; height: auto; border: 1px solid var(--line); }
figcaption { color: var(--muted); font-size: .9rem; margin-top: .3rem; }
.scroll { overflow-x: auto; max-width: 100%; }
.tall { max-height: 24rem; overflow-y: auto; }
table { border-collapse: collapse; width: 100%; font-variant-numeric: tabular-nums; font-size: .95rem; }
caption { text-align: left; color: var(--muted); font-size: .9rem; padding-bottom: .3rem; }
th, td { border-bottom: 1px solid var(--line); padding: .3rem .7rem; text-align: left; vertical-align: top; }
thead th { background: var(--soft); position: sticky; top: 0; }
td.num, th.num { text-align: right; }
pre { background: var(--soft); padding: .8rem; overflow-x: auto; font-size: .85rem; border-radius: .4rem; }
code { font-family: ui-monospace, "DejaVu Sans Mono", Menlo, Consolas, monospace; }
.trials { display: grid; grid-template-columns: repeat(auto-fill, minmax(18rem, 1fr)); gap: 1rem; }
.trials article { border: 1px solid var(--line); border-radius: .5rem; padding: 0 .8rem .6rem; }
.note { color: var(--muted); }
footer { color: var(--muted); font-size: .85rem; padding: 2rem 1rem; }
@media (max-width: 40rem) {
  body { font-size: 15px; }
  h1 { font-size: 1.5rem; }
  ul.cards li { min-width: 7rem; flex: 1 1 40%; }
  th, td { padding: .25rem .4rem; }
}
@media print {
  nav { display: none; }
  body { font-size: 11pt; }
  header, main, footer { max-width: none; }
  .scroll, .tall { overflow: visible; max-height: none; }
  thead th { position: static; }
  figure, table, ul.cards, .trials article { break-inside: avoid; }
  h2, h3 { break-after: avoid; }
  pre { white-space: pre-wrap; overflow-wrap: anywhere; }
  a { color: inherit; text-decoration: none; }
}
"""


class ReportError(Exception):
    pass


def e(value) -> str:
    return html.escape("—" if value is None else str(value), quote=True)


def fmt(value) -> str:
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, float):
        if value and abs(value) < 1e-3:  # a small learning rate: 1e-05, not 0.0000
            return f"{value:.4g}"
        return f"{value:.4f}" if abs(value) < 1e4 else f"{value:,.0f}"
    if isinstance(value, int):
        return f"{value:,}" if abs(value) >= 1000 else str(value)
    if isinstance(value, (list, dict)):
        return json.dumps(value)
    return "—" if value is None else str(value)


def data_uri(data: bytes, mime: str) -> str:
    return f"data:{mime};base64,{base64.b64encode(data).decode('ascii')}"


def figure(data: bytes, mime: str, alt: str, caption: str | None = None, cls: str = "") -> str:
    cap = f"<figcaption>{e(caption)}</figcaption>" if caption else ""
    attr = f' class="{e(cls)}"' if cls else ""
    return f'<figure{attr}><img src="{data_uri(data, mime)}" alt="{e(alt)}">{cap}</figure>'


def png_figure(path: Path | None, alt: str, caption: str | None = None) -> str:
    if path is None:
        return ""
    try:
        return figure(path.read_bytes(), "image/png", alt, caption)
    except OSError as err:
        return f'<p class="note">{e(path.name)} cannot be read ({e(err.__class__.__name__)}).</p>'


def table(heads: list[str], rows: list[list], caption: str | None = None, numeric: set[int] = frozenset(),
          tall: bool = False, row_heads: bool = True) -> str:
    """A table with a caption, scoped column headers and (by default) each row's first cell as its header."""
    out = [f'<div class="scroll{" tall" if tall else ""}"><table>']
    if caption:
        out.append(f"<caption>{e(caption)}</caption>")
    out.append("<thead><tr>" + "".join(f'<th scope="col"{" class=num" if i in numeric else ""}>{e(h)}</th>'
                                      for i, h in enumerate(heads)) + "</tr></thead><tbody>")
    for row in rows:
        cells = []
        for i, value in enumerate(row):
            tag = "th scope=\"row\"" if i == 0 and row_heads else "td"
            cls = ' class="num"' if i in numeric else ""
            cells.append(f"<{tag}{cls}>{e(fmt(value))}</{tag.split()[0]}>")
        out.append("<tr>" + "".join(cells) + "</tr>")
    out.append("</tbody></table></div>")
    return "".join(out)


def facts(items: list[tuple[str, object]]) -> str:
    return '<dl class="facts">' + "".join(f"<dt>{e(k)}</dt><dd>{e(fmt(v))}</dd>" for k, v in items
                                          if v is not None) + "</dl>"


def cards(values: dict) -> str:
    return '<ul class="cards">' + "".join(f'<li><span class="label">{e(k)}</span><span class="value">'
                                          f"{e(fmt(v))}</span></li>" for k, v in values.items()) + "</ul>"


def section(key: str, title: str, body: str) -> str:
    return f'<section id="{key}" aria-labelledby="{key}-h"><h2 id="{key}-h">{e(title)}</h2>{body}</section>'


def page(title: str, kicker: str, head: str, sections: list[tuple[str, str, str]], source: Path) -> str:
    """The whole document: header (name, status, key figures), contents, the sections, a footer."""
    nav = "".join(f'<li><a href="#{key}">{e(name)}</a></li>' for key, name, _ in sections)
    body = "".join(section(*s) for s in sections)
    when = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    csp = "default-src 'none'; img-src data:; style-src 'unsafe-inline'"
    return (
        "<!DOCTYPE html>\n"
        f'<html lang="en"><head><meta charset="utf-8">'
        f'<meta name="viewport" content="width=device-width, initial-scale=1">'
        f'<meta http-equiv="Content-Security-Policy" content="{csp}">'
        f'<meta name="generator" content="specc {e(__version__)}">'
        f"<title>{e(title)}: {e(kicker)}</title><style>{CSS}</style></head>\n"
        f'<body><header><p class="kicker">{e(kicker)}</p>{head}</header>\n'
        f'<nav aria-label="Contents"><ol>{nav}</ol></nav>\n'
        f"<main>{body}</main>\n"
        f"<footer>Written by specc {e(__version__)} from {e(source)} on {e(when)}. This page is self-contained: "
        f"it loads nothing from anywhere.</footer></body></html>\n"
    )


def status_badge(status: str) -> str:
    word = status.split()[0].rstrip(":")
    return f'<p><span class="status {e(word)}">{e(status)}</span></p>'


# -- a run ------------------------------------------------------------------------------------------------
def run_head(run: Run) -> str:
    info = run.info
    items = [("started", (info.get("started") or "")[:19].replace("T", " ") or None),
             ("duration", duration(run.seconds) if run.seconds is not None else None),
             ("epochs", run.epochs), ("best epoch", info.get("best_epoch")), ("parameters", run.params),
             ("run directory", str(run.path))]
    if run.trial:
        items.append(("trial", f"{run.trial.get('number')} of sweep {run.sweep}"))
    test = run.split("test")
    metrics = (f'<section id="test-metrics" aria-labelledby="test-metrics-h"><h2 id="test-metrics-h">Test metrics'
               f"</h2>{cards(test)}</section>" if test else '<p class="note">No test metrics (no test split).</p>')
    return f"<h1>{e(run.name)}</h1>{status_badge(run.status)}{facts(items)}{metrics}"


def architecture(run: Run) -> tuple[str, str]:
    """The diagram and the layer table, from the resolved spec checked statically."""
    from .runs import checked_spec

    result = checked_spec(run)
    if isinstance(result, str):
        note = f'<p class="note">The spec cannot be drawn: {e(result)}</p>'
        return note, note
    from .plot import render
    from .render import shape_text, summary_data

    summary = summary_data(result)
    layers = summary["layers"]
    shapes = f"{shape_text(layers[0]['output_shape'])} to {shape_text(layers[-1]['output_shape'])}" if layers else ""
    kinds = ", ".join(layer["type"] for layer in layers[:12])
    alt = (f"Architecture diagram of {summary['name']}: {len(layers)} layers ({kinds}"
           f"{', ...' if len(layers) > 12 else ''}), {shapes}, {summary['params']['total']:,} parameters")
    svg = render(result, ".svg").encode("utf-8")
    diagram = figure(svg, "image/svg+xml", alt, "Drawn by specc plot from the resolved spec.", "diagram")
    rows = [[layer["name"], layer["type"], shape_text(layer["output_shape"]), layer["params"],
             layer["trainable_params"]] for layer in layers]
    p = summary["params"]
    layer_table = table(["Layer", "Type", "Output shape", "Params", "Trainable"], rows,
                        f"{len(layers)} layers; {p['total']:,} parameters, {p['trainable']:,} trainable, "
                        f"{p['non_trainable']:,} non-trainable", numeric={3, 4})
    return diagram, layer_table


def curves(run: Run) -> str:
    history = run.history()
    names = [k for k in history if not k.startswith("val_")]
    out = png_figure(run.file("learning_curves.png"),
                     f"Learning curves of {run.name}: {', '.join(names)} per epoch, for the training data"
                     + (" and the validation data" if any(k.startswith("val_") for k in history) else ""))
    if history:
        keys = list(history)
        n = max(len(v) for v in history.values())
        rows = [[i + 1, *(history[k][i] if i < len(history[k]) else None for k in keys)] for i in range(n)]
        out += table(["epoch", *keys], rows, "Every epoch's metrics (history.json)", set(range(len(keys) + 1)),
                     tall=n > 12)
    return out or '<p class="note">No history (the run ended before its first epoch).</p>'


def confusion(run: Run) -> str:
    out = ""
    for path in sorted(run.path.glob("confusion_matrix*.png")):
        output = path.stem.removeprefix("confusion_matrix").lstrip("_")
        out += png_figure(path, f"Confusion matrix{' of output ' + output if output else ''} on the test data: "
                                f"true classes in rows, predicted classes in columns")
    classes, _ = _json(run.path / "classes.json")
    if isinstance(classes, list):
        out += f"<p>Classes: {e(', '.join(map(str, classes)))}</p>"
    return out


def metrics_table(run: Run) -> str:
    splits = [s for s in ("train", "validation", "test") if run.split(s)]
    names: dict[str, None] = {}
    for s in splits:
        names.update(dict.fromkeys(run.split(s)))
    rows = [[name, *(run.split(s).get(name) for s in splits)] for name in names]
    return table(["metric", *splits], rows, "Final metrics (metrics.json): the last epoch's training and validation "
                 "values and the test evaluation", set(range(1, len(splits) + 1))) if rows else \
        '<p class="note">No metrics.json.</p>'


def _json(path: Path):
    from .runs import read_json

    return read_json(path)


def provenance(run: Run) -> str:
    data = run.info.get("data") if isinstance(run.info.get("data"), dict) else {}
    items = [("source", data.get("source")), ("fingerprint", data.get("fingerprint")),
             ("training samples", data.get("train_samples")), ("validation samples", data.get("validation_samples")),
             ("test samples", data.get("test_samples")), ("stream mode", run.info.get("stream"))]
    spec = run.spec_data().get("data")
    rows = [[k, v] for k, v in _flat(spec).items()] if isinstance(spec, dict) else []
    return facts(items) + (table(["setting", "value"], rows, "The spec's data section (paths resolved)")
                           if rows else "")


def _flat(data) -> dict:
    from .overrides import flatten

    return flatten(data, lists=True)


def training(run: Run) -> str:
    spec = run.spec_data()
    out = ""
    for key, caption in (("compile", "Optimizer, loss and metrics (compile)"), ("train", "Training settings (train)")):
        if isinstance(spec.get(key), dict):
            out += table(["setting", "value"], [[k, v] for k, v in _flat(spec[key]).items()], caption)
    out += facts([("seed", run.info.get("seed")), ("precision", run.info.get("precision")),
                  ("fast preset", run.info.get("fast")), ("workers", run.info.get("workers")),
                  ("replicas", run.info.get("replicas"))])
    return out or '<p class="note">No spec.yaml.</p>'


def environment(run: Run) -> str:
    info = run.info
    argv = info.get("argv")
    resumed = info.get("resumed")
    return facts([("specc", info.get("specc_version")), ("Keras", info.get("keras_version")),
                  ("backend", info.get("backend")), ("device", info.get("device")), ("Python", info.get("python")),
                  ("platform", info.get("platform")),
                  ("command", "specc " + " ".join(map(str, argv)) if isinstance(argv, list) else None),
                  ("spec file", info.get("spec_file")), ("spec SHA-256", info.get("spec_sha256")),
                  ("started", info.get("started")), ("ended", info.get("ended")),
                  ("resumed", len(resumed) if isinstance(resumed, list) else None)])


def spec_text(path: Path) -> str:
    try:
        return f"<pre><code>{e(path.read_text(encoding='utf-8'))}</code></pre>"
    except (OSError, UnicodeDecodeError):
        return f'<p class="note">{e(path.name)} cannot be read.</p>'


def run_report(run: Run) -> str:
    diagram, layer_table = architecture(run)
    sections = [("architecture", "Architecture", diagram), ("layers", "Layers", layer_table),
                ("curves", "Learning curves", curves(run))]
    matrix = confusion(run)
    if matrix:
        sections.append(("confusion", "Confusion matrix", matrix))
    sections += [("metrics", "Metrics", metrics_table(run)), ("data", "Data provenance", provenance(run)),
                 ("training", "Training configuration", training(run)), ("environment", "Environment", environment(run)),
                 ("spec", "Resolved spec", spec_text(run.path / "spec.yaml"))]
    if run.notes:
        sections.append(("notes", "Notes", "<ul>" + "".join(f"<li>{e(n)}</li>" for n in run.notes) + "</ul>"))
    return page(run.name, "specc run report", run_head(run), sections, run.path)


# -- a sweep ----------------------------------------------------------------------------------------------
def leaderboard(sweep: Sweep) -> str:
    objective = sweep.objective
    metric = objective.get("metric") or "objective"
    maximize = objective.get("direction", "maximize" if higher_is_better(metric) else "minimize") == "maximize"
    trials = sweep.trials
    keys: dict[str, None] = {}
    for run in trials:
        keys.update(dict.fromkeys((run.trial or {}).get("params") or {}))
    scored = [r for r in trials if isinstance((r.trial or {}).get("value"), (int, float))]
    scored.sort(key=lambda r: r.trial["value"], reverse=maximize)
    rest = [r for r in trials if r not in scored]
    rows = []
    for rank, run in enumerate(scored + rest, 1):
        t = run.trial or {}
        params = t.get("params") or {}
        test = run.split("test")
        rows.append([rank if run in scored else None, t.get("number"), run.status, t.get("value"), run.epochs,
                     *(params.get(k) for k in keys), *(test.get(m) for m in _test_names(trials)),
                     "; ".join(run.notes) or None])
    heads = ["rank", "trial", "state", metric, "epochs", *keys, *(f"test {m}" for m in _test_names(trials)), "note"]
    return table(heads, rows, f"Trials by {metric} ({'highest' if maximize else 'lowest'} first)",
                 {0, 1, 3, 4}, row_heads=True)


def _test_names(trials: list[Run]) -> list[str]:
    names: dict[str, None] = {}
    for run in trials:
        names.update(dict.fromkeys(run.split("test")))
    return list(names)


PLOTS = {"history.png": "Optimization history: the objective of each trial in order, and the best so far",
         "params.png": "Each searched value against the objective, one panel per parameter",
         "importance.png": "Parameter importances: how much each searched value explains the objective"}


def trial_cards(sweep: Sweep) -> str:
    out = ['<div class="trials">']
    for run in sweep.trials:
        t = run.trial or {}
        number = t.get("number")
        params = t.get("params") or {}
        items = [("state", run.status), ("objective", t.get("value")), ("epochs", run.epochs),
                 *((k, v) for k, v in params.items()), *((f"test {k}", v) for k, v in run.split("test").items())]
        out.append(f'<article aria-labelledby="trial-{e(number)}"><h3 id="trial-{e(number)}">Trial {e(number)}</h3>'
                   f"{facts(items)}")
        out.append(png_figure(run.file("learning_curves.png"), f"Learning curves of trial {number}"))
        if run.notes:
            out.append(f'<p class="note">{e("; ".join(run.notes))}</p>')
        out.append("</article>")
    out.append("</div>")
    return "".join(out)


def sweep_report(sweep: Sweep) -> str:
    info, objective = sweep.info, sweep.objective
    best = sweep.results.get("best") if isinstance(sweep.results.get("best"), dict) else {}
    items = [("objective", f"{objective.get('direction', '')} {objective.get('metric', '')}".strip() or None),
             ("trials", f"{len(sweep.trials)} of {info.get('trials', '?')} requested"),
             ("best trial", best.get("number")), ("best value", best.get("value")),
             ("study", info.get("study")), ("created", info.get("created")), ("sweep directory", str(sweep.path))]
    head = f"<h1>{e(sweep.name)}</h1>{status_badge(str(info.get('status', 'unknown')))}{facts(items)}"
    if best.get("params"):
        head += (f'<section id="best" aria-labelledby="best-h"><h2 id="best-h">Best values</h2>'
                 f"{cards(best['params'])}</section>")
    plots = "".join(png_figure(sweep.path / "plots" / name if (sweep.path / "plots" / name).is_file() else None,
                               alt) for name, alt in PLOTS.items())
    sections = [("leaderboard", "Leaderboard", leaderboard(sweep)),
                ("plots", "Sweep plots", plots or '<p class="note">No plots yet.</p>'),
                ("trials", "Trials", trial_cards(sweep))]
    if (sweep.path / "best.yaml").is_file():
        sections.append(("best-spec", "Best spec (best.yaml)", spec_text(sweep.path / "best.yaml")))
    sections.append(("spec", "Sweep spec", spec_text(sweep.path / "spec.yaml")))
    if sweep.notes:
        sections.append(("notes", "Notes", "<ul>" + "".join(f"<li>{e(n)}</li>" for n in sweep.notes) + "</ul>"))
    return page(sweep.name, "specc sweep report", head, sections, sweep.path)


def report_html(path: Path) -> str:
    """The report of a run directory or a sweep directory."""
    from .runs import RUN_FILE, SWEEP_FILE

    path = Path(path)
    if (path / SWEEP_FILE).is_file():
        return sweep_report(read_sweep(path))
    if (path / RUN_FILE).is_file():
        run = read_run(path)
        if not run.info:
            raise ReportError(f"{path}: {run.notes[0]}")
        return run_report(run)
    raise ReportError(f"{path} is not a run or sweep directory (no {RUN_FILE} or {SWEEP_FILE})")


def write_report(path: Path, output: Path) -> None:
    from .runners.files import atomic_write_text

    atomic_write_text(output, report_html(path))
