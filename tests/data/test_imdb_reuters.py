"""keras.datasets.imdb and reuters on small files in the real format (an .npz of object arrays of lists of ints, a
JSON word index) that the tests make: Keras's preparation of the sequences, the cache and checksums, and the
arrays-only unpickling that refuses anything but lists of ints. No network."""
import hashlib
import io
import json
import pickle

import numpy as np
import pytest

from chainrule import keras
from chainrule.data.datasets import imdb, reuters
from chainrule.data.datasets.loader import DatasetUnavailableError, cache_folder
from chainrule.data.datasets.npz import read_npz
from chainrule.data.datasets.sources import Folder

TRAIN = [[1, 2, 3], [4, 5], [6, 7, 8, 9], [2, 2]]
TEST = [[3, 1], [9, 8, 7, 6, 5], [1]]


def object_array(lists):
    out = np.empty(len(lists), dtype=object)
    out[:] = lists
    return out


def npz_bytes(**arrays):
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    return buffer.getvalue()


@pytest.fixture(autouse=True)
def home(tmp_path, monkeypatch):
    monkeypatch.setenv("CHAINRULE_HOME", str(tmp_path / "home"))
    return tmp_path / "home"


@pytest.fixture
def imdb_files(tmp_path, monkeypatch):
    folder = tmp_path / "files"
    folder.mkdir()
    data = npz_bytes(x_train=object_array(TRAIN), y_train=np.array([0, 1, 0, 1]), x_test=object_array(TEST),
                     y_test=np.array([1, 0, 1]))
    (folder / "imdb.npz").write_bytes(data)
    index = json.dumps({"the": 1, "movie": 2, "good": 3}).encode()
    (folder / "imdb_word_index.json").write_bytes(index)
    monkeypatch.setitem(imdb.HASHES, "imdb.npz", hashlib.sha256(data).hexdigest())
    monkeypatch.setitem(imdb.HASHES, "imdb_word_index.json", hashlib.md5(index).hexdigest())
    return folder


def keras_order(seed, *lengths):
    rng = np.random.RandomState(seed)
    orders = []
    for n in lengths:
        indices = np.arange(n)
        rng.shuffle(indices)
        orders.append(indices)
    return orders


def test_imdb_defaults_shuffle_mark_and_shift_like_keras(imdb_files):
    (x_train, y_train), (x_test, y_test) = imdb.load_data(sources=[Folder(imdb_files)])
    train_order, test_order = keras_order(113, len(TRAIN), len(TEST))  # one generator, train then test
    assert x_train.dtype == object and x_train.shape == (4,)
    # num_words=None means the largest index, and Keras keeps only the words below it: 9 + 3 becomes oov_char
    top = lambda x: [1] + [w + 3 if w + 3 < 12 else 2 for w in x]  # noqa: E731
    assert x_train.tolist() == [top(TRAIN[i]) for i in train_order]
    assert x_test.tolist() == [top(TEST[i]) for i in test_order]
    np.testing.assert_array_equal(y_train, np.array([0, 1, 0, 1])[train_order])
    np.testing.assert_array_equal(y_test, np.array([1, 0, 1])[test_order])


def test_imdb_num_words_skip_top_maxlen_and_no_start_char(imdb_files):
    (x_train, _), (x_test, _) = imdb.load_data(num_words=8, skip_top=5, maxlen=5, seed=0, start_char=None,
                                               oov_char=2, index_from=3, sources=[Folder(imdb_files)])
    kept_train = [x for x in TRAIN if len(x) < 5]
    kept_test = [x for x in TEST if len(x) < 5]
    train_order, test_order = keras_order(0, len(TRAIN), len(TEST))
    expect = lambda x: [w + 3 if 5 <= w + 3 < 8 else 2 for w in x]  # noqa: E731
    assert sorted(map(tuple, x_train.tolist())) == sorted(tuple(expect(x)) for x in kept_train)
    assert sorted(map(tuple, x_test.tolist())) == sorted(tuple(expect(x)) for x in kept_test)
    (dropped, _), _ = imdb.load_data(num_words=6, oov_char=None, sources=[Folder(imdb_files)])
    assert all(1 <= w < 6 for x in dropped for w in x)  # out-of-range words removed, start_char kept
    with pytest.raises(ValueError, match="no sequence was kept. Increase maxlen"):
        imdb.load_data(maxlen=1, sources=[Folder(imdb_files)])


