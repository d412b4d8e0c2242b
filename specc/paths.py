"""Paths written in a spec, read one way everywhere (data sources, saved models, the resolved spec).

A path may start with ``~`` (the user's home folder); a relative path is relative to the folder of the spec
file that names it (for a run directory's resolved spec, the paths are absolute already).
"""

from __future__ import annotations

from pathlib import Path

STDIN = "-"  # a spec read from standard input (validate, summary, fmt, plot); diagnostics name it <stdin>


def spec_relative(value: str | Path, base: Path) -> Path:
    """The file or folder ``value`` names, written in a spec whose folder is ``base``."""
    path = Path(value).expanduser()
    return path if path.is_absolute() else base / path


def saved_model_file(value: str | Path, base: Path) -> Path:
    """A saved model a spec names: a .keras file, or a run directory of `specc train` standing for its
    model.keras."""
    path = spec_relative(value, base)
    return path / "model.keras" if path.is_dir() else path
