"""Shell completion values (bash, zsh, fish through Typer's own completion): spec paths, run directories and
template names.

A completion runs on every Tab press, so it must answer at once whatever the folder holds: it reads only the one
folder the typed word is in (never recursively), looks at no more than MAX_SCANNED entries there, returns no
more than MAX_SHOWN, reads no file's contents (a run directory is recognized by the presence of run.json), and
imports nothing beyond the standard library (Typer's own parsing of the command line is all the rest: no
TensorFlow, Keras or numpy). Any problem with the word or the folder (too long, a NUL byte, no permission, a
dangling link) means no suggestions, never an error.
"""

from __future__ import annotations

import os

MAX_SCANNED = 5000  # folder entries looked at per completion
MAX_SHOWN = 200  # suggestions returned
MAX_WORD = 4096  # a longer word is not a path worth completing
SPEC_SUFFIXES = (".yaml", ".yml")
RUNS = "runs"  # where `specc train` writes runs by default


def _entries(incomplete: str):
    """(shown path, DirEntry) for the entries of the typed word's folder whose names start as it does."""
    if len(incomplete) > MAX_WORD or "\x00" in incomplete:
        return
    folder, _, prefix = incomplete.rpartition("/")
    shown_folder = folder + "/" if folder or incomplete.startswith("/") else ""
    where = os.path.expanduser(folder) if folder else "/" if incomplete.startswith("/") else "."
    try:
        with os.scandir(where) as it:
            for n, entry in enumerate(it):
                if n >= MAX_SCANNED:
                    return
                if entry.name.startswith(prefix) and (prefix.startswith(".") or not entry.name.startswith(".")):
                    yield shown_folder + entry.name, entry
    except (OSError, ValueError):
        return


def _is_dir(entry) -> bool:
    try:
        return entry.is_dir()
    except OSError:
        return False


def spec_paths(incomplete: str) -> list[str]:
    """Spec files (.yaml, .yml) and folders (to go into) that the typed word can become."""
    out = []
    for shown, entry in _entries(incomplete):
        if _is_dir(entry):
            out.append(shown + "/")
        elif entry.name.endswith(SPEC_SUFFIXES):
            out.append(shown)
    return sorted(out)[:MAX_SHOWN]


def run_dirs(incomplete: str) -> list[str]:
    """Run directories (folders holding run.json) and folders to go into; with nothing typed, the runs under
    runs/ first."""
    out = []
    words = [incomplete] if incomplete else [RUNS + "/", ""]
    for word in words:
        for shown, entry in _entries(word):
            if _is_dir(entry):
                is_run = os.path.isfile(os.path.join(entry.path, "run.json"))
                out.append(shown if is_run else shown + "/")
        if out:
            break
    return sorted(set(out))[:MAX_SHOWN]


def model_files(incomplete: str) -> list[str]:
    """What `specc import` reads: .keras and .json files, run directories, and folders."""
    out = []
    for shown, entry in _entries(incomplete):
        if _is_dir(entry):
            out.append(shown + "/")
        elif entry.name.endswith((".keras", ".json")):
            out.append(shown)
    return sorted(out)[:MAX_SHOWN]


def template_names(incomplete: str) -> list[tuple[str, str]]:
    """`specc init` templates whose names start with the typed word, with what each is (its first words: Typer
    renders help through rich, which wraps long lines, and a wrapped line breaks zsh's completion syntax)."""
    from .templates import TEMPLATES

    return [(name, _short(about)) for name, about in TEMPLATES.items() if name.startswith(incomplete)]


def _short(about: str, limit: int = 50) -> str:
    about = about.split(" (")[0]
    return about if len(about) <= limit else about[: limit - 3] + "..."
