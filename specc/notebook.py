"""Rich display in Jupyter: what a Spec, a SpecError and a Run show in a notebook. HTML built from the same data
the command line prints, with the building blocks of `specc report` (tables, inline PNGs); no TensorFlow for a
Spec."""

from __future__ import annotations

import html


def _inline_svg(svg: str) -> str:
    """An SVG document as an element inside HTML (without its XML declaration)."""
    return svg[svg.index("<svg"):] if "<svg" in svg else svg


def spec_html(spec) -> str:
    """A Spec: its name and totals, the summary table and the diagram side by side, then any warnings."""
    from .render import diagnostic_text, shape_text
    from .report import table
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
        doc = spec.result.doc
        warnings = diagnostics_html("\n".join(diagnostic_text(d, doc.source_line(d)) for d in spec.warnings))
    return (f'<div class="specc-spec"><p><b>{html.escape(data["name"])}</b></p>'
            f'<div style="display:flex;gap:2em;align-items:flex-start;flex-wrap:wrap">'
            f'<div>{table(["Layer", "Type", "Output shape", "Params"], rows, numeric={3})}<p>{html.escape(totals)}'
            f'</p></div><div>{_inline_svg(spec.plot())}</div></div>{warnings}</div>')


def run_html(run) -> str:
    """A Run: status, the final metrics by split, and the learning curves the run saved."""
    from .report import png_figure, table

    info, metrics = run.info, run.metrics
    names = sorted({k for split in metrics.values() for k in split})
    splits = [s for s in ("train", "validation", "test") if metrics.get(s)]
    rows = [[split, *(f"{metrics[split][k]:.4f}" if k in metrics[split] else "" for k in names)] for split in splits]
    parts = [f'<div class="specc-run"><p><b>{html.escape(str(run.dir))}</b>: {html.escape(str(info.get("status")))}'
             f', {info.get("epochs_done", "?")} epoch(s) on {html.escape(str(info.get("device", "?")))}</p>']
    if rows:
        parts.append(table(["split", *names], rows, numeric=set(range(1, len(names) + 1))))
    curves = run.dir / "learning_curves.png"
    parts.append(png_figure(curves if curves.is_file() else None, "learning curves"))
    parts.append("</div>")
    return "".join(parts)
