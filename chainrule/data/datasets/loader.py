"""Get a dataset's files, each checked against its known SHA-256: from the cache, else from each source in turn.

The cache is one folder per dataset, ``$CHAINRULE_HOME/datasets/NAME/`` (default ``~/.cache/chainrule``), holding
the files gzip'd as distributed (``train-images-idx3-ubyte.gz``) or uncompressed. The hash (SHA-256, or MD5 where
only that is published) is that of the *uncompressed* file, so every source (a mirror's .gz, a system copy, a
conversion) is held to the same value. A cached file that fails it (truncated, tampered) is removed and fetched
again. A cache folder that cannot be written (read-only) only warns: the files then come from the sources into
memory.

>>> cache_folder("mnist").parts[-2:]
('datasets', 'mnist')
"""
from __future__ import annotations

import gzip
import hashlib
import os
import warnings
from collections.abc import Mapping, Sequence
from pathlib import Path

from chainrule.data.datasets.sources import Folder, Source


class DatasetUnavailableError(RuntimeError):
    """No source could provide a dataset's files; the message lists what was tried and how to place them by hand."""


def chainrule_home() -> Path:
    """``$CHAINRULE_HOME``, or ``~/.cache/chainrule``."""
    return Path(os.environ.get("CHAINRULE_HOME") or Path.home() / ".cache" / "chainrule")


def cache_folder(dataset: str) -> Path:
    """Where the files of ``dataset`` are kept."""
    return chainrule_home() / "datasets" / dataset


def fetch(dataset: str, hashes: Mapping[str, str], sources: Sequence[Source]) -> dict[str, bytes]:
    """The uncompressed bytes of each file named in ``hashes`` (name -> SHA-256), in that order.

    Tries the cache, then ``sources`` in order. A source that says a file is not there (FileNotFoundError) is
    still asked for the other files; a source that fails otherwise (unreachable, broken) is not asked again.
    Files from a source are written to the cache.
    """
    folder = cache_folder(dataset)
    cache = Folder(folder)
    found: dict[str, bytes] = {}
    tried: list[str] = []
    unwritable: set[str] = set()  # damaged in the cache and not removable there: the good copy stays in memory
    for source in (cache, *sources):
        absent = []
        for filename in [name for name in hashes if name not in found]:
            try:
                data = source(filename)
            except FileNotFoundError:
                absent.append(filename)
                continue
            except Exception as error:  # any failure of one source sends us on to the next
                tried.append(f"{source}: {type(error).__name__}: {error}")
                break
            algorithm, digest = file_digest(data, hashes[filename])
            if digest != hashes[filename]:
                tried.append(f"{source}: {filename}: {algorithm} {digest} is not the expected {hashes[filename]}")
                if source is cache and not _evict(folder, filename):
                    unwritable.add(filename)
                continue
            if source is not cache and filename not in unwritable:
                _store(folder, filename, data)
            found[filename] = data
        if absent:
            tried.append(f"{source}: not there: {', '.join(absent)}")
        if len(found) == len(hashes):
            return {name: found[name] for name in hashes}
    raise DatasetUnavailableError(_explain(dataset, folder, hashes, found, tried))


def file_digest(data: bytes, expected: str) -> tuple[str, str]:
    """``data``'s SHA-256, or its MD5 when ``expected`` has MD5's 32 hex digits (a few of Keras's published
    checksums are MD5, as its ``get_file`` tells them apart)."""
    if len(expected) == 32:
        return "MD5", hashlib.md5(data).hexdigest()
    return "SHA-256", hashlib.sha256(data).hexdigest()


def _store(folder: Path, filename: str, data: bytes) -> None:
    """Write ``NAME.gz`` atomically (a reader never sees half a file); a cache we cannot write only warns."""
    part = folder / f".{filename}.gz.{os.getpid()}.part"
    try:
        folder.mkdir(parents=True, exist_ok=True)
        part.write_bytes(gzip.compress(data, compresslevel=6, mtime=0))
        os.replace(part, folder / f"{filename}.gz")
    except OSError as error:
        warnings.warn(f"could not cache {filename} in {folder}: {error}", stacklevel=3)


def _evict(folder: Path, filename: str) -> bool:
    """Remove a cached file that failed its checksum; a cache we cannot change (read-only) only warns, and the
    file is then read from the other sources each time. Returns whether it is gone."""
    for stale in (folder / f"{filename}.gz", folder / filename):
        try:
            stale.unlink(missing_ok=True)
        except OSError as error:
            warnings.warn(f"{stale} fails its SHA-256 check and cannot be removed ({error.strerror or error}): it "
                          f"is ignored, and {filename} is read from the other sources into memory only; remove it "
                          f"or make {folder} writable", stacklevel=3)
            return False
    return True


def _explain(dataset: str, folder: Path, hashes: Mapping[str, str], found: Mapping[str, bytes],
             tried: Sequence[str]) -> str:
    missing = [name for name in hashes if name not in found]
    lines = [f"Could not get {', '.join(missing)} of the {dataset} dataset. Tried, in order:"]
    lines += [f"  - {attempt}" for attempt in tried]
    lines.append(f"To place the files by hand, put them in {folder} (gzip'd as distributed, or uncompressed):")
    lines += [f"  {name}.gz  ({'MD5' if len(digest) == 32 else 'SHA-256'} of the uncompressed file: {digest})"
              for name, digest in hashes.items()]
    return "\n".join(lines)
