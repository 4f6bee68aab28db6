"""``keras.utils.get_file``: a file from a URL the program names, kept in a cache folder, checked against a hash
and, on request, extracted, as Keras 3 does it.

chainrule itself downloads nothing but its documented datasets; ``get_file`` fetches what the calling program asks
for (``http(s)://`` or ``file://``), once: a file already in the cache (and matching ``file_hash`` when given) is
used as it is. The download is written atomically (:func:`chainrule.keras.saving.atomic.atomic_write`), so an
interrupted one leaves no partial file behind. Archives (tar, tar.gz, tar.bz2, zip) are extracted refusing members that would land outside
the extraction folder (absolute paths, ``..``, links out).

>>> import os, tempfile, pathlib
>>> source = pathlib.Path(tempfile.mkdtemp()) / "notes.txt"
>>> _ = source.write_text("hello")
>>> path = get_file("notes.txt", source.as_uri(), cache_dir=tempfile.mkdtemp())  # doctest: +ELLIPSIS
Downloading data from file:///...notes.txt
>>> open(path).read(), os.path.basename(os.path.dirname(path))
('hello', 'datasets')
"""
from __future__ import annotations

import hashlib
import os
import shutil
import tarfile
import tempfile
import urllib.error
import urllib.parse
import urllib.request
import zipfile

from chainrule.keras.saving.atomic import atomic_write


def _cache_root(cache_dir) -> str:
    if cache_dir is None:
        cache_dir = os.environ.get("KERAS_HOME") or os.path.join(os.path.expanduser("~"), ".keras")
    root = os.path.expanduser(os.fspath(cache_dir))
    os.makedirs(root, exist_ok=True)
    if not os.access(root, os.W_OK):  # Keras falls back to a folder it can write
        root = os.path.join(tempfile.gettempdir(), ".keras")
    return root


def resolve_hasher(algorithm: str, file_hash: str | None = None) -> str:
    """'sha256' or 'md5': ``auto`` picks sha256 for a 64-digit hash, md5 otherwise."""
    if algorithm == "sha256" or (algorithm == "auto" and file_hash is not None and len(file_hash) == 64):
        return "sha256"
    if algorithm in ("md5", "auto"):
        return "md5"
    raise ValueError(f"hash_algorithm must be 'auto', 'sha256' or 'md5', got {algorithm!r}")


def hash_file(fpath, algorithm: str = "sha256", chunk_size: int = 65535) -> str:
    """The hex digest of a file (read in chunks)."""
    hasher = hashlib.sha256() if resolve_hasher(algorithm) == "sha256" else hashlib.md5()
    with open(fpath, "rb") as file:
        for chunk in iter(lambda: file.read(chunk_size), b""):
            hasher.update(chunk)
    return hasher.hexdigest()


def validate_file(fpath, file_hash: str, algorithm: str = "auto", chunk_size: int = 65535) -> bool:
    """Whether the file's hash is ``file_hash``."""
    return hash_file(fpath, resolve_hasher(algorithm, file_hash), chunk_size) == str(file_hash)


def _inside(root: str, target: str) -> bool:
    root = os.path.realpath(root)
    return os.path.commonpath([root, os.path.realpath(target)]) == root


def extract_archive(file_path, path=".", archive_format="auto") -> bool:
    """Extract a tar (plain, gz, bz2, xz) or zip archive into ``path``; False when it is neither. A member that
    would land outside ``path`` is refused with ValueError (nothing is written for it)."""
    if archive_format is None:
        return False
    formats = ["tar", "zip"] if archive_format == "auto" else \
        [archive_format] if isinstance(archive_format, str) else list(archive_format)
    file_path, path = os.fspath(file_path), os.fspath(path)
    for kind in formats:
        if kind not in ("tar", "zip"):
            raise NotImplementedError(f"archive_format {kind!r}: use 'tar', 'zip', 'auto' or None")
        if kind == "tar" and tarfile.is_tarfile(file_path):
            with tarfile.open(file_path) as archive:
                for member in archive.getmembers():
                    if not _inside(path, os.path.join(path, member.name)) or member.issym() and \
                            not _inside(path, os.path.join(path, os.path.dirname(member.name), member.linkname)):
                        raise ValueError(f"{file_path}: the archive member {member.name!r} would be written outside "
                                         f"{path}; not extracting it")
                _extract_cleanly(lambda: archive.extractall(path, filter="data"), path)
            return True
        if kind == "zip" and zipfile.is_zipfile(file_path):
            with zipfile.ZipFile(file_path) as archive:
                for name in archive.namelist():
                    if not _inside(path, os.path.join(path, name)):
                        raise ValueError(f"{file_path}: the archive member {name!r} would be written outside "
                                         f"{path}; not extracting it")
                _extract_cleanly(lambda: archive.extractall(path), path)
            return True
    return False


