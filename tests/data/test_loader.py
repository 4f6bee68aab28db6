"""The loader's source chain on files the tests make: no network, a private CHAINRULE_HOME."""
import gzip
import hashlib

import numpy as np
import pytest

from chainrule.data.datasets import loader, sources
from chainrule.data.datasets.idx import write_idx
from chainrule.data.datasets.loader import DatasetUnavailableError, cache_folder, fetch
from chainrule.data.datasets.mnist import load_splits
from chainrule.data.datasets.sources import Folder, Mirror

RNG = np.random.default_rng(0)
FILES = {
    "train-images-idx3-ubyte": write_idx(RNG.integers(0, 256, (6, 28, 28), dtype=np.uint8)),
    "train-labels-idx1-ubyte": write_idx(np.arange(6, dtype=np.uint8)),
    "t10k-images-idx3-ubyte": write_idx(RNG.integers(0, 256, (2, 28, 28), dtype=np.uint8)),
    "t10k-labels-idx1-ubyte": write_idx(np.arange(2, dtype=np.uint8)),
}
HASHES = {name: hashlib.sha256(data).hexdigest() for name, data in FILES.items()}


class FakeSource:
    """Serves FILES (or what it is given), records every request, can fail or serve bad bytes."""

    def __init__(self, label, files=FILES, error=None):
        self.label, self.files, self.error, self.asked = label, files, error, []

    def __str__(self):
        return self.label

    def __call__(self, filename):
        self.asked.append(filename)
        if self.error is not None:
            raise self.error
        if filename not in self.files:
            raise FileNotFoundError(filename)
        return self.files[filename]


@pytest.fixture(autouse=True)
def home(tmp_path, monkeypatch):
    monkeypatch.setenv("CHAINRULE_HOME", str(tmp_path / "home"))
    return tmp_path / "home"


def test_cache_folder_follows_chainrule_home(home, monkeypatch):
    assert cache_folder("mnist") == home / "datasets" / "mnist"
    monkeypatch.delenv("CHAINRULE_HOME")
    assert loader.chainrule_home().parts[-2:] == (".cache", "chainrule")


def test_sources_are_tried_in_order_and_the_result_is_cached(home):
    empty, partial, full = FakeSource("empty", files={}), FakeSource("partial", files=dict(list(FILES.items())[:1])), \
        FakeSource("full")
    assert fetch("toy", HASHES, [empty, partial, full]) == FILES
    assert empty.asked == list(FILES)
    assert partial.asked == list(FILES)  # a missing file does not stop a source being asked for the others
    assert full.asked == list(FILES)[1:]
    for name, data in FILES.items():
        assert gzip.decompress((home / "datasets" / "toy" / f"{name}.gz").read_bytes()) == data

    later = FakeSource("later")
    assert fetch("toy", HASHES, [later]) == FILES
    assert later.asked == []  # the cache answered


def test_a_broken_source_is_asked_once_then_skipped():
    broken, good = FakeSource("broken", error=ConnectionError("no route")), FakeSource("good")
    assert fetch("toy", HASHES, [broken, good]) == FILES
    assert broken.asked == list(FILES)[:1]


def test_a_tampered_cache_file_is_evicted_and_fetched_again(home):
    fetch("toy", HASHES, [FakeSource("first")])
    cached = home / "datasets" / "toy" / "train-labels-idx1-ubyte.gz"
    cached.write_bytes(gzip.compress(FILES["train-labels-idx1-ubyte"][:-1]))  # truncated
    again = FakeSource("again")
    assert fetch("toy", HASHES, [again]) == FILES
    assert again.asked == ["train-labels-idx1-ubyte"]
    assert gzip.decompress(cached.read_bytes()) == FILES["train-labels-idx1-ubyte"]


def test_a_source_with_wrong_bytes_is_passed_over():
    tampered = dict(FILES, **{"t10k-labels-idx1-ubyte": write_idx(np.array([9, 9], np.uint8))})
    bad, good = FakeSource("bad", files=tampered), FakeSource("good")
    assert fetch("toy", HASHES, [bad, good]) == FILES
    assert good.asked == ["t10k-labels-idx1-ubyte"]


def test_when_every_source_fails_the_error_says_what_was_tried_and_where_to_put_files(home):
    with pytest.raises(DatasetUnavailableError) as caught:
        fetch("toy", HASHES, [FakeSource("mirror A", error=OSError("timed out")),
                              FakeSource("mirror B", files=dict(FILES, **{"train-labels-idx1-ubyte": b"junk"}))])
    message = str(caught.value)
    assert isinstance(caught.value, RuntimeError)
    assert "Could not get train-labels-idx1-ubyte of the toy dataset" in message
    assert f"folder {home / 'datasets' / 'toy'}: not there: " in message
    assert "mirror A: OSError: timed out" in message
    assert f"mirror B: train-labels-idx1-ubyte: SHA-256 {hashlib.sha256(b'junk').hexdigest()}" in message
    assert f"put them in {home / 'datasets' / 'toy'}" in message
    for name, digest in HASHES.items():
        assert f"{name}.gz  (SHA-256 of the uncompressed file: {digest})" in message


def test_folder_reads_gzipped_and_plain_files(tmp_path):
    (tmp_path / "a.gz").write_bytes(gzip.compress(b"zipped"))
    (tmp_path / "b").write_bytes(b"plain")
    folder = Folder(tmp_path)
    assert folder("a") == b"zipped" and folder("b") == b"plain"
    with pytest.raises(FileNotFoundError):
        folder("c")


def test_mirror_downloads_name_dot_gz_with_a_progress_bar(tmp_path, capsys):
    (tmp_path / "t10k-labels-idx1-ubyte.gz").write_bytes(gzip.compress(FILES["t10k-labels-idx1-ubyte"]))
    assert Mirror(tmp_path.as_uri() + "/")("t10k-labels-idx1-ubyte") == FILES["t10k-labels-idx1-ubyte"]
    out = capsys.readouterr().out
    assert "Downloading data from file://" in out
    size = (tmp_path / "t10k-labels-idx1-ubyte.gz").stat().st_size
    assert f"{size}/{size} [==============================]" in out


def test_download_errors_propagate(tmp_path):
    with pytest.raises(OSError):
        sources.download((tmp_path / "missing.gz").as_uri())


def test_load_splits_pairs_files_as_keras_does():
    (x_train, y_train), (x_test, y_test) = load_splits("toy", HASHES, [FakeSource("toy")])
    assert x_train.shape == (6, 28, 28) and x_test.shape == (2, 28, 28)
    assert y_train.tolist() == list(range(6)) and y_test.dtype == np.uint8