def test_imdb_caches_checks_and_word_index(imdb_files, home):
    imdb.load_data(sources=[Folder(imdb_files)])
    assert (cache_folder("imdb") / "imdb.npz.gz").is_file()
    again = imdb.load_data(sources=[])  # from the cache alone
    assert len(again[0][0]) == 4
    assert imdb.get_word_index(sources=[Folder(imdb_files)]) == {"the": 1, "movie": 2, "good": 3}
    assert keras.datasets.imdb.get_word_index is imdb.get_word_index


def test_a_file_with_the_wrong_checksum_is_refused(imdb_files, monkeypatch):
    monkeypatch.setitem(imdb.HASHES, "imdb.npz", "0" * 64)
    with pytest.raises(DatasetUnavailableError, match="SHA-256 .* is not the expected 0000"):
        imdb.load_data(sources=[Folder(imdb_files)])
    monkeypatch.setitem(imdb.HASHES, "imdb_word_index.json", "0" * 32)
    with pytest.raises(DatasetUnavailableError, match="MD5 .* is not the expected 0000"):
        imdb.get_word_index(sources=[Folder(imdb_files)])


def test_reuters_split_labels_and_names(tmp_path, monkeypatch):
    xs = [[i % 7 + 1] * (i % 4 + 1) for i in range(10)]
    data = npz_bytes(x=object_array(xs), y=np.arange(10) % 46)
    (tmp_path / "reuters.npz").write_bytes(data)
    monkeypatch.setitem(reuters.HASHES, "reuters.npz", hashlib.sha256(data).hexdigest())
    (x_train, y_train), (x_test, y_test) = reuters.load_data(test_split=0.3, sources=[Folder(tmp_path)])
    (order,) = keras_order(113, 10)
    assert len(x_train) == 7 and len(x_test) == 3
    top = max(w for x in xs for w in x) + 3  # the largest index becomes oov_char, as in Keras
    assert x_train.tolist() + x_test.tolist() == [[1] + [w + 3 if w + 3 < top else 2 for w in xs[i]]
                                                  for i in order]
    np.testing.assert_array_equal(np.concatenate([y_train, y_test]), (np.arange(10) % 46)[order])
    assert len(reuters.get_label_names()) == 46 and reuters.get_label_names()[3] == "earn"
    with pytest.raises(ValueError, match="test_split"):
        reuters.load_data(test_split=1.5, sources=[Folder(tmp_path)])


class Calls:
    def __init__(self, fn, *args):
        self.fn, self.args = fn, args

    def __reduce__(self):
        return self.fn, self.args


def npy_with_pickle(payload: bytes, shape=(1,)) -> bytes:
    buffer = io.BytesIO()
    np.lib.format.write_array_header_1_0(buffer, {"descr": "|O", "fortran_order": False, "shape": shape})
    return buffer.getvalue() + payload


def zipped(name, member: bytes) -> bytes:
    import zipfile

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr(f"{name}.npy", member)
    return buffer.getvalue()


@pytest.mark.parametrize("element", ["a string", 1.5, {"k": 1}, [1, "2"], [1.0]])
def test_object_arrays_hold_lists_of_ints_and_nothing_else(element):
    array = object_array([[1, 2], element])
    with pytest.raises(pickle.UnpicklingError, match="only lists of ints are allowed"):
        read_npz(npz_bytes(x=array))


def test_a_pickled_callable_is_refused_before_it_runs(tmp_path):
    marker = tmp_path / "ran"
    payload = pickle.dumps(Calls(open, str(marker), "w"), protocol=3)
    with pytest.raises(pickle.UnpicklingError, match="refusing to load"):
        read_npz(zipped("x_train", npy_with_pickle(payload)))
    assert not marker.exists()


def test_path_names_a_file_and_keras_bucket_is_the_default_source(imdb_files, monkeypatch):
    (x_train, _), _ = imdb.load_data(path=str(imdb_files / "imdb.npz"), sources=[])  # a path: its folder first
    assert len(x_train) == 4
    asked = []

    def fake_download(url, timeout=None):
        asked.append(url)
        return (imdb_files / "imdb_word_index.json").read_bytes()

    monkeypatch.setattr("chainrule.data.datasets.sources.download", fake_download)
    assert imdb.get_word_index(path="words.json") == {"the": 1, "movie": 2, "good": 3}  # cached under that name
    assert asked == ["https://storage.googleapis.com/tensorflow/tf-keras-datasets/imdb_word_index.json"]
    assert (cache_folder("imdb") / "words.json.gz").is_file()
