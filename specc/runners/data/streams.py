"""Large data, streamed: a memory-mapped .npy or an images folder kept as files, read per batch (``Lazy``).

See "Large data" in docs/training.md."""

from __future__ import annotations

import hashlib
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path

from ...schema.data import (
    Data,
)
from ...userfiles import format_problem, regular_file_problem
from .. import RunError

STREAM_ENV = "SPECC_STREAM"  # auto (default), always, never
STREAM_AUTO_BYTES = 1 << 30  # auto streams when the prepared (float32) training source would take more than this


def check_data_file(path: Path, kind: str | None = None) -> None:
    """Refuse, in one line naming the file, what no reader should open: a missing file, a folder, a device or
    pipe, an empty file, and (``kind`` "npz" or "npy") a file whose first bytes are not that format."""
    problem = regular_file_problem(path, what="data file") or (kind and format_problem(path, kind))
    if problem:
        raise RunError(problem)


def read_images(files: list[Path], image_size, color_mode: str):
    """Images resized to image_size ([h, w]): a uint8 array (n, h, w, 1 or 3)."""
    import numpy as np
    from PIL import Image, UnidentifiedImageError

    h, w = image_size
    channels = 1 if color_mode == "grayscale" else 3
    out = np.empty((len(files), h, w, channels), dtype="uint8")
    for i, file in enumerate(files):
        check_data_file(file)
        try:
            with Image.open(file) as image:
                image = image.convert("L" if channels == 1 else "RGB")
                if image.size != (w, h):
                    image = image.resize((w, h), Image.Resampling.BILINEAR)
                out[i] = np.asarray(image, dtype="uint8").reshape(h, w, channels)
        except (UnidentifiedImageError, OSError, ValueError, SyntaxError, Image.DecompressionBombError) as e:
            raise RunError(f"{file}: not a readable image ({type(e).__name__}: corrupt, truncated or another "
                           f"format)") from None
    return out



class ImageRows:
    """An images source as its file list: rows are decoded and resized (Pillow) only when indexed."""

    def __init__(self, files: list[Path], image_size, color_mode: str, root: Path):
        self.files, self.image_size, self.color_mode, self.root = list(files), list(image_size), color_mode, root
        channels = 1 if color_mode == "grayscale" else 3
        self.shape = (len(self.files), *self.image_size, channels)
        self.dtype = "uint8"
        self.ndim = len(self.shape)

    def __len__(self) -> int:
        return len(self.files)

    def __getitem__(self, key):
        import numpy as np

        rows = np.arange(len(self.files))[key]
        if np.ndim(rows) == 0:
            return read_images([self.files[int(rows)]], self.image_size, self.color_mode)[0]
        return read_images([self.files[int(i)] for i in rows], self.image_size, self.color_mode)

    def read_all(self):
        return read_images(self.files, self.image_size, self.color_mode)

    def identity(self) -> bytes:
        """Names, sizes and modification times of the files (not their pixels)."""
        parts = [str(self.shape)]
        for f in self.files:
            st = f.stat()
            parts.append(f"{f.relative_to(self.root).as_posix()}:{st.st_size}:{st.st_mtime_ns}")
        return "\n".join(parts).encode()


def _npy_identity(a) -> bytes:
    st = Path(a.filename).stat()
    return f"npy:{a.dtype}:{a.shape}:{st.st_size}:{st.st_mtime_ns}".encode()


class Lazy:
    """Samples of a streamed source (a memory-mapped array or ``ImageRows``): the rows ``index`` of ``base``,
    read and prepared (``prepare``: rescale, normalize, reshape, as ``features``) only when taken.

    ``take(indices)`` reads the rows in sorted order (sequential reads of the memmap) and returns them, prepared,
    in the order asked; ``a[i]`` with a slice or an index array is the same. ``subset(indices)`` is a Lazy over
    fewer rows (the test, validation and training splits are index sets, never copies)."""

    streamed = True

    def __init__(self, base, index, prepare=None):
        import numpy as np

        self.base = base
        self.index = np.asarray(index, dtype="int64")
        self.prepare = prepare
        if prepare is None or not len(self.index):
            first = np.asarray(base[:1])
            if prepare is not None:
                first = prepare(first)
        else:
            first = self.take(np.arange(1))
        self.shape = (len(self.index), *first.shape[1:])
        self.dtype = first.dtype
        self.ndim = len(self.shape)

    def __len__(self) -> int:
        return len(self.index)

    def take(self, indices):
        import numpy as np

        rows = self.index[np.asarray(indices, dtype="int64")]
        order = np.argsort(rows, kind="stable")
        batch = read_rows(self.base, rows[order])
        out = np.empty_like(batch)
        out[order] = batch
        return self.prepare(out) if self.prepare is not None else out

    def __getitem__(self, key):
        import numpy as np

        return self.take(np.arange(len(self.index))[key])

    def subset(self, indices) -> Lazy:
        import numpy as np

        return Lazy(self.base, self.index[np.asarray(indices, dtype="int64")], self.prepare)

    def prepared(self, prepare) -> Lazy:
        return Lazy(self.base, self.index, prepare)

    def identity(self) -> bytes:
        """What the fingerprint hashes: the source file(s)' sizes and modification times, which rows, and a
        sample of up to 64 prepared rows (not the whole data)."""
        import numpy as np

        source = self.base.identity() if hasattr(self.base, "identity") else _npy_identity(self.base)
        h = hashlib.sha256(source + str(self.shape).encode() + str(self.dtype).encode() + self.index.tobytes())
        if len(self):
            sample = np.unique(np.linspace(0, len(self) - 1, min(64, len(self))).astype("int64"))
            h.update(np.ascontiguousarray(self.take(sample)).tobytes())
        return h.digest()


