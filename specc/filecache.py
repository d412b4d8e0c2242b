"""What is read from a file that many specs share, read once per process while the file is unchanged.

`specc validate specs/` on a thousand specs that include one block library, or use one saved base model,
would otherwise read and convert that file a thousand times. A file counts as unchanged while its device,
inode, size and modification time (in nanoseconds) are; an edit, or a new file moved into its place, reads
it again. What is kept is shared between callers: they must not change it.
"""

from __future__ import annotations

import os
from typing import Any, Callable

MAX_ENTRIES = 64


class FileCache:
    """A bounded map from (file, its identity on disk, what else the caller names) to what was read."""

    def __init__(self) -> None:
        self.entries: dict[tuple, Any] = {}

    def get(self, path: os.PathLike | str, read: Callable[[], Any], *extra: Any) -> Any:
        """``read()``'s result for ``path``, from the cache while the file is unchanged; exceptions pass
        through, uncached."""
        try:
            st = os.stat(path)
        except (OSError, ValueError):
            return read()  # the reader says what is wrong with it
        key = (os.fspath(path), st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, *extra)
        if key in self.entries:
            return self.entries[key]
        value = read()
        if len(self.entries) >= MAX_ENTRIES:
            del self.entries[next(iter(self.entries))]  # the oldest
        self.entries[key] = value
        return value
