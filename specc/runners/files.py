"""Atomic writes: a crash never leaves a half-written model, metrics or spec file.

A file written here gets the mode an ordinary ``open(path, "w")`` would give it: the mode of the file it
replaces, or 0666 less the process's umask for a new file (not the 0600 of the private temporary file the
write goes through). Directories are made with 0777 less the umask.
"""

from __future__ import annotations

import json
import os
import shutil
import stat
import tempfile
from contextlib import contextmanager
from pathlib import Path


def current_umask() -> int:
    """The process's umask, read without changing it where the system allows (Linux's /proc)."""
    try:
        with open("/proc/self/status", encoding="ascii", errors="replace") as f:
            for line in f:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    mask = os.umask(0o022)  # elsewhere: read it by setting it, and put it back at once
    os.umask(mask)
    return mask


class OutputError(Exception):
    """An output path that cannot be a file: an existing folder, or a path under a file. A user's mistake, said
    in one line before anything is written."""


@contextmanager
def writing(path: Path):
    """The system's refusal to write ``path`` (a name too long, a folder not writable, a full disk) as an
    OutputError that names it."""
    try:
        yield
    except OSError as e:
        raise OutputError(f"cannot write {path}: {e.strerror or e}") from None


def output_folder(path: Path, folder_ok: bool = False) -> Path:
    """The folder ``path`` goes in, made if missing; OutputError if ``path`` lies under a file, or is a folder
    (unless ``folder_ok``: an output that is a folder itself, replaced whole), or cannot be made."""
    with writing(path):
        return _output_folder(Path(path), folder_ok)


def _output_folder(path: Path, folder_ok: bool) -> Path:
    if path.is_dir() and not folder_ok:
        raise OutputError(f"{path} is a folder; give a file name")
    for ancestor in path.parents:
        if ancestor.exists():
            if not ancestor.is_dir():
                raise OutputError(f"{ancestor} is a file, not a folder: {path} cannot be written under it")
            break
    path.parent.mkdir(parents=True, exist_ok=True)
    return path.parent


def write_mode(path: Path) -> int:
    """The permission bits an ordinary write of ``path`` gets: an existing file keeps its own, a new one 0666 less the umask."""
    try:
        st = os.stat(path)
        if stat.S_ISREG(st.st_mode):
            return stat.S_IMODE(st.st_mode)
    except OSError:
        pass
    return 0o666 & ~current_umask()


def publish(tmp: str | Path, path: Path) -> None:
    """Give the finished temporary file ``tmp`` the mode an ordinary write of ``path`` gets, then rename it there."""
    os.chmod(tmp, write_mode(path))
    os.replace(tmp, path)


def ordinary_modes(root: Path) -> None:
    """Give a tree another library wrote (TensorFlow makes its folders 0755 whatever the umask) ordinary modes."""
    mask = current_umask()
    for folder, _, names in os.walk(root):
        os.chmod(folder, 0o777 & ~mask)
        for name in names:
            os.chmod(os.path.join(folder, name), 0o666 & ~mask)


def atomic_write_bytes(path: Path, data: bytes, durable: bool = True) -> None:
    """Write ``data`` to a temporary file beside ``path`` and rename it there: no reader ever sees half a file.
    ``durable=False`` skips the fsync (a file rewritten every epoch, whose last version is written durably at
    the end): a crash of the process still leaves the old or the new file whole; only a crash of the machine
    could lose the latest rewrite."""
    path = Path(path)
    folder = output_folder(path)
    with writing(path):
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=folder)
    try:
        with writing(path):
            with os.fdopen(fd, "wb") as f:
                f.write(data)
                if durable:
                    f.flush()
                    os.fsync(f.fileno())
            publish(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def atomic_write_text(path: Path, text: str, durable: bool = True) -> None:
    atomic_write_bytes(path, text.encode("utf-8"), durable)


def atomic_write_json(path: Path, data, durable: bool = True) -> None:
    atomic_write_text(path, json.dumps(data, indent=2, sort_keys=False) + "\n", durable)


def atomic_keras_save(model, path: Path, same_as: Path | None = None) -> None:
    """Save a .keras file via a temporary file in the same folder, then rename. ``same_as``: a .keras file saved
    from the model as it is now, copied instead (a model's save takes far longer than copying its file)."""
    path = Path(path)
    folder = output_folder(path)
    with writing(path):
        fd, tmp = tempfile.mkstemp(prefix=f".{path.stem}.", suffix=".keras", dir=folder)
    os.close(fd)
    try:
        if same_as is not None and Path(same_as).is_file():
            shutil.copyfile(same_as, tmp)
        else:
            model.save(tmp)
        publish(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
