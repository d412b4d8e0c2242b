"""Rich display in Jupyter: what a Spec, a SpecError and a Run show in a notebook (HTML built here, from the
same data the command line prints; no TensorFlow for a Spec)."""

from __future__ import annotations

import base64
import html


def _table(heads: list[str], rows: list[list[str]], right: set[int] = frozenset()) -> str:
    def cell(tag: str, i: int, text: str) -> str:
        align = ' style="text-align:right"' if i in right else ' style="text-align:left"'
        return f"<{tag}{align}>{html.escape(text)}</{tag}>"

    head = "".join(cell("th", i, h) for i, h in enumerate(heads))
    body = "".join("<tr>" + "".join(cell("td", i, c) for i, c in enumerate(r)) + "</tr>" for r in rows)
    return f'<table class="specc-table"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'


def _inline_svg(svg: str) -> str:
    """An SVG document as an element inside HTML (without its XML declaration)."""
    return svg[svg.index("<svg"):] if "<svg" in svg else svg


def spec_html(spec) -> str:
    """A Spec: its name and totals, the summary table and the diagram side by side."""
    from .render import shape_text
    from .style import diagnostics_html

    data = spec.summary_data()
    rows = [[layer["name"], layer["type"], shape_text(layer["output_shape"]), f"{layer['params']:,}"]
            for layer in data["layers"]]
    p, e = data["params"], data["estimate"]
    totals = (f"Total params: {p['total']:,} (trainable: {p['trainable']:,}, non-trainable: "
              f"{p['non_trainable']:,}); depth {e['depth']}; estimated training memory at batch size "
              f"{e['batch_size']}: {e['training_mb']:,.1f} MB")
    warnings = ""
    if spec.warnings:
        from .render import diagnostic_text

        doc = spec.result.doc
        warnings = diagnostics_html("\n".join(diagnostic_text(d, doc.source_line(d)) for d in spec.warnings))
    return (f'<div class="specc-spec"><p><b>{html.escape(data["name"])}</b></p>'
            f'<div style="display:flex;gap:2em;align-items:flex-start;flex-wrap:wrap">'
            f'<div>{_table(["Layer", "Type", "Output shape", "Params"], rows, {3})}<p>{html.escape(totals)}</p>'
            f'</div><div>{_inline_svg(spec.plot())}</div></div>{warnings}</div>')


def run_html(run) -> str:
    """A Run: status, the final metrics by split, and the learning curves the run saved."""
    info, metrics = run.info, run.metrics
    names = sorted({k for split in metrics.values() for k in split})
    splits = [s for s in ("train", "validation", "test") if metrics.get(s)]
    rows = [[split, *(f"{metrics[split][k]:.4f}" if k in metrics[split] else "" for k in names)] for split in splits]
    parts = [f'<div class="specc-run"><p><b>{html.escape(str(run.dir))}</b>: {html.escape(str(info.get("status")))}'
             f', {info.get("epochs_done", "?")} epoch(s) on {html.escape(str(info.get("device", "?")))}</p>']
    if rows:
        parts.append(_table(["split", *names], rows, set(range(1, len(names) + 1))))
    curves = run.dir / "learning_curves.png"
    if curves.is_file():
        data = base64.b64encode(curves.read_bytes()).decode("ascii")
        parts.append(f'<img alt="learning curves" src="data:image/png;base64,{data}"/>')
    parts.append("</div>")
    return "".join(parts)
