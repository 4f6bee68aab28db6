"""Atomic file writes: a file holds either its old content or all of the new, never a part, even after a crash.

>>> import os, tempfile
>>> path = os.path.join(tempfile.mkdtemp(), "notes.txt")
>>> atomic_write(path, [b"hello ", b"world"])
>>> open(path, "rb").read()
b'hello world'
"""
from __future__ import annotations

import contextlib
import os
import secrets
from collections.abc import Iterable
from pathlib import Path


def atomic_write(path: str | os.PathLike, chunks: Iterable[bytes], overwrite: bool = True) -> None:
    """Write ``chunks`` to ``path`` so that it holds either the old content or all of the new, never a part.

    The bytes go to a temporary file in the same folder, are flushed to the disk (fsync), then the temporary file
    replaces ``path`` in one step (``os.replace``). A crash or an error on the way leaves ``path`` as it was.
    Missing parent folders are created.
    """
    path = Path(path)
    if path.is_dir():
        raise IsADirectoryError(f"cannot save to {path}: it is a folder")
    if not overwrite and path.exists():
        raise FileExistsError(f"{path} exists (pass overwrite=True to replace it)")
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o666)
    try:
        with os.fdopen(fd, "wb") as file:
            for chunk in chunks:
                file.write(chunk)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise
    _fsync_folder(path.parent)


def _fsync_folder(folder: Path) -> None:
    """Make the rename itself durable (POSIX); a no-op where folders cannot be opened (Windows)."""
    with contextlib.suppress(OSError):
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
