"""Turning diagnostics and summaries into text for people and JSON for tools."""

from __future__ import annotations

from .diagnostics import Diagnostic
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
    return {
        "name": model_name(result),
        "params": {"total": total.total, "trainable": total.trainable, "non_trainable": total.non_trainable},
        "layers": layers,
        "inputs": graph.inputs,
        "outputs": graph.outputs,
    }


def model_name(result) -> str:
    from pathlib import Path

    if result.spec.name:
        return result.spec.name
    return Path(result.file).stem if result.file and not result.file.startswith("<") else "model"


def shape_text(shape) -> str:
    return fmt_shape(tuple(shape))
