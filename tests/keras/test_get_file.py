"""keras.utils.get_file with file:// URLs: the cache, hashes, extraction, and what it refuses."""
import hashlib
import io
import os
import tarfile
import zipfile

import pytest

from chainrule import keras


def test_downloads_once_then_uses_the_cache(tmp_path, capsys):
    source = tmp_path / "src" / "data.txt"
    source.parent.mkdir()
    source.write_text("first")
    cache = tmp_path / "cache"
    path = keras.utils.get_file("data.txt", source.as_uri(), cache_dir=cache)
    assert path == str(cache / "datasets" / "data.txt") and open(path).read() == "first"
    assert "Downloading data from" in capsys.readouterr().out
    source.write_text("second")
    assert open(keras.utils.get_file("data.txt", source.as_uri(), cache_dir=cache)).read() == "first"
    assert open(keras.utils.get_file("data.txt", source.as_uri(), cache_dir=cache, force_download=True)).read() \
        == "second"
    assert [p.name for p in (cache / "datasets").iterdir()] == ["data.txt"]  # no partial files left


def test_hashes_are_checked(tmp_path):
    source = tmp_path / "data.bin"
    source.write_bytes(b"abc")
    sha256 = hashlib.sha256(b"abc").hexdigest()
    path = keras.utils.get_file("d.bin", source.as_uri(), file_hash=sha256, cache_dir=tmp_path / "c")
    assert keras.utils.file_utils.validate_file(path, sha256)
    assert keras.utils.get_file("e.bin", source.as_uri(), md5_hash=hashlib.md5(b"abc").hexdigest(),
                                cache_dir=tmp_path / "c")
    with pytest.raises(ValueError, match="file hash does not match the provided value"):
        keras.utils.get_file("f.bin", source.as_uri(), file_hash="0" * 64, cache_dir=tmp_path / "c")
    assert not (tmp_path / "c" / "datasets" / "f.bin").exists()


def test_a_tar_gz_is_extracted_beside_it_as_the_flowers_tutorial_expects(tmp_path):
    archive = tmp_path / "flower_photos.tgz"
    with tarfile.open(archive, "w:gz") as tar:
        data = b"jpeg bytes"
        info = tarfile.TarInfo("flower_photos/roses/1.jpg")
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
    data_dir = keras.utils.get_file("flower_photos.tgz", origin=archive.as_uri(), extract=True,
                                    cache_dir=tmp_path / "c")
    assert os.path.basename(data_dir) == "flower_photos_extracted"
    assert (tmp_path / "c" / "datasets" / "flower_photos_extracted" / "flower_photos" / "roses" / "1.jpg").exists()


def test_zip_extraction_and_members_outside_the_folder_are_refused(tmp_path):
    good = tmp_path / "good.zip"
    with zipfile.ZipFile(good, "w") as z:
        z.writestr("a/b.txt", "ok")
    out = keras.utils.get_file("good.zip", good.as_uri(), extract=True, cache_dir=tmp_path / "c")
    assert open(os.path.join(out, "a", "b.txt")).read() == "ok"
    bad = tmp_path / "bad.zip"
    with zipfile.ZipFile(bad, "w") as z:
        z.writestr("../escape.txt", "no")
    with pytest.raises(ValueError, match="outside"):
        keras.utils.get_file("bad.zip", bad.as_uri(), extract=True, cache_dir=tmp_path / "c")
    assert not (tmp_path / "c" / "datasets" / "escape.txt").exists()


def test_bad_arguments(tmp_path):
    with pytest.raises(ValueError, match="origin"):
        keras.utils.get_file("x")
    with pytest.raises(ValueError, match="Paths are no longer accepted"):
        keras.utils.get_file("a/b.txt", (tmp_path / "x").as_uri(), cache_dir=tmp_path)
    with pytest.raises(OSError, match="URL fetch failure"):
        keras.utils.get_file("missing.txt", (tmp_path / "missing.txt").as_uri(), cache_dir=tmp_path)
    assert not list((tmp_path / "datasets").iterdir())  # nothing left of the failed download