def _extract_cleanly(extract, path: str) -> None:
    """Run ``extract``; on an error or Ctrl-C remove what it wrote so that a half archive is never used."""
    try:
        extract()
    except BaseException:
        if os.path.isdir(path):
            shutil.rmtree(path, ignore_errors=True)
        raise


def get_file(fname=None, origin=None, untar=False, md5_hash=None, file_hash=None, cache_subdir="datasets",
             hash_algorithm="auto", extract=False, archive_format="auto", cache_dir=None, force_download=False) -> str:
    """The path of ``origin``'s file in ``cache_dir/cache_subdir`` (default ``~/.keras/datasets``), downloaded
    first unless already there; with ``extract`` (or ``untar``) the folder it was extracted into."""
    if origin is None:
        raise ValueError('Please specify the "origin" argument (URL of the file to download).')
    file_hash = file_hash if file_hash is not None else md5_hash
    if md5_hash is not None and file_hash == md5_hash:
        hash_algorithm = "md5"
    datadir = cache_subdir if os.path.isabs(os.fspath(cache_subdir)) else \
        os.path.join(_cache_root(cache_dir), cache_subdir)
    os.makedirs(datadir, exist_ok=True)
    provided = fname is not None and os.fspath(fname) != ""
    fname = os.fspath(fname) if provided else os.path.basename(urllib.parse.urlsplit(origin).path)
    if not fname or fname in (os.curdir, os.pardir):
        raise ValueError(f"Can't parse the file name from the origin provided: '{origin}'. Please specify the "
                         f"`fname` argument.")
    if os.sep in fname or (os.altsep and os.altsep in fname):
        raise ValueError(f"Paths are no longer accepted as the `fname` argument. To specify the file's parent "
                         f"directory, use the `cache_dir` argument. Received: fname={fname}")
    if extract or untar:
        if provided and "." in fname:
            download_target = os.path.join(datadir, fname)
            extraction_dir = os.path.join(datadir, f"{fname[:fname.find('.')]}_extracted")
        else:
            extraction_dir = os.path.join(datadir, fname)
            download_target = os.path.join(datadir, f"{fname}_archive")
    else:
        download_target = os.path.join(datadir, fname)
    download = force_download or not os.path.exists(download_target)
    if not download and file_hash is not None and not validate_file(download_target, file_hash, hash_algorithm):
        print(f"A local file was found, but it seems to be incomplete or outdated because the "
              f"{resolve_hasher(hash_algorithm, file_hash)} file hash does not match the original value of "
              f"{file_hash} so we will re-download the data.")
        download = True
    if download:
        print(f"Downloading data from {origin}")
        _download(origin, download_target)
        if file_hash is not None and not validate_file(download_target, file_hash, hash_algorithm):
            os.remove(download_target)
            raise ValueError(f"Incomplete or corrupted file detected. The {resolve_hasher(hash_algorithm, file_hash)} "
                             f"file hash does not match the provided value of {file_hash}.")
    if extract or untar:
        if download or not os.path.isdir(extraction_dir):
            shutil.rmtree(extraction_dir, ignore_errors=True)
            if not extract_archive(download_target, extraction_dir, "tar" if untar else archive_format):
                raise ValueError(f"Could not extract {download_target}: it is not a {archive_format} archive")
        return extraction_dir
    return download_target


def _download(origin: str, target: str) -> None:
    """Fetch ``origin`` into ``target`` through chainrule's atomic write (a temporary file renamed at the end)."""
    try:
        with urllib.request.urlopen(origin) as response:
            atomic_write(target, iter(lambda: response.read(1 << 20), b""))
    except urllib.error.HTTPError as error:
        raise OSError(f"URL fetch failure on {origin}: {error.code} -- {error.msg}") from error
    except urllib.error.URLError as error:
        raise OSError(f"URL fetch failure on {origin}: {error.reason}") from error


__all__ = ["extract_archive", "get_file", "hash_file", "validate_file"]
