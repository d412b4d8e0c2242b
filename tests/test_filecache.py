"""specc/filecache.py: a file read once while unchanged, again once it changes; and the checker's uses of it."""

import os

import pytest
from conftest import RESNET, write

from specc.check import check_file
from specc.filecache import MAX_ENTRIES, FileCache


def test_a_file_is_read_once_while_unchanged(tmp_path):
    path = tmp_path / "lib.yaml"
    path.write_text("one")
    reads = []
    cache = FileCache()

    def read():
        reads.append(path.read_text())
        return reads[-1]

    assert cache.get(path, read) == cache.get(path, read) == "one"
    assert reads == ["one"]
    path.write_text("two, longer")  # another size
    assert cache.get(path, read) == "two, longer"
    st = path.stat()
    path.write_text("six, longer")  # the same size, a later time
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000))
    assert cache.get(path, read) == "six, longer"
    assert len(reads) == 3


def test_what_cannot_be_read_is_not_kept(tmp_path):
    cache = FileCache()
    calls = []

    def fail():
        calls.append(1)
        raise ValueError("broken")

    path = tmp_path / "x"
    path.write_text("x")
    for _ in range(2):
        with pytest.raises(ValueError):
            cache.get(path, fail)
    assert len(calls) == 2
    assert cache.get(tmp_path / "missing", lambda: "read anyway") == "read anyway"  # the reader says what is wrong


def test_the_cache_is_bounded(tmp_path):
    cache = FileCache()
    for i in range(MAX_ENTRIES + 10):
        path = tmp_path / f"f{i}"
        path.write_text("x")
        cache.get(path, lambda i=i: i)
    assert len(cache.entries) == MAX_ENTRIES


def test_an_edited_include_is_read_again(project):
    """Two checks in one process (a notebook, `specc.load` in a loop): the second sees the library's edit."""
    spec = write(project, "spec.yaml", RESNET)
    assert check_file(spec).ok, check_file(spec).diagnostics
    library = project / "lib" / "blocks.yaml"
    library.write_text(library.read_text() + "\nunknown_section: 1\n")
    assert [d.code for d in check_file(spec).errors] == ["E100"]
