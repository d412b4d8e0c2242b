"""`specc plot`: architecture diagrams (placeholder until implemented)."""

from __future__ import annotations


class PlotError(Exception):
    pass


def write_diagram(result, output) -> None:
    raise PlotError("plot is not implemented yet")
