"""``tf.io.gfile``: TensorFlow's file-system functions, on the local file system (``listdir``, ``exists``, ``glob``,
``isdir``, ``makedirs``, ``mkdir``, ``remove``, ``rmtree``, ``rename``, ``copy``, ``walk``, ``join``, ``GFile``),
raising ``tf.errors.NotFoundError`` where TensorFlow does.

>>> import os, tempfile
>>> import chainrule as tf
>>> root = tempfile.mkdtemp()
>>> tf.io.gfile.makedirs(tf.io.gfile.join(root, "a", "b"))
>>> with tf.io.gfile.GFile(tf.io.gfile.join(root, "x.txt"), "w") as f:
...     _ = f.write("hi")
>>> sorted(tf.io.gfile.listdir(root)), tf.io.gfile.exists(os.path.join(root, "x.txt"))
(['a', 'x.txt'], True)
"""
from __future__ import annotations

import glob as _glob
import os
import shutil
from typing import Iterator

import numpy as np

from chainrule.compat.tf.errors import NotFoundError, OpError
from chainrule.engine.tensor import Tensor


def _path(path) -> str:
    """A path given as str, bytes, os.PathLike or a scalar string tensor."""
    if isinstance(path, Tensor):
        path = np.asarray(path).item()
    return os.fsdecode(os.fspath(path))


def _missing(path: str, what: str = "") -> NotFoundError:
    return NotFoundError(None, None, f"{what}{path}; No such file or directory")


def exists(path) -> bool:
    """Whether ``path`` exists."""
    return os.path.exists(_path(path))


def isdir(path) -> bool:
    """Whether ``path`` is a directory."""
    return os.path.isdir(_path(path))


def listdir(path) -> list[str]:
    """The names of the entries of directory ``path`` (not sorted, as TensorFlow's)."""
    path = _path(path)
    if not os.path.isdir(path):
        raise _missing(path, "Could not find directory ")
    return os.listdir(path)


def glob(pattern) -> list[str]:
    """The paths that match ``pattern`` (``*``, ``?``, ``[...]``)."""
    return _glob.glob(_path(pattern))


def join(path, *paths) -> str:
    """The paths joined with the separator, as ``os.path.join``."""
    return os.path.join(_path(path), *map(_path, paths))


def makedirs(path) -> None:
    """Make directory ``path`` and the ones above it that are missing (no error when it exists)."""
    os.makedirs(_path(path), exist_ok=True)


def mkdir(path) -> None:
    """Make directory ``path``; its parent must exist."""
    path = _path(path)
    try:
        os.mkdir(path)
    except FileNotFoundError:
        raise _missing(path) from None
    except FileExistsError:
        raise OpError(None, None, f"{path}; File exists", 6) from None  # ALREADY_EXISTS


def remove(path) -> None:
    """Delete file ``path``."""
    path = _path(path)
    if not os.path.exists(path):
        raise _missing(path)
    os.remove(path)


def rmtree(path) -> None:
    """Delete directory ``path`` and everything in it."""
    path = _path(path)
    if not os.path.exists(path):
        raise _missing(path)
    shutil.rmtree(path)


def rename(src, dst, overwrite: bool = False) -> None:
    """Move ``src`` to ``dst`` (an existing ``dst`` only with ``overwrite``)."""
    src, dst = _path(src), _path(dst)
    if os.path.exists(dst) and not overwrite:
        raise OpError(None, None, f"file {dst} already exists", 6)
    os.replace(src, dst)


def copy(src, dst, overwrite: bool = False) -> None:
    """Copy file ``src`` to ``dst`` (an existing ``dst`` only with ``overwrite``)."""
    src, dst = _path(src), _path(dst)
    if os.path.exists(dst) and not overwrite:
        raise OpError(None, None, f"file {dst} already exists", 6)
    shutil.copyfile(src, dst)


def walk(top, topdown: bool = True, onerror=None) -> Iterator[tuple[str, list[str], list[str]]]:
    """``(directory, subdirectories, files)`` for ``top`` and every directory under it, as ``os.walk``."""
    return os.walk(_path(top), topdown=topdown, onerror=onerror)


class GFile:
    """A file object (``tf.io.gfile.GFile(path, mode)``): read, write, readline(s), iteration, a context manager."""

    def __init__(self, name, mode: str = "r"):
        self.name = _path(name)
        try:
            self._file = open(self.name, mode)
        except FileNotFoundError:
            raise _missing(self.name) from None

    def __getattr__(self, attribute):
        return getattr(self._file, attribute)

    def __iter__(self):
        return iter(self._file)

    def __enter__(self) -> "GFile":
        return self

    def __exit__(self, *exc) -> None:
        self._file.close()


Open = GFile  # tf.io.gfile.Open

__all__ = ["GFile", "Open", "copy", "exists", "glob", "isdir", "join", "listdir", "makedirs", "mkdir", "remove",
           "rename", "rmtree", "walk"]
