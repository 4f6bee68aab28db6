"""Atomic file writes: a file holds either its old content or all of the new, never a part, even after a crash.

The new content is written to a temporary file beside the target, ``.<name>.tmp-<host>-<pid>-<random>``, which
then replaces it. A process killed on the way (kill -9, power loss) leaves its temporary file behind: the next write
of the same target removes those whose process, on this machine, is gone.

>>> import os, tempfile
>>> path = os.path.join(tempfile.mkdtemp(), "notes.txt")
>>> atomic_write(path, [b"hello ", b"world"])
>>> open(path, "rb").read()
b'hello world'
"""
from __future__ import annotations

import contextlib
import hashlib
import os
import re
import secrets
import socket
from collections.abc import Iterable
from pathlib import Path

# which machine wrote a temporary file: a folder shared between machines (NFS) holds other machines' process ids,
# which say nothing about the processes here
_HOST = hashlib.sha256(socket.gethostname().encode()).hexdigest()[:8]


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
    remove_stale_temporaries(path)
    temporary = path.with_name(f"{_temporary_prefix(path)}{_HOST}-{os.getpid()}-{secrets.token_hex(4)}")
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


def remove_stale_temporaries(path: str | os.PathLike) -> list[Path]:
    """Remove the temporary files that writes of ``path`` by processes of this machine that no longer run left
    behind (killed while writing); returns them. Those of running processes (a write under way) stay."""
    path = Path(path)
    pattern = re.compile(re.escape(_temporary_prefix(path)) + rf"{_HOST}-(\d+)-[0-9a-f]+")
    removed = []
    with contextlib.suppress(OSError):  # a folder we cannot list or change: nothing to clean here
        for entry in os.scandir(path.parent):
            match = pattern.fullmatch(entry.name)
            if match and not _is_running(int(match.group(1))):
                with contextlib.suppress(FileNotFoundError):  # another writer removed it first
                    os.unlink(entry.path)
                    removed.append(Path(entry.path))
    return removed


def _temporary_prefix(path: Path) -> str:
    return f".{path.name}.tmp-"


def _is_running(pid: int) -> bool:
    """Whether process ``pid`` exists on this machine (a process of another user counts)."""
    if pid == os.getpid():
        return True
    if os.name == "nt":  # os.kill(pid, 0) would end the process there; keep the file rather than guess
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError):
        return True
    return True


def _fsync_folder(folder: Path) -> None:
    """Make the rename itself durable (POSIX); a no-op where folders cannot be opened (Windows)."""
    with contextlib.suppress(OSError):
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
