"""Starting specs for `specc init` (package data: templates/*.yaml)."""

from __future__ import annotations

from importlib import resources

TEMPLATES: dict[str, str] = {}


def template_text(name: str) -> str:
    return resources.files(__package__).joinpath(f"{name}.yaml").read_text(encoding="utf-8")