def read_rows(base, rows):
    """base[rows] for sorted ``rows``. A C-ordered .npy memmap is read with pread, one call per run of
    consecutive rows, into a fresh array: its pages are never mapped into this process, so the resident
    memory stays a few batches whatever the file's size (indexing the map would fault in neighbouring pages
    too). Anything else is indexed (and a memmap's pages unmapped again after the copy)."""
    import os

    import numpy as np

    name = getattr(base, "filename", None)
    if (not isinstance(base, np.memmap) or name is None or not base.flags.c_contiguous or base.ndim == 0
            or not hasattr(os, "preadv")):
        out = np.asarray(base[rows])
        _release(base)
        return out
    out = np.empty((len(rows), *base.shape[1:]), dtype=base.dtype)
    if not len(rows):
        return out
    row_bytes = out.itemsize * (out.size // len(rows))
    starts = np.flatnonzero(np.diff(rows) != 1) + 1
    view = memoryview(out.reshape(-1).view("uint8"))
    fd = os.open(name, os.O_RDONLY)
    try:
        for a, b in zip(np.r_[0, starts], np.r_[starts, len(rows)]):
            want, done = (b - a) * row_bytes, 0
            offset = base.offset + int(rows[a]) * row_bytes
            while done < want:
                got = os.preadv(fd, [view[a * row_bytes + done:b * row_bytes]], offset + done)
                if got <= 0:
                    raise RunError(f"{name}: the file is shorter than its header says")
                done += got
    finally:
        os.close(fd)
    return out


def _release(base) -> None:
    """Unmap the memmap's pages from this process once a batch is copied out: they stay in the kernel's page
    cache (reclaimable, shared), so the process's resident memory does not grow with the file."""
    import mmap

    mm = getattr(base, "_mmap", None)
    if mm is not None and hasattr(mm, "madvise") and hasattr(mmap, "MADV_DONTNEED"):
        try:
            mm.madvise(mmap.MADV_DONTNEED)
        except (OSError, ValueError):  # pragma: no cover - a closed map or a platform without it
            pass


def streamed(a) -> bool:
    """A ``Lazy`` (or a dict holding one, per input or output): rows read (and prepared) per batch with ``take``."""
    if isinstance(a, dict):
        return any(streamed(v) for v in a.values())
    return getattr(a, "streamed", False)


def n_samples(a) -> int:
    """len() of an array, or of each array of a dict of them (per input or output)."""
    if isinstance(a, dict):
        return len(next(iter(a.values()))) if a else 0
    return len(a)


def take(a, idx):
    """The rows ``idx`` of an array, a Lazy (read and prepared now) or a dict of them."""
    if isinstance(a, dict):
        return {k: take(v, idx) for k, v in a.items()}
    return a.take(idx) if streamed(a) else a[idx]


def subset(a, index):
    """a[index]: a Lazy view for streamed data, a copy for arrays."""
    return a.subset(index) if streamed(a) else a[index]


_RUN_STREAM: ContextVar[str | None] = ContextVar("specc_run_stream", default=None)


@contextmanager
def run_stream_mode(info: dict):
    """Within: resume, evaluate, predict and export read the data the way the run was trained (streamed or in
    memory), unless SPECC_STREAM is set explicitly: the data fingerprints of the two ways differ. A context, not
    an environment change, so a library call leaves no trace in the process or in later child processes."""
    mode = info.get("stream") if info.get("stream") in ("auto", "always", "never") else None
    token = _RUN_STREAM.set(mode)
    try:
        yield
    finally:
        _RUN_STREAM.reset(token)


def stream_mode() -> str:
    import os

    mode = os.environ.get(STREAM_ENV, "").strip().lower() or _RUN_STREAM.get() or "auto"
    aliases = {"1": "always", "true": "always", "yes": "always", "0": "never", "false": "never", "no": "never"}
    mode = aliases.get(mode, mode)
    if mode not in ("auto", "always", "never"):
        raise RunError(f"{STREAM_ENV}={mode}: use auto, always or never")
    return mode


def streamable(x) -> bool:
    import numpy as np

    return isinstance(x, (np.memmap, ImageRows))


def should_stream(x, data: Data) -> bool:
    """Whether a source's samples are streamed: a memory-mapped .npy or an images folder, not windowed and
    without autoencoder noise, and (``SPECC_STREAM=auto``) larger than 1 GiB once prepared as float32."""
    import math

    mode = stream_mode()
    if mode == "never" or not streamable(x) or data.window is not None or data.noise:
        return False
    return mode == "always" or len(x) * math.prod(x.shape[1:]) * 4 > STREAM_AUTO_BYTES


def in_memory(x):
    return x.read_all() if isinstance(x, ImageRows) else x
