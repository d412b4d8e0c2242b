"""Checking many spec files in one call (`specc validate specs/`), on every core when that pays.

Each file is checked on its own (check.check_file), so files can be checked in any process: with enough files
and more than one core, worker processes forked from this one (so they start with everything imported) check
them in chunks, and the results come back in the order of the files. A process is forked only where that is
safe: on Linux, from a process running one thread (no TensorFlow or other library threads that a child could
find holding a lock). Elsewhere, and for a few files, the files are checked here, one after the other.

Only what `validate` reports is kept of each file: its diagnostics and their text, not its model, graph and
text (a thousand of those held to the end made the garbage collector's passes a quarter of the run).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Iterator, Sequence

from .diagnostics import Diagnostic, Findings, apply_policy
from .paths import STDIN

FILES_PER_WORKER = 50  # fewer files than this per extra process: forking costs more than it saves


@dataclass(frozen=True)
class Policy:
    """What `validate` was asked to do beyond checking: budget limits, and warning codes dropped or made errors."""

    budget: dict | None = None
    ignore: frozenset[str] = frozenset()
    error: frozenset[str] = frozenset()
    confined: bool = True  # read nothing outside the project (userfiles.py)


@dataclass
class Checked(Findings):
    """One file's check as `validate` reports it: its diagnostics (the policy applied) and the text of each."""

    file: str
    diagnostics: list[Diagnostic]
    texts: list[str]


def check_files(files: Sequence[Path], policy: Policy, jobs: int = 0) -> Iterator[Checked]:
    """Each file's check, in order; ``jobs`` processes at most (0: one per core, as many as the files pay for)."""
    workers = worker_count(len(files), jobs)
    if workers <= 1 or any(str(f) == STDIN for f in files) or not _fork_is_safe():
        for path in files:
            yield check_one(path, policy)
        return
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    # The first file here: what checking imports and builds (the layer kinds' validators) is then ready in
    # every worker, not imported and built again by each.
    yield check_one(files[0], policy)
    rest = files[1:]
    chunk = max(1, len(rest) // (workers * 4))
    # An executor, not multiprocessing's Pool: a worker that dies (killed for memory) fails the call, never hangs it.
    with ProcessPoolExecutor(workers, multiprocessing.get_context("fork"), initializer=_quiet_interrupts) as pool:
        yield from pool.map(partial(check_one, policy=policy), rest, chunksize=chunk)


def check_one(path: Path, policy: Policy) -> Checked:
    from .check import check_file, check_loaded
    from .render import diagnostic_text
    from .userfiles import confined

    with confined(policy.confined):
        if str(path) == STDIN:
            import sys

            from .loader import load_stream

            doc, errors = load_stream(sys.stdin.buffer, "<stdin>")
            result = check_loaded(doc, errors, "<stdin>", budget=policy.budget)
        else:
            result = check_file(path, budget=policy.budget)
    diagnostics = apply_policy(result.diagnostics, policy.ignore, policy.error)
    doc = result.doc
    texts = [diagnostic_text(d, doc.source_line(d) if doc else None) for d in diagnostics]
    return Checked(result.file, diagnostics, texts)


def worker_count(files: int, jobs: int = 0) -> int:
    """How many processes check ``files`` files: ``jobs`` if given, else one per core the process may use,
    but no more than one per FILES_PER_WORKER files."""
    if jobs:
        return max(1, min(jobs, files))
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    return max(1, min(cores, files // FILES_PER_WORKER))


def _fork_is_safe() -> bool:
    """Whether this process runs a single thread (Linux's /proc says): only then is forking it safe."""
    try:
        return len(os.listdir("/proc/self/task")) == 1
    except OSError:
        return False


def _quiet_interrupts() -> None:
    """In a worker: Ctrl-C is the parent's to handle (it stops the pool), not a traceback per worker."""
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)
