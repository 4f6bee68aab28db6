"""tf.data behaviour the guide "tf.data: Build TensorFlow input pipelines" relies on: a SparseTensor element keeps
its SparseTensorSpec, take(n) reads no element past n, CsvDataset takes dtypes as record_defaults, and
rejection_resample reshapes the class proportions."""

import numpy as np
import pytest

import chainrule as tf


def test_sparse_element_spec():
    sparse = tf.SparseTensor(indices=[[0, 0], [1, 2]], values=[1, 2], dense_shape=[3, 4])
    ds = tf.data.Dataset.from_tensors(sparse)
    spec = ds.element_spec
    assert repr(spec) == "SparseTensorSpec(TensorShape([3, 4]), tf.int32)"
    assert spec.value_type is tf.SparseTensor
    element = next(iter(ds))
    np.testing.assert_array_equal(tf.sparse.to_dense(element).numpy(), [[1, 0, 0, 0], [0, 0, 2, 0], [0, 0, 0, 0]])


def test_take_reads_no_element_past_n():
    calls = []

    def gen():
        for i in range(5):
            calls.append(i)
            yield i

    ds = tf.data.Dataset.from_generator(gen, output_signature=tf.TensorSpec((), tf.int64))
    assert [int(x) for x in ds.take(2)] == [0, 1]
    assert calls == [0, 1]
    assert list(ds.take(0)) == []


def test_csv_dataset_dtypes_as_record_defaults(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text("a,b,c\n1,x,2.5\n3,y,4.5\n")
    ds = tf.data.experimental.CsvDataset(str(path), [tf.int32, tf.string, tf.float32], header=True)
    rows = [[v.numpy() for v in row] for row in ds]
    assert rows == [[1, b"x", 2.5], [3, b"y", 4.5]]
    assert rows[0][0].dtype == np.int32 and rows[0][2].dtype == np.float32
    path.write_text("a,b,c\n,x,2.5\n")
    with pytest.raises(Exception):  # a dtype is a required column: an empty field is an error
        list(tf.data.experimental.CsvDataset(str(path), [tf.int32, tf.string, tf.float32], header=True))


@pytest.mark.parametrize("initial", [[0.9, 0.1], None])
def test_rejection_resample_balances_classes(initial):
    labels = np.array([0] * 90 + [1] * 10)
    ds = tf.data.Dataset.from_tensor_slices((np.arange(100.0), labels)).shuffle(100, seed=1).repeat()
    resampled = ds.rejection_resample(lambda x, y: y, target_dist=[0.5, 0.5], initial_dist=initial, seed=3)
    pairs = list(resampled.take(2000))
    classes = np.array([int(c) for c, _ in pairs])
    assert all(int(c) == int(element[1]) for c, element in pairs[:50])  # the class of the element beside it
    assert 0.45 < classes.mean() < 0.55


def test_rejection_resample_checks_classes():
    ds = tf.data.Dataset.from_tensor_slices(np.array([0, 2]))
    with pytest.raises(ValueError, match="outside"):
        list(ds.rejection_resample(lambda x: x, [0.5, 0.5], [0.5, 0.5], seed=0))
