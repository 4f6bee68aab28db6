"""Where dataset files can come from: a folder on disk, an HTTPS mirror of the gzip'd files, or one file's URL.

A source is any callable that takes a file name such as ``"train-images-idx3-ubyte"`` and returns that file's
uncompressed bytes. It raises FileNotFoundError when it lacks that one file, anything else when it cannot serve at
all (unreachable, broken); ``str(source)`` says what it is in error messages. The loader checks every result
against the file's known SHA-256, so a source never has to be trusted.

>>> str(Folder("/usr/share/datasets/fashion-mnist"))
'folder /usr/share/datasets/fashion-mnist'
"""
from __future__ import annotations

import gzip
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from chainrule.utils.progbar import Progbar

CONNECT_TIMEOUT_S = 10.0  # a machine without internet should fall through to the next source quickly
_CHUNK = 1 << 16


class Source(Protocol):
    """What the loader asks for a file (see above); Folder and Mirror are two."""

    def __call__(self, filename: str) -> bytes: ...


@dataclass(frozen=True)
class Folder:
    """Files in a folder, gzip'd (``NAME.gz``, as distributed) or not (``NAME``)."""

    path: Path | str

    def __str__(self) -> str:
        return f"folder {self.path}"

    def __call__(self, filename: str) -> bytes:
        folder = Path(self.path)
        if (folder / f"{filename}.gz").is_file():
            return gzip.decompress((folder / f"{filename}.gz").read_bytes())
        if (folder / filename).is_file():
            return (folder / filename).read_bytes()
        raise FileNotFoundError(f"neither {filename}.gz nor {filename} is there")


@dataclass(frozen=True)
class Mirror:
    """``BASE_URL + NAME + ".gz"`` downloaded over HTTPS with a progress bar, then decompressed."""

    base_url: str

    def __str__(self) -> str:
        return f"mirror {self.base_url}"

    def __call__(self, filename: str) -> bytes:
        return gzip.decompress(download(f"{self.base_url}{filename}.gz"))


@dataclass(frozen=True)
class Url:
    """One file at a fixed HTTPS address, served as it is (not gzip'd) whatever name it is cached under (Keras's
    ``get_file(fname, origin)``)."""

    url: str

    def __str__(self) -> str:
        return f"url {self.url}"

    def __call__(self, filename: str) -> bytes:
        return download(self.url)


def download(url: str, timeout: float = CONNECT_TIMEOUT_S) -> bytes:
    """The body at ``url``, with a byte-count progress bar on stdout (``timeout`` bounds connecting and each read)."""
    print(f"Downloading data from {url}")
    with urllib.request.urlopen(url, timeout=timeout) as response:
        size = response.headers.get("Content-Length")
        bar = Progbar(int(size) if size else None, unit_name="B")
        chunks, received = [], 0
        while chunk := response.read(_CHUNK):
            chunks.append(chunk)
            received += len(chunk)
            bar.update(received, finalize=False)
        bar.update(received, finalize=True)
    return b"".join(chunks)
