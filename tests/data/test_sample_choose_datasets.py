"""Dataset.sample_from_datasets / choose_from_datasets (and tf.data.experimental's older names)."""

import numpy as np
import pytest

import chainrule as tf
from chainrule.data import Dataset


def test_sampled_by_weight_from_endless_datasets():
    ones = Dataset.from_tensor_slices(np.ones(5, np.int64)).repeat()
    zeros = Dataset.from_tensor_slices(np.zeros(5, np.int64)).repeat()
    ds = Dataset.sample_from_datasets([ones, zeros], weights=[0.8, 0.2], seed=3)
    assert ds.cardinality() == tf.data.INFINITE_CARDINALITY
    batch = next(iter(ds.batch(4000))).numpy()
    assert 0.77 < batch.mean() < 0.83  # about 0.8 (4000 draws: sd 0.006)


def test_every_element_once_and_the_seeded_order_repeats():
    parts = [Dataset.range(5), Dataset.range(100, 103)]
    ds = Dataset.sample_from_datasets(parts, seed=7)
    first = [int(x) for x in ds]
    assert sorted(first) == [0, 1, 2, 3, 4, 100, 101, 102]
    assert [int(x) for x in ds] == first  # a seed gives the same order each pass
    again = Dataset.sample_from_datasets(parts, seed=7, rerandomize_each_iteration=True)
    orders = {tuple(int(x) for x in again) for _ in range(6)}
    assert len(orders) > 1
    # each input keeps its own order
    assert [x for x in first if x < 100] == [0, 1, 2, 3, 4]


def test_stop_on_empty_dataset():
    ds = Dataset.sample_from_datasets([Dataset.range(3), Dataset.range(10, 100)], seed=0, stop_on_empty_dataset=True)
    values = [int(x) for x in ds]
    assert sorted(v for v in values if v < 10) == [0, 1, 2] and len(values) < 93


def test_structures_and_specs():
    a = Dataset.from_tensor_slices((np.zeros((4, 2), np.float32), np.zeros(4, np.int64)))
    b = Dataset.from_tensor_slices((np.ones((4, 2), np.float32), np.ones(4, np.int64)))
    ds = Dataset.sample_from_datasets([a, b], seed=1)
    assert ds.element_spec == (tf.TensorSpec((2,), tf.float32), tf.TensorSpec((), tf.int64))
    for x, y in ds.batch(8):
        np.testing.assert_array_equal(x.numpy()[:, 0], y.numpy())
    old = tf.data.experimental.sample_from_datasets([a, b], seed=1)
    assert [int(y) for _, y in old] == [int(y) for _, y in ds]


def test_choose_from_datasets():
    choice = Dataset.range(3).repeat(2)
    parts = [Dataset.from_tensors("a").repeat(), Dataset.from_tensors("b").repeat(), Dataset.from_tensors("c").repeat()]
    ds = Dataset.choose_from_datasets(parts, choice)
    assert [x.numpy() for x in ds] == [b"a", b"b", b"c", b"a", b"b", b"c"]
    short = Dataset.choose_from_datasets([Dataset.range(1), Dataset.range(10, 12)],
                                         Dataset.from_tensor_slices(np.array([0, 0, 1, 1])),
                                         stop_on_empty_dataset=False)
    assert [int(x) for x in short] == [0, 10, 11]
    stopped = tf.data.experimental.choose_from_datasets([Dataset.range(1), Dataset.range(10, 12)],
                                                        Dataset.from_tensor_slices(np.array([0, 0, 1, 1])))
    assert [int(x) for x in stopped] == [0]


def test_bad_arguments():
    with pytest.raises(TypeError, match="non-empty list"):
        Dataset.sample_from_datasets([])
    with pytest.raises(ValueError, match="shape of `weights`"):
        Dataset.sample_from_datasets([Dataset.range(2)], weights=[0.5, 0.5])
    with pytest.raises(ValueError, match="non-negative"):
        Dataset.sample_from_datasets([Dataset.range(2), Dataset.range(2)], weights=[1.0, -1.0])
    with pytest.raises(TypeError, match="Incompatible dataset elements"):
        Dataset.sample_from_datasets([Dataset.range(2), Dataset.from_tensor_slices(np.zeros(2, np.float32))])
    with pytest.raises(TypeError, match="scalar of `tf.int64`"):
        Dataset.choose_from_datasets([Dataset.range(2)], Dataset.from_tensor_slices(np.zeros(2, np.float32)))
    with pytest.raises(ValueError, match="Selector index out of range"):
        list(Dataset.choose_from_datasets([Dataset.range(2)], Dataset.from_tensor_slices(np.array([1]))))
