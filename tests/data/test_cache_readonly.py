"""A dataset cache that cannot be written (a read-only folder: a shared install, a read-only mount) only warns: a
cached file that fails its checksum stays where it is, and the data comes from a good source into memory.

How the folder is made read-only: ``chmod 0o555``, which the kernel enforces for ordinary users. The tests also run
as root, which the kernel lets write anyway (and a read-only bind mount needs privileges a test does not have), so
as root the file operations the loader uses to remove and write cache files (Path.unlink, Path.write_bytes,
os.replace) are made to raise the PermissionError the kernel raises for everyone else, for paths in that folder.
"""
import gzip
import os
import pathlib

import numpy as np
import pytest

from chainrule.data.datasets.loader import DatasetUnavailableError, fetch
from chainrule.data.datasets.mnist import load_splits

from test_loader import FILES, HASHES, FakeSource

DAMAGED = "train-labels-idx1-ubyte"


@pytest.fixture
def cache(tmp_path, monkeypatch):
    """The toy dataset's cache folder, filled from a good source, with one file truncated."""
    monkeypatch.setenv("CHAINRULE_HOME", str(tmp_path / "home"))
    fetch("toy", HASHES, [FakeSource("first")])
    folder = tmp_path / "home" / "datasets" / "toy"
    (folder / f"{DAMAGED}.gz").write_bytes(gzip.compress(FILES[DAMAGED][:-1]))
    return folder


def make_read_only(folder, monkeypatch) -> None:
    """Make ``folder`` read-only (see the module docstring for root); monkeypatch's undo restores the functions."""
    os.chmod(folder, 0o555)
    if os.geteuid() == 0:
        def refuse(path) -> None:
            if pathlib.Path(path).resolve().parent == folder.resolve():
                raise PermissionError(13, "Permission denied", str(path))

        for owner, name, path_of in ((pathlib.Path, "unlink", lambda a: a[0]),
                                     (pathlib.Path, "write_bytes", lambda a: a[0]),
                                     (os, "replace", lambda a: a[1])):
            original = getattr(owner, name)

            def guarded(*args, _original=original, _path_of=path_of, **kwargs):
                refuse(_path_of(args))
                return _original(*args, **kwargs)

            monkeypatch.setattr(owner, name, guarded)


@pytest.fixture
def read_only(cache, monkeypatch):
    """The cache folder, read-only during the test."""
    make_read_only(cache, monkeypatch)
    yield cache
    os.chmod(cache, 0o755)


def test_the_simulated_folder_refuses_changes(read_only):
    with pytest.raises(PermissionError):
        (read_only / f"{DAMAGED}.gz").unlink()
    with pytest.raises(PermissionError):
        (read_only / "new.gz").write_bytes(b"x")


def test_a_damaged_file_in_a_read_only_cache_only_warns(read_only):
    damaged = (read_only / f"{DAMAGED}.gz").read_bytes()
    good = FakeSource("good")
    with pytest.warns(UserWarning, match=f"{DAMAGED}.gz fails its SHA-256 check and cannot be removed"):
        assert fetch("toy", HASHES, [good]) == FILES
    assert good.asked == [DAMAGED]  # the other files still come from the cache
    assert (read_only / f"{DAMAGED}.gz").read_bytes() == damaged  # left as it was
    assert sorted(p.name for p in read_only.iterdir()) == sorted(f"{name}.gz" for name in FILES)


def test_mnist_loads_from_a_good_source_past_a_read_only_damaged_cache(read_only):
    with pytest.warns(UserWarning, match="cannot be removed"):
        (x_train, y_train), (x_test, y_test) = load_splits("toy", HASHES, [FakeSource("good")])
    assert y_train.tolist() == list(range(6)) and x_test.shape == (2, 28, 28)
    assert np.array_equal(y_test, np.arange(2))


def test_without_a_good_source_the_error_says_what_was_tried(read_only):
    with pytest.warns(UserWarning, match="cannot be removed"):
        with pytest.raises(DatasetUnavailableError, match=f"{DAMAGED}: SHA-256 .* is not the expected"):
            fetch("toy", HASHES, [FakeSource("empty", files={})])


def test_a_read_only_cache_without_the_files_warns_and_serves_from_memory(cache, monkeypatch):
    for path in cache.iterdir():
        path.unlink()
    make_read_only(cache, monkeypatch)
    try:
        with pytest.warns(UserWarning, match="could not cache"):
            assert fetch("toy", HASHES, [FakeSource("good")]) == FILES
        assert list(cache.iterdir()) == []
    finally:
        os.chmod(cache, 0o755)
