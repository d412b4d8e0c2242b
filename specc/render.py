"""Turning diagnostics and summaries into text for people and JSON for tools."""

from __future__ import annotations

from .diagnostics import Diagnostic, SpecError
from .layers.base import fmt_shape


def location(d: Diagnostic) -> str:
    where = d.file or "<input>"
    if d.span is not None:
        where += f":{d.span.line}:{d.span.col}"
    return where


def diagnostic_text(d: Diagnostic, source_line: str | None = None) -> str:
    """``file:line:col: error[E100]: message`` plus the source line, a caret and hints."""
    lines = [f"{location(d)}: {d.severity.value}[{d.code}]: {d.message}"]
    if d.span is not None and source_line is not None:
        number = str(d.span.line)
        pad = " " * len(number)
        width = d.span.end_col - d.span.col if d.span.end_line == d.span.line else len(source_line) - d.span.col + 1
        width = max(1, min(width, max(1, len(source_line) - d.span.col + 1)))
        lines += [f" {pad} |", f" {number} | {source_line}", f" {pad} | {' ' * (d.span.col - 1)}{'^' * width}"]
    if d.path:
        lines.append(f"   = at: {d.path}")
    if d.help:
        lines.append(f"   = help: {d.help}")
    return "\n".join(lines)


def diagnostics_text(result) -> str:
    """Every diagnostic of a check result, each with its source line."""
    doc = result.doc
    return "\n".join(diagnostic_text(d, doc.source_line(d) if doc else None) for d in result.diagnostics)


def spec_error(result) -> SpecError:
    """The SpecError for a check result with errors: its text is what `specc` prints for it."""
    text = diagnostics_text(result)
    return SpecError(result.diagnostics, (text + "\n" if text else "") + f"{result.file}: {len(result.errors)} error(s)")


def diagnostic_json(d: Diagnostic) -> dict:
    span = d.span
    return {
        "file": d.file,
        "line": span.line if span else None,
        "column": span.col if span else None,
        "end_line": span.end_line if span else None,
        "end_column": span.end_col if span else None,
        "severity": d.severity.value,
        "code": d.code,
        "name": d.name,
        "message": d.message,
        "path": d.path,
        "help": d.help,
    }


def summary_data(result) -> dict:
    """The `summary --json` document: name, totals and one row per layer."""
    graph, info = result.graph, result.info
    total = result.params
    layers = []
    for node in graph.nodes:
        item = info[node.name]
        layers.append({
            "name": node.name,
            "type": node.layer.kind(),
            "output_shape": list(item.shape),
            "params": item.params.total,
            "trainable_params": item.params.trainable,
            "inputs": node.inputs,
        })
    from .analysis.budget import estimate

    return {
        "name": model_name(result),
        "params": {"total": total.total, "trainable": total.trainable, "non_trainable": total.non_trainable},
        "layers": layers,
        "inputs": graph.inputs,
        "outputs": graph.outputs,
        "estimate": estimate(result.spec, graph, info).as_json(),
    }


def summary_text(result) -> str:
    """The `specc summary` table: every layer's output shape and parameters, the totals and the estimate."""
    data = summary_data(result)
    rows = [(layer["name"], layer["type"], shape_text(layer["output_shape"]), f"{layer['params']:,}")
            for layer in data["layers"]]
    heads = ("Layer", "Type", "Output shape", "Params")
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(heads)]
    line = "  ".join(h.ljust(w) for h, w in zip(heads, widths))
    out = [f"Model: {data['name']}", line, "-" * len(line)]
    for r in rows:
        out.append("  ".join([r[0].ljust(widths[0]), r[1].ljust(widths[1]), r[2].ljust(widths[2]),
                              r[3].rjust(widths[3])]))
    out.append("-" * len(line))
    p = data["params"]
    out.append(f"Total params: {p['total']:,}  (trainable: {p['trainable']:,}, non-trainable: {p['non_trainable']:,})")
    e = data["estimate"]
    out.append(f"Depth: {e['depth']} layers; estimated training memory at batch size {e['batch_size']}: "
               f"{e['training_mb']:,.1f} MB (weights {e['weights_mb']:,.1f}, gradients and optimizer "
               f"{e['optimizer_mb']:,.1f}, activations {e['activations_mb']:,.1f})")
    return "\n".join(out)


def model_name(result) -> str:
    from pathlib import Path

    if result.spec.name:
        return result.spec.name
    return Path(result.file).stem if result.file and not result.file.startswith("<") else "model"


def shape_text(shape) -> str:
    return fmt_shape(tuple(shape))


# -- machine-readable validate output ------------------------------------------
def validate_json(results, failed) -> dict:
    """`validate --format json`: stable, versioned, documented in docs/checking.md."""
    failed_ids = {id(r) for r in failed}  # by identity: comparing results field by field is quadratic
    return {
        "version": 1,
        "valid": not failed,
        "files": [
            {"file": r.file, "valid": id(r) not in failed_ids,
             "diagnostics": [diagnostic_json(d) for d in r.diagnostics]}
            for r in results
        ],
    }


def _gh_escape(text: str, prop: bool = False) -> str:
    text = text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")
    if prop:
        text = text.replace(":", "%3A").replace(",", "%2C")
    return text


def github_lines(results) -> list[str]:
    """GitHub Actions workflow commands: annotations on the pull request's diff."""
    out = []
    for r in results:
        for d in r.diagnostics:
            props = [f"file={_gh_escape(d.file or r.file, True)}"]
            if d.span is not None:
                props += [f"line={d.span.line}", f"col={d.span.col}",
                          f"endLine={d.span.end_line}", f"endColumn={d.span.end_col}"]
            props.append(f"title={_gh_escape(f'specc {d.code} {d.name}', True)}")
            message = d.message + (f" ({d.help})" if d.help else "")
            level = "error" if d.severity.value == "error" else "warning"
            out.append(f"::{level} {','.join(props)}::{_gh_escape(message)}")
    return out


def sarif(results, version: str) -> dict:
    """SARIF 2.1.0, for code-scanning dashboards (e.g. GitHub's upload-sarif action)."""
    from pathlib import PurePath

    from .diagnostics import CODES

    rules = list(CODES.values())
    index = {c.code: i for i, c in enumerate(rules)}
    docs = "https://github.com/specc-dev/specc/blob/main/docs/errors.md"
    results_out = []
    for r in results:
        for d in r.diagnostics:
            uri = PurePath(d.file or r.file).as_posix()
            location = {"physicalLocation": {"artifactLocation": {"uri": uri}}}
            if d.span is not None:
                location["physicalLocation"]["region"] = {
                    "startLine": d.span.line, "startColumn": d.span.col,
                    "endLine": d.span.end_line, "endColumn": d.span.end_col,
                }
            item = {
                "ruleId": d.code,
                "ruleIndex": index[d.code],
                "level": "error" if d.severity.value == "error" else "warning",
                "message": {"text": d.message + (f" ({d.help})" if d.help else "")},
                "locations": [location],
            }
            if d.path:
                item["properties"] = {"yamlPath": d.path}
            results_out.append(item)
    return {
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {
                "name": "specc",
                "version": version,
                "informationUri": "https://github.com/specc-dev/specc",
                "rules": [{
                    "id": c.code,
                    "name": c.name,
                    "shortDescription": {"text": c.summary},
                    "helpUri": f"{docs}#{c.code.lower()}",
                    "defaultConfiguration": {"level": "error" if c.severity.value == "error" else "warning"},
                } for c in rules],
            }},
            "columnKind": "unicodeCodePoints",
            "results": results_out,
        }],
    }
