"""Reading a user's files safely: the project boundary, regular files only, and failures said in one line.

The policy (docs/checking.md, "Files specc reads"):
- The static commands (`validate`, `summary`, `diff`, `plot`, `fmt`), the path CI runs on untrusted pull requests,
  read nothing outside the project (the nearest folder above the spec holding .git or pyproject.toml): not
  `include:` (E053) and not a saved model named by `{type: Model, path: ...}` (E208), unless
  `--allow-outside-project` is given. `train`, `build` and the runners read what the user points them at.
- Every file is checked to be a regular file before it is opened (a device such as /dev/zero, a pipe or a socket
  is refused), and files read whole have a size limit.
- A message about a file that is not a spec names the file and what is wrong with it, never its contents.

Pure Python: the static commands import this module, so no NumPy or Keras here.
"""

from __future__ import annotations

import contextvars
import os
import stat
from contextlib import contextmanager
from pathlib import Path

from .extends import project_root

_CONFINED: contextvars.ContextVar[bool] = contextvars.ContextVar("specc_confined", default=False)

# Leading bytes of the binary formats specc reads.
ZIP_MAGIC = (b"PK\x03\x04", b"PK\x05\x06")  # a zip archive (.npz, .keras); the second: an empty one
NPY_MAGIC = b"\x93NUMPY"


@contextmanager
def confined(on: bool = True):
    """Within: files outside the project are not read (the static commands, unless --allow-outside-project)."""
    token = _CONFINED.set(on)
    try:
        yield
    finally:
        _CONFINED.reset(token)


def outside_project(path: Path, spec_folder: Path) -> str | None:
    """Why ``path`` may not be read here (it leaves the project of a spec in ``spec_folder``), or None."""
    if not _CONFINED.get():
        return None
    root = project_root(Path(spec_folder).resolve())
    if Path(os.path.abspath(path)).is_relative_to(root) and Path(path).resolve().is_relative_to(root):
        return None
    return (f"{path} is outside the project ({root}); the static commands read only files inside it "
            f"(pass --allow-outside-project to read it)")


def may_quote(path: Path, spec_folder: Path | None = None) -> bool:
    """Whether a message may show what ``path`` holds (a column name, a bad value): only for files inside the
    project of the spec in ``spec_folder`` (default: the working folder). A file elsewhere (say /etc/passwd given
    as data) is described by position only."""
    root = project_root(Path(spec_folder or Path.cwd()).resolve())
    try:
        return Path(path).resolve().is_relative_to(root)
    except (OSError, ValueError, RuntimeError):
        return False


def regular_file_problem(path: Path, max_bytes: int | None = None, what: str = "file") -> str | None:
    """Why ``path`` cannot be read as a ``what``, or None: missing, a folder, not a regular file (a device, pipe
    or socket: it could block or never end), or larger than ``max_bytes``. Says nothing of its contents."""
    try:
        st = os.stat(path)
    except FileNotFoundError:
        return f"{what} not found: {path}"
    except (OSError, ValueError) as e:
        return f"{path}: cannot read the {what} ({getattr(e, 'strerror', None) or type(e).__name__})"
    if stat.S_ISDIR(st.st_mode):
        return f"{path} is a folder, not a {what}"
    if not stat.S_ISREG(st.st_mode):
        return f"{path} is not a regular file (a device, pipe or socket); specc reads only regular files"
    if st.st_size == 0:
        return f"{path}: the {what} is empty"
    if max_bytes is not None and st.st_size > max_bytes:
        return f"{path}: the {what} is {st.st_size:,} bytes; specc reads at most {max_bytes:,} here"
    return None


def format_problem(path: Path, kind: str) -> str | None:
    """Why ``path`` is not a ``kind`` file ("npz", "npy" or "keras") judging by its first bytes, or None."""
    try:
        with open(path, "rb") as f:
            head = f.read(8)
    except OSError as e:
        return f"{path}: cannot read ({e.strerror or type(e).__name__})"
    if not head:
        return f"{path}: the file is empty"
    if kind in ("npz", "keras") and not head.startswith(ZIP_MAGIC):
        also = " (it is a .npy array; give a .npz or name it .npy)" if head.startswith(NPY_MAGIC) else ""
        return f"{path}: not a .{kind} file (not a zip archive: corrupt, truncated or another format){also}"
    if kind == "npy" and not head.startswith(NPY_MAGIC):
        return f"{path}: not a .npy file (no NumPy header: corrupt, truncated or another format)"
    return None


def failure(path: Path, e: BaseException, kind: str) -> str:
    """One line for a third-party reader's failure on ``path`` (a ``kind`` file), naming the file and the
    kind of damage, never quoting the file (readers put bytes of it in their messages)."""
    import zipfile

    if isinstance(e, zipfile.BadZipFile):
        reason = "a damaged zip archive (corrupt or truncated)"
    elif isinstance(e, EOFError):
        reason = "the file ends early (truncated)"
    elif isinstance(e, MemoryError):
        reason = "it does not fit in memory"
    elif isinstance(e, OSError) and e.strerror:
        reason = e.strerror
    elif isinstance(e, ValueError) and "allow_pickle" in str(e):  # NumPy's own words; nothing of the file in them
        reason = ("it holds Python objects (an array of dtype object), which specc does not load: loading them "
                  "would run code from the file; save numbers or strings")
    else:
        reason = f"not a valid {kind} file ({type(e).__name__}: corrupt, truncated or another format)"
    return f"{path}: cannot read the {kind} file: {reason}"
